"""撤回 withdraws: a recall is a state of its own and a record (who, when, why), not a flag.

Deliveries recalled after signing (state signed or completed with recalled_at) become
recalled_signed; every recall gets a Recall row, its actor and reason read from its audit event; and
what the old rule left in place below a recalled delivery (the deliveries of the cover letters
forwarded from it, level after level) is withdrawn as the new rule withdraws it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

WITHDRAWN = ["recalled", "recalled_signed"]


def _event(audit_events, verb: str, object_type: str, object_id: int):
    event = (
        audit_events.objects.filter(verb=verb, object_type=object_type, object_id=str(object_id))
        .order_by("seq")
        .first()
    )
    if event is None:
        raise RuntimeError(f"{object_type} {object_id} was recalled but its {verb} event is missing")
    return event


def withdraw_recalled(apps, schema_editor):
    AuditEvent = apps.get_model("workflow", "AuditEvent")
    Delivery = apps.get_model("workflow", "Delivery")
    Dispatch = apps.get_model("workflow", "Dispatch")
    Forward = apps.get_model("workflow", "Forward")
    Recall = apps.get_model("workflow", "Recall")
    for dispatch in Dispatch.objects.filter(recalled_at__isnull=False).order_by("pk"):
        event = _event(AuditEvent, "DISPATCH_RECALLED", "Dispatch", dispatch.pk)
        recall = Recall.objects.create(
            dispatch=dispatch,
            recalled_by_id=dispatch.recalled_by_id or event.actor_id,
            recalled_at=dispatch.recalled_at,
            reason=str(event.payload.get("reason", ""))[:200],
        )
        Dispatch.objects.filter(pk=dispatch.pk).update(recall=recall)
        Delivery.objects.filter(dispatch=dispatch, recalled_at__isnull=False).update(recall=recall)
    for delivery in Delivery.objects.filter(recalled_at__isnull=False, recall__isnull=True).order_by("pk"):
        event = _event(AuditEvent, "DELIVERY_RECALLED", "Delivery", delivery.pk)
        recall = Recall.objects.create(
            dispatch_id=delivery.dispatch_id,
            delivery=delivery,
            recalled_by_id=event.actor_id,
            recalled_at=delivery.recalled_at,
            reason=str(event.payload.get("reason", ""))[:200],
        )
        Delivery.objects.filter(pk=delivery.pk).update(recall=recall)
    Delivery.objects.filter(recall__isnull=False, state__in=["signed", "completed"]).update(state="recalled_signed")
    # Below a withdrawn delivery, level after level: the dispatches of the cover letters forwarded
    # from it, and their deliveries.
    while True:
        moved = 0
        forwards = Forward.objects.filter(source_delivery__state__in=WITHDRAWN).select_related("source_delivery")
        for forward in forwards:
            recall_id = forward.source_delivery.recall_id
            below = Delivery.objects.filter(document_id=forward.cover_id, recall__isnull=True)
            moved += below.filter(state="pending").update(state="recalled", recall_id=recall_id)
            moved += below.filter(state__in=["signed", "completed"]).update(
                state="recalled_signed", recall_id=recall_id
            )
            Dispatch.objects.filter(document_id=forward.cover_id, recall__isnull=True).update(recall_id=recall_id)
        if not moved:
            break


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0004_imported_source"),
        ("units", "0001_initial"),
        ("workflow", "0006_document_registration"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Recall",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("recalled_at", models.DateTimeField(verbose_name="撤回时间")),
                ("reason", models.CharField(blank=True, max_length=200, verbose_name="撤回原因")),
            ],
            options={
                "verbose_name": "撤回",
                "verbose_name_plural": "撤回",
                "ordering": ["-recalled_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="recall",
            name="delivery",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workflow.delivery",
            ),
        ),
        migrations.AddField(
            model_name="recall",
            name="dispatch",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="recalls", to="workflow.dispatch"
            ),
        ),
        migrations.AddField(
            model_name="recall",
            name="recalled_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="delivery",
            name="recall",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="workflow.recall",
            ),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="recall",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dispatches",
                to="workflow.recall",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="delivery",
            name="delivery_state_known",
        ),
        migrations.RemoveConstraint(
            model_name="delivery",
            name="delivery_signed_has_time",
        ),
        migrations.RemoveIndex(
            model_name="delivery",
            name="delivery_sign_for_clock",
        ),
        migrations.RemoveIndex(
            model_name="delivery",
            name="delivery_complete_clock",
        ),
        migrations.AlterField(
            model_name="delivery",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "待签收"),
                    ("signed", "已签收"),
                    ("completed", "已办结"),
                    ("returned", "已退文"),
                    ("recalled", "已撤回"),
                    ("recalled_signed", "签收后撤回"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(withdraw_recalled, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="delivery",
            name="recalled_at",
        ),
        migrations.RemoveField(
            model_name="dispatch",
            name="recalled_at",
        ),
        migrations.RemoveField(
            model_name="dispatch",
            name="recalled_by",
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("state", "pending")), fields=["deadline_sign_for"], name="delivery_sign_for_clock"
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("state__in", ["pending", "signed"])),
                fields=["deadline_complete"],
                name="delivery_complete_clock",
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("state__in", ["pending", "signed", "completed", "returned", "recalled", "recalled_signed"])
                ),
                name="delivery_state_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("state__in", ["signed", "completed", "recalled_signed"]), _negated=True),
                    ("signed_at__isnull", False),
                    _connector="OR",
                ),
                name="delivery_signed_has_time",
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("recall__isnull", False), ("state__in", ["recalled", "recalled_signed"])),
                    models.Q(
                        models.Q(("state__in", ["recalled", "recalled_signed"]), _negated=True),
                        ("recall__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="delivery_withdrawn_has_recall",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="verb",
            field=models.CharField(
                choices=[
                    ("UNIT_CREATED", "Unit Created"),
                    ("MEMBER_ADDED", "Member Added"),
                    ("MEMBER_REMOVED", "Member Removed"),
                    ("ROLE_GRANTED", "Role Granted"),
                    ("ROLE_REVOKED", "Role Revoked"),
                    ("RECIPIENT_GROUP_SAVED", "Recipient Group Saved"),
                    ("NUMBER_SERIES_SET", "Number Series Set"),
                    ("DOCUMENT_DRAFTED", "Document Drafted"),
                    ("DOCUMENT_UPDATED", "Document Updated"),
                    ("ATTACHMENT_ADDED", "Attachment Added"),
                    ("DOCUMENT_SIGNED_OFF", "Document Signed Off"),
                    ("DOCUMENT_ISSUED", "Document Issued"),
                    ("DOCUMENT_FORWARDED", "Document Forwarded"),
                    ("DOCUMENT_REGISTERED", "Document Registered"),
                    ("DOCUMENT_SHARED", "Document Shared"),
                    ("DELIVERIES_CREATED", "Deliveries Created"),
                    ("DISPATCH_ROUTED", "Dispatch Routed"),
                    ("DISPATCH_NOTIFIED", "Dispatch Notified"),
                    ("DELIVERY_READ", "Delivery Read"),
                    ("DELIVERY_SIGNED", "Delivery Signed"),
                    ("DEADLINE_POLICY_SET", "Deadline Policy Set"),
                    ("CALENDAR_DAY_SET", "Calendar Day Set"),
                    ("CALENDAR_DAY_REMOVED", "Calendar Day Removed"),
                    ("DELIVERY_REMINDED", "Delivery Reminded"),
                    ("DELIVERY_ESCALATED", "Delivery Escalated"),
                    ("DISPATCH_RECALLED", "Dispatch Recalled"),
                    ("DELIVERY_RECALLED", "Delivery Recalled"),
                    ("DELIVERIES_WITHDRAWN", "Deliveries Withdrawn"),
                    ("DELIVERY_RETURNED", "Delivery Returned"),
                    ("DELIVERY_COMPLETED", "Delivery Completed"),
                ],
                max_length=40,
            ),
        ),
    ]
