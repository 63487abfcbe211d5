"""Files ahead of their consignment, in chunks, resumable (公文交换). A consignment whose files are
larger than EXCHANGE_INLINE_BYTES in all sends each file first:

    PUT /exchange/v1/files/<sha256>
    Content-Range: bytes START-END/SIZE     (END inclusive; the chunk is the body)
    Content-Range: bytes */SIZE             (an empty body: how much has arrived?)

signed like any message (the signature covers the chunk). The answer is {"code", "message",
"received", "complete"}: `accepted` with the bytes received so far, or `resume` (409) when a chunk
does not start where they end, with where to go on from. A file whose bytes are all there is checked
against its SHA-256 (`digest_mismatch` throws the copy away); a consignment from that peer then
takes it as if it were inline, and the staging copy goes once the consignment is in. A file may be
no larger than ATTACHMENT_MAX_BYTES, a chunk no larger than the peer's limit.
"""

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.envelope import Code, Refused
from exchange.models import Peer, StagedFile
from exchange.services import Answer, _peer, checked_body, refusal
from workflow.models import AuditVerb

_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _path(peer: Peer, sha256: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "exchange-staging" / str(peer.pk) / f"{sha256}.part"


def staged_files(peer: Peer, wanted: set[str]) -> dict[str, bytes]:
    """The complete staged files of `peer` among `wanted`, by SHA-256."""
    found = StagedFile.objects.filter(peer=peer, sha256__in=wanted, completed_at__isnull=False)
    return {row.sha256: _path(peer, row.sha256).read_bytes() for row in found}


def staged_remove(peer: Peer, sha256s: set[str]) -> None:
    if not sha256s:
        return
    StagedFile.objects.filter(peer=peer, sha256__in=sha256s).delete()
    for sha256 in sha256s:
        _path(peer, sha256).unlink(missing_ok=True)


def _answer(staged: StagedFile, message: str, code: str = Code.ACCEPTED) -> Answer:
    return Answer(code, message, extra={"received": staged.received, "complete": staged.completed_at is not None})


def _append(peer: Peer, sha256: str, size: int, start: int | None, end: int | None, content: bytes, now) -> Answer:
    with transaction.atomic():
        staged = StagedFile.objects.select_for_update().filter(peer=peer, sha256=sha256).first()
        if staged is None:
            staged = StagedFile.objects.create(peer=peer, sha256=sha256, size=size, started_at=now)
        if staged.size != size:
            raise Refused(Code.MALFORMED, _("文件 %(sha256)s 的大小与先前的分段不一致。") % {"sha256": sha256})
        if staged.completed_at is not None or start is None:
            return _answer(staged, _("已收到 %(received)d 字节。") % {"received": staged.received})
        if start != staged.received:
            return _answer(
                staged, _("应从第 %(received)d 字节续传。") % {"received": staged.received}, code=Code.RESUME
            )
        if end - start + 1 != len(content) or end >= size:
            raise Refused(Code.MALFORMED, _("分段的字节范围与其内容不符。"))
        path = _path(peer, sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab" if start else "wb") as file:
            file.write(content)
        staged.received = start + len(content)
        if staged.received == size:
            if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
                staged.delete()
                path.unlink(missing_ok=True)
                raise Refused(Code.DIGEST_MISMATCH, _("文件与其摘要 %(sha256)s 不符。") % {"sha256": sha256})
            staged.completed_at = now
        staged.save(update_fields=["received", "completed_at"])
        return _answer(staged, _("已收到 %(received)d 字节。") % {"received": staged.received})


def file_receive(
    *,
    installation: str,
    timestamp: str,
    signature: str,
    body: Callable[[], bytes],
    length: int,
    sha256: str,
    content_range: str,
) -> Answer:
    now = timezone.now()
    peer, signed = None, False
    try:
        peer = _peer(installation)
        content = checked_body(peer, length=length, timestamp=timestamp, signature=signature, body=body, now=now)
        signed = True
        match = _RANGE.match(content_range)
        if not _HEX64.match(sha256) or match is None:
            raise Refused(Code.MALFORMED, _("文件分段须有 SHA-256 和 Content-Range（bytes 起-止/总长）。"))
        start, end, size = (int(value) if value is not None else None for value in match.groups())
        if size > settings.ATTACHMENT_MAX_BYTES:
            raise Refused(
                Code.TOO_LARGE, _("文件超过 %(limit)d 字节的上限。") % {"limit": settings.ATTACHMENT_MAX_BYTES}
            )
        if start is None and content:
            raise Refused(Code.MALFORMED, _("分段的字节范围与其内容不符。"))
        return _append(peer, sha256, size, start, end, content, now)
    except Refused as refused:
        return refusal("file", AuditVerb.CONSIGNMENT_REFUSED, installation, peer, refused, sha256[:64], signed=signed)
