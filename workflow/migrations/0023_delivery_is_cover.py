"""Delivery.is_cover: whether the delivered document encloses others (a cover letter), copied onto
each delivery, and the partial index delivery_covers of a unit's covers (issue 18: the search door
reads what a unit sees through its covers from the unit's covers, not from every delivery it holds).
Existing deliveries get theirs in one UPDATE; what a document encloses is fixed when it is issued.

On SQLite, the new column rebuilds workflow_delivery, which drops its triggers: they are put back as
0020 does.
"""

import importlib

from django.db import migrations, models

AGAIN = importlib.import_module("workflow.migrations.0020_sqlite_delivery_triggers_again")


def mark_covers(apps, schema_editor):
    deliveries, enclosures = (
        apps.get_model("workflow", "Delivery").objects,
        apps.get_model("documents", "Enclosure").objects,
    )
    deliveries.filter(document_id__in=enclosures.filter(depth__gt=0).values("cover_id")).update(is_cover=True)


class Migration(migrations.Migration):
    dependencies = [("documents", "0010_enclosure_of_covers"), ("workflow", "0022_dispatch_issuing_unit")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="is_cover",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.RunPython(mark_covers, migrations.RunPython.noop),
        migrations.RunPython(AGAIN.recreate, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("is_cover", True)),
                fields=["unit"],
                include=("document", "state"),
                name="delivery_covers",
            ),
        ),
    ]
