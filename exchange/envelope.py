"""The consignment envelope (README, "公文交换"): what one installation sends another, and the
checks the receiver makes before it writes anything.

A message body is JSON: {"envelope": {…}, "signature": "<base64>", "files": {"<sha256>": "<base64>"}}.
The envelope, serialised canonically (the digest's rules: keys sorted, no insignificant
whitespace, non-ASCII as is, UTF-8), is what `signature` signs (Ed25519, the sender installation's
key). Version 1:

    {
      "protocol": "gongwen-exchange/1", "type": "consignment",
      "id": "<UUID, the same for every attempt to send this consignment>",
      "from": {"installation": "<name>", "unit": "<full name of the sending unit>"},
      "to": [{"unit": "<full name>", "role": "主送" | "抄送"}, …],
      "deadlines": {"sign_for": "<ISO 8601 UTC>" | null, "complete": … | null},
      "document": "<digest of the document sent (the cover, when it forwards)>",
      "documents": [ each document, every one after those it encloses:
        {"digest", "number", "issuer": "<full name of its issuing unit>", "issued_at",
         "elements": {…}, "attachments": [{"name", "size", "sha256"}, …],
         "enclosures": ["<digest of each directly enclosed document>", …]} ]
    }

"number", "elements", "attachments" and "enclosures" are exactly the document's canonical
serialisation (documents.digest), so the receiver recomputes each digest from them: a document is
byte for byte the same at every installation it crosses. The files are the attachments' bytes by
SHA-256, outside the signature: each is checked against the signed SHA-256 and size.
"""

import base64
import binascii
import dataclasses
import datetime
import hashlib
import json
import re
import uuid
from collections.abc import Callable

from django.utils.translation import gettext as _

from documents.digest import CONTENT_FIELDS, canonical_bytes
from documents.elements import ELEMENTS, Value
from documents.models import Attachment, Document, Enclosure, RecipientRole
from exchange.keys import PROTOCOL


class Code:
    """The answer codes of the protocol; each answer is {"code": …, "message": …} (HTTP status)."""

    ACCEPTED = "accepted"  # 201
    DUPLICATE = "duplicate"  # 200: this consignment id was accepted before; nothing created twice
    UNKNOWN_PEER = "unknown_peer"  # 403: no such installation, or revoked
    BAD_SIGNATURE = "bad_signature"  # 401: a signature that does not verify, or a stale timestamp
    TOO_LARGE = "too_large"  # 413: over the peer's limit
    RATE_LIMITED = "rate_limited"  # 429: over the peer's messages per minute
    MALFORMED = "malformed"  # 400: not an envelope of this protocol
    DIGEST_MISMATCH = "digest_mismatch"  # 422: a document or file is not what its digest says
    UNKNOWN_RECIPIENT = "unknown_recipient"  # 404: a recipient unit this installation does not have
    NOT_ACCEPTED = "not_accepted"  # 403: a unit that does not take this consignment from this peer
    RESUME = "resume"  # 409: a file's chunk that does not start where the received bytes end

    STATUS = {
        ACCEPTED: 201,
        DUPLICATE: 200,
        UNKNOWN_PEER: 403,
        BAD_SIGNATURE: 401,
        TOO_LARGE: 413,
        RATE_LIMITED: 429,
        MALFORMED: 400,
        DIGEST_MISMATCH: 422,
        UNKNOWN_RECIPIENT: 404,
        NOT_ACCEPTED: 403,
        RESUME: 409,
    }


class Refused(Exception):
    """A consignment refused with a protocol code and a message naming the problem (in Chinese)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def canonical(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def utc_text(moment: datetime.datetime | None) -> str | None:
    """A moment as the protocol writes it: ISO 8601 in UTC, "Z"; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime.date) else value


# --- the sender's side ------------------------------------------------------------------------------


def document_entries(document: Document) -> list[dict]:
    """The envelope's "documents" for `document`: it and everything it encloses, each after what it
    encloses (deepest first), read from the database as issued."""
    enclosed = (
        Enclosure.objects.filter(cover=document)
        .select_related("enclosed__issuing_unit")
        .order_by("-depth", "enclosed_id")
    )
    seen, entries = set(), []
    for row in enclosed:
        inner = row.enclosed
        if inner.pk in seen:
            continue
        seen.add(inner.pk)
        attachments = Attachment.objects.filter(document=inner).order_by("position")
        direct = Enclosure.objects.filter(cover=inner, depth=1).order_by("position")
        entries.append(
            {
                "digest": inner.digest,
                "number": inner.number,
                "issuer": inner.issuing_unit.name,
                "issued_at": utc_text(inner.issued_at),
                "elements": {name: _plain(getattr(inner, name)) for name in CONTENT_FIELDS},
                "attachments": [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in attachments],
                "enclosures": list(direct.values_list("enclosed__digest", flat=True)),
            }
        )
    return entries


