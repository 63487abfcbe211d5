"""The layout rules of the 主体's end and the 版记 (GB/T 9704-2012 7.3.5, 7.4, 7.5), measured in the PDF.

Documents are built unsaved (rendering reads nothing else of them) with a body of one-line
paragraphs, so that a body's length is counted in lines of the page's grid.
"""

import datetime
import io

import pytest
from django.core.files.base import ContentFile

from documents.models import Document, Kind
from documents.rendering import render_pdf
from tests.documents.pdf_measure import (
    CHARACTER_MM,
    LINE_MM,
    MM,
    TYPE_AREA_BOTTOM_MM,
    TYPE_AREA_LEFT_MM,
    TYPE_AREA_RIGHT_MM,
    find_line,
    page_images,
    page_lines,
    page_rules,
)

# 26 characters after the two of the indent: one paragraph fills one line of 28.
ONE_LINE = "各单位要认真做好测试工作确保各项任务按时完成并将有关情况及时报送"[:25] + "。"
DATE = "2022年10月13日"
NOTE = "（此页无正文）"
COLOPHON = {
    "cc_text": "自治区党委办公厅",
    "printing_organ": "自治区党委组织部办公室",
    "printed_on": datetime.date(2022, 10, 14),
}
SMALL_CHARACTER_MM = 14 / MM  # a 4号 character: 版记 and page numbers


def _document(world, lines: int, **elements) -> Document:
    values = {
        "issuing_unit": world.department,
        "issuer_mark": "自治区党委组织部",
        "kind": Kind.NOTICE,
        "title": "关于做好测试工作的通知",
        "main_recipients_text": "自治区教育工委：",
        "body": "\n".join([ONE_LINE] * lines),
        "signature_organ": "自治区党委组织部",
        "written_on": datetime.date(2022, 10, 13),
        "number_prefix": "内组电明字",
        "number_year": 2022,
        "number_serial": 1,
        **elements,
    }
    return Document(**values)


def _pdf(world, lines: int, **elements) -> bytes:
    return render_pdf(_document(world, lines, **elements), enclosures=[])


def _page_of(pages, text: str) -> int:
    """The number (from 1) of the first page that prints `text`."""
    return next(number for number, lines in enumerate(pages, 1) if any(text in line.text for line in lines))


def _last_body_line(lines):
    return [line for line in lines if line.text == ONE_LINE][-1]


def _below_body(lines, text: str):
    """The line below the body that holds `text` (the 署名 repeats the mark's text)."""
    return find_line([line for line in lines if line.top > _last_body_line(lines).top], text)


# 署名 and 成文日期 ---------------------------------------------------------------------------------


def test_a_sealed_documents_date_stands_four_characters_in_with_the_signature_centred_on_it(world):
    lines = page_lines(_pdf(world, 3, seal_note="内蒙古自治区党委组织部印"))[0]

    organ, date = _below_body(lines, "自治区党委组织部"), find_line(lines, DATE)
    assert date.from_right_edge == pytest.approx(4 * CHARACTER_MM, abs=0.3)
    assert (organ.left + organ.right) / 2 == pytest.approx((date.left + date.right) / 2, abs=0.3)
    assert date.top - organ.top == pytest.approx(LINE_MM, abs=0.1)  # on the next line
    # Two blank lines below the body: the seal's top may stand within one line of the body.
    assert organ.top - _last_body_line(lines).top == pytest.approx(3 * LINE_MM, abs=0.1)


@pytest.mark.parametrize(
    ("organ_text", "longer"),
    [("内蒙古自治区党委组织部办公室", "organ"), ("自治区党委组织部", "date")],
)
def test_an_unsealed_documents_signature_stands_two_characters_in_one_line_below_the_body(world, organ_text, longer):
    lines = page_lines(_pdf(world, 3, signature_organ=organ_text))[0]

    organ, date = _below_body(lines, organ_text), find_line(lines, DATE)
    assert organ.top - _last_body_line(lines).top == pytest.approx(2 * LINE_MM, abs=0.1)  # 下空一行
    assert date.top - organ.top == pytest.approx(LINE_MM, abs=0.1)
    assert date.left - organ.left == pytest.approx(2 * CHARACTER_MM, abs=0.3)  # 首字右移二字
    # The longer of the two (the date with its two characters) stands two characters in from the right.
    edge = organ if longer == "organ" else date
    assert edge.from_right_edge == pytest.approx(2 * CHARACTER_MM, abs=0.3)
    if longer == "date":
        assert organ.from_right_edge > 2 * CHARACTER_MM + 1  # the 署名 moved left with the date


