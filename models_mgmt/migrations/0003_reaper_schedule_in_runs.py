"""The reaper moved to the runs app: its schedule calls runs.tasks.reap, on the
default (housekeeping) cluster, where no long task can delay it."""

from django.db import migrations


def to_runs(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="alweb-reaper",
        defaults={"func": "runs.tasks.reap", "schedule_type": "I", "minutes": 1,
                  "repeats": -1, "cluster": None},
    )


def to_models_mgmt(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name="alweb-reaper").update(func="models_mgmt.tasks.reap")


class Migration(migrations.Migration):
    dependencies = [
        ("models_mgmt", "0002_reaper_schedule"),
        ("runs", "0002_runs_job"),
    ]

    operations = [migrations.RunPython(to_runs, to_models_mgmt)]
