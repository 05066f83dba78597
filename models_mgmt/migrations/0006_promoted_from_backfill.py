"""Fill ModelVersion.promoted_from from the model_promoted events recorded before
the field existed, so that roll back works on versions promoted earlier."""

from django.db import migrations


def backfill(apps, schema_editor):
    Event = apps.get_model("annotate", "Event")
    ModelVersion = apps.get_model("models_mgmt", "ModelVersion")
    existing = set(ModelVersion.objects.values_list("pk", flat=True))
    events = Event.objects.filter(verb="model_promoted").order_by("created_at", "id")
    chain = {}
    for event in events.iterator():
        data = event.data or {}
        model, previous = data.get("model"), data.get("previous")
        if data.get("reason") == "roll back" or model not in existing:
            continue
        chain[model] = previous if previous in existing else None
    for model, previous in chain.items():
        if previous is not None and previous != model:
            ModelVersion.objects.filter(pk=model, promoted_from__isnull=True).update(
                promoted_from_id=previous
            )


class Migration(migrations.Migration):
    dependencies = [
        ("models_mgmt", "0005_version_history"),
        ("annotate", "0006_selection_state"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
