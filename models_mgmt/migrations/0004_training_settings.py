"""Training settings move from annotate.Pipeline to models_mgmt.TrainingSettings:
one row per project with the values it had (and back on reverse)."""

import django.db.models.deletion
from django.db import migrations, models

FIELDS = (
    "model_config",
    "comparison_config",
    "trigger_cron",
    "trigger_every_n_approved",
    "trigger_kpi",
)


def copy_from_pipelines(apps, schema_editor):
    Pipeline = apps.get_model("annotate", "Pipeline")
    Project = apps.get_model("annotate", "Project")
    TrainingSettings = apps.get_model("models_mgmt", "TrainingSettings")
    values = {
        p.project_id: {f: getattr(p, f) for f in FIELDS}
        for p in Pipeline.objects.all()
    }
    TrainingSettings.objects.bulk_create(
        TrainingSettings(project_id=pk, **values.get(pk, {}))
        for pk in Project.objects.values_list("pk", flat=True)
    )


def copy_back_to_pipelines(apps, schema_editor):
    Pipeline = apps.get_model("annotate", "Pipeline")
    TrainingSettings = apps.get_model("models_mgmt", "TrainingSettings")
    for row in TrainingSettings.objects.all():
        Pipeline.objects.update_or_create(
            project_id=row.project_id,
            defaults={f: getattr(row, f) for f in FIELDS},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0003_move_job_to_runs"),
        ("models_mgmt", "0003_reaper_schedule_in_runs"),
    ]
    # annotate drops the moved columns only once their values are copied here.
    run_before = [("annotate", "0004_training_settings_moved")]

    operations = [
        migrations.CreateModel(
            name="TrainingSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("model_config", models.JSONField(blank=True, default=dict)),
                ("comparison_config", models.JSONField(blank=True, default=dict)),
                ("trigger_cron", models.CharField(blank=True, max_length=100)),
                (
                    "trigger_every_n_approved",
                    models.PositiveIntegerField(blank=True, null=True),
                ),
                ("trigger_kpi", models.JSONField(blank=True, default=dict)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "project",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="training_settings",
                        to="annotate.project",
                    ),
                ),
            ],
            options={"verbose_name_plural": "training settings"},
        ),
        migrations.RunPython(copy_from_pipelines, copy_back_to_pipelines),
    ]
