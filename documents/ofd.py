"""The printed pages as OFD (GB/T 33190-2016), the national format for electronic 公文.

The OFD is read off our own PDF (documents.rendering.print_pdf): pdfplumber gives each page's
characters, rules and pictures with their positions, and each is written again as an OFD object.
So the PDF and the OFD are the same pages by construction, and the layout lives in one place.

    OFD.xml                          DocBody: DocInfo (DocID, Title, CreationDate, Creator), DocRoot
    Doc_0/Document.xml               CommonData: MaxUnitID, PageArea (A4: 0 0 210 297), PublicRes,
                                     DocumentRes; Pages: one Page per printed page, in print order
    Doc_0/PublicRes.xml              Fonts: one Font per face the PDF used, its FontFile embedded
    Doc_0/DocumentRes.xml            MultiMedias: the pictures (a seal image), as PNG
    Doc_0/Res/                       the font files and the pictures
    Doc_0/Pages/Page_N/Content.xml   one Layer of TextObject, PathObject and ImageObject

OFD measures in millimetres from the page's top-left corner, Y growing downward. A TextObject is
one run of characters of one line, face, size and colour: its Boundary is the run's box, its
TextCode's X and Y the first glyph's origin inside that box (Y is the baseline) and DeltaX the
advance from each glyph to the next; text turned by a transform has a CTM. A rule
is a filled PathObject. A font is embedded as a subset of the file the PDF's face was loaded from
(found through fontconfig), cut with fontTools to the characters printed, its cmap kept so that
TextCode stays Unicode. The faces of documents.faces are found by their roles; any other face
(Noto CJK for a character Fandol lacks) through fontconfig.
"""

import functools
import io
import math
import re
import shutil
import subprocess
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pdfplumber
from django.conf import settings
from django.utils import timezone

from documents.faces import ROLES, role_file
from documents.models import Document
from documents.rendering import print_pdf

NAMESPACE = "http://www.ofdspec.org/2016"
CREATOR = "公文流转"
MM = 72 / 25.4  # PDF points a millimetre
_SAME_LINE_PT = 0.01  # glyph origins this close across the writing direction are on one line

ElementTree.register_namespace("ofd", NAMESPACE)


class FontNotInstalled(LookupError):
    """The PDF used a face that fontconfig does not list, so there is no file to embed."""


def write_ofd(document: Document, *, enclosures: list[Document] | None = None) -> bytes:
    """The OFD of the document and what it encloses: the pages print_pdf prints, as OFD.

    `enclosures` as for print_pdf. Raises FontNotInstalled when a face of the PDF has no file."""
    pdf = print_pdf(document, enclosures=enclosures).data
    return ofd_from_pdf(pdf, title=document.title)


def ofd_from_pdf(pdf: bytes, *, title: str) -> bytes:
    """An OFD package of the PDF's pages (text, rules, pictures), titled `title`."""
    package = _Package()
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        pages = [package.page(page, index) for index, page in enumerate(document.pages)]
    fonts = package.font_resources()
    package.files["OFD.xml"] = _xml(_ofd_root(title))
    package.files["Doc_0/Document.xml"] = _xml(_document_root(package.next_id - 1, pages))
    package.files["Doc_0/PublicRes.xml"] = _xml(_resources("Fonts", fonts))
    package.files["Doc_0/DocumentRes.xml"] = _xml(_resources("MultiMedias", package.media))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in package.files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# Fonts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstalledFace:
    path: Path
    index: int  # in a font collection (.ttc)


def font_file(postscript_name: str) -> Path:
    """The font file a face of the PDF was loaded from: a role of documents.faces by the name
    WeasyPrint gives its @font-face family (Official-XBS-Bold), else the file fontconfig lists by
    PostScript name (FandolFang-Regular) or by family and style (Noto-Serif-CJK-SC-Bold)."""
    return _installed_face(postscript_name).path


def _installed_face(name: str) -> InstalledFace:
    key = _face_key(name)
    face = _declared_faces().get(key) or _installed_faces().get(key)
    if face is None:
        raise FontNotInstalled(f"字体“{name}”未安装，无法嵌入 OFD。")
    return face


