"""Listens to annotate's domain events and starts scoring or training."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from annotate import signals
from annotate.models import Pipeline, Project
from models_mgmt.services.scoring import scoring_request
from models_mgmt.services.triggers import cron_schedule_sync, on_items_approved


@receiver(signals.item_created)
def score_new_items(sender, project_id, item_ids, **kwargs):
    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        scoring_request(project=project)


@receiver(signals.item_approved)
def check_training_triggers(sender, project_id, item_ids, **kwargs):
    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        on_items_approved(project=project)


@receiver(post_save, sender=Pipeline)
def sync_cron_schedule(sender, instance, **kwargs):
    cron_schedule_sync(pipeline=instance)
