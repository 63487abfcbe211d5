"""Dispatch.issuing_unit: the document's issuing unit, copied onto its dispatch (issue 18: 发文 pages
a unit's dispatches newest first from the index dispatch_outbox; it sorted every dispatch of the
installation and joined each to its document). Existing dispatches get their document's in one
UPDATE; a document's issuing unit is frozen at issue."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_issuing_unit(apps, schema_editor):
    dispatches, documents = (
        apps.get_model("workflow", "Dispatch").objects,
        apps.get_model("documents", "Document").objects,
    )
    dispatches.update(issuing_unit=Subquery(documents.filter(pk=OuterRef("document_id")).values("issuing_unit")))


class Migration(migrations.Migration):
    dependencies = [("workflow", "0021_delivery_issuing_unit")]

    operations = [
        migrations.AddField(
            model_name="dispatch",
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
            model_name="dispatch",
            name="issuing_unit",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="units.unit",
            ),
        ),
        migrations.AddIndex(
            model_name="dispatch",
            index=models.Index(fields=["issuing_unit", "-created_at", "-id"], name="dispatch_outbox"),
        ),
    ]
