"""Receipts (回执) between installations (公文交换): what a unit did with a delivery that came
through the exchange travels back to the installation that sent it, signed, and moves the sender's
record of that delivery through the same services as a local clerk's action would.

At the receiving installation (`receipts_from`, run by exchange.derive over the audit log): each
audit event DELIVERY_READ, _SIGNED, _RETURNED or _COMPLETED of a delivery made by a received
consignment becomes one `OutgoingReceipt`, its id derived from the event (so deriving twice makes
one), sent by exchange.outgoing like a consignment.

At the sending installation (`receipt_receive`, the endpoint /exchange/v1/receipts): the checks of
any message (exchange.services), then the receipt must name a consignment sent to that peer, a
unit that peer hosts among its recipients, and the digest of the document delivered. The peer acts
through its stand-in (exchange.directory.peer_user, a clerk of each unit the peer hosts, who cannot
sign in): delivery_open, delivery_sign_for, delivery_return or delivery_complete, with their rules,
tallies, notifications and audit events. The receipt as signed is kept (`ReceivedReceipt`) with a
RECEIPT_ACCEPTED event naming who acted at the peer and when.

A receipt, version 1 (same body and headers as a consignment; "files" holds a completion's files):

    {"protocol": "gongwen-exchange/1", "type": "receipt", "id": "<UUID>",
     "consignment": "<the consignment's id>",
     "from": {"installation": "B", "unit": "<the recipient unit>"},
     "event": "read" | "signed" | "returned" | "completed",
     "at": "<ISO 8601, when the unit did it>", "by": "<who did it>",
     "digest": "<digest of the document delivered>",
     "return": {"reason": "<a ReturnReason>", "text": "…"} | null,
     "completion": {"feedback": "…", "attachments": [{"name", "size", "sha256"}]} | null}
"""

import base64
import binascii
import hashlib
import io
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from exchange import keys
from exchange.directory import peer_user
from exchange.envelope import Code, Received, Refused, answer_parts, canonical, utc_text
from exchange.keys import PROTOCOL
from exchange.models import OutgoingConsignment, OutgoingReceipt, Peer, ReceiptEvent, ReceivedReceipt
from exchange.services import Answer, Duplicate, Handler, duplicate_of, message_receive
from units.errors import DomainError
from workflow.audit import audit_record
from workflow.enqueue import queue_for
from workflow.models import AuditVerb, Delivery
from workflow.services.rules import person_name

_VERBS = {
    AuditVerb.DELIVERY_READ: ReceiptEvent.READ,
    AuditVerb.DELIVERY_SIGNED: ReceiptEvent.SIGNED,
    AuditVerb.DELIVERY_RETURNED: ReceiptEvent.RETURNED,
    AuditVerb.DELIVERY_COMPLETED: ReceiptEvent.COMPLETED,
}
# Receipt ids: UUID 5 of the installation and the audit event's seq, in this namespace.
_NAMESPACE = uuid.UUID("5b0f6c2e-8d0f-4c55-9a55-6f1d2b7c9e01")


def _envelope(event: dict, delivery: Delivery, names: dict[int, str]) -> dict:
    payload = event["payload"] or {}
    kind = _VERBS[event["verb"]]
    returned = completion = None
    if kind == ReceiptEvent.RETURNED:
        returned = {"reason": payload.get("reason", ""), "text": payload.get("text", "")}
    if kind == ReceiptEvent.COMPLETED:
        completion = {"feedback": payload.get("feedback", ""), "attachments": payload.get("attachments", [])}
    consignment = delivery.dispatch.consignment
    return {
        "protocol": PROTOCOL,
        "type": "receipt",
        "id": str(uuid.uuid5(_NAMESPACE, f"{settings.EXCHANGE_INSTALLATION}:{event['seq']}")),
        "consignment": str(consignment.consignment_id),
        "from": {"installation": settings.EXCHANGE_INSTALLATION, "unit": delivery.unit.name},
        "event": str(kind),
        "at": utc_text(event["occurred_at"]),
        "by": names.get(event["actor_id"], ""),
        "digest": payload.get("content_digest") or delivery.document.digest,
        "return": returned,
        "completion": completion,
    }


def receipts_from(events: list[dict], key, now) -> list[OutgoingReceipt]:
    """The receipts of a batch of audit events (exchange.derive): one per read, sign-for, return or
    completion of a delivery that a received consignment made."""
    wanted = [e for e in events if e["verb"] in _VERBS and e["object_type"] == "Delivery"]
    if not wanted:
        return []
    deliveries = Delivery.objects.filter(
        pk__in=[int(e["object_id"]) for e in wanted], dispatch__consignment__isnull=False
    ).select_related("unit", "document", "dispatch__consignment__peer")
    by_id = {delivery.pk: delivery for delivery in deliveries}
    actors = {e["actor_id"] for e in wanted if e["actor_id"]}
    names = {user.pk: person_name(user) for user in get_user_model().objects.filter(pk__in=actors)}
    rows = []
    for event in wanted:
        delivery = by_id.get(int(event["object_id"]))
        if delivery is None:
            continue
        envelope = _envelope(event, delivery, names)
        envelope_bytes = canonical(envelope)
        rows.append(
            OutgoingReceipt(
                receipt_id=envelope["id"],
                peer=delivery.dispatch.consignment.peer,
                delivery=delivery,
                event=envelope["event"],
                envelope=envelope_bytes,
                signature=keys.envelope_signature(key, envelope_bytes),
                queue=queue_for(delivery.urgency),
                created_at=now,
                next_attempt_at=now,
            )
        )
    return rows


