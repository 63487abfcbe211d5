"""The official layout: HTML and PDF of a cover letter and the telegram it encloses (the seed)."""

import datetime
import io
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.template import Context, Template
from pypdf import PdfReader

from documents.importing import parse_text
from documents.models import Document
from documents.rendering import (
    MARK_LENGTHS,
    mark_size_pt,
    mongolian_columns,
    render_html,
    render_pdf,
    rendered_page_counts,
)
from tests.documents.importing_helpers import seed_bytes, seed_text
from tests.factories import issue
from workflow import services

A4_POINTS = (595.28, 841.89)
MONGOLIAN = "ᠥᠪᠥᠷ ᠮᠣᠩᠭᠣᠯ ᠤᠨ ᠪᠣᠯᠪᠠᠰᠤᠷᠠᠯ"


@pytest.fixture
def seed_documents(world) -> tuple[Document, Document]:
    """The seed registered as received: (the cover letter, the telegram it encloses)."""
    registration = services.document_register_received(
        actor=None,
        unit=world.university,
        parsed=parse_text(seed_text()),
        source=services.SourceFile.of("seed.txt", seed_bytes()),
    )
    telegram, cover = registration.created
    return cover, telegram


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
    assert counts == [2, 4]
    assert len(reader.pages) == 6
    pages = _pages(pdf)
    assert pages[0].startswith("中共内蒙古自治区教育工作委员会\n内教工委函〔2022〕90号\n")
    assert pages[2].startswith("中共内蒙古自治区委员会组织部明传电报\n")
    assert "明传电报" not in pages[0] + pages[1]


def test_the_telegram_takes_as_many_pages_as_its_header_says(seed_documents):
    _cover, telegram = seed_documents

    assert rendered_page_counts(telegram) == [telegram.page_count] == [4]


def test_each_element_is_on_its_page_in_reading_order(seed_documents):
    cover, _telegram = seed_documents

    pages = _pages(render_pdf(cover))

    first, second, telegram_first, *_middle, telegram_last = (_plain(page) for page in pages)
    assert "内教工委函〔2022〕90号" in first
    assert cover.title in first  # the title's lines, joined
    assert "各高等学校党委：现将内蒙古自治区党委组织部《关于进一步发挥" in first
    assert "请你们认真组织学习并抓好贯彻落实" in first
    assert second.endswith("以实际行动迎接党的二十大胜利召开。—2—")
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


def test_page_numbers_start_again_for_each_document_and_sit_right_on_odd_pages_left_on_even(seed_documents):
    cover, _telegram = seed_documents
    reader = PdfReader(io.BytesIO(render_pdf(cover)))

    numbers = []
    for page in reader.pages:
        found = []

        def visit(text, cm, tm, font, size, found=found):
            if re.fullmatch(r"—\s?\d\s?—", text.strip()):
                found.append((text.strip(), tm[4] * cm[0] + cm[4]))

        page.extract_text(visitor_text=visit)
        numbers.append(found)

    assert [[text for text, _x in found] for found in numbers] == [
        ["— 1 —"],
        ["— 2 —"],
        ["— 1 —"],
        ["— 2 —"],
        ["— 3 —"],
        ["— 4 —"],
    ]
    middle = A4_POINTS[0] / 2
    assert [found[0][1] > middle for found in numbers] == [True, False, True, False, True, False]


def test_only_the_noto_fonts_named_in_the_stylesheet_are_embedded(seed_documents):
    cover, _telegram = seed_documents
    reader = PdfReader(io.BytesIO(render_pdf(cover)))

    fonts = {
        str(font.get_object()["/BaseFont"]).split("+", 1)[1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }

    assert fonts == {"Noto-Serif-CJK-SC", "Noto-Serif-CJK-SC-Bold", "Noto-Sans-CJK-SC"}


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


def test_a_unit_with_a_mongolian_name_prints_it_above_the_mark_in_columns(world):
    unit = services.unit_create(
        actor=None,
        name="内蒙古自治区教育厅",
        short_name="自治区教育厅",
        mongolian_name=MONGOLIAN,
        number_prefixes=["内教发"],
    )
    clerk = world.people["zzb"]
    services.role_grant(actor=None, unit=unit, role="clerk", user=clerk)
    services.role_grant(actor=None, unit=unit, role="drafter", user=clerk)
    services.role_grant(actor=None, unit=unit, role="signer", user=clerk)
    document, _dispatch = issue(clerk, unit, main=[world.university])

    html = render_html(document)

    assert mongolian_columns(MONGOLIAN) == ["ᠥᠪᠥᠷ ᠮᠣᠩᠭᠣᠯ ᠤᠨ", "ᠪᠣᠯᠪᠠᠰᠤᠷᠠᠯ"]
    assert (
        '<div class="mongolian-name" lang="mn-Mong"><span class="column"><span>ᠥᠪᠥᠷ ᠮᠣᠩᠭᠣᠯ ᠤᠨ</span></span>'
        '<span class="column"><span>ᠪᠣᠯᠪᠠᠰᠤᠷᠠᠯ</span></span></div>'
    ) in html
    assert html.index('class="mongolian-name"') < html.index('class="issuer-mark ')
    reader = PdfReader(io.BytesIO(render_pdf(document)))
    fonts = {str(font.get_object()["/BaseFont"]) for font in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any("Noto-Sans-Mongolian" in font for font in fonts)


def test_attachments_cc_and_the_printing_line_are_printed_as_the_standard_sets_them(world):
    document, _dispatch = issue(
        world.zzb,
        world.department,
        main=[world.education],
        attachment_note="附件：1. 疫情防控工作方案\n2. 应急处置预案",
        cc_text="自治区党委办公厅，自治区人民政府办公厅",
        printing_organ="自治区党委组织部办公室",
        signature_organ="自治区党委组织部",
        printed_on=datetime.date(2022, 10, 14),
    )

    text = re.sub(r"—\d—", "", _plain("".join(_pages(render_pdf(document)))))  # page numbers aside

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

    assert PdfReader(tmp_path / "out.pdf").get_num_pages() == 6
    assert Path(tmp_path / "out.html").read_text(encoding="utf-8").count('<section class="official-document') == 2
    assert f"{tmp_path / 'out.pdf'}：6 页（2、4）" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["内教工委函〔2022〕90号"], "请用 --pdf 文件 或 --html 文件"),
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
