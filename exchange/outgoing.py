"""Sending to peers (公文交换): consignments, made at issue, and receipts (exchange.receipts), sent
by tasks on the queue of the document's urgency, at least once, until the peer answers or the
window closes. Both are `exchange.models.Outgoing` rows; what differs is the endpoint, who is told
of a failure and the audit verbs (`KINDS`).

- `consignments_create`, inside document_issue's transaction: for each peer hosting some of the
  recipients, one consignment with its envelope signed once; the send is enqueued on commit.
- `message_send`, the task's work: claim the message if it is due (a conditional UPDATE
  that moves `next_attempt_at` past the longest an attempt can take, so that two workers never post
  it at once and a worker killed mid-way leaves it to the sweep), post it, record the answer.
- `messages_sweep`, the beat's: enqueue every pending message that is due (retries, and sends
  whose task message was lost).

An answer counts only when its signature verifies with the peer's key. `accepted` and `duplicate`
end the consignment; a refusal the peer will give again (unknown recipient, not accepted, digest
mismatch, malformed, too large, unknown peer) ends it as refused; anything else (no answer, HTTP
5xx, rate limited, a signature refused, which a clock's skew can cause) is tried again after about
EXCHANGE_RETRY_SECONDS × 2^(n-1), with jitter, until EXCHANGE_RETRY_WINDOW_SECONDS after it was
made: then it has failed. Refused or failed, the clerks concerned are told (Notification kind
"exchange"): of a consignment, the sending unit's, per delivery to a unit of that peer; of a
receipt, the receiving unit's, about its delivery. The audit log says why.
"""

import base64
import datetime
import http.client
import json
import logging
import random
import ssl
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.celery import app
from documents.models import Attachment, Document, RecipientRole
from exchange import keys
from exchange.envelope import Code, canonical, consignment_envelope
from exchange.models import Outgoing, OutgoingConsignment, OutgoingRecall, OutgoingReceipt, OutgoingReport, Peer
from units.errors import InvalidInput
from units.models import Unit
from workflow.audit import audit_record
from workflow.models import AuditVerb, CompletionAttachment, Delivery, Dispatch, Notification

logger = logging.getLogger(__name__)

SEND = "exchange.send"
SWEEP = "exchange.sweep"
# Beyond the two timeouts (connect, answer) an attempt may take, before its lease runs out.
LEASE_MARGIN_SECONDS = 30
# Codes a peer would give again for the same consignment: retrying cannot help.
FINAL_REFUSALS = {
    Code.UNKNOWN_RECIPIENT,
    Code.NOT_ACCEPTED,
    Code.DIGEST_MISMATCH,
    Code.MALFORMED,
    Code.TOO_LARGE,
    Code.UNKNOWN_PEER,
}
_random = random.SystemRandom()


CONSIGNMENT, RECEIPT, RECALL, REPORT = "consignment", "receipt", "recall", "report"


@dataclass(frozen=True)
class Kind:
    model: type[Outgoing]
    path: str
    sent: str
    failed: str


KINDS = {
    CONSIGNMENT: Kind(OutgoingConsignment, "v1/consignments", AuditVerb.CONSIGNMENT_SENT, AuditVerb.CONSIGNMENT_FAILED),
    RECEIPT: Kind(OutgoingReceipt, "v1/receipts", AuditVerb.RECEIPT_SENT, AuditVerb.RECEIPT_FAILED),
    RECALL: Kind(OutgoingRecall, "v1/recalls", AuditVerb.RECALL_SENT, AuditVerb.RECALL_FAILED),
    REPORT: Kind(OutgoingReport, "v1/reports", AuditVerb.REPORT_SENT, AuditVerb.REPORT_FAILED),
}
# Each kind's message id, as the peer deduplicates on it.
MESSAGE_IDS = {CONSIGNMENT: "consignment_id", RECEIPT: "receipt_id", RECALL: "recall_id", REPORT: "report_id"}


def enqueue(kind: str, pk: int, queue: str) -> None:
    transaction.on_commit(lambda: app.send_task(SEND, args=[kind, pk], queue=queue), robust=True)


