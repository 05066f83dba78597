"""The training settings left Pipeline for models_mgmt.TrainingSettings (whose
migration copies the values first: it runs before this one)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("annotate", "0003_move_job_to_runs")]

    operations = [
        migrations.RemoveField(model_name="pipeline", name=name)
        for name in (
            "model_config",
            "comparison_config",
            "trigger_cron",
            "trigger_every_n_approved",
            "trigger_kpi",
        )
    ]
