"""A document in the red-header layout of GB/T 9704-2012, as HTML and as PDF (WeasyPrint).

A 函, and any document of a 函 number series, is printed in the letter format (信函格式, 10.1); a
明传电报 under the telegram's own header; every other document in the 文件 format.

    render_html(document) -> str     a standalone page: the cover letter, then each enclosed document
    render_pdf(document) -> bytes    the same on A4; each document from a new page, numbered from 1
    print_pdf(document) -> PrintedPdf  the PDF and the number of pages of each document
                                     (both take `enclosures=`: the enclosed documents to print, in
                                     print order, when a reader may see only some of them)
    layout_context(document) -> dict the context of documents/official_layout.html, for a page that
                                     includes the layout (the document page's print view)

The layout itself is the template documents/official_layout.html with documents/official.css; this
module only prepares what the template shows (PrintedDocument), so the template holds no logic.
Each document of a PDF is laid out on its own and the pages are then put together: page numbers
start again at 1 for each document (GB/T 9704 numbers a document's own pages) and an enclosed
document always begins on a new page.
"""

import base64
import datetime
import re
from dataclasses import dataclass, field, replace
from functools import cache

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from documents.faces import font_face_rules
from documents.models import Classification, Document, Enclosure, Kind, Urgency
from documents.titles import title_lines

# 版心 156 mm wide: an issuer mark of n characters is set no larger than fits on one line.
_TYPE_AREA_WIDTH_PT = 156 / 25.4 * 72
_MARK_MAX_PT = 36.0
_MARK_MIN_PT = 16.0
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)])")
_ATTACHMENT_LABEL = re.compile(r"^附\s?件\s{0,2}[:：]\s{0,2}")
_ATTACHMENT_NUMBER = re.compile(r"^\d{1,2}\s{0,2}[.．、]\s{0,2}")
# Every PDF is written for the archive (归档): PDF/A-2b, fonts embedded, an sRGB output intent and
# the XMP metadata that says so. WeasyPrint sets all three for this variant.
PDF_VARIANT = "pdf/a-2b"


@dataclass(frozen=True)
class Paragraph:
    text: str  # after the heading, if any
    # 一、 headings are set in 黑体, （一） in 楷体 (GB/T 9704 7.3.3). A heading that runs on into its
    # paragraph ends at its full stop: "（一）个人述职。" in 楷体, the rest in the body's 仿宋.
    level: int = 0
    heading: str = ""


@dataclass(frozen=True)
class PrintedDocument:
    """What the layout shows of one document, in the order and form GB/T 9704 prints it."""

    pk: int | None
    is_telegram: bool
    is_letter: bool
    copy_number: str
    classification: str  # 机密★1年; empty when unclassified
    urgency: str  # empty for 普通
    issuer_mark: str
    issuer_mark_class: str
    mongolian_name: str  # the issuing unit's, as its office writes it; printed under the mark
    number: str
    signatory: str
    title: str
    title_lines: list[str]  # broken between words (documents.titles), or as the source broke it
    main_recipients: str
    paragraphs: list[Paragraph]
    attachments: list[str]
    signature_organ: str
    date: str
    annotation: str
    cc: str
    printing_organ: str
    printed_on: str
    telegram_send_to: str
    telegram_approval: str
    page_count: int | None
    # 加盖印章 (GB/T 9704 7.3.5.1 rather than 7.3.5.2): the document names its seal (印章, seal_note).
    sealed: bool = False
    seal_image: str = ""  # a data: URL of the issuing unit's seal, when the document is sealed
    # (此页无正文) above the 署名: set by the PDF's second layout pass (_laid_out), never by printed().
    signature_page_note: bool = False
    enclosed_titles: list[str] = field(default_factory=list)

    @property
    def marks_above_issuer_mark(self) -> bool:
        """份号, 密级, 紧急程度 open the 文件 format; a letter sets them below its double line, a
        telegram its 等级 in its header."""
        return not (self.is_telegram or self.is_letter)

    @property
    def has_colophon(self) -> bool:
        return bool(self.cc or self.printing_organ or self.printed_on)

    @property
    def numbered_attachments(self) -> bool:
        return len(self.attachments) > 1