def _seal_png() -> bytes:
    from PIL import Image, ImageDraw  # WeasyPrint's own dependency

    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((4, 4, 196, 196), outline=(230, 0, 18, 255), width=8)
    data = io.BytesIO()
    image.save(data, format="PNG")
    return data.getvalue()


def test_the_units_seal_is_printed_centred_on_the_date_only_when_the_document_is_sealed(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world.department.seal_image.save("seal.png", ContentFile(_seal_png()))

    sealed = _pdf(world, 3, seal_note="内蒙古自治区党委组织部印")
    unsealed = _pdf(world, 3)

    [seal] = page_images(sealed)[0]
    lines = page_lines(sealed)[0]
    organ, date = _below_body(lines, "自治区党委组织部"), find_line(lines, DATE)
    assert (seal.right - seal.left, seal.bottom - seal.top) == (pytest.approx(42, abs=0.1), pytest.approx(42, abs=0.1))
    centre_x, centre_y = seal.centre
    assert centre_x == pytest.approx((date.left + date.right) / 2, abs=0.3)
    assert organ.top < centre_y < date.top  # 署名 and date just below the seal's centre
    assert seal.top - _last_body_line(lines).bottom < LINE_MM  # 上距正文一行之内
    assert page_images(unsealed) == [[]]


def test_a_sealed_document_of_a_unit_without_a_seal_image_draws_no_seal(world):
    assert page_images(_pdf(world, 3, seal_note="内蒙古自治区党委组织部印")) == [[]]


# (此页无正文) ------------------------------------------------------------------------------------


def _date_page(world, lines: int) -> int:
    return _page_of(page_lines(_pdf(world, lines)), DATE)


def test_a_page_that_would_hold_only_the_signature_begins_with_the_no_body_note(world):
    # The fewest lines of body that push the 署名 and the date off the first page (a binary search:
    # the page of the date grows with the body).
    low, high = 1, 12
    assert _date_page(world, low) == 1
    assert _date_page(world, high) == 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _date_page(world, middle) == 1 else (low, middle)

    pushed, fitting = page_lines(_pdf(world, high)), page_lines(_pdf(world, low))

    note = pushed[1][0]
    assert note.text == NOTE
    assert note.top < 37 + 7  # on the first line of the type area
    assert not any(line.text == ONE_LINE for line in pushed[1])
    assert _page_of(pushed, DATE) == 2
    assert not any(NOTE in line.text for page in fitting for line in page)
    assert _page_of(fitting, DATE) == 1


# 版记 ------------------------------------------------------------------------------------------


def _numbers(pages) -> list[str]:
    """Each page's page number, "" where none is printed."""
    found = []
    for lines in pages:
        numbers = [line.text for line in lines if line.text.startswith("—") and line.text.endswith("—")]
        found.append(numbers[0] if numbers else "")
    return found


@pytest.mark.parametrize(
    ("lines", "main_part_ends_on", "numbers"),
    [
        (3, 1, ["—1—", "—2—"]),  # an odd page: the 版记 on the next
        (14, 2, ["—1—", "—2—"]),  # an even page with room for it
        (26, 2, ["—1—", "—2—", "", ""]),  # an even page without room: a blank page, then the 版记
        (35, 3, ["—1—", "—2—", "—3—", "—4—"]),
    ],
)
def test_the_colophon_ends_on_the_bottom_edge_of_the_type_area_of_an_even_last_page(
    world, lines, main_part_ends_on, numbers
):
    pdf = _pdf(world, lines, **COLOPHON)
    pages, rules = page_lines(pdf), page_rules(pdf)

    assert _page_of(pages, DATE) == main_part_ends_on
    assert _numbers(pages) == numbers
    assert len(pages) % 2 == 0
    if len(pages) == main_part_ends_on + 2:
        assert [line.text for line in pages[-2]] == []  # the blank page
    last = pages[-1]
    assert _page_of(pages, "抄送：") == len(pages)
    # Thick, thin, thick: each as wide as the type area, the last on its bottom edge.
    black = [rule for rule in rules[-1] if rule.color == (0.0, 0.0, 0.0)]
    assert [round(rule.thickness, 2) for rule in black] == [0.35, 0.25, 0.35]
    assert {(round(rule.left, 1), round(rule.right, 1)) for rule in black} == {(TYPE_AREA_LEFT_MM, TYPE_AREA_RIGHT_MM)}
    assert black[-1].bottom == pytest.approx(TYPE_AREA_BOTTOM_MM, abs=0.3)
    cc, printing = find_line(last, "抄送："), find_line(last, "2022年10月14日印发")
    assert black[0].bottom < cc.top < black[1].top < printing.top < black[2].top
    assert cc.left - TYPE_AREA_LEFT_MM == pytest.approx(SMALL_CHARACTER_MM, abs=0.1)
    assert printing.left - TYPE_AREA_LEFT_MM == pytest.approx(SMALL_CHARACTER_MM, abs=0.1)
    assert printing.from_right_edge == pytest.approx(SMALL_CHARACTER_MM, abs=0.2)


def test_a_long_cc_line_wraps_under_the_first_name(world):
    names = "，".join(["自治区党委办公厅", "自治区人民政府办公厅", "自治区人大常委会办公厅", "自治区政协办公厅"])
    last = page_lines(_pdf(world, 3, **{**COLOPHON, "cc_text": names}))[-1]

    first = find_line(last, "抄送：")
    second = last[last.index(first) + 1]
    assert second.left - first.left == pytest.approx(3 * SMALL_CHARACTER_MM, abs=0.3)  # after 「抄送：」


# 页码 ------------------------------------------------------------------------------------------


def test_page_numbers_stand_7_mm_below_the_type_area_one_character_in_on_alternate_sides(world):
    pages = page_lines(_pdf(world, 35, **COLOPHON))

    numbers = [next(line for line in lines if line.text.startswith("—")) for lines in pages]
    assert [line.text for line in numbers] == ["—1—", "—2—", "—3—", "—4—"]
    for line in numbers:
        assert line.em_top - TYPE_AREA_BOTTOM_MM == pytest.approx(7, abs=0.3)
        assert line.size == 14
    odd, even = numbers[0::2], numbers[1::2]
    assert [line.from_right_edge for line in odd] == [pytest.approx(SMALL_CHARACTER_MM, abs=0.2)] * 2
    assert [line.left - TYPE_AREA_LEFT_MM for line in even] == [pytest.approx(SMALL_CHARACTER_MM, abs=0.2)] * 2


# 附件说明 ----------------------------------------------------------------------------------------


def test_attachment_names_fill_the_line_and_a_long_one_wraps_under_its_own_first_character(world):
    long_name = "内蒙古自治区基层党组织书记抓基层党建工作述职评议考核实施办法（试行）及评分细则"
    pdf = _pdf(world, 2, attachment_note=f"附件：1. 述职评议考核工作方案\n2. {long_name}")

    lines = page_lines(pdf)[0]
    first = find_line(lines, "附件：1.述职评议考核工作方案")  # a short name is never cut ("方|案")
    assert first.text == "附件：1.述职评议考核工作方案"
    assert first.left == pytest.approx(TYPE_AREA_LEFT_MM + 2 * CHARACTER_MM, abs=0.3)  # 左空二字
    second = find_line(lines, "2.内蒙古自治区")
    wrapped = lines[lines.index(second) + 1]
    assert second.text + wrapped.text == "2." + long_name
    assert second.right == pytest.approx(TYPE_AREA_RIGHT_MM, abs=CHARACTER_MM)  # the name fills the line
    assert second.left_of("内") == pytest.approx(first.left_of("述"), abs=0.1)  # names start alike
    assert wrapped.left == pytest.approx(second.left_of("内"), abs=0.3)  # 回行时与上一行附件名称的首字对齐
