"""Taking in a consignment from a peer (公文交换): every check first, then one transaction that
writes the documents, the consignment and a dispatch, routed by the same task as local routing.

The checks, in order, each with the protocol's answer code (exchange.envelope.Code): the peer is
known and not revoked (unknown_peer); the message is within its limits (too_large, rate_limited);
its signature and timestamp verify with the peer's key (bad_signature); the body is an envelope of
the protocol (malformed) signed by that peer (bad_signature); its id is new from this peer
(duplicate: the first answer again, nothing written); every document and file is what its digest
says (digest_mismatch); the sending unit is one the peer hosts, and every recipient a unit of this
installation that is active (unknown_recipient, not_accepted).

What is written is what a registration writes for a document that came on paper
(workflow.services.registration): each document an issued `Document` of its issuing unit, with the
number, elements and attachments the envelope gives, so that its digest, recomputed here from what
is stored, is the sender's; a document this installation already holds (by digest) is linked, not
copied. Then a `Dispatch` from the sending unit to the recipients, with the sender's deadlines,
routed by workflow.route_dispatch on the queue of its urgency: a 特提 goes first here as well.
Refusals are written to the audit log (CONSIGNMENT_REFUSED) with their code.
"""

import dataclasses
import datetime
import io
import logging
from collections.abc import Callable

from django.core.cache import caches
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.attachments import check_attachment
from documents.digest import document_content_digest
from documents.models import Attachment, Document, Enclosure, RecipientRole
from documents.numbering import parse_number
from documents.search_index import document_search_index
from exchange import keys
from exchange.envelope import (
    Code,
    Received,
    Refused,
    digests_check,
    element_values,
    received_parse,
    utc_text,
)
from exchange.models import Peer, ReceivedConsignment
from units.errors import InvalidInput
from units.models import Unit
from workflow.audit import audit_record
from workflow.enqueue import enqueue_routing, queue_for
from workflow.models import AuditVerb, Dispatch
from workflow.services.documents import _reserve_serial, enclose

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Answer:
    code: str
    message: str
    consignment: str | None = None
    received_at: datetime.datetime | None = None
    # More of the answer's JSON (a file's "received" and "complete").
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def status(self) -> int:
        return Code.STATUS[self.code]

    def as_json(self) -> dict:
        answer = {"code": self.code, "message": self.message}
        if self.consignment is not None:
            answer["consignment"] = self.consignment
        if self.received_at is not None:
            answer["received_at"] = utc_text(self.received_at)
        return {**answer, **self.extra}


def _peer(installation: str) -> Peer:
    peer = Peer.objects.filter(name=installation).first()
    if peer is None:
        raise Refused(Code.UNKNOWN_PEER, _("不认识的对端系统“%(name)s”。") % {"name": installation})
    if peer.revoked_at is not None:
        raise Refused(Code.UNKNOWN_PEER, _("对端系统“%(name)s”已被吊销。") % {"name": installation})
    return peer


def _within_rate(peer: Peer, now: datetime.datetime) -> None:
    """At most peer.per_minute messages in a clock minute (a counter in the shared cache)."""
    cache = caches["api"]
    key = f"exchange-rate:{peer.pk}:{int(now.timestamp()) // 60}"
    cache.add(key, 0, timeout=120)
    if cache.incr(key) > peer.per_minute:
        raise Refused(Code.RATE_LIMITED, _("超过每分钟 %(limit)d 件的上限，请稍后重试。") % {"limit": peer.per_minute})


def _signed_in_window(peer: Peer, timestamp: str, signature: str, body: bytes, now: datetime.datetime) -> None:
    public = keys.public_key_of(peer.public_key)
    if public is None:
        raise Refused(Code.BAD_SIGNATURE, _("对端系统“%(name)s”的公钥无效。") % {"name": peer.name})
    if not timestamp.isdigit() or abs(int(timestamp) - now.timestamp()) > keys.replay_seconds():
        raise Refused(Code.BAD_SIGNATURE, _("消息时间戳缺失或超出允许的时间窗口。"))
    if not keys.message_verifies(public, signature, timestamp, body):
        raise Refused(Code.BAD_SIGNATURE, _("消息签名无法用对端系统的公钥验证。"))