def chinese_date(value: datetime.date | None) -> str:
    """2022年10月13日: Arabic numerals, the year in full, no padding (GB/T 9704 7.3.5.1)."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


# The mark's size follows its length; the sizes are classes in official.css (the CSP forbids inline
# styles), one per length from the longest mark printed at the largest size to the shortest printed
# at the smallest. tests/documents/test_rendering.py checks the stylesheet against mark_size_pt.
MARK_LENGTHS = range(11, 27)


def mark_size_pt(length: int) -> float:
    if length <= 0:
        return _MARK_MAX_PT
    return round(max(_MARK_MIN_PT, min(_MARK_MAX_PT, _TYPE_AREA_WIDTH_PT / length * 0.92)), 1)


def _mark_class(mark: str) -> str:
    return f"mark-{min(MARK_LENGTHS[-1], max(MARK_LENGTHS[0], len(mark)))}"


def _paragraphs(body: str) -> list[Paragraph]:
    paragraphs = []
    for text in (line.strip() for line in body.split("\n")):
        if not text:
            continue
        heading = _HEADING.match(text)
        if heading is None:
            paragraphs.append(Paragraph(text))
            continue
        level = 1 if not heading.group(0).startswith(("（", "(")) else 2
        stop = text.find("。") + 1 or len(text)
        paragraphs.append(Paragraph(text[stop:], level, heading=text[:stop]))
    return paragraphs


def _attachments(note: str) -> list[str]:
    """附件说明 as stored (「附件：1. …」 and one line per further attachment) → the names."""
    names: list[str] = []
    for line in (line.strip() for line in note.split("\n")):
        if not line:
            continue
        text = _ATTACHMENT_LABEL.sub("", line)
        if _ATTACHMENT_NUMBER.match(text) or not names:
            names.append(_ATTACHMENT_NUMBER.sub("", text))
        else:  # a long name wraps
            names[-1] += text
    return names


def _is_letter(document: Document) -> bool:
    """The letter format is the format of a unit's 函 series (内教工委函, beside its 发 series), whatever
    the kind: the seed's cover is a 通知 numbered 内教工委函〔2022〕90号. A 函 takes it in any series;
    a telegram keeps its own header."""
    if document.is_telegram:
        return False
    return document.kind == Kind.LETTER or document.number_prefix.endswith("函")


def printed(document: Document) -> PrintedDocument:
    """The printed form of one document (its issuing unit is read for the Mongolian name)."""
    classification = "" if document.classification == Classification.PUBLIC else document.classification
    if classification and document.classification_period:
        classification = f"{classification}★{document.classification_period}"
    approval = " ".join(
        part for part in (document.telegram_approval_office, document.telegram_approver, document.telegram_seal) if part
    )
    is_letter = _is_letter(document)
    return PrintedDocument(
        pk=document.pk,
        is_telegram=document.is_telegram,
        is_letter=is_letter,
        copy_number=document.copy_number,
        classification=classification,
        urgency="" if document.urgency == Urgency.ROUTINE else document.urgency,
        issuer_mark=document.issuer_mark,
        issuer_mark_class=_mark_class(document.issuer_mark),
        mongolian_name=document.issuing_unit.mongolian_name,
        number=document.number,
        signatory=document.signatory,
        title=document.title,
        title_lines=title_lines(document.title, document.title_breaks),
        main_recipients=document.main_recipients_text,
        paragraphs=_paragraphs(document.body),
        attachments=_attachments(document.attachment_note),
        signature_organ=document.signature_organ,
        date=chinese_date(document.written_on),
        annotation=document.annotation,
        cc=document.cc_text.rstrip("。"),
        # A letter's 版记 has no 印发机关 and 印发日期 (10.1): only its 抄送, if any, is printed.
        printing_organ="" if is_letter else document.printing_organ,
        printed_on=f"{chinese_date(document.printed_on)}印发" if document.printed_on and not is_letter else "",
        telegram_send_to=document.telegram_send_to,
        telegram_approval=approval,
        page_count=document.page_count,
        sealed=bool(document.seal_note),
        seal_image=seal_data_url(document.issuing_unit) if document.seal_note else "",
    )


def seal_data_url(unit) -> str:
    """The unit's seal as a data: URL (the pages' CSP allows data: images; WeasyPrint needs no
    file path; the admin shows it too), or "" when the unit has none: no seal is ever drawn in its place."""
    if not unit.seal_image:
        return ""
    with unit.seal_image.open("rb") as image:
        return "data:image/png;base64," + base64.b64encode(image.read()).decode("ascii")


def enclosed_documents(document: Document) -> list[Document]:
    """Every document the cover encloses, depth first in enclosure order: what follows it in print.

    Two queries: the closure rows below the cover, then the documents themselves.
    """
    rows = list(
        Enclosure.objects.filter(cover__in=Enclosure.objects.filter(cover=document).values("enclosed_id"), depth=1)
        .order_by("position", "id")
        .values_list("cover_id", "enclosed_id")
    )
    children: dict[int, list[int]] = {}
    for cover_id, enclosed_id in rows:
        children.setdefault(cover_id, []).append(enclosed_id)
    order: list[int] = []

    def visit(pk: int) -> None:
        for child in children.get(pk, []):
            if child not in order and child != document.pk:
                order.append(child)
                visit(child)

    visit(document.pk)
    documents = Document.objects.select_related("issuing_unit").in_bulk(order)
    return [documents[pk] for pk in order]


def layout_context(document: Document) -> dict:
    """The context documents/official_layout.html takes: the document and what it encloses."""
    return {"document": document, "enclosures": enclosed_documents(document)}


@cache
def _stylesheet(name: str) -> str:
    path = finders.find(f"documents/{name}")
    with open(path, encoding="utf-8") as stylesheet:
        return stylesheet.read()


def render_html(document: Document, *, enclosures: list[Document] | None = None) -> str:
    """A standalone HTML page (the stylesheet inline) of the document and what it encloses."""
    enclosures = enclosed_documents(document) if enclosures is None else enclosures
    return render_to_string(
        "documents/official_page.html",
        {"document": document, "enclosures": enclosures, "stylesheet": _stylesheet("official.css")},
    )


@dataclass(frozen=True)
class PrintedPdf:
    data: bytes
    page_counts: list[int]  # pages of each document, cover first


def print_pdf(document: Document, *, enclosures: list[Document] | None = None) -> PrintedPdf:
    """The PDF and how many pages each document takes (a telegram's 共 N 页 can be checked).

    `enclosures` defaults to everything the document encloses (enclosed_documents)."""
    parts = _laid_out(document, enclosed_documents(document) if enclosures is None else enclosures)
    data = parts[0].copy([page for part in parts for page in part.pages]).write_pdf(pdf_variant=PDF_VARIANT)
    return PrintedPdf(data=data, page_counts=[len(part.pages) for part in parts])


def render_pdf(document: Document, *, enclosures: list[Document] | None = None) -> bytes:
    """A4 PDF: the cover letter, then each enclosed document from a new page, each numbered from 1."""
    return print_pdf(document, enclosures=enclosures).data


def rendered_page_counts(document: Document) -> list[int]:
    """How many pages each document takes in print, cover first."""
    return print_pdf(document).page_counts


def _laid_out(document: Document, enclosures: list[Document]) -> list:
    """Each document laid out on its own (weasyprint.Document), so that each is numbered from 1."""
    return [_layout(printed(part)) for part in [document, *enclosures]]


# GB/T 9704's measures in CSS pixels, the unit of WeasyPrint's boxes.
_PX_PER_MM = 96 / 25.4
_PX_PER_PT = 96 / 72
_TYPE_AREA_HEIGHT_PX = 225 * _PX_PER_MM
_TYPE_AREA_BOTTOM_PX = (37 + 225) * _PX_PER_MM
_LINE_PX = 28.99 * _PX_PER_PT
# Classes of the 主体 that are not its body: what a page may hold and still hold no body text.
_NOT_BODY = {"signature-block", "no-body-note", "annotation"}


def _layout(doc: PrintedDocument):
    """The document laid out in two or three passes, since WeasyPrint lays out in one: the first
    shows where the 署名 and the end of the 主体 fall; (此页无正文) and the place of the 版记 follow
    from there."""
    from weasyprint import CSS, HTML  # here: loading Pango costs time, and web pages need none of it
    from weasyprint.text.fonts import FontConfiguration

    # The faces by file (documents.faces), loaded once for all the passes.
    fonts = FontConfiguration()
    official = CSS(string=font_face_rules() + "\n" + _stylesheet("official.css"), font_config=fonts)

    def lay_out(doc: PrintedDocument, extra_css: str = ""):
        stylesheets = [official] + ([CSS(string=extra_css, font_config=fonts)] if extra_css else [])
        return HTML(string=render_to_string("documents/official_print_page.html", {"doc": doc})).render(
            stylesheets=stylesheets, font_config=fonts
        )

    layout = lay_out(doc)
    if _signature_page_holds_no_body(layout.pages):
        doc = replace(doc, signature_page_note=True)
        layout = lay_out(doc)
    if doc.has_colophon and not doc.is_letter:
        layout = lay_out(doc, _colophon_css(layout.pages))
    return layout


def _classes(box) -> set[str]:
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


def _own_boxes(box, name: str):
    """The block boxes of the elements of class `name` under `box` (not their lines and text)."""
    from weasyprint.formatting_structure.boxes import BlockLevelBox

    return [child for child in box.descendants() if isinstance(child, BlockLevelBox) and name in _classes(child)]


def _holds_body_text(box, *, in_main_part: bool = False) -> bool:
    """A line of the 主体 other than the 署名, the date, the 附注 and the note itself."""
    from weasyprint.formatting_structure.boxes import LineBox

    classes = _classes(box)
    if classes & _NOT_BODY:
        return False
    in_main_part = in_main_part or "main-part" in classes
    if in_main_part and isinstance(box, LineBox):
        return True
    return any(_holds_body_text(child, in_main_part=in_main_part) for child in getattr(box, "children", ()))


def _signature_page_holds_no_body(pages) -> bool:
    """The page where the 署名 and the date stand holds no line of the body (7.3.5.5 would adjust the
    spacing instead; the seed, as offices print, notes (此页无正文) at the top of that page)."""
    for page in pages:
        if _own_boxes(page._page_box, "signature-block"):
            return not _holds_body_text(page._page_box)
    return False


def _colophon_css(pages) -> str:
    """The 版记 at the foot of the document's last page, which is an even one (封四 of a document
    printed on both sides): its last rule on the bottom edge of the type area (GB/T 9704 7.4.1).

    Under the 主体 on its last page when that page is even and the 版记 fits with a blank line above
    it; else on the next even page: the very next page when the 主体 ends on an odd one, else after a
    blank page, and then neither the blank page nor the 版记's is numbered (7.5)."""
    ends_on = max(index for index, page in enumerate(pages) if _own_boxes(page._page_box, "main-part"))
    main_part = _own_boxes(pages[ends_on]._page_box, "main-part")[-1]
    main_part_bottom = main_part.position_y + main_part.margin_height()
    colophon = next(box for page in pages for box in _own_boxes(page._page_box, "colophon"))
    height = colophon.border_height()
    page_number = ends_on + 1
    if page_number % 2 == 0 and main_part_bottom + _LINE_PX + height <= _TYPE_AREA_BOTTOM_PX:
        return f".official-layout .colophon {{ margin-top: {_TYPE_AREA_BOTTOM_PX - height - main_part_bottom}px; }}"
    placement = "break-before: left;" if page_number % 2 else "break-before: left; page: colophon-after-blank;"
    return f".official-layout .colophon {{ {placement} margin-top: {_TYPE_AREA_HEIGHT_PX - height}px; }}"
