"""App config for runs: background runs (Job rows) and their lifecycle."""

from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
    verbose_name = "Background runs"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from alweb.checks import queues_required
        from runs import queues

        queues_required(*queues.NAMED)
        post_spawn.connect(
            queues.worker_priority_lower, dispatch_uid="alweb-worker-priority"
        )
