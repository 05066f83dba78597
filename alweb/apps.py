"""App config for the wiring package: registers start-up checks."""

from django.apps import AppConfig


class AlwebConfig(AppConfig):
    name = "alweb"
    verbose_name = "alweb"

    def ready(self) -> None:
        from alweb import checks  # noqa: F401  (registers the checks)
