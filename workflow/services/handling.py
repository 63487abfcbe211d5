"""What a recipient unit does after receiving: send it back (退文) or report it done (办结).

Both are for a clerk of the recipient unit (workflow.services.rules), lock the delivery, move its
state with the one guarded transition (workflow.transitions), tell the issuing unit's clerks, and
write their audit event.
"""

from collections.abc import Sequence
from typing import BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.attachments import check_attachment
from units.display import display_list
from units.errors import InvalidInput, NotFound
from workflow.audit import audit_record
from workflow.enqueue import enqueue_notification_emails, queue_for
from workflow.models import (
    AuditVerb,
    Completion,
    CompletionAttachment,
    Delivery,
    DeliveryReturn,
    Notification,
    ReturnReason,
)
from workflow.services.notifications import Notice, notice_language, notify_clerks
from workflow.services.rules import DeliveryAction, require_delivery_action
from workflow.transitions import delivery_move

MAX_TEXT = 2000


def _locked_delivery(delivery_id: int) -> Delivery:
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("document__issuing_unit", "unit", "dispatch")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise NotFound(_("送达记录不存在或无权查看。"))
    return delivery


def _move(delivery: Delivery, target: str, **fields) -> None:
    """The guarded transition of a delivery the caller has locked and checked (rules)."""
    moved = delivery_move(Delivery.objects.filter(pk=delivery.pk), target, **fields)
    if moved != 1:  # the rule admitted it under the lock: anything else is a bug, never a silent no-op
        raise RuntimeError(f"delivery {delivery.pk}: {delivery.state} → {target} refused by the transition table")


def _clean_text(text: str, what: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _("%(what)s过长（%(length)d 字，上限 %(limit)d 字）。")
            % {"what": what, "length": len(text), "limit": MAX_TEXT}
        )
    return text


def _report_to_issuer(
    actor: AbstractBaseUser, delivery: Delivery, *, kind: str, verb: AuditVerb, text: str, payload: dict
) -> None:
    """Tell the issuing unit's clerks (in-app, then email) and record the event: last, in the transaction."""
    document = delivery.document
    notify_clerks([Notice(document.issuing_unit_id, delivery.pk, text)], kind=kind, now=timezone.now())
    enqueue_notification_emails(queue_for(document.urgency))
    audit_record(
        actor=actor,
        verb=verb,
        object_type="Delivery",
        object_id=delivery.pk,
        unit=delivery.unit_id,
        document=document.pk,
        payload=payload,
    )


def delivery_return(*, actor: AbstractBaseUser, delivery_id: int, reason: str, text: str = "") -> DeliveryReturn:
    """退文: a clerk of the recipient unit sends the delivery back to the issuer with a reason.

    Preconditions: the reason is one of ReturnReason (其他 needs a text); the delivery is pending, or
    signed for (初审 follows 签收) and not forwarded; not recalled. The issuing unit's clerks are
    notified; the 退文告知单 is `selectors.return_notice_get`. The issuer may answer with a corrected
    document (`document_issue(answers_return_id=...)`).
    Errors: NotFound, NotAllowed, Conflict, InvalidInput. Nothing is written on error.
    """
    if reason not in ReturnReason.values:
        raise InvalidInput(
            _("退文理由“%(reason)s”不存在，可选：%(reasons)s。")
            % {"reason": reason, "reasons": display_list(ReturnReason.labels)}
        )
    text = _clean_text(text, _("退文说明"))
    if reason == ReturnReason.OTHER and not text:
        raise InvalidInput(_("退文理由为“其他”时，请写明具体理由。"))
    with transaction.atomic():
        delivery = _locked_delivery(delivery_id)
        require_delivery_action(actor, DeliveryAction.RETURN, delivery)
        now = timezone.now()
        _move(delivery, Delivery.State.RETURNED, returned_at=now)
        returned = DeliveryReturn.objects.create(
            delivery=delivery, unit=delivery.unit, reason=reason, text=text, returned_by=actor, returned_at=now
        )
        document = delivery.document
        with notice_language():
            notice = _("%(unit)s退回了%(number)s《%(title)s》，理由：%(reason)s。%(text)s") % {
                "unit": delivery.unit.name,
                "number": document.number,
                "title": document.title,
                "reason": returned.get_reason_display(),
                "text": text,
            }
        _report_to_issuer(
            actor,
            delivery,
            kind=Notification.Kind.RETURNED,
            verb=AuditVerb.DELIVERY_RETURNED,
            text=notice,
            payload={"return_id": returned.pk, "reason": reason, "text": text},
        )
    return returned


def delivery_complete(
    *,
    actor: AbstractBaseUser,
    delivery_id: int,
    feedback: str,
    attachments: Sequence[tuple[str, BinaryIO]] = (),
) -> Completion:
    """办结: a clerk of the recipient unit reports the delivery handled, with its 落实情况.

    Preconditions: the delivery is signed for and not recalled; the feedback is not empty; each
    attachment (name, stream) passes documents.attachments.check_attachment. The issuing unit's
    clerks are notified; the feedback is for the issuer and the chain's auditors
    (`selectors.completion_list_for_document`).
    Errors: NotFound, NotAllowed, Conflict (not signed for, already completed, returned, recalled),
    InvalidInput (empty feedback, a bad file). Nothing is written on error.
    """
    feedback = _clean_text(feedback, _("落实情况"))
    if not feedback:
        raise InvalidInput(_("请填写落实情况。"))
    checked = [(check_attachment(name, stream), stream) for name, stream in attachments]
    with transaction.atomic():
        delivery = _locked_delivery(delivery_id)
        require_delivery_action(actor, DeliveryAction.COMPLETE, delivery)
        now = timezone.now()
        _move(delivery, Delivery.State.COMPLETED, completed_at=now)
        completion = Completion.objects.create(
            delivery=delivery, unit=delivery.unit, feedback=feedback, completed_by=actor, completed_at=now
        )
        for position, (file, stream) in enumerate(checked, start=1):
            attachment = CompletionAttachment(
                completion=completion,
                position=position,
                name=file.name,
                content_type=file.content_type,
                size=file.size,
                sha256=file.sha256,
            )
            attachment.file.save(file.sha256, File(stream), save=False)
            attachment.save()
        document = delivery.document
        with notice_language():
            notice = _("%(unit)s已办结%(number)s《%(title)s》。落实情况：%(feedback)s") % {
                "unit": delivery.unit.name,
                "number": document.number,
                "title": document.title,
                "feedback": feedback,
            }
        _report_to_issuer(
            actor,
            delivery,
            kind=Notification.Kind.COMPLETED,
            verb=AuditVerb.DELIVERY_COMPLETED,
            text=notice,
            payload={
                "completion_id": completion.pk,
                "feedback": feedback,
                "attachments": [{"name": file.name, "size": file.size, "sha256": file.sha256} for file, _s in checked],
            },
        )
    return completion
