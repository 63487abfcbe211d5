"""What may be attached: size and type limits from settings, checked on the bytes, not the name alone."""

import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext as _

from units.display import display_list
from units.errors import InvalidInput

# Magic numbers of the allowed types; a file whose bytes contradict its extension is refused.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "ofd": (b"PK\x03\x04",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}
_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain; charset=utf-8",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    sha256: str


def check_attachment(name: str, stream: BinaryIO) -> CheckedFile:
    """Read the stream once: refuse a wrong type or an oversized file, else return its size and SHA-256.

    Raises InvalidInput naming the file and the problem. Leaves the stream at its start.
    """
    clean_name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not clean_name:
        raise InvalidInput(_("附件缺少文件名。"))
    extension = clean_name.rsplit(".", 1)[-1].lower() if "." in clean_name else ""
    allowed = [ext.lower() for ext in settings.ATTACHMENT_ALLOWED_EXTENSIONS]
    if extension not in allowed:
        raise InvalidInput(
            _("附件“%(name)s”的类型不允许，只接受：%(allowed)s。")
            % {"name": clean_name, "allowed": display_list(allowed)}
        )
    limit = settings.ATTACHMENT_MAX_BYTES
    digest = hashlib.sha256()
    size = 0
    head = b""
    stream.seek(0)
    while chunk := stream.read(1024 * 1024):
        if not head:
            head = chunk[:16]
        size += len(chunk)
        if size > limit:
            raise InvalidInput(
                _("附件“%(name)s”超过大小上限 %(limit)s。") % {"name": clean_name, "limit": human_size(limit)}
            )
        digest.update(chunk)
    stream.seek(0)
    if size == 0:
        raise InvalidInput(_("附件“%(name)s”是空文件。") % {"name": clean_name})
    signatures = _SIGNATURES.get(extension)
    if signatures and not head.startswith(signatures):
        raise InvalidInput(_("附件“%(name)s”的内容与扩展名 .%(ext)s 不符。") % {"name": clean_name, "ext": extension})
    if extension == "txt" and b"\x00" in head:
        raise InvalidInput(_("附件“%(name)s”不是文本文件。") % {"name": clean_name})
    return CheckedFile(
        name=clean_name,
        content_type=_CONTENT_TYPES.get(extension, "application/octet-stream"),
        size=size,
        sha256=digest.hexdigest(),
    )


def human_size(size: int) -> str:
    """A limit as people read it: in MB or KB when it is a whole number of them, else exactly in bytes."""
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} B"
