"""GB/T 9704-2012, parameter by parameter, measured in the PDF and in the OFD of four documents: the
seed (its cover letter and the telegram it encloses), a 函, a 通知 with 附件 and 抄送, and a 转发 with
a 版记 (tests/documents/specimens.py). Each row of the README's table is one test here, and the
table itself is checked against what is measured (test_the_readme_table_is_what_is_measured).

A measure takes a Sheet, the pages as lines and rules, which pdf_measure reads from the PDF and
ofd_measure from the OFD, so that both are measured by the same code.
"""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from documents.models import Document
from documents.ofd import write_ofd
from documents.rendering import render_pdf
from tests.documents import specimens
from tests.documents.pdf_measure import (
    CHARACTER_MM,
    MM,
    TYPE_AREA_BOTTOM_MM,
    TYPE_AREA_LEFT_MM,
    TYPE_AREA_RIGHT_MM,
    TYPE_AREA_TOP_MM,
    Line,
    Sheet,
    find_line,
    ofd_sheet,
    pdf_sheet,
)

RED = (0.902, 0.0, 0.071)
DOCUMENTS = {
    "cover": "种子·转发通知（函格式）",
    "telegram": "种子·明传电报",
    "letter": "函",
    "notice": "通知（附件、抄送）",
    "forward": "转发（版记）",
}
_rendered: dict[str, tuple[Document, Sheet, Sheet]] = {}


def measured(name: str, world) -> tuple[Document, Sheet, Sheet]:
    """The document, its PDF and its OFD as sheets; rendered once per test session."""
    if name not in _rendered:
        for each, document in specimens.documents(name, world).items():
            _rendered[each] = (
                document,
                pdf_sheet(render_pdf(document, enclosures=[])),
                ofd_sheet(write_ofd(document, enclosures=[])),
            )
    return _rendered[name]


# --- what is measured ------------------------------------------------------------------------------


def _body_lines(sheet: Sheet, document: Document, page: int = 0) -> list[Line]:
    """Lines of 3号 body text on a page: 16 pt, black, not the page number."""
    return [
        line
        for line in sheet.lines[page]
        if line.size == 16
        and line.colors == {(0.0, 0.0, 0.0)}
        and not re.fullmatch(r"—\d+—", line.text)
        and line.top > TYPE_AREA_TOP_MM
    ]


def _full_lines(sheet: Sheet, document: Document) -> list[Line]:
    """Body lines of full-width characters only that reach the right edge of the type area
    (justified, not a paragraph's last line; Arabic numerals are half-width, a line of them holds more)."""
    return [
        line
        for page in range(len(sheet.lines))
        for line in _body_lines(sheet, document, page)
        if line.right > TYPE_AREA_RIGHT_MM - CHARACTER_MM and all(ord(character) > 0x2000 for character in line.text)
    ]


def _grid_characters(line: Line) -> int:
    """The characters a line takes on the grid: a paragraph's first line is two characters in (7.3.3)."""
    indent = round((line.left - TYPE_AREA_LEFT_MM) / CHARACTER_MM)
    return indent + len(line.text)


def _first_body_line(document: Document) -> str:
    return document.body.split("\n")[0][:8]


def _mark(sheet: Sheet, document: Document) -> Line:
    return find_line(sheet.lines[0], document.issuer_mark)


def _last_page(sheet: Sheet) -> int:
    return len(sheet.lines) - 1


def page_size(sheet, document):
    return "×".join(f"{value:.0f}" for value in sheet.sizes[0])


def left_edge(sheet, document):
    return find_line(sheet.lines[0], document.main_recipients_text).left


def line_width(sheet, document):
    """From the type area's left edge to the end of a full line."""
    return _full_lines(sheet, document)[0].right - TYPE_AREA_LEFT_MM


def characters_a_line(sheet, document):
    return _grid_characters(_full_lines(sheet, document)[0])


def line_pitch(sheet, document):
    """From one body line to the next (the body's first page)."""
    lines = _body_lines(sheet, document, 0)
    return min(below.baseline - above.baseline for above, below in itertools.pairwise(lines))


def lines_a_page(sheet, document):
    """Lines of a full continuation page (the telegram's page 2: nothing but body)."""
    return len(_body_lines(sheet, document, 1))


def top_margin(sheet, document):
    return _body_lines(sheet, document, 1)[0].cell_top


def body_size(sheet, document):
    return find_line(sheet.lines[0], _first_body_line(document)).size


def body_face(sheet, document):
    return "、".join(sorted(find_line(sheet.lines[0], _first_body_line(document)).fonts))