def _declared_faces() -> dict[str, InstalledFace]:
    """The files documents.faces declares by @font-face (a licensed face in OFFICIAL_FONTS_DIR, else
    Fandol), under the names Pango gives them: the role's family, and its family and weight."""
    licensed_dir = Path(settings.OFFICIAL_FONTS_DIR) if settings.OFFICIAL_FONTS_DIR else None
    faces: dict[str, InstalledFace] = {}
    for role in ROLES:
        path = role_file(role, licensed_dir)
        if path is not None:
            face = InstalledFace(path, 0)
            faces[_face_key(role.family if role.weight == "normal" else f"{role.family} {role.weight}")] = face
    return faces


def _face_key(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).casefold()


@functools.cache
def _installed_faces() -> dict[str, InstalledFace]:
    """Every installed face under each name it can be asked by; the first listed wins, as in fc-match.

    A regular face also answers to its family alone: Pango names a regular face without its style."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        raise FontNotInstalled("未找到 fontconfig 的 fc-list，无法查找字体文件。")
    listing = subprocess.run(  # noqa: S603 - a fixed command, no input from outside
        [fc_list, "--format", "%{file}\t%{index}\t%{postscriptname}\t%{family}\t%{style}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    faces: dict[str, InstalledFace] = {}
    for row in listing.splitlines():
        path, index, postscript_name, families, styles = (row.split("\t") + [""] * 5)[:5]
        face = InstalledFace(Path(path), int(index or 0))
        names = [postscript_name]
        for family in families.split(","):
            names += [f"{family} {style}" for style in styles.split(",")]
            if {"Regular", "Book", "Normal"} & set(styles.split(",")):
                names.append(family)
        for name in names:
            if name:
                faces.setdefault(_face_key(name), face)
    return faces


@dataclass(frozen=True)
class _EmbeddedFont:
    file_name: str
    data: bytes
    font_name: str
    family_name: str


def _subset(name: str, characters: set[str], file_stem: str) -> _EmbeddedFont:
    """The face cut to `characters`, every name and the cmap kept (a reader maps TextCode by it)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    face = _installed_face(name)
    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(characters))
    subsetter.subset(font)
    data = io.BytesIO()
    font.save(data)
    names = font["name"]
    extension = "otf" if font.sfntVersion == "OTTO" else "ttf"
    return _EmbeddedFont(
        file_name=f"{file_stem}.{extension}",
        data=data.getvalue(),
        font_name=names.getDebugName(6) or name,
        family_name=names.getDebugName(16) or names.getDebugName(1) or name,
    )


# Pages ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    """A rectangle in millimetres from the page's top-left corner."""

    left: float
    top: float
    right: float
    bottom: float

    def __str__(self) -> str:
        return _numbers(self.left, self.top, self.right - self.left, self.bottom - self.top)


