"""The official layout: HTML and PDF of a cover letter and the telegram it encloses (the seed)."""

import datetime
import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.template import Context, Template
from pypdf import PdfReader

from documents.models import Document, Kind, Urgency
from documents.rendering import (
    MARK_LENGTHS,
    mark_size_pt,
    printed,
    render_html,
    render_pdf,
    rendered_page_counts,
)
from tests.documents import specimens
from tests.documents.pdf_measure import embedded_fonts, find_line, page_lines, page_rules
from tests.factories import issue
from workflow import services

A4_POINTS = (595.28, 841.89)
MONGOLIAN = "ᠥᠪᠥᠷ ᠮᠣᠩᠭᠣᠯ ᠤᠨ ᠪᠣᠯᠪᠠᠰᠤᠷᠠᠯ"


@pytest.fixture
def seed_documents(world) -> tuple[Document, Document]:
    """The seed registered as received: (the cover letter, the telegram it encloses)."""
    seed = specimens.documents("cover", world)
    return seed["cover"], seed["telegram"]


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _plain(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_every_page_is_a4_and_the_telegram_starts_on_a_new_page_after_the_cover(seed_documents):
    cover, _telegram = seed_documents

    pdf = render_pdf(cover)

    reader = PdfReader(io.BytesIO(pdf))
    assert {(round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) for page in reader.pages} == {
        A4_POINTS
    }
    counts = rendered_page_counts(cover)
    assert counts == [1, 4]  # the letter format's short header leaves the cover's text room on one page
    assert len(reader.pages) == 5
    pages = _pages(pdf)
    assert pages[0].startswith("中共内蒙古自治区教育工作委员会\n内教工委函〔2022〕90号\n")
    assert pages[1].startswith("中共内蒙古自治区委员会组织部明传电报\n")
    assert "明传电报" not in pages[0]


def test_the_telegram_takes_as_many_pages_as_its_header_says(seed_documents):
    _cover, telegram = seed_documents

    assert rendered_page_counts(telegram) == [telegram.page_count] == [4]


def test_each_element_is_on_its_page_in_reading_order(seed_documents):
    cover, _telegram = seed_documents

    pages = _pages(render_pdf(cover))

    first, telegram_first, *_middle, telegram_last = (_plain(page) for page in pages)
    assert "内教工委函〔2022〕90号" in first
    assert cover.title in first  # the title's lines, joined
    assert "各高等学校党委：现将内蒙古自治区党委组织部《关于进一步发挥" in first
    assert "请你们认真组织学习并抓好贯彻落实" in first
    assert first.endswith("以实际行动迎接党的二十大胜利召开。")  # a letter's first page has no number
    assert "发往见报头签批机要三李玉刚发电专用章等级特提编号内组电明字〔2022〕11号共4页" in telegram_first
    assert "各盟市委组织部、自治区各直属党（工）委：当前，我区新冠肺炎疫情多点散发" in telegram_first
    assert telegram_last.endswith("以实际行动迎接党的二十大胜利召开。内蒙古自治区党委组织部2022年10月13日—4—")
    whole = "".join(_plain(page) for page in pages)
    milestones = [
        "中共内蒙古自治区教育工作委员会",
        "内教工委函〔2022〕90号",
        "各高等学校党委：",
        "中共内蒙古自治区委员会组织部明传电报",
        "等级特提",
        "关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用",
        "一、扛起政治责任",
        "二、体现政治担当",
        "三、把稳政治方向",
        "内蒙古自治区党委组织部2022年10月13日",
    ]
    position = 0
    for milestone in milestones:  # each one after the one before (index raises if it is not there)
        position = whole.index(milestone, position) + len(milestone)
    assert whole.index("中共内蒙古自治区委员会组织部明传电报") > whole.index("各高等学校党委：")


def _page_numbers(pdf: bytes) -> list[list[tuple[str, float]]]:
    """Each page's page numbers (— 1 —) with the x (points) where each starts."""
    numbers = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        found = []

        def visit(text, cm, tm, font, size, found=found):
            if re.fullmatch(r"—\s?\d\s?—", text.strip()):
                found.append((text.strip(), tm[4] * cm[0] + cm[4]))

        page.extract_text(visitor_text=visit)
        numbers.append(found)
    return numbers


def test_page_numbers_start_again_for_each_document_and_sit_right_on_odd_pages_left_on_even(seed_documents):
    cover, _telegram = seed_documents

    pdf = render_pdf(cover)

    numbers = _page_numbers(pdf)
    # The cover is a letter of one page, and a letter's first page shows no number (10.1).
    assert [[text for text, _x in found] for found in numbers] == [[], ["— 1 —"], ["— 2 —"], ["— 3 —"], ["— 4 —"]]
    assert "—" not in _pages(pdf)[0]  # not even a number squeezed out of shape
    middle = A4_POINTS[0] / 2
    assert [found[0][1] > middle for found in numbers[1:]] == [True, False, True, False]


# The letter format (信函格式, GB/T 9704 10.1), measured on the printed page: text where pypdf finds
# it, the red double lines where pdftoppm paints them.
MM = 72 / 25.4  # PDF points a millimetre
TYPE_AREA_LEFT_MM = 28
TYPE_AREA_RIGHT_MM = 28 + 156
# The faces (Fandol, Noto CJK) set an ideograph's em box from 0.88 em above the baseline.
EM_BOX_ABOVE_BASELINE = 0.88


@dataclass(frozen=True)
class Placed:
    """A run of text (WeasyPrint sets a line as one) where it starts: mm from the page's top left."""

    x: float
    baseline: float
    size: float  # points

    @property
    def top(self) -> float:
        """The top edge of the run's ideographs."""
        return self.baseline - EM_BOX_ABOVE_BASELINE * self.size / MM


def _placed(pdf: bytes) -> dict[str, Placed]:
    """The runs of text on the first page, by their text (the first, where a text recurs)."""
    placed = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            placed.setdefault(text.strip(), Placed(x / MM, (A4_POINTS[1] - y) / MM, size * abs(tm[3] * cm[3])))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return placed


@dataclass(frozen=True)
class Band:
    """Consecutive rows of pixels that are red across at least 150 mm: one rule of a line, in mm."""

    top: float
    bottom: float
    left: float
    right: float


def _pixels(pdf: bytes, page: int, dpi: int) -> tuple[int, int, bytes]:
    """The page as RGB pixels: pdftoppm's PPM (P6), read here, so that no imaging library is needed."""
    ppm = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    return int(header[1]), int(header[2]), ppm[header.end() :]


def _red_rules(pdf: bytes, *, page: int = 1, dpi: int = 200) -> list[Band]:
    """The red rules across the page, top to bottom (no row of the red mark is red that far)."""
    width, height, pixels = _pixels(pdf, page, dpi)
    mm = 25.4 / dpi
    bands: list[list[int]] = []  # top, bottom, left, right in pixels
    for y in range(height):
        row = pixels[3 * width * y : 3 * width * (y + 1)]
        red = [x for x, (r, g) in enumerate(zip(row[0::3], row[1::3], strict=True)) if r > 180 and g < 100]
        if len(red) * mm < 150:
            continue
        if bands and bands[-1][1] == y - 1:
            bands[-1][1] = y
        else:
            bands.append([y, y, red[0], red[-1]])
    return [Band(top * mm, (bottom + 1) * mm, left * mm, (right + 1) * mm) for top, bottom, left, right in bands]


def _ink(pdf: bytes, top: float, bottom: float, *, dpi: int = 200) -> tuple[float, float]:
    """How far black type reaches to the left and to the right between these heights (mm)."""
    width, _height, pixels = _pixels(pdf, 1, dpi)
    mm = 25.4 / dpi
    xs = [
        x
        for y in range(round(top / mm), round(bottom / mm))
        for x, (r, g, b) in enumerate(
            zip(*(pixels[3 * width * y + channel : 3 * width * (y + 1) : 3] for channel in range(3)), strict=True)
        )
        if max(r, g, b) < 128
    ]
    return min(xs) * mm, (max(xs) + 1) * mm


def test_the_seed_cover_is_a_letter_its_mark_30_mm_from_the_top_edge_above_the_type_area(seed_documents):
    cover, _telegram = seed_documents

    pdf = render_pdf(cover)

    mark = _placed(pdf)["中共内蒙古自治区教育工作委员会"]
    assert mark.top < 37  # the type area starts 37 mm from the top edge
    assert mark.top == pytest.approx(30, abs=0.5)
    assert mark.size == pytest.approx(mark_size_pt(15), abs=0.1)  # sized as the 文件 format's
    assert f'<section class="official-document letter" id="official-document-{cover.pk}">' in render_html(cover)


def test_a_letter_prints_its_number_below_the_double_line_flush_right(seed_documents):
    cover, _telegram = seed_documents
    pdf = render_pdf(cover)

    number = _placed(pdf)["内教工委函〔2022〕90号"]
    _thick, thin, *_bottom = _red_rules(pdf)

    assert number.x > A4_POINTS[0] / MM / 2  # not centred: it starts right of the page's centre
    _left, right = _ink(pdf, number.top, number.baseline)
    assert right == pytest.approx(TYPE_AREA_RIGHT_MM, abs=0.7)
    assert number.top - thin.bottom == pytest.approx(14 / MM, abs=0.5)  # 7/8 of a 3号 character


def test_a_letter_has_red_double_lines_below_its_mark_and_20_mm_above_the_bottom_edge(seed_documents):
    cover, _telegram = seed_documents
    pdf = render_pdf(cover)
    mark = _placed(pdf)["中共内蒙古自治区教育工作委员会"]

    rules = _red_rules(pdf)

    assert len(rules) == 4
    thick_above, thin_below, thin_above, thick_below = rules
    # 4 mm below the mark, thick above and thin below; 20 mm above the bottom edge, thin above and
    # thick below. Each a double line: its two rules less than 1 mm apart.
    assert thick_above.top == pytest.approx(mark.top + mark.size / MM + 4, abs=0.5)
    assert thick_below.bottom == pytest.approx(297 - 20, abs=0.5)
    for thick, thin in ((thick_above, thin_below), (thick_below, thin_above)):
        assert thick.bottom - thick.top > 2 * (thin.bottom - thin.top)
    assert 0 < thin_below.top - thick_above.bottom < 1
    assert 0 < thick_below.top - thin_above.bottom < 1
    # 170 mm long, centred as the mark is: on the type area, 7 mm beyond it on either side.
    for rule in rules:
        assert rule.right - rule.left == pytest.approx(170, abs=0.5)
        assert rule.left == pytest.approx(TYPE_AREA_LEFT_MM - 7, abs=0.5)


def test_a_notice_keeps_the_document_format_with_no_red_line_at_the_bottom(world):
    notice, _dispatch = issue(world.zzb, world.department, main=[world.education])

    pdf = render_pdf(notice)

    rules = _red_rules(pdf)
    assert len(rules) == 1  # the separator below the number, as wide as the type area
    assert (rules[0].left, rules[0].right) == (
        pytest.approx(TYPE_AREA_LEFT_MM, abs=0.5),
        pytest.approx(TYPE_AREA_RIGHT_MM, abs=0.5),
    )
    assert rules[0].bottom < 200
    assert _placed(pdf)["自治区党委组织部"].top > 37 + 35  # the mark stands 35 mm into the type area
    assert [[text for text, _x in found] for found in _page_numbers(pdf)] == [["— 1 —"]]
    assert f'<section class="official-document" id="official-document-{notice.pk}">' in render_html(notice)


def test_a_letter_prints_its_urgency_flush_left_below_the_double_line_and_its_number_on_that_line_flush_right(
    world,
):
    letter, _dispatch = issue(
        world.other_clerk,
        world.other,  # a 函 of a 发 series (内直工委发) is a letter too
        main=[world.education],
        kind=Kind.LETTER,
        urgency=Urgency.EXTRA_URGENT,
        title="关于商请协助做好测试工作的函",
    )
    pdf = render_pdf(letter)
    placed = _placed(pdf)

    urgency, number = placed["特急"], placed["内直工委发〔2022〕1号"]
    _thick, thin, *_bottom = _red_rules(pdf)

    assert urgency.top - thin.bottom == pytest.approx(14 / MM, abs=0.5)  # 7/8 of a 3号 character
    assert number.baseline == pytest.approx(urgency.baseline, abs=0.1)
    left, right = _ink(pdf, urgency.top, urgency.baseline)
    assert left == pytest.approx(TYPE_AREA_LEFT_MM, abs=0.5)
    assert right == pytest.approx(TYPE_AREA_RIGHT_MM, abs=0.7)
    assert placed["关于商请协助做好测试工作的函"].top > number.baseline + 2 * 28.99 / MM  # two lines below


def test_a_letter_prints_no_signatory_and_of_its_colophon_only_the_cc(world):
    letter, _dispatch = issue(
        world.jygw,
        world.education,
        main=[world.university],
        kind=Kind.LETTER,
        title="关于商请协助做好测试工作的函",
        signatory="张三",
        signature_organ="自治区教育工委",
        cc_text="自治区党委办公厅",
        printing_organ="自治区教育工委办公室",
        printed_on=datetime.date(2022, 10, 14),
    )

    html = render_html(letter)
    text = _plain("".join(_pages(render_pdf(letter))))

    assert text.endswith("自治区教育工委2022年10月13日抄送：自治区党委办公厅。")
    assert "签发人" not in text
    assert "印发" not in text
    assert '<p class="cc">抄送：自治区党委办公厅。</p>' in html
    assert 'class="printing"' not in html
    assert 'class="signatory"' not in html


def test_a_letter_numbers_its_pages_from_the_second_with_no_red_line_there(world):
    body = "\n".join(["各单位要认真做好测试工作，确保各项任务按时完成，并将有关情况及时报送。" * 3] * 12)
    letter, _dispatch = issue(
        world.jygw, world.education, main=[world.university], title="关于做好测试工作的通知", body=body
    )  # a 通知 of the 函 series (内教工委函): a letter

    pdf = render_pdf(letter)

    numbers = _page_numbers(pdf)
    assert [[text for text, _x in found] for found in numbers] == [[], ["— 2 —"], ["— 3 —"]]
    assert "—" not in _pages(pdf)[0]
    middle = A4_POINTS[0] / 2
    assert [found[0][1] > middle for found in numbers[1:]] == [False, True]
    assert _red_rules(pdf, page=2) == []
    assert _red_rules(pdf, page=3) == []


def test_a_letter_sets_the_mongolian_name_under_its_mark_above_the_double_line(world):
    unit = _mongolian_unit(world, prefix="内教函")
    letter, _dispatch = issue(
        world.people["zzb"], unit, main=[world.university], kind=Kind.LETTER, title="关于商请协助的函"
    )

    pdf = render_pdf(letter)

    lines, rules = page_lines(pdf)[0], page_rules(pdf)[0]
    mark, mongolian = find_line(lines, "内蒙古自治区教育厅"), find_line(lines, MONGOLIAN)
    assert mark.em_top == pytest.approx(30, abs=0.5)  # the mark keeps its place (10.1)
    assert mark.bottom < mongolian.top < rules[0].top  # under the mark, above the red double line
    assert mongolian.colors == {(0.902, 0.0, 0.071)}


def test_only_the_fandol_faces_of_the_roles_are_embedded(seed_documents):
    cover, _telegram = seed_documents

    # 小标宋 (mark, titles), 仿宋 (body), 黑体 (一、, the telegram's labels), 宋体 (page numbers): the seed
    # has no （一） and no 签发人 (楷体), and no character outside the Fandol faces (Noto: test_faces).
    assert embedded_fonts(render_pdf(cover)) == {
        "FandolSong-Bold",
        "FandolFang-Regular",
        "FandolHei-Regular",
        "FandolSong-Regular",
    }


def test_the_html_page_is_standalone_and_shows_both_documents_in_order(seed_documents):
    cover, telegram = seed_documents

    html = render_html(cover)

    assert "<style>" in html
    assert not re.search(r"https?://|url\(|@import|<link|<script", html)
    assert html.index(f'id="official-document-{cover.pk}"') < html.index(f'id="official-document-{telegram.pk}"')
    assert '<table class="telegram-header">' in html
    assert '<td class="number">内组电明字〔2022〕11号</td>' in html
    assert "共 4 页" in html


def test_the_layout_include_takes_a_document_and_finds_its_enclosures_itself(seed_documents):
    cover, telegram = seed_documents

    html = Template('{% include "documents/official_layout.html" with document=cover %}').render(
        Context({"cover": cover})
    )

    assert html.count('<section class="official-document') == 2
    assert f'id="official-document-{telegram.pk}"' in html


def _mongolian_unit(world, *, prefix: str):
    """A unit whose office wrote its Mongolian name; `zzb` drafts, signs and issues for it alone."""
    unit = services.unit_create(
        actor=None,
        name="内蒙古自治区教育厅",
        short_name="自治区教育厅",
        mongolian_name=MONGOLIAN,
        number_prefixes=[prefix],
        allows_self_sign_off=True,  # one person drafts and signs: only the layout matters here
    )
    for role in ("clerk", "drafter", "signer"):
        services.role_grant(actor=None, unit=unit, role=role, user=world.people["zzb"])
    return unit


def test_a_unit_with_a_mongolian_name_prints_it_under_the_mark_centred_in_red(world):
    unit = _mongolian_unit(world, prefix="内教发")
    document, _dispatch = issue(world.people["zzb"], unit, main=[world.university])

    html = render_html(document)
    pdf = render_pdf(document)

    assert f'<p class="mongolian-name" lang="mn-Mong">{MONGOLIAN}</p>' in html
    assert html.index('class="issuer-mark ') < html.index('class="mongolian-name"')
    lines = page_lines(pdf)[0]
    mark, mongolian = find_line(lines, "内蒙古自治区教育厅"), find_line(lines, MONGOLIAN)
    number = find_line(lines, document.number)
    assert mark.bottom < mongolian.top < mongolian.bottom < number.top
    centre = (TYPE_AREA_LEFT_MM + TYPE_AREA_RIGHT_MM) / 2
    assert (mongolian.left + mongolian.right) / 2 == pytest.approx(centre, abs=0.5)
    assert mongolian.colors == {(0.902, 0.0, 0.071)}
    assert mongolian.fonts == {"NotoSansMongolian-Regular"}


def test_attachments_cc_and_the_printing_line_are_printed_as_the_standard_sets_them(issued_notice):
    text = re.sub(r"—\d—", "", _plain("".join(_pages(render_pdf(issued_notice)))))  # page numbers aside

    assert text.endswith(
        "各单位要认真做好测试工作。附件：1.疫情防控工作方案2.应急处置预案自治区党委组织部2022年10月13日"
        "抄送：自治区党委办公厅，自治区人民政府办公厅。自治区党委组织部办公室2022年10月14日印发"
    )


def test_render_document_writes_the_pdf_and_the_html(seed_documents, tmp_path):
    out = io.StringIO()

    call_command(
        "render_document",
        "内教工委函[2022]90号",
        "--pdf",
        str(tmp_path / "out.pdf"),
        "--html",
        str(tmp_path / "out.html"),
        stdout=out,
    )

    assert PdfReader(tmp_path / "out.pdf").get_num_pages() == 5
    assert Path(tmp_path / "out.html").read_text(encoding="utf-8").count('<section class="official-document') == 2
    assert f"{tmp_path / 'out.pdf'}：5 页（1、4）" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["内教工委函〔2022〕90号"], "请用 --pdf 文件、--ofd 文件 或 --html 文件"),
        (["内教工委函〔2022〕91号", "--pdf", "x.pdf"], "没有发文字号为 内教工委函〔2022〕91号 的公文"),
        (["九十号", "--pdf", "x.pdf"], "发文字号“九十号”格式不正确"),
    ],
)
def test_render_document_refuses_what_it_cannot_print(seed_documents, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("render_document", *args, stdout=io.StringIO())


def test_the_stylesheet_has_the_mark_size_of_every_mark_length():
    css = Path(finders.find("documents/official.css")).read_text(encoding="utf-8")
    sizes = {int(n): float(pt) for n, pt in re.findall(r"\.issuer-mark\.mark-(\d+) \{ font-size: ([\d.]+)pt; \}", css)}
    assert sizes == {length: mark_size_pt(length) for length in MARK_LENGTHS}


def test_a_telegram_keeps_its_own_header_even_in_a_letter_series(world):
    telegram = Document(kind=Kind.TELEGRAM, number_prefix="内教工委函", issuing_unit=world.education)
    letter = Document(kind=Kind.NOTICE, number_prefix="内教工委函", issuing_unit=world.education)
    shown = [printed(document) for document in (telegram, letter)]
    assert [(doc.is_telegram, doc.is_letter) for doc in shown] == [(True, False), (False, True)]


def test_a_letters_page_numbers_and_text_stand_where_any_documents_do(world):
    """A letter's page area is 7 mm wider on each side than the type area (its double lines lie in
    it: browsers print nothing outside the page area); its text and its page numbers keep the
    type area's places, the same as a document of the 文件 format."""
    body = "\n".join(["各单位要认真做好测试工作，确保各项任务按时完成，并将有关情况及时报送。" * 3] * 12)
    letter, _dispatch = issue(
        world.jygw, world.education, main=[world.university], title="关于做好测试工作的通知", body=body
    )
    document, _dispatch = issue(
        world.zzb, world.department, main=[world.education], title="关于做好测试工作的通知", body=body
    )

    letter_pdf, document_pdf = render_pdf(letter), render_pdf(document)

    letter_numbers, document_numbers = _page_numbers(letter_pdf), _page_numbers(document_pdf)
    assert len(letter_numbers) == len(document_numbers) == 3
    assert letter_numbers[1:] == document_numbers[1:]
    # An even page numbered one character (14 pt) in from the left of the type area, an odd one ending
    # as far in from its right.
    assert letter_numbers[1][0][1] == pytest.approx(28 * MM + 14, abs=0.01)
    assert letter_numbers[2][0][1] > A4_POINTS[0] / 2
    assert _line_starts(letter_pdf, page=1) == _line_starts(document_pdf, page=1) == {28.0, round(28 + 32 / MM, 1)}


def _line_starts(pdf: bytes, *, page: int) -> set[float]:
    """Where the lines of the body start on a page (mm from the left edge), page numbers aside."""
    starts = set()

    def visit(text, cm, tm, font, size):
        if text.strip() and "—" not in text:
            starts.add(round((tm[4] * cm[0] + tm[5] * cm[2] + cm[4]) / MM, 1))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return starts
