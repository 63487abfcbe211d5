"""Measure a rendered PDF from its own positions (pdfplumber): lines of text, rules, fonts.

Everything is in millimetres from the page's top-left corner, the way GB/T 9704 states its
measures. The type area (版心) is 156 × 225 mm at 28 mm from the left and 37 mm from the top.

The OFD of the same pages is measured into the same Lines and Rules (ofd_page_lines,
ofd_page_rules): its text by an OFD reader of its own (ofdkit: text, origin and baseline), each text
object's box, face and colour, and the rules, from the page's XML (ofdkit does not read them).
"""

import io
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

import ofdkit
import pdfplumber
from fontTools.cffLib import CFFFontSet
from fontTools.ttLib import TTFont
from pypdf import PdfReader

MM = 72 / 25.4  # PDF points a millimetre
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210.0, 297.0
TYPE_AREA_LEFT_MM, TYPE_AREA_TOP_MM = 28.0, 37.0
TYPE_AREA_RIGHT_MM, TYPE_AREA_BOTTOM_MM = 28.0 + 156.0, 37.0 + 225.0
# The grid of 3号 type: 28 characters a line, 22 lines a page (GB/T 9704 5.2.3).
CHARACTER_MM, LINE_MM = 156.0 / 28, 225.0 / 22
EM_BOX_ABOVE_BASELINE = 0.88


@dataclass(frozen=True)
class Line:
    """The characters of one printed line (same baseline), left to right."""

    text: str  # without the spaces between characters
    left: float
    right: float
    top: float  # of the characters' boxes (pdfplumber: ascent to descent of the font)
    bottom: float
    baseline: float
    size: float  # points
    fonts: frozenset[str]  # PostScript names of the embedded font programs (FandolFang-Regular)
    colors: frozenset[tuple]  # the fill colours of its characters
    starts: tuple[float, ...] = ()  # where each character of `text` starts (mm from the left edge)
    char_fonts: tuple[str, ...] = ()  # the font of each character of `text`

    def fonts_of(self, text: str) -> set[str]:
        """The fonts `text` prints in on this line."""
        start = self.text.index(text)
        return set(self.char_fonts[start : start + len(text)])

    def left_of(self, text: str) -> float:
        """Where `text` starts on the line (mm from the left edge)."""
        return self.starts[self.text.index(text)]

    @property
    def em_top(self) -> float:
        """The top of the characters' em box, where GB/T 9704 measures a character from: a CJK
        font's ideographic em box stands 0.88 em above the baseline (880 of 1000 units: Noto CJK,
        Fandol, the Adobe-Japan1 convention), whatever ascent the font declares."""
        return self.baseline - EM_BOX_ABOVE_BASELINE * self.size / MM

    @property
    def cell_top(self) -> float:
        """The top of the grid line the characters stand in (the em box centred in a line of
        LINE_MM): the first line's is the type area's top edge, 37 mm (GB/T 9704 5.2.1)."""
        em_middle = self.baseline - (EM_BOX_ABOVE_BASELINE - 0.5) * self.size / MM
        return em_middle - LINE_MM / 2

    @property
    def from_right_edge(self) -> float:
        """How far the line ends before the right edge of the type area (mm)."""
        return TYPE_AREA_RIGHT_MM - self.right


@dataclass(frozen=True)
class Rule:
    """A filled rectangle or a stroked line: a rule (版头 red line, 版记 lines)."""

    left: float
    right: float
    top: float
    bottom: float
    color: tuple

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def thickness(self) -> float:
        return self.bottom - self.top


def _font_name(name: str) -> str:
    return name.split("+", 1)[1] if "+" in name[:7] else name


def _embedded_names(pdf: bytes) -> dict[str, str]:
    """Each font resource's name (BaseFont, with its subset prefix) → the PostScript name of the font
    program embedded for it. WeasyPrint names a font by the CSS family it was asked for ("Official
    Fang"); the program tells which file was printed with (FandolFang-Regular)."""
    names = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            program = _font_program(descriptor.get_object()) if descriptor else None
            names[str(font["/BaseFont"]).lstrip("/")] = program or _font_name(str(font["/BaseFont"]).lstrip("/"))
    return names


def _font_program(descriptor) -> str | None:
    for key in ("/FontFile2", "/FontFile3", "/FontFile"):
        if key in descriptor:
            data = descriptor[key].get_object().get_data()
            if data[:4] in (b"OTTO", b"\x00\x01\x00\x00", b"true"):
                return TTFont(io.BytesIO(data))["name"].getDebugName(6)
            fonts = CFFFontSet()
            fonts.decompile(io.BytesIO(data), None)
            return fonts.fontNames[0]
    return None