def consignments_create(dispatch: Dispatch, document: Document, main: list[int], cc: list[int]) -> int:
    """One consignment per peer hosting some of the recipients (external units), each enqueued on
    commit. One query when no recipient is external. Raises InvalidInput when some are and this
    installation cannot sign, or their peer is revoked: the issue then writes nothing."""
    roles = {
        **{unit_id: RecipientRole.COPY.value for unit_id in cc},
        **{unit_id: RecipientRole.MAIN.value for unit_id in main},
    }
    external = [
        (unit_id, name, peer_id)
        for unit_id, name, peer_id in Unit.objects.filter(peer__isnull=False).values_list("pk", "name", "peer_id")
        if unit_id in roles
    ]
    if not external:
        return 0
    if not settings.EXCHANGE_INSTALLATION:
        raise InvalidInput(_("本系统未启用公文交换（EXCHANGE_INSTALLATION），不能发往其他系统的单位。"))
    try:
        key = keys.signing_key()
    except keys.ExchangeKeyError as error:
        raise InvalidInput(str(error)) from None
    peers = Peer.objects.in_bulk({peer_id for _unit, _name, peer_id in external})
    now = timezone.now()
    for peer_id in sorted(peers):
        peer = peers[peer_id]
        if peer.revoked_at is not None:
            raise InvalidInput(_("对端系统“%(name)s”已被吊销，不能发往其单位。") % {"name": peer.name})
        recipients = sorted((name, roles[unit_id]) for unit_id, name, hosted in external if hosted == peer_id)
        envelope = consignment_envelope(
            consignment_id=uuid.uuid4(),
            installation=settings.EXCHANGE_INSTALLATION,
            unit=document.issuing_unit.name,
            document=document,
            recipients=recipients,
            sign_for=dispatch.deadline_sign_for,
            complete=dispatch.deadline_complete,
        )
        envelope_bytes = canonical(envelope)
        outgoing = OutgoingConsignment.objects.create(
            consignment_id=envelope["id"],
            peer=peer,
            dispatch=dispatch,
            envelope=envelope_bytes,
            signature=keys.envelope_signature(key, envelope_bytes),
            queue=dispatch.queue,
            created_at=now,
            next_attempt_at=now,
        )
        enqueue(CONSIGNMENT, outgoing.pk, outgoing.queue)
    return len(peers)


@dataclass(frozen=True)
class PeerAnswer:
    code: str  # empty when no signed answer came
    message: str


def _files(envelope: dict) -> dict[str, bytes]:
    """The bytes of every file the message names, by SHA-256: a consignment's attachments, a
    receipt's completion files."""
    if envelope["type"] in ("recall", "report"):
        return {}
    if envelope["type"] == "receipt":
        wanted = {a["sha256"] for a in (envelope.get("completion") or {}).get("attachments", [])}
        rows = CompletionAttachment.objects.filter(sha256__in=wanted)
    else:
        wanted = {a["sha256"] for entry in envelope["documents"] for a in entry["attachments"]}
        rows = Attachment.objects.filter(sha256__in=wanted)
    files = {}
    for row in rows.order_by("pk"):
        if row.sha256 not in files:
            with row.file.open("rb") as file:
                files[row.sha256] = file.read()
    return files


def _endpoint(peer: Peer, path: str) -> str:
    return urljoin(peer.base_url if peer.base_url.endswith("/") else peer.base_url + "/", path)


def _tls_context() -> ssl.SSLContext:
    """How this installation speaks TLS to its peers: their server certificates checked against
    EXCHANGE_TLS_CA_FILE (else the system's authorities), and, when EXCHANGE_TLS_CERT_FILE is set,
    this installation's client certificate presented (mutual TLS, for a peer whose web server asks
    for one)."""
    context = ssl.create_default_context(cafile=settings.EXCHANGE_TLS_CA_FILE or None)
    if settings.EXCHANGE_TLS_CERT_FILE:
        context.load_cert_chain(settings.EXCHANGE_TLS_CERT_FILE, settings.EXCHANGE_TLS_KEY_FILE or None)
    return context


