"""撤回: the issuer withdraws a dispatch, or its delivery to one unit.

A recall takes the document away. A delivery not yet signed for becomes recalled; one signed for
(or completed) becomes recalled after signing. Either way its unit loses the content: every door
(workflow.access) shows it the stub — number, title, 已撤回, who recalled it, when and why — and
never the body or the files. What the unit forwarded goes with it: the dispatches of the cover
letters forwarded from a withdrawn delivery are recalled by the same act, and their deliveries
withdrawn, level after level down the chain. A unit that got the document another way too keeps it
through that way. The issuer's people and the chain's auditors still see everything.

Each act is one Recall row (who, when, why) that every delivery it withdrew points to, so each
stub can say so. Every unit that lost something is told (one notice per clerk). Set operations:
one UPDATE per kind of move, one recursive query for the chain below, one INSERT of notices,
whatever the number of deliveries.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from units.errors import Conflict, InvalidInput, NotFound
from units.models import Role
from workflow import sql
from workflow.audit import audit_record, audit_record_many
from workflow.enqueue import enqueue_notification_emails
from workflow.models import AuditVerb, Delivery, Dispatch, Forward, Notification, Recall
from workflow.services.notifications import notice_language, notify_clerks_of
from workflow.services.rules import DeliveryAction, require_delivery_action, require_role
from workflow.transitions import delivery_move

# Delivery ids per DELIVERIES_WITHDRAWN event: the audit log names every delivery a recall took
# away, in events of a bounded size.
AUDIT_CHUNK = 2000


def _below(recall: Recall) -> QuerySet[Delivery]:
    """Every delivery of every cover letter forwarded from a delivery this recall withdrew after
    signing, level after level down the chain (one recursive query, whatever the chain's size)."""
    return Delivery.objects.filter(pk__in=sql.deliveries_below(recall.pk))


def _withdraw(deliveries: QuerySet[Delivery], recall: Recall) -> tuple[int, int]:
    """Move `deliveries` to the withdrawn state that fits each: (unsigned moved, signed moved)."""
    unsigned = delivery_move(deliveries, Delivery.State.RECALLED, recall=recall)
    signed = delivery_move(deliveries, Delivery.State.RECALLED_AFTER_SIGNING, recall=recall)
    return unsigned, signed


def _recall(recall: Recall, targets: QuerySet[Delivery]) -> dict[str, int]:
    """Withdraw `targets` and everything forwarded from them; tell every unit that lost something."""
    withdrawn, held = _withdraw(targets, recall)
    downstream = 0
    # The cover letters' dispatches first: their row lock waits for a routing chunk in flight, and a
    # chunk that starts later sees the recall and creates its deliveries withdrawn
    # (dispatch_route). Again until nothing moves: a cover letter issued from a delivery just before
    # this recall locked it is caught by the next round.
    while True:
        covers = Forward.objects.filter(source_delivery__recall=recall).values("cover_id")
        dispatches = Dispatch.objects.filter(document_id__in=covers, recall__isnull=True).update(recall=recall)
        moved = sum(_withdraw(_below(recall), recall))
        downstream += moved
        if not dispatches and not moved:
            break
    document = recall.dispatch.document
    with notice_language():
        text = _("%(issuer)s已撤回%(number)s《%(title)s》。") % {
            "issuer": document.issuing_unit.name,
            "number": document.number,
            "title": document.title,
        }
        if recall.reason:
            text += _("撤回原因：%(reason)s") % {"reason": recall.reason}
    notify_clerks_of(
        Delivery.objects.filter(recall=recall), text=text, kind=Notification.Kind.RECALLED, now=recall.recalled_at
    )
    enqueue_notification_emails(recall.dispatch.queue)
    _audit_withdrawn(recall)
    return {"withdrawn": withdrawn, "held": held, "downstream": downstream}


def _audit_withdrawn(recall: Recall) -> None:
    """Name every delivery the recall withdrew, per document, in events of AUDIT_CHUNK ids."""
    by_document: dict[int, list[int]] = {}
    for delivery_id, document_id in (
        Delivery.objects.filter(recall=recall).order_by("document_id", "id").values_list("id", "document_id")
    ):
        by_document.setdefault(document_id, []).append(delivery_id)
    audit_record_many(
        [
            {
                "actor": recall.recalled_by,
                "verb": AuditVerb.DELIVERIES_WITHDRAWN,
                "object_type": "Recall",
                "object_id": recall.pk,
                "document": document_id,
                "payload": {"delivery_ids": ids[start : start + AUDIT_CHUNK]},
            }
            for document_id, ids in by_document.items()
            for start in range(0, len(ids), AUDIT_CHUNK)
        ]
    )


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > 200:
        raise InvalidInput(_("撤回原因过长（%(length)d 字，上限 200 字）。") % {"length": len(reason)})
    return reason


def dispatch_recall(*, actor: AbstractBaseUser, dispatch_id: int, reason: str = "") -> dict[str, int]:
    """撤回 a whole dispatch: every delivery of it, as the module docstring says.

    Preconditions: the actor is a clerk or signer of the issuing unit; the dispatch is routed and
    not recalled yet. Returns {"withdrawn": unsigned deliveries recalled, "held": signed ones
    recalled, "downstream": deliveries below them in the chain withdrawn}.
    Errors: NotFound, NotAllowed, Conflict (still routing, already recalled), InvalidInput (reason
    too long). Nothing is written on error.
    """
    reason = _clean_reason(reason)
    with transaction.atomic():
        dispatch = (
            Dispatch.objects.select_for_update(of=("self",))
            .select_related("document__issuing_unit")
            .filter(pk=dispatch_id)
            .first()
        )
        if dispatch is None:
            raise NotFound(_("分发记录不存在或无权查看。"))
        require_role(
            actor, dispatch.document.issuing_unit, Role.CLERK, Role.SIGNER, action=pgettext("refused action", "撤回")
        )
        if dispatch.routed_at is None:
            raise Conflict(
                _("%(number)s正在分发，分发完成后才能撤回，请稍后再试。") % {"number": dispatch.document.number}
            )
        if dispatch.recall_id is not None:
            raise Conflict(_("%(number)s已经撤回。") % {"number": dispatch.document.number})
        recall = Recall.objects.create(dispatch=dispatch, recalled_by=actor, recalled_at=timezone.now(), reason=reason)
        Dispatch.objects.filter(pk=dispatch.pk).update(recall=recall)
        # The dispatch row is locked, so no second recall of it runs alongside; a concurrent
        # sign-for is settled by the conditional UPDATEs (a delivery signed meanwhile is recalled
        # after signing).
        counts = _recall(recall, Delivery.objects.filter(dispatch=dispatch))
        audit_record(
            actor=actor,
            verb=AuditVerb.DISPATCH_RECALLED,
            object_type="Dispatch",
            object_id=dispatch.pk,
            unit=dispatch.document.issuing_unit_id,
            document=dispatch.document_id,
            payload={**counts, "reason": reason, "recall_id": recall.pk},
        )
    return counts


def delivery_recall(*, actor: AbstractBaseUser, delivery_id: int, reason: str = "") -> dict[str, int]:
    """撤回 the delivery to one unit (the rest of the dispatch stands).

    Preconditions and errors as `dispatch_recall` (workflow.services.rules, DeliveryAction.RECALL);
    Conflict too when this delivery was already recalled or returned. Returns the same counts.
    """
    reason = _clean_reason(reason)
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("dispatch__document__issuing_unit", "document__issuing_unit", "unit")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            raise NotFound(_("送达记录不存在或无权查看。"))
        require_delivery_action(actor, DeliveryAction.RECALL, delivery)
        recall = Recall.objects.create(
            dispatch=delivery.dispatch,
            delivery=delivery,
            recalled_by=actor,
            recalled_at=timezone.now(),
            reason=reason,
        )
        counts = _recall(recall, Delivery.objects.filter(pk=delivery.pk))
        audit_record(
            actor=actor,
            verb=AuditVerb.DELIVERY_RECALLED,
            object_type="Delivery",
            object_id=delivery.pk,
            unit=delivery.unit_id,
            document=delivery.document_id,
            payload={**counts, "reason": reason, "recall_id": recall.pk},
        )
    return counts
