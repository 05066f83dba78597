"""Items keep why they have their priority (strategy, components, random control)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotate", "0004_training_settings_moved")]

    operations = [
        migrations.AddField(
            model_name="item",
            name="priority_reason",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