def _title_lines(sheet: Sheet, document: Document) -> list[Line]:
    """The title's lines: below the mark (which may begin as the title does), each a piece of it."""
    lines = sheet.lines[0]
    below_mark = lines[lines.index(_mark(sheet, document)) + 1 :]
    first = next(index for index, line in enumerate(below_mark) if len(line.text) >= 3 and line.text in document.title)
    title = list(itertools.takewhile(lambda line: line.size == below_mark[first].size, below_mark[first:]))
    assert "".join(line.text for line in title) == "".join(document.title.split())
    return title


def title_size(sheet, document):
    return _title_lines(sheet, document)[0].size


def title_face(sheet, document):
    return "、".join(sorted({font for line in _title_lines(sheet, document) for font in line.fonts}))


def title_centre(sheet, document):
    line = _title_lines(sheet, document)[0]
    return (line.left + line.right) / 2


def mark_top(sheet, document):
    return _mark(sheet, document).em_top


def mark_colour(sheet, document):
    return "红" if _mark(sheet, document).colors == {RED} else "非红"


def separator(sheet, document):
    """The red line under the number: its width, and how far below the number's characters it stands."""
    number = find_line(sheet.lines[0], document.number)
    rule = next(rule for rule in sheet.rules[0] if rule.color == RED and rule.top > number.baseline)
    return f"{rule.width:.1f}", f"{rule.top - (number.baseline + 0.12 * number.size / MM):.1f}"


def date_from_right(sheet, document):
    return find_line(sheet.lines[_last_page(sheet)], "2022年").from_right_edge / CHARACTER_MM


def signature_from_right(sheet, document):
    return find_line(sheet.lines[_last_page(sheet)], document.signature_organ).from_right_edge / CHARACTER_MM


def attachment_indent(sheet, document):
    line = next(line for page in sheet.lines for line in page if line.text.startswith("附件："))
    return (line.left - TYPE_AREA_LEFT_MM) / CHARACTER_MM


def colophon(sheet, document):
    """The 版记's page (even), its last rule's bottom edge, and the thicknesses of its rules."""
    page = _last_page(sheet)
    rules = [rule for rule in sheet.rules[page] if rule.color in ((0.0,), (0.0, 0.0, 0.0)) and rule.width > 150]
    return page + 1, f"{rules[-1].bottom:.1f}", "/".join(f"{rule.thickness:.2f}" for rule in rules)


def page_number(sheet, document):
    """The number's distance below the type area, and its size, on the page that has one."""
    line = next(line for page in sheet.lines for line in page if re.fullmatch(r"—\d+—", line.text))
    return f"{line.em_top - TYPE_AREA_BOTTOM_MM:.1f}", f"{line.size:g}"


def letter_lines(sheet, document):
    """The letter's lower red double line: its length, and its lower edge above the page's bottom edge."""
    rules = [rule for rule in sheet.rules[0] if rule.color == RED]
    lowest = max(rules, key=lambda rule: rule.bottom)
    return f"{lowest.width:.1f}", f"{sheet.sizes[0][1] - lowest.bottom:.1f}"


@dataclass(frozen=True)
class Parameter:
    name: str  # in the README's table
    standard: str  # what GB/T 9704-2012 sets, as the README shows it
    measure: Callable
    expected: object  # the measure's value when the layout is right
    documents: tuple[str, ...]
    tolerance: float = 0.0  # for a number

    def holds(self, value) -> bool:
        if isinstance(self.expected, float):
            return abs(value - self.expected) <= self.tolerance
        return value == self.expected

    def shown(self, value) -> str:
        if isinstance(value, float):
            return f"{value:g}" if self.tolerance == 0 else f"{value:.1f}" if self.tolerance >= 0.1 else f"{value:.2f}"
        if isinstance(value, tuple):
            return " · ".join(str(part) for part in value)
        return str(value)


