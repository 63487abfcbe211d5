"""Delivery.dispatch and Delivery.document lose their own indexes: one_delivery_per_dispatch_and_unit
leads with the dispatch and delivery_visibility with the document, so each answered the same lookups
twice. With the document's beside it, the search door's probe (this document, one of the person's
units) read every delivery of the document from the table instead of one entry of delivery_visibility
(issue 18); and every fan-out wrote both to no purpose.

On SQLite the AlterFields rebuild workflow_delivery, which drops its triggers: they are put back as
0020 does.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

AGAIN = importlib.import_module("workflow.migrations.0020_sqlite_delivery_triggers_again")


class Migration(migrations.Migration):
    dependencies = [("documents", "0010_enclosure_of_covers"), ("workflow", "0023_delivery_is_cover")]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="dispatch",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="workflow.dispatch",
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="document",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="documents.document",
            ),
        ),
        migrations.RunPython(AGAIN.recreate, migrations.RunPython.noop),
    ]
