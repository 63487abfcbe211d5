"""The content digest: SHA-256 over a canonical serialisation of a document, fixed at issue.

Canonical serialisation, version 1 (change the version, never the meaning of a version):

    UTF-8 bytes of JSON with keys sorted, no insignificant whitespace, non-ASCII kept as is, of
    {
      "v": 1,
      "number": "内教工委函〔2022〕90号",
      "elements": {<each name in CONTENT_FIELDS>: its stored value; dates as "YYYY-MM-DD", absent as null},
      "attachments": [{"name", "size", "sha256"} in attachment order],
      "enclosures": [hex digest of each directly enclosed document, in enclosure order]
    }

Text is stored normalised (NFC, "\\n" line ends) when drafted, and digested exactly as stored.
Enclosing by digest means a cover letter's digest covers everything it encloses, and the enclosed
document keeps its own digest at every level of a forwarding chain.
"""

import datetime
import hashlib
import json
import unicodedata
from collections.abc import Iterable, Sequence

from documents.elements import ELEMENTS
from documents.models import Attachment, Document, Enclosure

DIGEST_VERSION = 1

# The elements that make up what the document says (documents.elements). Everything here is frozen at
# issue. The serialisation sorts its keys, so only the set of names counts; a new element changes the
# bytes of every document, so it needs a new DIGEST_VERSION (test_content_and_digest pins version 1).
CONTENT_FIELDS: tuple[str, ...] = tuple(element.name for element in ELEMENTS)


def normalise_text(value: str) -> str:
    """NFC, "\\n" line ends, no trailing spaces on lines, no blank lines at either end."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in value.split("\n")).strip("\n")


def _plain(value: object) -> object:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def canonical_bytes(
    *,
    number: str,
    elements: dict[str, object],
    attachments: Iterable[tuple[str, int, str]],
    enclosure_digests: Sequence[str],
) -> bytes:
    payload = {
        "v": DIGEST_VERSION,
        "number": number,
        "elements": {name: _plain(elements.get(name)) for name in CONTENT_FIELDS},
        "attachments": [{"name": name, "size": size, "sha256": sha256} for name, size, sha256 in attachments],
        "enclosures": list(enclosure_digests),
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_digest(**parts) -> str:
    return hashlib.sha256(canonical_bytes(**parts)).hexdigest()


def document_content_digest(document: Document, *, number: str | None = None) -> str:
    """The digest of a document as stored now (its attachments and direct enclosures included).

    Two queries: attachments, direct enclosures (each already issued, so already digested).
    """
    attachments = (
        Attachment.objects.filter(document=document).order_by("position").values_list("name", "size", "sha256")
    )
    enclosures = (
        Enclosure.objects.filter(cover=document, depth=1)
        .order_by("position")
        .values_list("enclosed__digest", flat=True)
    )
    return content_digest(
        number=document.number if number is None else number,
        elements={name: getattr(document, name) for name in CONTENT_FIELDS},
        attachments=list(attachments),
        enclosure_digests=list(enclosures),
    )
