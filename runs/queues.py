"""Names of the django-q2 clusters (queues) that runs are sent to, and the CPU
priority their workers run at (priority_lower).

Housekeeping (the reaper and every schedule) runs on the default cluster
(Q_CLUSTER["name"]), so no long task can delay it; training has a cluster of its
own, and training on an accelerator ("device" other than "cpu") the "gpu"
cluster, which only hosts with a GPU serve (a gpu qcluster refuses to start
without one); scoring, exports, imports and KPI checks share the "work"
cluster. Each name here must be a key of Q_CLUSTER["ALT_CLUSTERS"] (checked at
start-up).
"""

import logging
import os

logger = logging.getLogger(__name__)

TRAINING = "training"
WORK = "work"
GPU = "gpu"
NAMED = (TRAINING, WORK, GPU)


def training_queue(device: str) -> str:
    """The cluster a training on `device` (a model configuration's "device":
    cpu, mps, cuda, cuda:N or GPU indices) goes to."""
    return TRAINING if str(device).strip().lower() == "cpu" else GPU


def enqueue_on_commit(
    func: str,
    *args,
    queue: str | None,
    group: str,
    task_name: str | None = None,
    on_error=None,
) -> None:
    """Send django-q2 task `func(*args)` to cluster `queue` (None: the default,
    housekeeping one) once the current transaction commits; nothing is sent if it
    rolls back. In sync mode (tests) the task then runs inline.

    A broker that refuses the task (Redis down) is logged and handed to
    `on_error(exc)`; it never propagates: the transaction has committed, so the
    request that queued the task answers as it would have."""
    from django.db import transaction
    from django_q.tasks import async_task

    options = {"cluster": queue, "group": group}
    if task_name:
        options["task_name"] = task_name

    def send() -> None:
        try:
            async_task(func, *args, **options)
        except Exception as exc:  # noqa: BLE001 - any broker failure
            logger.exception("could not send task %s to queue %s", func, queue)
            if on_error is not None:
                on_error(exc)

    transaction.on_commit(send)


def priority_lower(queue: str) -> int:
    """Lower this process's CPU priority to the nice value
    settings.ALWEB_Q_NICE gives `queue` (0 for a queue it does not name), never
    below the value it inherited (an unprivileged process cannot go back).
    Returns the nice value it runs at now."""
    from django.conf import settings

    wanted = settings.ALWEB_Q_NICE.get(queue, 0)
    if wanted > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, wanted)
    return os.getpriority(os.PRIO_PROCESS, 0)


def worker_priority_lower(sender=None, proc_name: str = "", **kwargs) -> None:
    """django-q2's post_spawn, in each new worker process: priority_lower() for
    its cluster, so that training, scoring and exports yield the CPU to web
    requests on a shared host. Runs before the worker's first task, so the
    threads a task starts (torch's) inherit it."""
    from django_q.conf import Conf

    nice = priority_lower(Conf.CLUSTER_NAME)
    if nice:
        logger.info("%s of %s runs at nice %d", proc_name, Conf.CLUSTER_NAME, nice)
