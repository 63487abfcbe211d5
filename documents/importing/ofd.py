"""The text of an OFD (GB/T 33190-2016), read with its layout (documents.importing.layout): the text
objects of each page with their places, sizes and colours.

An OFD is a zip of XML parts: OFD.xml names the document's root (DocRoot), whose Document.xml lists
the pages (Pages/Page BaseLoc); each page's Content.xml holds TextObjects (Boundary "x y w h" in mm
from the page's top-left corner, Size in mm, FillColor, and TextCode runs whose X/Y place the glyphs
inside the Boundary, Y on the baseline). No PyPI reader gave text with positions from untrusted
files within our limits, so this small reader reads what the text needs and nothing else, bounded
as a .docx is (documents.importing.package): members counted, parts inflated within a budget, XML
without DTDs or entities, at most IMPORT_MAX_PAGES pages.
"""

import contextlib
import io
import itertools
import posixpath
import zipfile

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from documents.importing.layout import GAP, PrintedLine, layout_text
from documents.importing.package import DAMAGED, Budget, check_member_count, inflate, invalid, xml_events
from units.errors import InvalidInput

_KIND = "OFD"
PT_PER_MM = 72 / 25.4


def ofd_text(data: bytes, *, name: str) -> str:
    """Raises InvalidInput naming the file when it is not a readable OFD, has more pages than
    IMPORT_MAX_PAGES, or its pages hold no text (a scan)."""
    check_member_count(data, name=name)
    budget = Budget(name=name, limit=settings.IMPORT_MAX_UNPACKED_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            root = _doc_root(archive, budget, name=name)
            pages = _page_locations(archive, root, budget, name=name)
            limit = settings.IMPORT_MAX_PAGES
            if len(pages) > limit:
                raise InvalidInput(
                    _("文件“%(name)s”有 %(pages)d 页，超过导入上限 %(limit)d 页。")
                    % {"name": name, "pages": len(pages), "limit": limit}
                )
            lines = [
                line
                for number, page in enumerate(pages, 1)
                for line in _page_lines(archive, page, number, budget, name=name)
            ]
    except DAMAGED as error:
        raise invalid(name, type(error).__name__, kind=_KIND) from None
    if not lines:
        raise InvalidInput(_("文件“%(name)s”的页面上没有文字（可能是扫描件），不能按文字导入。") % {"name": name})
    return layout_text(lines)


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _part(base: str, location: str) -> str:
    """A part's name in the zip: `location` taken from the directory of `base` (or from the root)."""
    if location.startswith("/"):
        return posixpath.normpath(location).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), location)).lstrip("/")


def _elements(archive, part: str, budget: Budget, *, name: str):
    with contextlib.closing(inflate(archive, part, budget, name=name, kind=_KIND)) as chunks:
        yield from xml_events(chunks, name=name, kind=_KIND)


def _doc_root(archive, budget: Budget, *, name: str) -> str:
    for event, element in _elements(archive, "OFD.xml", budget, name=name):
        if event == "end" and _local(element.tag) == "DocRoot" and (element.text or "").strip():
            return _part("OFD.xml", element.text.strip())
    raise invalid(name, "no DocRoot", kind=_KIND)


def _page_locations(archive, root: str, budget: Budget, *, name: str) -> list[str]:
    pages = []
    for event, element in _elements(archive, root, budget, name=name):
        if event == "start" and _local(element.tag) == "Page" and element.get("BaseLoc"):
            pages.append(_part(root, element.get("BaseLoc")))
    return pages


def _numbers(text: str | None, count: int) -> list[float] | None:
    try:
        values = [float(part) for part in (text or "").split()]
    except ValueError:
        return None
    return values if len(values) >= count else None


def _is_red(value: str | None) -> bool:
    rgb = _numbers(value, 3)
    return rgb is not None and rgb[0] >= 150 and rgb[1] <= 90 and rgb[2] <= 90


def _page_lines(archive, part: str, number: int, budget: Budget, *, name: str) -> list[PrintedLine]:
    """The page's text objects, put together into lines by their baselines."""
    pieces = []  # (baseline, left, right, top, size in pt, red, text)
    boundary, size, red = None, 0.0, False
    for event, element in _elements(archive, part, budget, name=name):
        tag = _local(element.tag)
        if event == "start" and tag == "TextObject":
            boundary, size, red = _numbers(element.get("Boundary"), 4), float(element.get("Size") or 0), False
        elif event == "end" and tag == "FillColor" and boundary is not None:
            red = _is_red(element.get("Value"))
        elif event == "end" and tag == "TextCode" and boundary is not None and (element.text or "").strip():
            x, y = float(element.get("X") or 0), float(element.get("Y") or 0)
            left, top, width, _height = boundary
            pieces.append((top + y, left + x, left + width, top, size * PT_PER_MM, red, element.text))
        elif event == "end" and tag == "TextObject":
            boundary = None
    lines: list[list[tuple]] = []
    for piece in sorted(pieces, key=lambda piece: (round(piece[0], 1), piece[1])):
        if lines and abs(lines[-1][0][0] - piece[0]) <= piece[4] / PT_PER_MM / 4:
            lines[-1].append(piece)
        else:
            lines.append([piece])
    printed = []
    for line in lines:
        line.sort(key=lambda piece: piece[1])
        text = line[0][6] + "".join(
            (" " if piece[1] - before[2] > piece[4] / PT_PER_MM * GAP else "") + piece[6]
            for before, piece in itertools.pairwise(line)
        )
        printed.append(
            PrintedLine(
                page=number,
                text=text,
                left=line[0][1],
                right=max(piece[2] for piece in line),
                top=min(piece[3] for piece in line),
                size=max(piece[4] for piece in line),
                red=sum(piece[5] for piece in line) * 2 > len(line),
            )
        )
    return printed