def _envelope_signed(peer: Peer, received: Received) -> None:
    if received.envelope["from"]["installation"] != peer.name:
        raise Refused(Code.BAD_SIGNATURE, _("信封的发送系统与签名的系统不一致。"))
    if not keys.verifies(keys.public_key_of(peer.public_key), received.signature, received.envelope_bytes):
        raise Refused(Code.BAD_SIGNATURE, _("信封签名无法用对端系统的公钥验证。"))


def _units(peer: Peer, envelope: dict) -> tuple[Unit, list[int], list[int]]:
    """The sending unit (hosted by the peer) and the recipients' ids, 主送 and 抄送."""
    sender = Unit.objects.filter(name=envelope["from"]["unit"], peer=peer).first()
    if sender is None:
        raise Refused(
            Code.NOT_ACCEPTED,
            _("发文单位“%(unit)s”不是对端系统“%(peer)s”的单位。")
            % {"unit": envelope["from"]["unit"], "peer": peer.name},
        )
    names = [recipient["unit"] for recipient in envelope["to"]]
    if len(set(names)) != len(names):
        raise Refused(Code.MALFORMED, _("不是有效的公文交换信封：%(what)s。") % {"what": _("收文单位重复")})
    found = {unit.name: unit for unit in Unit.objects.filter(name__in=names)}
    main, cc = [], []
    for recipient in envelope["to"]:
        unit = found.get(recipient["unit"])
        if unit is None:
            raise Refused(Code.UNKNOWN_RECIPIENT, _("本系统没有收文单位“%(unit)s”。") % {"unit": recipient["unit"]})
        if unit.peer_id is not None or not unit.is_active:
            raise Refused(Code.NOT_ACCEPTED, _("收文单位“%(unit)s”不在本系统接收公文。") % {"unit": unit.name})
        (main if recipient["role"] == RecipientRole.MAIN else cc).append(unit.pk)
    return sender, main, cc


