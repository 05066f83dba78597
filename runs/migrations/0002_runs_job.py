"""Rename annotate_job to runs_job, add what cancel and retry need (entry point,
queue, attempt, retry_of), fill them for existing rows, and move the content type
(and so admin permissions and log entries) from annotate.job to runs.job."""

import django.db.models.deletion
from django.db import migrations, models

# How each kind was sent before runs stored it on the row.
ENTRY_POINTS = {
    'train': ('models_mgmt.tasks.run_training', 'training'),
    'score': ('models_mgmt.tasks.run_scoring', 'work'),
    'export': ('annotate.tasks.export_run', 'work'),
}


def fill_entry_points(apps, schema_editor):
    Job = apps.get_model('runs', 'Job')
    for kind, (task, queue) in ENTRY_POINTS.items():
        Job.objects.filter(kind=kind, task='').update(task=task, queue=queue)


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    old = ContentType.objects.filter(app_label='annotate', model='job')
    if ContentType.objects.filter(app_label='runs', model='job').exists():
        old.delete()
    else:
        old.update(app_label='runs')


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if not ContentType.objects.filter(app_label='annotate', model='job').exists():
        ContentType.objects.filter(app_label='runs', model='job').update(
            app_label='annotate'
        )


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0001_initial'),
        ('annotate', '0003_move_job_to_runs'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterModelTable(name='job', table=None),
        migrations.RemoveField(model_name='job', name='attempts'),
        migrations.AddField(
            model_name='job',
            name='attempt',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='job',
            name='queue',
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name='job',
            name='task',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='job',
            name='retry_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='retries', to='runs.job'),
        ),
        migrations.AddIndex(
            model_name='job',
            index=models.Index(fields=['project', '-created_at'], name='job_project_idx'),
        ),
        migrations.RunPython(fill_entry_points, migrations.RunPython.noop),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
