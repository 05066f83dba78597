"""django-q2 entry points of the annotate app: load a row by id, call one service."""

from annotate.services.exports import export_job_run


def export_run(job_id: int) -> None:
    export_job_run(job_id=job_id)
