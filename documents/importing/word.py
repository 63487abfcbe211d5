"""The text of a .docx file, paragraph by paragraph and table row by table row, in document order.

Word files of official documents often put the telegram header (发往, 签批, 等级) in a table: each row
becomes one line, its cells separated by spaces, which is how the text parser reads such headers.
Text boxes and headers/footers (page numbers) are not read. The text is the one python-docx gives
(this module used it before): a paragraph is its runs and hyperlinks; a table row is its cells, a
cell spanning several columns once, a cell merged with the one above it showing that one's text.

A .docx is untrusted input: a zip whose directory may lie about sizes, and XML. Every step is bounded
by what the file actually produces, never by what it declares:

- the zip's members are counted before zipfile reads its directory (IMPORT_MAX_ZIP_MEMBERS);
- only the parts the text needs are inflated (the package relationships and the main document,
  never the images), chunk by chunk, counting the bytes as they come out of the decompressor and
  stopping at IMPORT_MAX_UNPACKED_BYTES;
- the XML is parsed as it is inflated, without DTDs, entities or lxml's huge_tree, and each element
  is freed once read, so memory does not grow with the document;
- the text it yields is bounded like a text file's (IMPORT_MAX_BYTES characters).
"""

import contextlib
import io
import posixpath
import zipfile
from collections.abc import Iterable

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from documents.importing.package import DAMAGED, Budget, check_member_count, inflate, invalid, xml_events
from units.errors import InvalidInput

_KIND = ".docx"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCUMENT, _BODY, _P, _R, _HYPERLINK = (_W + tag for tag in ("document", "body", "p", "r", "hyperlink"))
_TBL, _TR, _TC, _TR_PR, _TC_PR = (_W + tag for tag in ("tbl", "tr", "tc", "trPr", "tcPr"))
_GRID_BEFORE, _GRID_SPAN, _V_MERGE = (_W + tag for tag in ("gridBefore", "gridSpan", "vMerge"))
_T, _BR, _VAL, _TYPE = _W + "t", _W + "br", _W + "val", _W + "type"
# The text of a run's other children, as python-docx reads them (a w:br depends on its type).
_RUN_MARKS = {_W + "tab": "\t", _W + "ptab": "\t", _W + "cr": "\n", _W + "noBreakHyphen": "-"}
# Word has at most 63 columns; a larger span or offset in the file only serves to mislead.
_MAX_GRID = 64


