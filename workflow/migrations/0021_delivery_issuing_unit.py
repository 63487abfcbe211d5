"""Delivery.issuing_unit: the document's issuing unit, copied onto each delivery (issue 18: 发文's
overdue list walks an issuing unit's open deliveries by deadline from the partial indexes
delivery_overdue_*, instead of grouping every overdue delivery of its documents through a join).
Existing deliveries get their document's in one UPDATE; a document's issuing unit is frozen at issue.

On SQLite, making the column NOT NULL rebuilds workflow_delivery, which drops its triggers: they are
put back as 0020 does.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

AGAIN = importlib.import_module("workflow.migrations.0020_sqlite_delivery_triggers_again")


def copy_issuing_unit(apps, schema_editor):
    deliveries, documents = (
        apps.get_model("workflow", "Delivery").objects,
        apps.get_model("documents", "Document").objects,
    )
    deliveries.update(issuing_unit=Subquery(documents.filter(pk=OuterRef("document_id")).values("issuing_unit")))


class Migration(migrations.Migration):
    dependencies = [("units", "0001_initial"), ("workflow", "0020_sqlite_delivery_triggers_again")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="issuing_unit",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="units.unit",
            ),
        ),
        migrations.RunPython(copy_issuing_unit, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="delivery",
            name="issuing_unit",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="units.unit",
            ),
        ),
        migrations.RunPython(AGAIN.recreate, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("state", "pending")),
                fields=["issuing_unit", "deadline_sign_for", "id"],
                name="delivery_overdue_sign_for",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("state__in", ["pending", "signed"])),
                fields=["issuing_unit", "deadline_complete", "id"],
                include=("state", "deadline_sign_for"),
                name="delivery_overdue_complete",
            ),
        ),
    ]