class _Package:
    """The files of the package as they are made, and the IDs given so far (one series per file)."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.next_id = 1
        self.fonts: dict[str, tuple[int, set[str]]] = {}  # PDF font name -> (ID, characters)
        self.media: list[ElementTree.Element] = []

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def page(self, page, index: int) -> tuple[int, str]:
        """Write the page's Content.xml; its (ID, BaseLoc) for Document.xml."""
        page_id = self.new_id()
        root = ElementTree.Element(_tag("Page"))
        area = ElementTree.SubElement(root, _tag("Area"))
        ElementTree.SubElement(area, _tag("PhysicalBox")).text = _numbers(0, 0, page.width / MM, page.height / MM)
        content = ElementTree.SubElement(root, _tag("Content"))
        layer = ElementTree.SubElement(content, _tag("Layer"), ID=str(self.new_id()), Type="Body")
        for box, path, color in _rules(page):
            layer.append(self.path_object(box, path, color))
        for run in _runs(page.chars, page.height):
            layer.append(self.text_object(run))
        for image in _images(page, index):
            layer.append(self.image_object(*image))
        location = f"Pages/Page_{index}/Content.xml"
        self.files[f"Doc_0/{location}"] = _xml(root)
        return page_id, location

    def text_object(self, run: "_Run") -> ElementTree.Element:
        font_id, characters = self.fonts.setdefault(run.font, (self.new_id(), set()))
        characters.update(run.text)
        element = ElementTree.Element(
            _tag("TextObject"), ID=str(self.new_id()), Boundary=str(run.box), Font=str(font_id), Size=_number(run.size)
        )
        if run.ctm != _IDENTITY:
            element.set("CTM", _numbers(*run.ctm))
        ElementTree.SubElement(element, _tag("FillColor"), Value=_rgb(run.color))
        code = ElementTree.SubElement(element, _tag("TextCode"), X=_number(run.x), Y=_number(run.y))
        if run.deltas:
            code.set("DeltaX", _numbers(*run.deltas))
        code.text = run.text
        return element

    def path_object(self, box: _Box, path: str, color: tuple) -> ElementTree.Element:
        element = ElementTree.Element(
            _tag("PathObject"), ID=str(self.new_id()), Boundary=str(box), Stroke="false", Fill="true"
        )
        ElementTree.SubElement(element, _tag("FillColor"), Value=_rgb(color))
        ElementTree.SubElement(element, _tag("AbbreviatedData")).text = path
        return element

    def image_object(self, box: _Box, png: bytes) -> ElementTree.Element:
        media_id = self.new_id()
        file_name = f"image_{media_id}.png"
        self.files[f"Doc_0/Res/{file_name}"] = png
        media = ElementTree.Element(_tag("MultiMedia"), ID=str(media_id), Type="Image", Format="PNG")
        ElementTree.SubElement(media, _tag("MediaFile")).text = file_name
        self.media.append(media)
        width, height = box.right - box.left, box.bottom - box.top
        # An image is drawn in a unit square that the CTM stretches over its box.
        return ElementTree.Element(
            _tag("ImageObject"),
            ID=str(self.new_id()),
            Boundary=str(box),
            CTM=_numbers(width, 0, 0, height, 0, 0),
            ResourceID=str(media_id),
        )

    def font_resources(self) -> list[ElementTree.Element]:
        """The Font of each face the pages used, its subset written to Res/."""
        elements = []
        for name, (font_id, characters) in self.fonts.items():
            font = _subset(name, characters, f"font_{font_id}")
            self.files[f"Doc_0/Res/{font.file_name}"] = font.data
            element = ElementTree.Element(
                _tag("Font"), ID=str(font_id), FontName=font.font_name, FamilyName=font.family_name
            )
            ElementTree.SubElement(element, _tag("FontFile")).text = font.file_name
            elements.append(element)
        return elements


# Text -------------------------------------------------------------------------------------------

_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class _Run:
    text: str
    font: str  # the PDF's font name, subset prefix removed
    size: float  # mm
    color: tuple
    box: _Box
    ctm: tuple  # object space to page space, about the Boundary's corner
    x: float  # the first glyph's origin in object space; y is its baseline
    y: float
    deltas: list[float]  # from each character to the next, along the line


def _runs(chars: list[dict], page_height: float) -> list[_Run]:
    """pdfplumber's characters, in the order the PDF sets them, grouped into runs."""
    groups: list[list[dict]] = []
    for char in chars:
        if groups and _continues(groups[-1][-1], char):
            groups[-1].append(char)
        elif char["text"].strip():  # a space inks nothing: a run starts at its first letter
            groups.append([char])
    return [_run(group, page_height) for group in groups]


def _direction(char: dict) -> tuple[float, float]:
    """The unit vector of the writing direction, in PDF space (Y up)."""
    a, b = char["matrix"][:2]
    scale = math.hypot(a, b) or 1.0
    return a / scale, b / scale


def _font_size(char: dict) -> float:
    """The type size (pt): the glyph box across the line. pdfplumber's `size` is that only for
    upright text; turned text has its advance there."""
    ux, uy = _direction(char)
    return round(abs(ux) * (char["bottom"] - char["top"]) + abs(uy) * (char["x1"] - char["x0"]), 3)


def _continues(last: dict, char: dict) -> bool:
    """Whether `char` follows `last` on the same line in the same face, size and colour."""
    if (last["fontname"], _font_size(last), last["non_stroking_color"], last["matrix"][:4]) != (
        char["fontname"],
        _font_size(char),
        char["non_stroking_color"],
        char["matrix"][:4],
    ):
        return False
    along, across = _offset(last, char)
    return along > 0 and abs(across) < _SAME_LINE_PT


