"""Take over annotate's Job model without touching its table or rows.

The state gets the model exactly as annotate.0001 created it (table annotate_job);
annotate.0003 then drops it from annotate's state, and runs.0002 renames the table
and adds the new fields. No row is copied or lost.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('annotate', '0002_item_priority_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Job',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('train', 'Training'), ('score', 'Scoring'), ('evaluate', 'Evaluation'), ('export', 'Export'), ('import', 'Import')], max_length=12)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='queued', max_length=12)),
                        ('progress', models.FloatField(default=0.0)),
                        ('message', models.CharField(blank=True, max_length=500)),
                        ('error', models.TextField(blank=True)),
                        ('params', models.JSONField(blank=True, default=dict)),
                        ('result', models.JSONField(blank=True, default=dict)),
                        ('model_version_id', models.PositiveBigIntegerField(blank=True, null=True)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='jobs', to='annotate.project')),
                    ],
                    options={
                        'db_table': 'annotate_job',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['status', 'heartbeat_at'], name='job_heartbeat_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status__in', ['queued', 'running'])), fields=('project', 'kind'), name='job_one_active_per_kind'), models.CheckConstraint(condition=models.Q(('status__in', ['queued', 'running', 'succeeded', 'failed', 'cancelled'])), name='job_status_valid'), models.CheckConstraint(condition=models.Q(('progress__gte', 0), ('progress__lte', 1)), name='job_progress_range')],
                    },
                ),
            ],
        ),
    ]