def _color(value) -> tuple:
    if value is None:
        return ()
    return tuple(round(float(part), 3) for part in (value if isinstance(value, (list, tuple)) else (value,)))


def page_lines(pdf: bytes) -> list[list[Line]]:
    """Each page's lines of text, top to bottom."""
    fonts = _embedded_names(pdf)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [_lines(page, fonts) for page in document.pages]


def _lines(page, fonts: dict[str, str]) -> list[Line]:
    rows: dict[float, list[dict]] = {}
    for char in page.chars:
        if not char["text"].strip():
            continue
        key = round(char["bottom"] / MM, 1)
        for known in rows:
            if abs(known - key) < 1.5:
                key = known
                break
        rows.setdefault(key, []).append(char)
    lines = []
    for chars in rows.values():
        chars.sort(key=lambda char: char["x0"])
        size = max(char["size"] for char in chars)
        char_fonts = tuple(fonts.get(char["fontname"], _font_name(char["fontname"])) for char in chars)
        lines.append(
            Line(
                text="".join(char["text"] for char in chars),
                left=min(char["x0"] for char in chars) / MM,
                right=max(char["x1"] for char in chars) / MM,
                top=min(char["top"] for char in chars) / MM,
                bottom=max(char["bottom"] for char in chars) / MM,
                baseline=max(page.height - char["matrix"][5] for char in chars) / MM,
                size=round(size, 1),
                fonts=frozenset(char_fonts),
                colors=frozenset(_color(char.get("non_stroking_color")) for char in chars),
                starts=tuple(char["x0"] / MM for char in chars),
                char_fonts=char_fonts,
            )
        )
    return sorted(lines, key=lambda line: line.top)


def page_rules(pdf: bytes, *, min_width_mm: float = 10) -> list[list[Rule]]:
    """Each page's rules at least `min_width_mm` wide, top to bottom."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        pages = []
        for page in document.pages:
            rules = []
            for shape in [*page.rects, *page.lines]:
                if (shape["x1"] - shape["x0"]) / MM < min_width_mm:
                    continue
                color = shape.get("non_stroking_color") if shape in page.rects else shape.get("stroking_color")
                rules.append(
                    Rule(shape["x0"] / MM, shape["x1"] / MM, shape["top"] / MM, shape["bottom"] / MM, _color(color))
                )
            pages.append(sorted(set(rules), key=lambda rule: (rule.top, rule.left)))  # a rect may be listed twice
        return pages


def find_line(lines: list[Line], text: str) -> Line:
    """The first line whose text contains `text` (spaces ignored); fails the test when there is none."""
    wanted = "".join(text.split())
    for line in lines:
        if wanted in line.text:
            return line
    raise AssertionError(f"no line holds {text!r}: {[line.text for line in lines]}")


def embedded_fonts(pdf: bytes) -> set[str]:
    """The PostScript names of the font programs the PDF embeds and prints with."""
    fonts = _embedded_names(pdf)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return {
            fonts.get(char["fontname"], _font_name(char["fontname"])) for page in document.pages for char in page.chars
        }


@dataclass(frozen=True)
class Frame:
    """Where an image is drawn on the page."""

    left: float
    right: float
    top: float
    bottom: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2


def page_images(pdf: bytes) -> list[list[Frame]]:
    """Each page's images, top to bottom."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [
            sorted(
                (Frame(*(image[key] / MM for key in ("x0", "x1", "top", "bottom"))) for image in page.images),
                key=lambda frame: frame.top,
            )
            for page in document.pages
        ]


OFD_NAMESPACE = {"ofd": "http://www.ofdspec.org/2016"}