def _offset(first: dict, char: dict) -> tuple[float, float]:
    """How far `char`'s origin is from `first`'s along the writing direction and across it (pt)."""
    dx, dy = char["matrix"][4] - first["matrix"][4], char["matrix"][5] - first["matrix"][5]
    ux, uy = _direction(first)
    return dx * ux + dy * uy, dy * ux - dx * uy


def _run(chars: list[dict], page_height: float) -> _Run:
    box = _Box(
        min(char["x0"] for char in chars) / MM,
        min(char["top"] for char in chars) / MM,
        max(char["x1"] for char in chars) / MM,
        max(char["bottom"] for char in chars) / MM,
    )
    # The writing direction in OFD space (Y down) is the object's X axis; its Y axis points down the
    # glyphs, a quarter turn clockwise from X. Upright text has the identity.
    ux, uy = _direction(chars[0])
    ctm = (round(ux, 6) + 0.0, round(-uy, 6) + 0.0, round(uy, 6) + 0.0, round(ux, 6) + 0.0, 0.0, 0.0)
    origin_x = chars[0]["matrix"][4] / MM - box.left
    origin_y = (page_height - chars[0]["matrix"][5]) / MM - box.top
    # The CTM is a rotation: its inverse is its transpose.
    x, y = ctm[0] * origin_x + ctm[1] * origin_y, ctm[2] * origin_x + ctm[3] * origin_y
    text, deltas = "", []
    previous = chars[0]
    for char in chars:
        if char is not chars[0]:
            deltas.append(_offset(previous, char)[0] / MM)
            previous = char
        text += char["text"]
        deltas += [0.0] * (len(char["text"]) - 1)  # a ligature's further letters stand on its first
    return _Run(
        text=text,
        font=_font_name(chars[0]["fontname"]),
        size=_font_size(chars[0]) / MM,
        color=_color(chars[0]["non_stroking_color"]),
        box=box,
        ctm=ctm,
        x=x,
        y=y,
        deltas=deltas,
    )


def _font_name(name: str) -> str:
    return name.split("+", 1)[1] if "+" in name[:7] else name


# Rules and pictures -----------------------------------------------------------------------------


def _rules(page) -> list[tuple[_Box, str, tuple]]:
    """The painted rectangles of the page as (box, AbbreviatedData, colour), each listed once.

    WeasyPrint paints a border as one path of two rectangles, the outer box and the inner one,
    filled even-odd (the same path again under each side's clip); pdfplumber lists the two apart.
    What shows is the outer less the inner: the four sides, of which the empty ones are dropped."""
    rects = [rect for rect in page.rects if rect["fill"]]
    painted: dict[tuple[_Box, tuple], None] = {}
    index = 0
    while index < len(rects):
        rect = rects[index]
        pair = rects[index + 1] if index + 1 < len(rects) else None
        if pair is not None and _frame(rect, pair):
            outer, inner = (rect, pair) if _contains(rect, pair) else (pair, rect)
            bands = _bands(_rect_box(outer), _rect_box(inner))
            index += 2
        else:
            bands = [_rect_box(rect)]
            index += 1
        for band in bands:
            painted.setdefault((band, _color(rect["non_stroking_color"])), None)
    return [(box, _rectangle_path(box), color) for box, color in painted]


def _frame(first: dict, second: dict) -> bool:
    if not (first.get("evenodd") and second.get("evenodd")):
        return False
    if first["non_stroking_color"] != second["non_stroking_color"]:
        return False
    return _contains(first, second) or _contains(second, first)


def _contains(outer: dict, inner: dict) -> bool:
    return (
        outer["x0"] <= inner["x0"]
        and outer["top"] <= inner["top"]
        and inner["x1"] <= outer["x1"]
        and inner["bottom"] <= outer["bottom"]
    )


