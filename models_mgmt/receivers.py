"""Listens to annotate's domain events (a project's training settings; scoring or
training on new and approved items) and to the runs' lifecycle (keeps a training
run's model version in step with its run)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from annotate import signals
from annotate.selectors import project_find
from models_mgmt.models import TrainingSettings
from models_mgmt.services.pipeline import training_settings_create
from models_mgmt.services.scoring import scoring_request
from models_mgmt.services.segmenter import segmenter_files_delete_on_commit
from models_mgmt.services.training import (
    training_version_reset_for_retry,
    training_version_stop,
)
from models_mgmt.services.triggers import cron_schedule_sync, on_items_approved
from models_mgmt.services.versions import (
    evaluations_mark_stale,
    model_files_delete_on_commit,
)
from runs.models import JobKind, JobStatus
from runs.signals import run_finished, run_retried


@receiver(signals.project_created)
def create_training_settings(sender, project, **kwargs):
    """A new project gets its training settings in the same transaction."""
    training_settings_create(project=project)


@receiver(signals.project_deleting)
def delete_model_files(sender, project, **kwargs):
    """A deleted project's weights and run folders go once the deletion commits."""
    model_files_delete_on_commit(project=project)
    segmenter_files_delete_on_commit(project=project)


@receiver(signals.item_created)
def score_new_items(sender, project_id, item_ids, **kwargs):
    project = project_find(project_id=project_id)
    if project is not None:
        scoring_request(project=project)


@receiver(signals.item_approved)
def check_training_triggers(sender, project_id, item_ids, **kwargs):
    project = project_find(project_id=project_id)
    if project is not None:
        on_items_approved(project=project)


@receiver(signals.item_reopened)
def mark_evaluations_stale(sender, project_id, item_ids, **kwargs):
    """A reopened test item: the evaluations that scored it are stale."""
    evaluations_mark_stale(project_id=project_id, item_ids=item_ids)


@receiver(post_save, sender=TrainingSettings)
def sync_cron_schedule(sender, instance, **kwargs):
    cron_schedule_sync(settings=instance)


@receiver(run_finished)
def stop_version_of_ended_training(
    sender, kind, status, model_version_id, reason, **kwargs
):
    """A training run cancelled, reaped or failed: its version ends failed too."""
    if kind == JobKind.TRAIN and model_version_id and status != JobStatus.SUCCEEDED:
        training_version_stop(version_id=model_version_id, reason=reason or status)


@receiver(run_retried)
def queue_version_of_retried_training(sender, job, previous, **kwargs):
    """A retried training run trains the same frozen version again."""
    if job.kind == JobKind.TRAIN and job.model_version_id:
        training_version_reset_for_retry(
            version_id=job.model_version_id, actor=job.created_by
        )