def consignment_envelope(
    *,
    consignment_id: uuid.UUID,
    installation: str,
    unit: str,
    document: Document,
    recipients: list[tuple[str, str]],
    sign_for: datetime.datetime | None,
    complete: datetime.datetime | None,
) -> dict:
    """The envelope of `document` (issued) from `unit` of `installation` to `recipients`, (full
    name, RecipientRole) of units the peer hosts."""
    return {
        "protocol": PROTOCOL,
        "type": "consignment",
        "id": str(consignment_id),
        "from": {"installation": installation, "unit": unit},
        "to": [{"unit": name, "role": role} for name, role in recipients],
        "deadlines": {"sign_for": utc_text(sign_for), "complete": utc_text(complete)},
        "document": document.digest,
        "documents": document_entries(document),
    }


# --- the receiver's side ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Received:
    """A message body that parsed: the envelope (as a dict and as its canonical bytes), its
    signature, and the files by SHA-256."""

    envelope: dict
    envelope_bytes: bytes
    signature: str
    files: dict[str, bytes]

    @property
    def consignment_id(self) -> uuid.UUID:
        return uuid.UUID(self.envelope["id"])


def _malformed(what: str) -> Refused:
    return Refused(Code.MALFORMED, _("不是有效的公文交换信封：%(what)s。") % {"what": what})


_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ROLES = set(RecipientRole.values)
_DOCUMENT_KEYS = {"digest", "number", "issuer", "issued_at", "elements", "attachments", "enclosures"}