def ofd_page_lines(ofd: bytes) -> list[list[Line]]:
    """Each OFD page's lines of text, top to bottom, as page_lines measures a PDF's; `fonts` holds
    the FontName of each Font the line's text objects refer to."""
    with ofdkit.open(ofd) as document:
        runs = [[run for run in page.runs if run.text.strip()] for page in document.pages]
    objects = _ofd_objects(ofd, "TextObject")
    fonts = {font.get("ID"): font.get("FontName") for font in _ofd_resources(ofd, "Font")}
    pages = []
    for page_runs in runs:
        rows: dict[float, list] = {}
        for run in page_runs:
            box = _ofd_box(objects[run.object_id])
            key = round(box[3], 1)
            key = next((known for known in rows if abs(known - key) < 1.5), key)
            rows.setdefault(key, []).append((run, box, objects[run.object_id]))
        lines = []
        for row in rows.values():
            row.sort(key=lambda placed: placed[0].x)
            lines.append(
                Line(
                    text="".join("".join(run.text.split()) for run, _box, _element in row),
                    left=min(run.x for run, _box, _element in row),
                    right=max(box[2] for _run, box, _element in row),
                    top=min(box[1] for _run, box, _element in row),
                    bottom=max(box[3] for _run, box, _element in row),
                    baseline=max(run.y for run, _box, _element in row),
                    size=round(max(run.size for run, _box, _element in row) * MM, 1),
                    fonts=frozenset(fonts[element.get("Font")] for _run, _box, element in row),
                    colors=frozenset(_ofd_color(element) for _run, _box, element in row),
                )
            )
        pages.append(sorted(lines, key=lambda line: line.top))
    return pages


def ofd_page_rules(ofd: bytes) -> list[list[Rule]]:
    """Each OFD page's filled PathObjects, top to bottom, as Rules."""
    pages = []
    for page in ofd_page_contents(ofd):
        rules = []
        for path in page.iterfind(".//ofd:PathObject", OFD_NAMESPACE):
            left, top, right, bottom = _ofd_box(path)
            rules.append(Rule(left, right, top, bottom, _ofd_color(path)))
        pages.append(sorted(rules, key=lambda rule: (rule.top, rule.left)))
    return pages


def ofd_xml(ofd: bytes, name: str) -> ElementTree.Element:
    """One XML file of the OFD package (Doc_0/Document.xml, a page's Content.xml)."""
    with zipfile.ZipFile(io.BytesIO(ofd)) as archive:
        return ElementTree.fromstring(archive.read(name))  # noqa: S314 - the OFD a test has just written


def ofd_page_contents(ofd: bytes) -> list[ElementTree.Element]:
    """Each page's Content.xml, in the order Document.xml lists the pages."""
    document = ofd_xml(ofd, "Doc_0/Document.xml")
    return [
        ofd_xml(ofd, f"Doc_0/{page.get('BaseLoc')}") for page in document.iterfind("ofd:Pages/ofd:Page", OFD_NAMESPACE)
    ]


def _ofd_objects(ofd: bytes, kind: str) -> dict[str, ElementTree.Element]:
    return {
        element.get("ID"): element
        for page in ofd_page_contents(ofd)
        for element in page.iterfind(f".//ofd:{kind}", OFD_NAMESPACE)
    }


def _ofd_resources(ofd: bytes, kind: str) -> list[ElementTree.Element]:
    return [
        element
        for name in ("Doc_0/PublicRes.xml", "Doc_0/DocumentRes.xml")
        for element in ofd_xml(ofd, name).iterfind(f".//ofd:{kind}", OFD_NAMESPACE)
    ]


def _ofd_box(element: ElementTree.Element) -> tuple[float, float, float, float]:
    """An object's Boundary as (left, top, right, bottom) in mm."""
    left, top, width, height = (float(part) for part in element.get("Boundary").split())
    return left, top, left + width, top + height


def _ofd_color(element: ElementTree.Element) -> tuple:
    """The FillColor as page_lines gives a PDF's: RGB from 0 to 1, to three places."""
    color = element.find("ofd:FillColor", OFD_NAMESPACE)
    value = color.get("Value") if color is not None else "0 0 0"
    return tuple(round(int(part) / 255, 3) for part in value.split())


@dataclass(frozen=True)
class Sheet:
    """A printed document as its pages' lines, rules and sizes (mm): what the GB/T 9704 measures read,
    the same from a PDF (pdf_sheet) and from an OFD (ofd_sheet)."""

    lines: list[list[Line]]
    rules: list[list[Rule]]
    sizes: list[tuple[float, float]]


def pdf_sheet(pdf: bytes) -> Sheet:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        sizes = [(page.width / MM, page.height / MM) for page in document.pages]
    return Sheet(page_lines(pdf), page_rules(pdf), sizes)


def ofd_sheet(ofd: bytes) -> Sheet:
    area = ofd_xml(ofd, "Doc_0/Document.xml").find("ofd:CommonData/ofd:PageArea/ofd:PhysicalBox", OFD_NAMESPACE)
    width, height = (float(part) for part in area.text.split()[2:])
    lines = ofd_page_lines(ofd)
    return Sheet(lines, ofd_page_rules(ofd), [(width, height)] * len(lines))