ALL = tuple(DOCUMENTS)
FILE_FORMAT = ("notice", "forward")
PARAMETERS = (
    Parameter("纸张 (5.1)", "A4 210×297 mm", page_size, "210×297", ALL),
    Parameter("版心左边缘 (订口, 5.2.1)", "28 mm", left_edge, 28.0, ALL, 0.3),
    # 28 characters of 16 pt tracked in by 0.3 pt (official.css), so that 28 always fit and 29 never do.
    Parameter("版心宽 (5.2.2)", "156 mm", line_width, 156.0, ALL, 1.0),
    Parameter("每行字数 (5.2.3)", "28 字", characters_a_line, 28, ALL),
    Parameter("行距 (5.2.3)", "225/22 mm = 10.23 mm", line_pitch, 10.23, ALL, 0.05),
    Parameter("每面行数 (5.2.3)", "22 行", lines_a_page, 22, ("telegram",)),
    Parameter("天头 (版心上边缘, 5.2.1)", "37 mm", top_margin, 37.0, ("telegram",), 0.3),
    Parameter("正文字号 (5.2.2)", "3号 16 pt", body_size, 16.0, ALL, 0.0),
    Parameter("正文字体", "仿宋 (FandolFang)", body_face, "FandolFang-Regular", ALL),
    Parameter("标题字号 (7.3.1)", "2号 22 pt", title_size, 22.0, ALL, 0.0),
    Parameter("标题字体", "小标宋 (FandolSong Bold)", title_face, "FandolSong-Bold", ALL),
    Parameter("标题居中 (7.3.1)", "版心中线 106 mm", title_centre, 106.0, ALL, 0.5),
    Parameter("发文机关标志上边缘 (7.2.4)", "版心上边缘下 35 mm = 72 mm", mark_top, 72.0, FILE_FORMAT, 0.5),
    Parameter("信函格式发文机关标志 (10.1)", "上边缘距页边 30 mm", mark_top, 30.0, ("cover", "letter"), 0.5),
    Parameter("发文机关标志颜色", "红色", mark_colour, "红", ALL),
    Parameter("分隔线 (7.2.6)", "红色，与版心等宽 156 mm · 发文字号下 4 mm", separator, ("156.0", "4.0"), FILE_FORMAT),
    Parameter("成文日期 (7.3.5.1，加盖印章)", "右空四字", date_from_right, 4.0, ("letter", "notice"), 0.05),
    Parameter("署名 (7.3.5.2，不加盖印章)", "右空二字", signature_from_right, 2.0, ("forward", "telegram"), 0.05),
    Parameter("附件说明 (7.3.4)", "左空二字", attachment_indent, 2.0, ("notice",), 0.05),
    Parameter(
        "版记 (7.4)",
        "末页 (偶数页) · 末条分隔线与版心下边缘重合 262 mm · 粗线 0.35 / 细线 0.25 mm",
        colophon,
        (2, "262.0", "0.35/0.25/0.35"),
        ("notice", "forward"),
    ),
    Parameter(
        "页码 (7.5)", "一字线上距版心下边缘 7 mm · 4号 14 pt", page_number, ("7.0", "14"), ("telegram", "notice")
    ),
    Parameter("信函格式下双线 (10.1)", "170 mm · 距下页边 20 mm", letter_lines, ("170.0", "20.0"), ("cover", "letter")),
)


@pytest.mark.parametrize("parameter", PARAMETERS, ids=[parameter.name for parameter in PARAMETERS])
def test_the_parameter_holds_in_the_pdf_and_in_the_ofd(parameter, world):
    for name in parameter.documents:
        _document, pdf, ofd = measured(name, world)
        in_pdf, in_ofd = parameter.measure(pdf, _document), parameter.measure(ofd, _document)
        assert parameter.holds(in_pdf), f"{DOCUMENTS[name]} PDF: {in_pdf!r}, expected {parameter.expected!r}"
        assert parameter.holds(in_ofd), f"{DOCUMENTS[name]} OFD: {in_ofd!r}, expected {parameter.expected!r}"


def readme_table(world) -> str:
    """The README's table: one row a parameter, one column a document, "PDF / OFD" in each cell."""
    header = "| 参数 (GB/T 9704-2012) | 标准 | " + " | ".join(DOCUMENTS.values()) + " |"
    rows = [header, "|" + " --- |" * (2 + len(DOCUMENTS))]
    for parameter in PARAMETERS:
        cells = []
        for name in DOCUMENTS:
            if name not in parameter.documents:
                cells.append("—")
                continue
            document, pdf, ofd = measured(name, world)
            in_pdf = parameter.shown(parameter.measure(pdf, document))
            in_ofd = parameter.shown(parameter.measure(ofd, document))
            cells.append(in_pdf if in_pdf == in_ofd else f"{in_pdf} / {in_ofd}")
        rows.append(f"| {parameter.name} | {parameter.standard} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def test_the_readme_table_is_what_is_measured(world):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- gbt9704 -->\n(.*?)\n<!-- /gbt9704 -->", readme, re.S)
    expected = readme_table(world)
    assert table is not None, "README.md has no <!-- gbt9704 --> table"
    assert table.group(1) == expected, f"README's table should read:\n{expected}"
