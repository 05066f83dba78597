"""django-q2 entry points: load a row by id, call one service."""

from annotate.selectors import project_find
from models_mgmt.services import backtests, label_errors, scoring, training, triggers


def run_backtest(job_id: int) -> None:
    backtests.backtest_run(job_id)


def run_training(job_id: int) -> None:
    training.training_run(job_id)


def run_scoring(job_id: int) -> None:
    scoring.scoring_run(job_id)


def run_label_errors(job_id: int) -> None:
    label_errors.label_errors_run(job_id)


def run_kpi_check(project_id: int) -> None:
    project = project_find(project_id=project_id)
    if project is not None:
        triggers.kpi_check(project=project)


def cron_train(project_id) -> None:
    project = project_find(project_id=int(project_id))
    if project is not None:
        triggers.trigger_fire(project=project, trigger="cron")
