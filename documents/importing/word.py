"""The text of a .docx file, paragraph by paragraph and table row by table row, in document order.

Word files of official documents often put the telegram header (发往, 签批, 等级) in a table: each row
becomes one line, its cells separated by spaces, which is how the text parser reads such headers.
Text boxes and headers/footers (page numbers) are not read.
"""

import io
import zipfile
import zlib

import docx
from django.utils.translation import gettext as _
from docx.opc.exceptions import OpcError
from docx.table import Table
from lxml import etree

from units.errors import InvalidInput

# What python-docx lets through from its zip and XML layers when a file is damaged or not a .docx.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, OpcError, etree.LxmlError)
# A .docx of an official document unpacks to a few megabytes at most; refuse zip bombs up front.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024


def docx_text(data: bytes, *, name: str) -> str:
    """Raises InvalidInput naming the file when it is not a readable .docx."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise InvalidInput(_("文件“%(name)s”解压后过大，不像一份公文。") % {"name": name})
        document = docx.Document(io.BytesIO(data))
        return "\n".join(_blocks(document))
    except _DAMAGED as error:
        raise InvalidInput(
            _("文件“%(name)s”不是有效的 .docx 文件（%(reason)s）。") % {"name": name, "reason": type(error).__name__}
        ) from None


def _blocks(document) -> list[str]:
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_rows(block))
        else:
            lines.append(block.text)
    return lines


def _table_rows(table: Table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            # A merged cell is returned once per grid column it spans: keep it once.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        rows.append(" ".join(cells))
    return rows
