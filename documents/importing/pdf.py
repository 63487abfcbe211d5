"""The text of a PDF's text layer, read with its layout (documents.importing.layout): its lines as
pdfplumber places their characters, with their sizes and colours.

A PDF is untrusted input: it is read only when no larger than IMPORT_MAX_BYTES (like any file) and
only when it has at most IMPORT_MAX_PAGES pages; a PDF pdfminer cannot read is refused by name. A PDF
whose pages carry no text (a scan) is drawn page by page (pypdfium2) and read by OCR
(documents.importing.scan).
"""

import contextlib
import io
import itertools

import pdfplumber
import pypdfium2
from django.conf import settings
from django.utils.translation import gettext as _
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSException
from pdfplumber.utils.exceptions import PdfminerException

from documents.importing.layout import GAP, PrintedLine, layout_text
from documents.importing.scan import Scan, scan_pdf
from units.errors import InvalidInput

MM = 72 / 25.4
# A character is red when its fill is red enough to be the mark's (#e60012 and the like), in RGB or CMYK.
_RED_RGB_MIN, _RED_OTHER_MAX = 0.6, 0.35


def pdf_text(data: bytes, *, name: str) -> Scan | str:
    """The text of the PDF's text layer; a Scan (OCR) when its pages carry no text. Raises InvalidInput
    naming the file when it is not a readable PDF or has more pages than IMPORT_MAX_PAGES."""
    limit = settings.IMPORT_MAX_PAGES
    try:
        with pdfplumber.open(io.BytesIO(data)) as document:
            if len(document.pages) > limit:
                raise InvalidInput(
                    _("文件“%(name)s”有 %(pages)d 页，超过导入上限 %(limit)d 页。")
                    % {"name": name, "pages": len(document.pages), "limit": limit}
                )
            lines = [line for number, page in enumerate(document.pages, 1) for line in _page_lines(page, number)]
    # pdfplumber wraps what pdfminer raises for a damaged file; pdfminer's own escape on some pages.
    except (PdfminerException, PDFSyntaxError, PSException, ValueError, KeyError, TypeError) as error:
        raise InvalidInput(
            _("文件“%(name)s”不是可读的 PDF（%(reason)s）。") % {"name": name, "reason": type(error).__name__}
        ) from None
    if not lines:
        return _scanned(data, name=name)
    return layout_text(lines)


def _scanned(data: bytes, *, name: str) -> Scan:
    """A PDF of page images (a scanner's): its pages drawn and read by OCR."""
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        raise InvalidInput(
            _("文件“%(name)s”不是可读的 PDF（%(reason)s）。") % {"name": name, "reason": type(error).__name__}
        ) from None
    with contextlib.closing(document):
        return scan_pdf(document, name=name)


def _is_red(color) -> bool:
    if not isinstance(color, (list, tuple)):
        return False
    if len(color) == 3:
        r, g, b = color
        return r >= _RED_RGB_MIN and g <= _RED_OTHER_MAX and b <= _RED_OTHER_MAX
    if len(color) == 4:  # CMYK: red is magenta and yellow without cyan
        c, m, y, _k = color
        return c <= _RED_OTHER_MAX and m >= _RED_RGB_MIN and y >= _RED_RGB_MIN
    return False


def _page_lines(page, number: int) -> list[PrintedLine]:
    """The page's lines: characters on one baseline (within a quarter of their size), left to right."""
    rows: list[list[dict]] = []
    for char in sorted(page.chars, key=lambda char: (round(char["bottom"], 1), char["x0"])):
        if rows and abs(rows[-1][0]["bottom"] - char["bottom"]) <= char["size"] / 4:
            rows[-1].append(char)
        else:
            rows.append([char])
    lines = []
    for row in rows:
        row.sort(key=lambda char: char["x0"])
        text = row[0]["text"] + "".join(
            (" " if char["x0"] - before["x1"] > char["size"] * GAP else "") + char["text"]
            for before, char in itertools.pairwise(row)
        )
        if not text.strip():
            continue
        red = sum(_is_red(char.get("non_stroking_color")) for char in row) * 2 > len(row)
        lines.append(
            PrintedLine(
                page=number,
                text=text,
                left=row[0]["x0"] / MM,
                right=row[-1]["x1"] / MM,
                top=min(char["top"] for char in row) / MM,
                size=max(char["size"] for char in row),
                red=red,
            )
        )
    return lines