def _text(value: object, what: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise _malformed(what)
    return value


def _moment(value: object, what: str, *, null: bool = True) -> datetime.datetime | None:
    if value is None and null:
        return None
    try:
        moment = datetime.datetime.fromisoformat(_text(value, what))
    except ValueError:
        raise _malformed(what) from None
    if moment.tzinfo is None:
        raise _malformed(what)
    return moment


def _check_document(entry: object, index: int) -> None:
    def part(name: str) -> str:
        return _("第%(n)d份公文的%(part)s") % {"n": index + 1, "part": name}

    if not isinstance(entry, dict) or set(entry) != _DOCUMENT_KEYS:
        raise _malformed(_("第%(n)d份公文") % {"n": index + 1})
    if not _HEX64.match(_text(entry["digest"], part(_("摘要")))):
        raise _malformed(part(_("摘要")))
    _text(entry["number"], part(_("发文字号")))
    _text(entry["issuer"], part(_("发文机关")))
    _moment(entry["issued_at"], part(_("印发时间")), null=False)
    elements = entry["elements"]
    if not isinstance(elements, dict) or set(elements) != set(CONTENT_FIELDS):
        raise _malformed(part(_("要素")))
    attachments = entry["attachments"]
    if not isinstance(attachments, list):
        raise _malformed(part(_("附件")))
    for attachment in attachments:
        if (
            not isinstance(attachment, dict)
            or set(attachment) != {"name", "size", "sha256"}
            or not isinstance(attachment["size"], int)
            or attachment["size"] < 0
            or not isinstance(attachment["sha256"], str)
            or not _HEX64.match(attachment["sha256"])
        ):
            raise _malformed(part(_("附件")))
        _text(attachment["name"], part(_("附件名称")))
    enclosures = entry["enclosures"]
    if not isinstance(enclosures, list) or not all(isinstance(d, str) and _HEX64.match(d) for d in enclosures):
        raise _malformed(part(_("所附公文")))


def message_parts(body: bytes, malformed: Callable[[str], Refused]) -> tuple[object, object, object]:
    """The envelope, signature and files of any message's body (consignment, receipt, recall), or
    `malformed(what)` naming what is wrong."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise malformed(_("正文不是 UTF-8 JSON")) from None
    if not isinstance(message, dict) or set(message) != {"envelope", "signature", "files"}:
        raise malformed(_("正文应有且只有 envelope、signature、files"))
    return message["envelope"], message["signature"], message["files"]


def answer_parts(body: bytes, malformed: Callable[[str], Refused], kind: str, keys: set[str]) -> tuple:
    """The envelope, signature and files of a message about a consignment (a receipt, recall or
    report: `kind`), once the envelope has exactly `keys`, is of this protocol and kind, and its id,
    consignment and time parse; else `malformed(what)`."""
    envelope, signature, files = message_parts(body, malformed)
    if not isinstance(envelope, dict) or set(envelope) != keys:
        raise malformed("envelope")
    if envelope["protocol"] != PROTOCOL or envelope["type"] != kind:
        raise malformed(_("协议版本或消息类型"))
    try:
        uuid.UUID(str(envelope["id"]))
        uuid.UUID(str(envelope["consignment"]))
        datetime.datetime.fromisoformat(str(envelope["at"]))
    except ValueError:
        raise malformed(_("编号或时间")) from None
    return envelope, signature, files


def received_parse(body: bytes) -> Received:
    """The message body as a Received, or Refused(MALFORMED) naming what is wrong. Checks the shape
    only: signatures and digests are checked after (`digests_check`)."""
    envelope, signature, files = message_parts(body, _malformed)
    keys = {"protocol", "type", "id", "from", "to", "deadlines", "document", "documents"}
    if not isinstance(envelope, dict) or set(envelope) != keys:
        raise _malformed("envelope")
    if envelope["protocol"] != PROTOCOL or envelope["type"] != "consignment":
        raise _malformed(_("协议版本或消息类型"))
    try:
        uuid.UUID(_text(envelope["id"], "id"))
    except ValueError:
        raise _malformed("id") from None
    sender = envelope["from"]
    if not isinstance(sender, dict) or set(sender) != {"installation", "unit"}:
        raise _malformed("from")
    _text(sender["installation"], "from.installation")
    _text(sender["unit"], "from.unit")
    recipients = envelope["to"]
    if not isinstance(recipients, list) or not recipients:
        raise _malformed(_("收文单位"))
    for recipient in recipients:
        if not isinstance(recipient, dict) or set(recipient) != {"unit", "role"} or recipient["role"] not in _ROLES:
            raise _malformed(_("收文单位"))
        _text(recipient["unit"], _("收文单位"))
    deadlines = envelope["deadlines"]
    if not isinstance(deadlines, dict) or set(deadlines) != {"sign_for", "complete"}:
        raise _malformed(_("时限"))
    _moment(deadlines["sign_for"], _("签收时限"))
    _moment(deadlines["complete"], _("办结时限"))
    documents = envelope["documents"]
    if not isinstance(documents, list) or not documents:
        raise _malformed(_("公文"))
    for index, entry in enumerate(documents):
        _check_document(entry, index)
    if not isinstance(envelope["document"], str) or documents[-1]["digest"] != envelope["document"]:
        raise _malformed(_("所送公文应是最后一份"))
    _text(signature, "signature")
    if not isinstance(files, dict):
        raise _malformed("files")
    decoded = {}
    for sha256, content in files.items():
        if not _HEX64.match(sha256) or not isinstance(content, str):
            raise _malformed("files")
        try:
            decoded[sha256] = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise _malformed("files") from None
    return Received(envelope=envelope, envelope_bytes=canonical(envelope), signature=signature, files=decoded)


def element_values(elements: dict) -> dict[str, object]:
    """The stored values of an envelope's elements (dates from "YYYY-MM-DD"); Refused(MALFORMED)
    for a value of the wrong type."""
    values = {}
    for element in ELEMENTS:
        value = elements[element.name]
        if element.value is Value.DATE and value is not None:
            try:
                value = datetime.date.fromisoformat(_text(value, element.label))
            except ValueError:
                raise _malformed(str(element.label)) from None
        elif not _typed(element, value):
            raise _malformed(str(element.label))
        values[element.name] = value
    return values


def _typed(element, value: object) -> bool:
    if element.value is Value.DATE:
        return value is None
    if element.value is Value.COUNT:
        return value is None or (isinstance(value, int) and not isinstance(value, bool))
    return isinstance(value, str)


def digests_check(received: Received) -> None:
    """Every document's digest recomputed from its canonical serialisation, every enclosure named
    earlier in the envelope (or, for the receiver to find, already known), every file the size and
    SHA-256 its attachment says: Refused(DIGEST_MISMATCH) naming the first that is not."""
    for entry in received.envelope["documents"]:
        element_values(entry["elements"])  # types first: a digest over a wrong type means nothing
        computed = hashlib.sha256(
            canonical_bytes(
                number=entry["number"],
                elements=entry["elements"],
                attachments=[(a["name"], a["size"], a["sha256"]) for a in entry["attachments"]],
                enclosure_digests=entry["enclosures"],
            )
        ).hexdigest()
        if computed != entry["digest"]:
            raise Refused(
                Code.DIGEST_MISMATCH,
                _("公文%(number)s的内容与其摘要不符。") % {"number": entry["number"]},
            )
        for attachment in entry["attachments"]:
            content = received.files.get(attachment["sha256"])
            if content is None:
                raise _malformed(_("缺少附件“%(name)s”的文件") % {"name": attachment["name"]})
            if len(content) != attachment["size"] or hashlib.sha256(content).hexdigest() != attachment["sha256"]:
                raise Refused(
                    Code.DIGEST_MISMATCH,
                    _("附件“%(name)s”与其摘要不符。") % {"name": attachment["name"]},
                )