def _bands(outer: _Box, inner: _Box) -> list[_Box]:
    """The outer box less the inner one, as up to four bands: top, bottom, left, right."""
    bands = [
        _Box(outer.left, outer.top, outer.right, inner.top),
        _Box(outer.left, inner.bottom, outer.right, outer.bottom),
        _Box(outer.left, inner.top, inner.left, inner.bottom),
        _Box(inner.right, inner.top, outer.right, inner.bottom),
    ]
    return [band for band in bands if band.right - band.left > 1e-4 and band.bottom - band.top > 1e-4]


def _rect_box(rect: dict) -> _Box:
    return _Box(rect["x0"] / MM, rect["top"] / MM, rect["x1"] / MM, rect["bottom"] / MM)


def _rectangle_path(box: _Box) -> str:
    width, height = _number(box.right - box.left), _number(box.bottom - box.top)
    return f"M 0 0 L {width} 0 L {width} {height} L 0 {height} C"


def _images(page, index: int) -> list[tuple[_Box, bytes]]:
    """Each picture on the page (a seal image) as its box and a PNG, alpha kept."""
    import pypdfium2
    import pypdfium2.raw

    if not page.images:
        return []
    document = pypdfium2.PdfDocument(page.pdf.stream)
    pdfium_page = document[index]
    found = []
    for image in pdfium_page.get_objects(filter=[pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = image.get_bounds()
        png = io.BytesIO()
        image.get_bitmap(render=True).to_pil().save(png, format="PNG")
        height = page.height
        found.append((_Box(left / MM, (height - top) / MM, right / MM, (height - bottom) / MM), png.getvalue()))
    return found


# XML --------------------------------------------------------------------------------------------


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _ofd_root(title: str) -> ElementTree.Element:
    root = ElementTree.Element(_tag("OFD"), Version="1.0", DocType="OFD")
    body = ElementTree.SubElement(root, _tag("DocBody"))
    info = ElementTree.SubElement(body, _tag("DocInfo"))
    ElementTree.SubElement(info, _tag("DocID")).text = uuid.uuid4().hex
    ElementTree.SubElement(info, _tag("Title")).text = title
    ElementTree.SubElement(info, _tag("CreationDate")).text = timezone.localdate().isoformat()
    ElementTree.SubElement(info, _tag("Creator")).text = CREATOR
    ElementTree.SubElement(body, _tag("DocRoot")).text = "Doc_0/Document.xml"
    return root


def _document_root(max_unit_id: int, pages: list[tuple[int, str]]) -> ElementTree.Element:
    root = ElementTree.Element(_tag("Document"))
    common = ElementTree.SubElement(root, _tag("CommonData"))
    ElementTree.SubElement(common, _tag("MaxUnitID")).text = str(max_unit_id)
    area = ElementTree.SubElement(common, _tag("PageArea"))
    ElementTree.SubElement(area, _tag("PhysicalBox")).text = "0 0 210 297"
    ElementTree.SubElement(common, _tag("PublicRes")).text = "PublicRes.xml"
    ElementTree.SubElement(common, _tag("DocumentRes")).text = "DocumentRes.xml"
    listed = ElementTree.SubElement(root, _tag("Pages"))
    for page_id, location in pages:
        ElementTree.SubElement(listed, _tag("Page"), ID=str(page_id), BaseLoc=location)
    return root


def _resources(kind: str, elements: list[ElementTree.Element]) -> ElementTree.Element:
    root = ElementTree.Element(_tag("Res"), BaseLoc="Res")
    if elements:
        ElementTree.SubElement(root, _tag(kind)).extend(elements)
    return root


def _xml(root: ElementTree.Element) -> bytes:
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _numbers(*values: float) -> str:
    return " ".join(_number(value) for value in values)


def _color(value) -> tuple:
    """A PDF fill colour (gray, RGB or CMYK, 0 to 1) as RGB 0 to 255."""
    parts = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if len(parts) == 1 and isinstance(parts[0], (int, float)):
        return (round(parts[0] * 255),) * 3
    if len(parts) == 3:
        return tuple(round(part * 255) for part in parts)
    if len(parts) == 4:
        c, m, y, k = parts
        return tuple(round(255 * (1 - part) * (1 - k)) for part in (c, m, y))
    return (0, 0, 0)


def _rgb(color: tuple) -> str:
    return " ".join(str(part) for part in color)