# --- the sending installation's side ------------------------------------------------------------------


def _malformed(what: str) -> Refused:
    return Refused(Code.MALFORMED, _("不是有效的回执：%(what)s。") % {"what": what})


_KEYS = {"protocol", "type", "id", "consignment", "from", "event", "at", "by", "digest", "return", "completion"}


def receipt_parse(body: bytes) -> Received:
    """The body as a Received (its envelope the receipt), or Refused(MALFORMED) naming what is wrong."""
    receipt, signature, files = answer_parts(body, _malformed, "receipt", _KEYS)
    sender = receipt["from"]
    if not isinstance(sender, dict) or set(sender) != {"installation", "unit"}:
        raise _malformed("from")
    if receipt["event"] not in ReceiptEvent.values:
        raise _malformed(_("回执类型"))
    if not all(isinstance(receipt[name], str) for name in ("by", "digest")) or not isinstance(signature, str):
        raise _malformed(_("签收人或摘要"))
    if receipt["event"] == ReceiptEvent.RETURNED and not isinstance(receipt["return"], dict):
        raise _malformed(_("退文理由"))
    if receipt["event"] == ReceiptEvent.COMPLETED and not isinstance(receipt["completion"], dict):
        raise _malformed(_("办结情况"))
    if not isinstance(files, dict):
        raise _malformed("files")
    decoded = {}
    for sha256, content in files.items():
        try:
            decoded[sha256] = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise _malformed("files") from None
    return Received(envelope=receipt, envelope_bytes=canonical(receipt), signature=signature, files=decoded)


def _duplicate(peer: Peer, received: Received) -> Answer | None:
    return duplicate_of(ReceivedReceipt.objects.filter(peer=peer, receipt_id=received.envelope["id"]), received)


def _completion_files(receipt: dict, files: dict[str, bytes]) -> list[tuple[str, io.BytesIO]]:
    attachments = []
    for attachment in receipt["completion"].get("attachments", []):
        content = files.get(attachment.get("sha256", ""))
        if content is None:
            raise _malformed(_("缺少附件“%(name)s”的文件") % {"name": attachment.get("name", "")})
        if hashlib.sha256(content).hexdigest() != attachment["sha256"]:
            raise Refused(
                Code.DIGEST_MISMATCH, _("附件“%(name)s”与其摘要不符。") % {"name": attachment.get("name", "")}
            )
        attachments.append((attachment["name"], io.BytesIO(content)))
    return attachments


def _take_in(peer: Peer, received: Received, now) -> Answer:
    from workflow import services

    receipt = received.envelope
    consignment = OutgoingConsignment.objects.filter(peer=peer, consignment_id=receipt["consignment"]).first()
    if consignment is None:
        raise Refused(Code.NOT_ACCEPTED, _("本系统没有发给对端系统的这件公文。"))
    delivery = (
        Delivery.objects.filter(
            dispatch_id=consignment.dispatch_id, unit__name=receipt["from"]["unit"], unit__peer=peer
        )
        .select_related("document", "unit")
        .first()
    )
    if delivery is None:
        raise Refused(
            Code.NOT_ACCEPTED,
            _("“%(unit)s”不是这件公文在对端系统的收文单位。") % {"unit": receipt["from"]["unit"]},
        )
    if receipt["digest"] != delivery.document.digest:
        raise Refused(Code.DIGEST_MISMATCH, _("回执的摘要与所发公文的摘要不符。"))
    actor = peer_user(peer)
    event = receipt["event"]
    try:
        if event == ReceiptEvent.READ:
            services.delivery_open(actor=actor, delivery=delivery)
        elif event == ReceiptEvent.SIGNED:
            services.delivery_sign_for(actor=actor, delivery_id=delivery.pk)
        elif event == ReceiptEvent.RETURNED:
            services.delivery_return(
                actor=actor,
                delivery_id=delivery.pk,
                reason=str(receipt["return"].get("reason", "")),
                text=str(receipt["return"].get("text", "")),
            )
        else:
            services.delivery_complete(
                actor=actor,
                delivery_id=delivery.pk,
                feedback=str(receipt["completion"].get("feedback", "")),
                attachments=_completion_files(receipt, received.files),
            )
    except DomainError as error:
        raise Refused(Code.NOT_ACCEPTED, error.message) from None
    try:
        with transaction.atomic():
            ReceivedReceipt.objects.create(
                peer=peer,
                receipt_id=receipt["id"],
                envelope=received.envelope_bytes,
                signature=received.signature,
                delivery=delivery,
                event=event,
                received_at=now,
            )
    except IntegrityError:
        raise Duplicate from None
    audit_record(
        actor=actor,
        verb=AuditVerb.RECEIPT_ACCEPTED,
        object_type="Delivery",
        object_id=delivery.pk,
        unit=delivery.unit,
        document=delivery.document_id,
        payload={"peer": peer.name, "receipt": receipt["id"], "event": event, "by": receipt["by"], "at": receipt["at"]},
    )
    return Answer(Code.ACCEPTED, _("已接收。"), receipt["id"], now)


RECEIPTS = Handler("receipt", receipt_parse, _duplicate, _take_in, AuditVerb.RECEIPT_REFUSED)


def receipt_receive(**kwargs) -> Answer:
    return message_receive(RECEIPTS, **kwargs)
