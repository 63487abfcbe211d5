"""Bytes to text: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 (which covers GBK and
GB2312, the encodings of most older Chinese office files). .docx files are read with python-docx.

Every refusal is an InvalidInput naming the file and what is wrong with it.
"""

import codecs

from django.utils.translation import gettext as _

from documents.importing.word import docx_text
from units.errors import InvalidInput

# A text of a few hundred pages is well under a megabyte; anything near this is not a document.
MAX_BYTES = 10 * 1024 * 1024

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .doc (and .wps) format


def read_source(data: bytes, *, name: str) -> str:
    """The text of a file's bytes. Raises InvalidInput for a file that is too big, empty or unreadable."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            _("文件“%(name)s”太大（%(size)d 字节），导入上限为 %(limit)d 字节。")
            % {"name": name, "size": len(data), "limit": MAX_BYTES}
        )
    if not data.strip():
        raise InvalidInput(_("文件“%(name)s”是空的。") % {"name": name})
    if data.startswith(_ZIP):
        return docx_text(data, name=name)
    if data.startswith(_OLE):
        raise InvalidInput(
            _("文件“%(name)s”是旧版 Word（.doc）格式，请另存为 .docx 或纯文本后再导入。") % {"name": name}
        )
    if data.startswith(b"%PDF-"):
        raise InvalidInput(_("文件“%(name)s”是 PDF，不能直接导入，请先转为文本或 .docx。") % {"name": name})
    return decode(data, name=name)


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


def _undecodable(name: str, error: UnicodeDecodeError, encodings: str) -> InvalidInput:
    return InvalidInput(
        _("文件“%(name)s”无法识别文字编码：从第 %(offset)d 字节起既不是 %(encodings)s 编码的文字。")
        % {"name": name, "offset": error.start + 1, "encodings": encodings}
    )
