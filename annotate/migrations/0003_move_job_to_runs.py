"""Job moved to the runs app (runs.0001 took over its state, table and rows)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('annotate', '0002_item_priority_index'),
        ('runs', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='Job')],
        ),
    ]
