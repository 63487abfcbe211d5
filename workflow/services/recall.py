"""撤回: the issuer withdraws a dispatch, or its delivery to one unit.

A delivery not yet signed for becomes recalled: it leaves the recipient's inbox (its history, the
delivery row and its audit events, stays). A delivery already signed for keeps its state (the unit
has it), is marked recalled (`recalled_at`: no more reminders), and its unit and every unit it was
forwarded to, down the chain, get a recall notice. Set operations: one UPDATE per kind of
delivery, one recursive query for the chain below, one INSERT of notifications.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from units.errors import Conflict, InvalidInput, NotFound
from units.models import Role
from workflow.audit import audit_record
from workflow.enqueue import enqueue_notification_emails
from workflow.models import AuditVerb, Delivery, Dispatch, Forward, Notification
from workflow.services.documents import _require_role
from workflow.services.notifications import notice_language, notify_clerks_of

HELD_STATES = (Delivery.State.SIGNED, Delivery.State.COMPLETED)


def _chain_below(signed: QuerySet[Delivery]) -> QuerySet[Delivery]:
    """Every delivery of every cover letter forwarded from `signed`, level after level (one query)."""
    inner_sql, inner_params = signed.order_by().values("id").query.sql_with_params()
    delivery, forward = Delivery._meta.db_table, Forward._meta.db_table
    # Constant table names and the ORM's own compiled, parameterised SQL: nothing from input.
    below = RawSQL(  # noqa: S611
        f"WITH RECURSIVE below(id) AS ({inner_sql} "
        f"UNION SELECT d.id FROM {delivery} d JOIN {forward} f ON d.document_id = f.cover_id "
        f"JOIN below b ON f.source_delivery_id = b.id) SELECT id FROM below",
        inner_params,
    )
    return Delivery.objects.filter(pk__in=below).exclude(pk__in=signed.values("id"))


def _recall(
    actor: AbstractBaseUser, dispatch: Dispatch, targets: QuerySet[Delivery], now: datetime.datetime, reason: str
) -> dict[str, int]:
    """Recall `targets` (deliveries of `dispatch`, locked by the caller); notify; return the counts."""
    document = dispatch.document
    withdrawn = targets.filter(state=Delivery.State.PENDING).update(state=Delivery.State.RECALLED, recalled_at=now)
    held = targets.filter(state__in=HELD_STATES, recalled_at__isnull=True).update(recalled_at=now)
    newly_recalled = targets.filter(recalled_at=now)
    below = _chain_below(newly_recalled.filter(state__in=HELD_STATES))
    with notice_language():
        text = _("%(issuer)s已撤回%(number)s《%(title)s》。") % {
            "issuer": document.issuing_unit.name,
            "number": document.number,
            "title": document.title,
        }
        if reason:
            text += _("撤回原因：%(reason)s") % {"reason": reason}
    told = Delivery.objects.filter(Q(pk__in=newly_recalled.values("id")) | Q(pk__in=below.values("id")))
    notify_clerks_of(told, text=text, kind=Notification.Kind.RECALLED, now=now)
    enqueue_notification_emails(dispatch.queue)
    return {"withdrawn": withdrawn, "held": held, "downstream": told.count() - withdrawn - held}


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > 200:
        raise InvalidInput(_("撤回原因过长（%(length)d 字，上限 200 字）。") % {"length": len(reason)})
    return reason


def _require_routed(dispatch: Dispatch) -> None:
    if dispatch.routed_at is None:
        raise Conflict(_("%(number)s正在分发，分发完成后才能撤回，请稍后再试。") % {"number": dispatch.document.number})


def dispatch_recall(*, actor: AbstractBaseUser, dispatch_id: int, reason: str = "") -> dict[str, int]:
    """撤回 a whole dispatch: every delivery of it, as the module docstring says.

    Preconditions: the actor is a clerk or signer of the issuing unit; the dispatch is routed and
    not recalled yet. Returns {"withdrawn": unsigned deliveries recalled, "held": signed ones
    noticed, "downstream": deliveries below them in the chain noticed}.
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
        _require_role(actor, dispatch.document.issuing_unit, Role.CLERK, Role.SIGNER, action=_("撤回"))
        _require_routed(dispatch)
        if dispatch.recalled_at is not None:
            raise Conflict(_("%(number)s已经撤回。") % {"number": dispatch.document.number})
        now = timezone.now()
        Dispatch.objects.filter(pk=dispatch.pk, recalled_at__isnull=True).update(recalled_at=now, recalled_by=actor)
        # The dispatch row is locked, so no second recall runs alongside; a concurrent sign-for is
        # settled by the conditional UPDATEs (a delivery signed meanwhile is held, not withdrawn).
        counts = _recall(actor, dispatch, Delivery.objects.filter(dispatch=dispatch), now, reason)
        audit_record(
            actor=actor,
            verb=AuditVerb.DISPATCH_RECALLED,
            object_type="Dispatch",
            object_id=dispatch.pk,
            unit=dispatch.document.issuing_unit_id,
            document=dispatch.document_id,
            payload={**counts, "reason": reason},
        )
    return counts


def delivery_recall(*, actor: AbstractBaseUser, delivery_id: int, reason: str = "") -> dict[str, int]:
    """撤回 the delivery to one unit (the rest of the dispatch stands).

    Preconditions and errors as `dispatch_recall`; Conflict too when this delivery was already
    recalled or returned. Returns the same counts.
    """
    reason = _clean_reason(reason)
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("dispatch__document__issuing_unit", "unit")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            raise NotFound(_("送达记录不存在或无权查看。"))
        dispatch = delivery.dispatch
        _require_role(actor, dispatch.document.issuing_unit, Role.CLERK, Role.SIGNER, action=_("撤回"))
        if delivery.recalled_at is not None or delivery.state == Delivery.State.RETURNED:
            state = _("已撤回") if delivery.recalled_at is not None else delivery.get_state_display()
            raise Conflict(
                _("送给%(unit)s的%(number)s%(state)s，不能再撤回。")
                % {"unit": delivery.unit.name, "number": dispatch.document.number, "state": state}
            )
        now = timezone.now()
        counts = _recall(actor, dispatch, Delivery.objects.filter(pk=delivery.pk), now, reason)
        audit_record(
            actor=actor,
            verb=AuditVerb.DELIVERY_RECALLED,
            object_type="Delivery",
            object_id=delivery.pk,
            unit=delivery.unit_id,
            document=delivery.document_id,
            payload={**counts, "reason": reason},
        )
    return counts