def docx_text(data: bytes, *, name: str) -> str:
    """Raises InvalidInput naming the file when it is not a readable .docx, or when reading it would
    pass one of the import limits (zip members, bytes unpacked, characters of text)."""
    check_member_count(data, name=name)
    budget = Budget(name=name, limit=settings.IMPORT_MAX_UNPACKED_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            main = _main_document_part(archive, budget, name=name)
            with contextlib.closing(inflate(archive, main, budget, name=name, kind=_KIND)) as chunks:
                return _document_text(chunks, name=name)
    except DAMAGED as error:
        raise invalid(name, type(error).__name__, kind=_KIND) from None


def _main_document_part(archive: zipfile.ZipFile, budget: Budget, *, name: str) -> str:
    """The zip member the package's relationships name as the main document (usually word/document.xml)."""
    with contextlib.closing(inflate(archive, "_rels/.rels", budget, name=name, kind=_KIND)) as chunks:
        for event, element in xml_events(chunks, name=name, kind=_KIND):
            if (
                event == "end"
                and element.tag == _RELATIONSHIP
                and element.get("Type") == _OFFICE_DOCUMENT
                and element.get("TargetMode") != "External"
            ):
                return posixpath.normpath("/" + (element.get("Target") or "")).lstrip("/")
    raise invalid(name, "no officeDocument", kind=_KIND)


class _Text:
    """The lines read so far, and the characters held for a line not yet complete, within the limit."""

    def __init__(self, *, name: str, limit: int) -> None:
        self.name, self.limit = name, limit
        self.out = io.StringIO()
        self.lines = 0
        self.written = 0
        self.held = 0

    def hold(self, size: int) -> None:
        self.held += size
        self._check(self.written + self.held)

    def line(self, line: str) -> None:
        if self.lines:
            line = "\n" + line
        self.held = 0
        self._check(self.written + len(line))
        self.out.write(line)
        self.lines += 1
        self.written += len(line)

    def _check(self, size: int) -> None:
        if size > self.limit:
            message = _("文件“%(name)s”中的文字超过 %(limit)d 个字符的导入上限，未导入。")
            raise InvalidInput(message % {"name": self.name, "limit": self.limit})


def _document_text(chunks: Iterable[bytes], *, name: str) -> str:
    """The lines of the body's paragraphs and of its tables' rows, read as a small state machine
    over the XML events: `path` holds the tags of the open elements."""
    text = _Text(name=name, limit=settings.IMPORT_MAX_BYTES)
    path: list[str] = []
    paragraph: list[str] | None = None  # the pieces of the body or cell paragraph being read
    paragraph_depth = 0
    cell: dict = {}
    row: dict = {}
    above: dict[int, str] = {}  # the previous row's cell texts by grid column, for vertical merges
    for event, element in xml_events(chunks, name=name, kind=_KIND):
        tag = element.tag
        if event == "start":
            path.append(tag)
            depth = len(path)
            if depth == 1 and tag != _DOCUMENT:
                raise invalid(name, "no w:document", kind=_KIND)
            if tag == _P and (_at(path, _DOCUMENT, _BODY, _P) or _at(path, _DOCUMENT, _BODY, _TBL, _TR, _TC, _P)):
                paragraph, paragraph_depth = [], depth
            elif tag == _TBL and depth == 3:
                above = {}
            elif tag == _TR and _at(path, _DOCUMENT, _BODY, _TBL, _TR):
                row = {"before": 0, "cells": []}
            elif tag == _TC and _at(path, _DOCUMENT, _BODY, _TBL, _TR, _TC):
                cell = {"span": 1, "merged": False, "paragraphs": []}
            continue
        depth = len(path)
        if paragraph is not None and depth > paragraph_depth and _in_run(path, paragraph_depth):
            piece = _run_piece(element)
            if piece:
                text.hold(len(piece))
                paragraph.append(piece)
        elif tag == _P and paragraph is not None and depth == paragraph_depth:
            if depth == 3:
                text.line("".join(paragraph))
            else:
                cell["paragraphs"].append("".join(paragraph))
                text.hold(1)  # the newline between a cell's paragraphs
            paragraph = None
        elif tag == _GRID_SPAN and _at(path, _DOCUMENT, _BODY, _TBL, _TR, _TC, _TC_PR, _GRID_SPAN):
            cell["span"] = _grid_number(element, default=1)
        elif tag == _V_MERGE and _at(path, _DOCUMENT, _BODY, _TBL, _TR, _TC, _TC_PR, _V_MERGE):
            cell["merged"] = element.get(_VAL, "continue") == "continue"
        elif tag == _GRID_BEFORE and _at(path, _DOCUMENT, _BODY, _TBL, _TR, _TR_PR, _GRID_BEFORE):
            row["before"] = _grid_number(element, default=0)
        elif tag == _TC and _at(path, _DOCUMENT, _BODY, _TBL, _TR, _TC):
            row["cells"].append(cell)
        elif tag == _TR and _at(path, _DOCUMENT, _BODY, _TBL, _TR):
            above = _row_line(row, above, text)
        path.pop()
    return text.out.getvalue()


def _at(path: list[str], *tags: str) -> bool:
    return len(path) == len(tags) and path[-1] == tags[-1] and path == list(tags)


def _in_run(path: list[str], paragraph_depth: int) -> bool:
    """Whether the element that ended is a child of a run of the paragraph (directly, or in a hyperlink)."""
    inside = path[paragraph_depth:]
    return (len(inside) == 2 and inside[0] == _R) or (len(inside) == 3 and inside[:2] == [_HYPERLINK, _R])


def _run_piece(element: etree._Element) -> str:
    if element.tag == _T:
        return element.text or ""
    if element.tag == _BR:
        return "\n" if element.get(_TYPE, "textWrapping") == "textWrapping" else ""
    return _RUN_MARKS.get(element.tag, "")


def _grid_number(element: etree._Element, *, default: int) -> int:
    try:
        return min(max(int(element.get(_VAL, default)), default), _MAX_GRID)
    except ValueError:
        return default


def _row_line(row: dict, above: dict[int, str], text: _Text) -> dict[int, str]:
    """Write the row's line; return its cell texts by grid column, for the next row's merged cells."""
    column = row["before"]
    here: dict[int, str] = {}
    cells: list[str] = []
    for cell in row["cells"]:
        # A cell continuing a vertical merge shows the text of the cell above it in the same column.
        content = above.get(column, "") if cell["merged"] else "\n".join(cell["paragraphs"])
        here[column] = content
        column += cell["span"]
        words = " ".join(content.split())
        # A cell spanning several columns is one cell: python-docx repeated it, and the repeat was dropped.
        if words and (not cells or cells[-1] != words):
            cells.append(words)
    text.line(" ".join(cells))
    return here
