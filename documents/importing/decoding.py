"""Bytes to text: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 (which covers GBK and
GB2312, the encodings of most older Chinese office files). .docx files are read by word.py, OFD files
by ofd.py and PDF files with a text layer by pdf.py, both with their layout (layout.py); scans (a PDF
of page images, a PNG, JPEG or TIFF) by OCR in scan.py.

Every refusal is an InvalidInput naming the file and what is wrong with it. No file larger than
IMPORT_MAX_BYTES is read or decoded: `read_file` stops reading there.
"""

import codecs
import io
import os
import stat
import zipfile
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from documents.importing.ofd import ofd_text
from documents.importing.package import DAMAGED, check_member_count
from documents.importing.pdf import pdf_text
from documents.importing.scan import Scan, ScannedPage, is_image, scan_images
from documents.importing.word import docx_text
from units.errors import InvalidInput

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .doc (and .wps) format


def read_file(path: str | Path) -> bytes:
    """A file's bytes, never more than the import limit: a regular file larger than that is refused by
    its size before anything is read, anything else (a pipe, a device) once the limit is passed.

    Raises InvalidInput naming the file when it is too big, OSError when it cannot be read.
    """
    limit = settings.IMPORT_MAX_BYTES
    with open(path, "rb") as handle:
        status = os.fstat(handle.fileno())
        if stat.S_ISREG(status.st_mode) and status.st_size > limit:
            raise _too_big(str(path), status.st_size, limit)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(_("文件“%(name)s”超过导入上限 %(limit)d 字节。") % {"name": path, "limit": limit})
    return data


_IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8": "image/jpeg", b"II*\x00": "image/tiff", b"MM\x00*": "image/tiff"}


def media_type(data: bytes, *, name: str) -> str:
    """The media type of a file the importer has read, from its first bytes (never from its name):
    what the kept original is served as."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(_ZIP):
        if _is_ofd(data, name=name):
            return "application/ofd"
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    for magic, media in _IMAGE_TYPES.items():
        if data.startswith(magic):
            return media
    return "text/plain"


def read_source(data: bytes, *, name: str) -> str:
    """The text of a file's bytes. Raises InvalidInput for a file that is too big, empty or unreadable."""
    return read_document(data, name=name)[0]


def read_document(data: bytes, *, name: str) -> tuple[str, list[ScannedPage]]:
    """The text of a file's bytes, and its pages read by OCR when it is a scan (else [])."""
    read = _read(data, name=name)
    return (read.text, read.pages) if isinstance(read, Scan) else (read, [])


def _read(data: bytes, *, name: str) -> Scan | str:
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise _too_big(name, len(data), settings.IMPORT_MAX_BYTES)
    if not data.strip():
        raise InvalidInput(_("文件“%(name)s”是空的。") % {"name": name})
    if data.startswith(_ZIP):
        return ofd_text(data, name=name) if _is_ofd(data, name=name) else docx_text(data, name=name)
    if data.startswith(_OLE):
        raise InvalidInput(
            _("文件“%(name)s”是旧版 Word（.doc）格式，请另存为 .docx 或纯文本后再导入。") % {"name": name}
        )
    if data.startswith(b"%PDF-"):
        return pdf_text(data, name=name)
    if is_image(data):
        return scan_images(data, name=name)
    return decode(data, name=name)


def _is_ofd(data: bytes, *, name: str) -> bool:
    """A zip whose members include OFD.xml, the entry of every OFD package (GB/T 33190 7.3); the
    member count is checked first, as for any zip (a .docx's reader refuses what is not one)."""
    check_member_count(data, name=name)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "OFD.xml" in archive.namelist()
    except DAMAGED:
        return False


def decode(data: bytes, *, name: str) -> str:
    """UTF-8 first; GB18030 when the bytes are not UTF-8; InvalidInput when they are neither."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise _undecodable(name, error, "UTF-16") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\x00" in data:
        raise InvalidInput(_("文件“%(name)s”不是文本文件（含有空字节）。") % {"name": name})
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise _undecodable(name, utf8_error, "UTF-8 / GB18030") from None


def _too_big(name: str, size: int, limit: int) -> InvalidInput:
    message = _("文件“%(name)s”太大（%(size)d 字节），导入上限为 %(limit)d 字节。")
    return InvalidInput(message % {"name": name, "size": size, "limit": limit})


def _undecodable(name: str, error: UnicodeDecodeError, encodings: str) -> InvalidInput:
    return InvalidInput(
        _("文件“%(name)s”无法识别文字编码：从第 %(offset)d 字节起既不是 %(encodings)s 编码的文字。")
        % {"name": name, "offset": error.start + 1, "encodings": encodings}
    )