def _stored(entry: dict, received: Received, by_digest: dict[str, Document]) -> tuple[Document, bool]:
    """The document of an envelope entry: the one held here with its digest, or a new issued one.
    Returns it and whether it was created."""
    existing = Document.objects.filter(digest=entry["digest"], state=Document.State.ISSUED).first()
    if existing is not None:
        return existing, False
    issuer = Unit.objects.filter(name=entry["issuer"]).first()
    if issuer is None:
        raise Refused(Code.NOT_ACCEPTED, _("发文机关“%(unit)s”不在本系统的单位名录中。") % {"unit": entry["issuer"]})
    if issuer.peer_id is None:
        # A unit of this installation issues here: a document of its that is not held here (by its
        # digest) was never issued by it, whoever encloses it.
        raise Refused(
            Code.NOT_ACCEPTED,
            _("发文机关“%(unit)s”是本系统的单位，本系统没有这份公文。") % {"unit": entry["issuer"]},
        )
    try:
        number = parse_number(entry["number"])
    except InvalidInput as error:
        raise Refused(Code.MALFORMED, error.message) from None
    enclosed = []
    for digest in entry["enclosures"]:
        inner = by_digest.get(digest) or Document.objects.filter(digest=digest, state=Document.State.ISSUED).first()
        if inner is None:
            raise Refused(Code.MALFORMED, _("公文%(number)s所附的公文不在信封中。") % {"number": entry["number"]})
        enclosed.append(inner)
    if Document.objects.filter(
        number_prefix=number.prefix, number_year=number.year, number_serial=number.serial
    ).exists():
        raise Refused(
            Code.NOT_ACCEPTED,
            _("发文字号%(number)s在本系统中已是另一份公文。") % {"number": entry["number"]},
        )
    document = Document(issuing_unit=issuer, number_prefix=number.prefix, **element_values(entry["elements"]))
    document.save()
    for position, attachment in enumerate(entry["attachments"], start=1):
        content = received.files[attachment["sha256"]]
        try:
            checked = check_attachment(attachment["name"], io.BytesIO(content))
        except InvalidInput as error:
            raise Refused(Code.NOT_ACCEPTED, error.message) from None
        row = Attachment(
            document=document,
            position=position,
            name=attachment["name"],
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
        row.file.save(checked.sha256, ContentFile(content), save=False)
        row.save()
    Enclosure.objects.create(cover=document, enclosed=document, depth=0)
    enclose(document, enclosed)
    _reserve_serial(number.prefix, number.year, number.serial)
    Document.objects.filter(pk=document.pk).update(
        number_year=number.year,
        number_serial=number.serial,
        digest=entry["digest"],
        state=Document.State.ISSUED,
        issued_at=datetime.datetime.fromisoformat(entry["issued_at"]),
    )
    document.refresh_from_db()
    # What is stored must give the sender's digest: the number as printed, the elements as sent.
    if document_content_digest(document) != entry["digest"]:
        raise Refused(
            Code.DIGEST_MISMATCH,
            _("公文%(number)s在本系统中存储后的摘要与信封不符。") % {"number": entry["number"]},
        )
    return document, True


def _take_in(peer: Peer, received: Received, now) -> Answer:
    envelope = received.envelope
    sender, main, cc = _units(peer, envelope)
    top_entry = envelope["documents"][-1]
    if top_entry["issuer"] != sender.name:
        raise Refused(
            Code.NOT_ACCEPTED,
            _("所送公文的发文机关“%(issuer)s”不是发文单位“%(unit)s”。")
            % {"issuer": top_entry["issuer"], "unit": sender.name},
        )
    by_digest, created = {}, []
    for entry in envelope["documents"]:
        document, is_new = _stored(entry, received, by_digest)
        by_digest[entry["digest"]] = document
        if is_new:
            created.append(document.pk)
    document_search_index(created)
    top = by_digest[envelope["document"]]
    deadlines = envelope["deadlines"]
    moment = lambda value: datetime.datetime.fromisoformat(value) if value else None  # noqa: E731
    dispatch = Dispatch.objects.create(
        document=top,
        issuing_unit=sender,
        issued_by=None,
        queue=queue_for(top.urgency),
        main_unit_ids=main,
        cc_unit_ids=cc,
        recipient_count=len(main) + len(cc),
        route_enqueued_at=now,
        deadline_sign_for=moment(deadlines["sign_for"]),
        deadline_complete=moment(deadlines["complete"]),
    )
    try:
        with transaction.atomic():
            ReceivedConsignment.objects.create(
                peer=peer,
                consignment_id=received.consignment_id,
                envelope=received.envelope_bytes,
                signature=received.signature,
                dispatch=dispatch,
                received_at=now,
            )
    except IntegrityError:  # the same consignment, taken in by another request a moment ago
        raise Duplicate from None
    audit_record(
        actor=None,
        verb=AuditVerb.CONSIGNMENT_ACCEPTED,
        object_type="Dispatch",
        object_id=dispatch.pk,
        unit=sender,
        document=top,
        payload={
            "peer": peer.name,
            "consignment": str(received.consignment_id),
            "from": sender.name,
            "digest": top.digest,
            "created": created,
            "main": len(main),
            "cc": len(cc),
        },
    )
    enqueue_routing(dispatch.pk, dispatch.queue)
    return Answer(Code.ACCEPTED, _("已接收。"), str(received.consignment_id), now)


class Duplicate(Exception):
    """Raised inside a take-in when the message's unique row exists already (a concurrent repeat)."""


def duplicate_of(earlier: QuerySet, received: Received) -> Answer | None:
    """The answer to a message whose id was taken in before (`earlier`, its row's queryset): the
    same id, when it came first; None for a new one."""
    first = earlier.first()
    if first is None:
        return None
    return Answer(Code.DUPLICATE, _("此前已接收，未重复登记。"), str(received.envelope["id"]), first.received_at)


def _duplicate(peer: Peer, received: Received) -> Answer | None:
    return duplicate_of(ReceivedConsignment.objects.filter(peer=peer, consignment_id=received.consignment_id), received)


def _consignment_take_in(peer: Peer, received: Received, now) -> Answer:
    from exchange.files import staged_files, staged_remove

    wanted = {a["sha256"] for entry in received.envelope["documents"] for a in entry["attachments"]}
    staged = staged_files(peer, wanted - set(received.files))
    received = dataclasses.replace(received, files={**staged, **received.files})
    digests_check(received)
    answer = _take_in(peer, received, now)
    if staged:  # the staged copies are stored as attachments now
        transaction.on_commit(lambda: staged_remove(peer, set(staged)))
    return answer


@dataclasses.dataclass(frozen=True)
class Handler:
    """What differs between the messages a peer sends: how the body parses, which earlier message
    it repeats, how it is taken in (inside a transaction; Duplicate for a concurrent repeat), and
    the audit verb of a refusal."""

    name: str
    parse: Callable[[bytes], Received]
    duplicate: Callable[[Peer, Received], "Answer | None"]
    take_in: Callable[[Peer, Received, datetime.datetime], "Answer"]
    refused: str


CONSIGNMENTS = Handler("consignment", received_parse, _duplicate, _consignment_take_in, AuditVerb.CONSIGNMENT_REFUSED)


def refusal(
    name: str, verb: str, installation: str, peer: Peer | None, refused: Refused, message_id, *, signed: bool
) -> Answer:
    """Record the refusal of a `name` message and answer it. A message whose signature verified
    (`signed`: a peer's own act) is refused in the audit log (`verb`); one that never proved who
    sent it (an unknown or revoked peer, a bad signature or timestamp, over a limit before it was
    read) only in the application's log: anyone can send those, and the hash-chained log, written
    one event at a time under its lock, is no place for what an anonymous flood could fill."""
    logger.warning("%s from %r refused: %s (%s)", name, installation[:100], refused.code, refused.message)
    if not signed:
        return Answer(refused.code, refused.message, message_id if name != "file" else None)
    with transaction.atomic():
        audit_record(
            actor=None,
            verb=verb,
            object_type="Peer",
            object_id=peer.pk if peer is not None else "",
            payload={
                "installation": installation[:100],
                "code": refused.code,
                "message": refused.message,
                name: message_id,
            },
        )
    return Answer(refused.code, refused.message, message_id if name != "file" else None)


def checked_body(
    peer: Peer, *, length: int, timestamp: str, signature: str, body: Callable[[], bytes], now: datetime.datetime
) -> bytes:
    """The body of a message from `peer`, read once its declared `length` is within the peer's
    limit and its rate allows, and returned once its signature and timestamp verify."""
    if length > peer.max_bytes:
        raise Refused(Code.TOO_LARGE, _("消息超过 %(limit)d 字节的上限。") % {"limit": peer.max_bytes})
    _within_rate(peer, now)
    content = body()
    _signed_in_window(peer, timestamp, signature, content, now)
    return content


def message_receive(
    handler: Handler, *, installation: str, timestamp: str, signature: str, body: Callable[[], bytes], length: int
) -> Answer:
    """The answer to one message of a peer (see the module's docstring for the checks). `length` is
    the body's declared length, checked against the peer's limit first, so that the view reads no
    more than the limit: `body` reads the message, called once the peer and its limit are known."""
    now = timezone.now()
    peer, message_id, signed = None, None, False
    try:
        peer = _peer(installation)
        content = checked_body(peer, length=length, timestamp=timestamp, signature=signature, body=body, now=now)
        signed = True
        received = handler.parse(content)
        message_id = received.envelope["id"]
        _envelope_signed(peer, received)
        if (answer := handler.duplicate(peer, received)) is not None:
            return answer
        try:
            with transaction.atomic():
                return handler.take_in(peer, received, now)
        except Duplicate:
            return handler.duplicate(peer, received)
    except Refused as refused:
        return refusal(handler.name, handler.refused, installation, peer, refused, message_id, signed=signed)


def consignment_receive(**kwargs) -> Answer:
    return message_receive(CONSIGNMENTS, **kwargs)