def _request(
    peer: Peer, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[PeerAnswer, dict]:
    """One signed request to the peer, and its answer once its signature verifies with the peer's
    key (with the answer's JSON). Never raises for what the network or the peer does."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        keys.INSTALLATION_HEADER: settings.EXCHANGE_INSTALLATION,
        keys.TIMESTAMP_HEADER: timestamp,
        keys.SIGNATURE_HEADER: keys.message_signature(keys.signing_key(), timestamp, body),
        "User-Agent": "gongwen-exchange/1",
        **(headers or {}),
    }
    url = urlsplit(_endpoint(peer, path))
    timeout = settings.EXCHANGE_TIMEOUT_SECONDS
    if url.scheme == "https":
        try:
            context = _tls_context()
        except (OSError, ssl.SSLError) as error:
            return PeerAnswer("", _("无法读取 TLS 证书：%(error)s") % {"error": str(error)[:300]}), {}
        connection = http.client.HTTPSConnection(url.hostname, url.port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        connection.request(method, url.path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read(64 * 1024)
        status, answer_headers = response.status, response.headers
    except TimeoutError:
        seconds = f"{settings.EXCHANGE_TIMEOUT_SECONDS:g}"
        return PeerAnswer("", _("超时（%(seconds)s 秒）未响应。") % {"seconds": seconds}), {}
    except (OSError, http.client.HTTPException) as error:
        return PeerAnswer("", _("连接失败：%(error)s") % {"error": f"{type(error).__name__}: {error}"[:300]}), {}
    finally:
        connection.close()
    public = keys.public_key_of(peer.public_key)
    signed = (
        public is not None
        and answer_headers.get(keys.INSTALLATION_HEADER, "") == peer.name
        and keys.message_verifies(
            public,
            answer_headers.get(keys.SIGNATURE_HEADER, ""),
            answer_headers.get(keys.TIMESTAMP_HEADER, ""),
            content,
        )
    )
    if not signed:
        return PeerAnswer("", _("对方返回 HTTP %(status)d，应答未经其签名。") % {"status": status}), {}
    try:
        answer = json.loads(content)
        return PeerAnswer(str(answer["code"]), str(answer.get("message", ""))[:300]), answer
    except (ValueError, KeyError, TypeError, AttributeError):
        return PeerAnswer("", _("对方返回 HTTP %(status)d，应答无法解读。") % {"status": status}), {}


def _upload(peer: Peer, sha256: str, content: bytes) -> PeerAnswer | None:
    """Send one file ahead in chunks (exchange.files), from where the peer's copy ends; None once
    the peer has it all, else the answer that stopped it (the next attempt resumes)."""
    size, chunk = len(content), max(1, settings.EXCHANGE_CHUNK_BYTES)
    path = f"v1/files/{sha256}"
    answer, data = _request(peer, "PUT", path, b"", {"Content-Range": f"bytes */{size}"})
    for _round in range(size // chunk + 3):
        if answer.code not in (Code.ACCEPTED, Code.RESUME):
            return answer
        if data.get("complete"):
            return None
        start = int(data.get("received", 0))
        part = content[start : start + chunk]
        span = {"Content-Range": f"bytes {start}-{start + len(part) - 1}/{size}"}
        answer, data = _request(peer, "PUT", path, part, span)
    return answer if not data.get("complete") else None


def _post(outgoing: Outgoing, path: str) -> PeerAnswer:
    """Post the message (its files first, in chunks, when they are large); never raises for what
    the network or the peer does."""
    envelope = json.loads(bytes(outgoing.envelope))
    files = _files(envelope)
    if sum(len(content) for content in files.values()) > settings.EXCHANGE_INLINE_BYTES:
        for sha256, content in files.items():
            stopped = _upload(outgoing.peer, sha256, content)
            if stopped is not None:
                return stopped
        files = {}
    inline = {sha256: base64.b64encode(content).decode("ascii") for sha256, content in files.items()}
    body = json.dumps({"envelope": envelope, "signature": outgoing.signature, "files": inline}, ensure_ascii=False)
    answer, _data = _request(outgoing.peer, "POST", path, body.encode("utf-8"))
    return answer


def _backoff(attempts: int) -> datetime.timedelta:
    window = settings.EXCHANGE_RETRY_WINDOW_SECONDS
    delay = min(settings.EXCHANGE_RETRY_SECONDS * 2 ** min(attempts - 1, 40), window / 4)
    return datetime.timedelta(seconds=_random.uniform(delay / 2, delay))


def lease() -> datetime.timedelta:
    """How long a claimed message is left to the worker that claimed it."""
    return datetime.timedelta(seconds=settings.EXCHANGE_TIMEOUT_SECONDS * 2 + LEASE_MARGIN_SECONDS)


def _tell_clerks(kind: str, outgoing: Outgoing, text: str, now) -> None:
    from workflow.services.notifications import Notice, notify_clerks

    if kind == RECEIPT:
        notices = [Notice(outgoing.delivery.unit_id, outgoing.delivery_id, text)]
    else:
        deliveries = Delivery.objects.filter(dispatch=outgoing.dispatch, unit__peer=outgoing.peer)
        notices = [
            Notice(outgoing.dispatch.issuing_unit_id, pk, text) for pk in deliveries.values_list("pk", flat=True)
        ]
    notify_clerks(notices, kind=Notification.Kind.EXCHANGE, now=now)


def _finish(kind: str, outgoing: Outgoing, answer: PeerAnswer) -> str:
    now = timezone.now()
    State = Outgoing.State  # noqa: N806 (the model's choices)
    # One draw of the jitter: the attempt it schedules is the one checked against the window.
    retry = now + _backoff(outgoing.attempts)
    if answer.code in (Code.ACCEPTED, Code.DUPLICATE):
        state = State.ACCEPTED
    elif answer.code in FINAL_REFUSALS:
        state = State.REFUSED
    elif retry > outgoing.created_at + datetime.timedelta(seconds=settings.EXCHANGE_RETRY_WINDOW_SECONDS):
        state = State.FAILED
    else:
        state = State.PENDING
    due = retry if state == State.PENDING else now
    with transaction.atomic():
        changed = (
            type(outgoing)
            .objects.filter(pk=outgoing.pk, state=State.PENDING, attempts=outgoing.attempts)
            .update(
                state=state,
                next_attempt_at=due,
                answered_at=now if answer.code else None,
                last_code=answer.code,
                last_error="" if state == State.ACCEPTED else answer.message[:500],
            )
        )
        if not changed or state == State.PENDING:
            return state
        message_id = getattr(outgoing, MESSAGE_IDS[kind])
        payload = {
            "peer": outgoing.peer.name,
            kind: str(message_id),
            "code": answer.code,
            "attempts": outgoing.attempts,
        }
        if state != State.ACCEPTED:
            payload["message"] = answer.message[:500]
            values = {"peer": outgoing.peer.name, "message": answer.message}
            if kind == RECEIPT:
                text = _("退回%(peer)s的回执未能送达：%(message)s") % values
            elif kind == RECALL:
                text = _("发往%(peer)s的撤回通知未能送达：%(message)s") % values
            elif state == State.REFUSED:
                text = _("发往%(peer)s的公文被对方拒收：%(message)s") % values
            else:
                text = _("发往%(peer)s的公文在重试期限内未能送达：%(message)s") % values
            # A report is for the auditors of the peer: no clerk here can act on its failure, which
            # the audit log records (and the next change of the chain makes a new one).
            if kind != REPORT:
                _tell_clerks(kind, outgoing, text, now)
        if kind == RECEIPT:
            unit, document = outgoing.delivery.unit_id, outgoing.delivery.document_id
        elif kind == REPORT:
            dispatch = outgoing.consignment.dispatch
            unit, document = dispatch.issuing_unit_id, dispatch.document_id
        else:
            unit, document = outgoing.dispatch.issuing_unit_id, outgoing.dispatch.document_id
        audit_record(
            actor=None,
            verb=KINDS[kind].sent if state == State.ACCEPTED else KINDS[kind].failed,
            object_type=type(outgoing).__name__,
            object_id=outgoing.pk,
            unit=unit,
            document=document,
            payload=payload,
        )
    return state


def message_send(*, kind: str, pk: int) -> str | None:
    """One attempt at the message if it is due; its state after, or None when it was not due (sent,
    ended, or another worker holds it)."""
    model = KINDS[kind].model
    now = timezone.now()
    claimed = model.objects.filter(pk=pk, state=Outgoing.State.PENDING, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=now + lease()
    )
    if not claimed:
        return None
    related = {RECEIPT: ("peer", "delivery"), REPORT: ("peer", "consignment__dispatch")}.get(kind, ("peer", "dispatch"))
    outgoing = model.objects.select_related(*related).get(pk=pk)
    answer = _post(outgoing, KINDS[kind].path)
    state = _finish(kind, outgoing, answer)
    logger.info(
        "%s %s to %s: attempt %d, %s %s",
        kind,
        outgoing.pk,
        outgoing.peer.name,
        outgoing.attempts,
        answer.code or "no answer",
        state,
    )
    return state


def consignment_send(*, outgoing_id: int) -> str | None:
    return message_send(kind=CONSIGNMENT, pk=outgoing_id)


def messages_sweep(*, limit: int = 1000) -> int:
    """Enqueue the pending messages that are due, most urgent first; returns how many."""
    due = []
    for kind, spec in KINDS.items():
        rows = spec.model.objects.filter(state=Outgoing.State.PENDING, next_attempt_at__lte=timezone.now())
        due += [(kind, pk, queue) for pk, queue in rows.order_by("next_attempt_at").values_list("pk", "queue")[:limit]]
    for kind, pk, queue in sorted(due, key=lambda row: row[2] != "urgent"):
        app.send_task(SEND, args=[kind, pk], queue=queue)
    return len(due)
