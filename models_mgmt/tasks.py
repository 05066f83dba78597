"""django-q2 entry points: load a row by id, call one service."""

from annotate.models import Project
from models_mgmt.services import scoring, training, triggers


def run_training(job_id: int) -> None:
    training.training_run(job_id)


def run_scoring(job_id: int) -> None:
    scoring.scoring_run(job_id)


def run_kpi_check(project_id: int) -> None:
    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        triggers.kpi_check(project=project)


def cron_train(project_id) -> None:
    project = Project.objects.filter(pk=int(project_id)).first()
    if project is not None:
        triggers.trigger_fire(project=project, trigger="cron")
