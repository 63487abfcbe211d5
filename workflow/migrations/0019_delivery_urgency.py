"""Delivery.urgency: the document's urgency, copied onto each delivery (issue 18: 收文 待签收 sorts
a unit's 10^5 pending deliveries by urgency from the index delivery_inbox_pending, without reading
their documents). Existing deliveries get their document's, in one UPDATE; a document's urgency is
frozen at issue (documents' migration 0003), so the copy never falls behind."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

URGENCIES = [("特提", "特提"), ("特急", "特急"), ("加急", "加急"), ("平急", "平急"), ("普通", "普通")]


def copy_urgency(apps, schema_editor):
    deliveries, documents = (
        apps.get_model("workflow", "Delivery").objects,
        apps.get_model("documents", "Document").objects,
    )
    deliveries.update(urgency=Subquery(documents.filter(pk=OuterRef("document_id")).values("urgency")))


class Migration(migrations.Migration):
    dependencies = [("workflow", "0018_inbox_and_notification_list_indexes")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="urgency",
            field=models.CharField(choices=URGENCIES, default="普通", editable=False, max_length=4),
            preserve_default=False,
        ),
        migrations.RunPython(copy_urgency, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("state", "pending")),
                fields=["unit", "urgency", "-created_at", "-id"],
                include=("deadline_sign_for", "deadline_complete"),
                name="delivery_inbox_pending",
            ),
        ),
    ]
