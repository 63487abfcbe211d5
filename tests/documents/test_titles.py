"""Titles broken as GB/T 9704-2012 7.3.1 asks: between words, no line of one or two characters, in a
梯形 or 菱形 shape; an imported title keeps its source's lines; the PDF prints the lines centred."""

from itertools import pairwise

import pytest
from django.db import IntegrityError, transaction

from documents.digest import document_content_digest
from documents.models import Document
from documents.rendering import render_pdf
from documents.titles import LINE_WIDTH, title_lines
from tests.documents.pdf_measure import TYPE_AREA_LEFT_MM, TYPE_AREA_RIGHT_MM, find_line, page_lines
from tests.documents.test_rendering import seed_documents  # noqa: F401 (a fixture)
from tests.factories import issue

# Real titles (国务院, 国务院办公厅, 教育部, 内蒙古自治区人民政府), broken by hand where a typesetter
# would: whole words, 《…》 whole when it fits a line, no mark at a line's start.
REAL_TITLES = [
    ["国务院关于印发“十四五”", "数字经济发展规划的通知"],
    ["国务院办公厅关于进一步优化营商环境", "降低市场主体制度性交易成本的意见"],
    ["国务院关于加快建立健全绿色低碳", "循环发展经济体系的指导意见"],
    ["国务院办公厅关于加快农村", "寄递物流体系建设的意见"],
    ["国务院关于进一步提高上市公司质量的意见"],
    ["国务院办公厅关于全面实行", "行政许可事项清单管理的通知"],
    ["国务院关于印发新一代", "人工智能发展规划的通知"],
    ["国务院办公厅关于印发全国一体化", "政务服务平台移动端建设指南的通知"],
    ["国务院关于深化“互联网+先进制造业”", "发展工业互联网的指导意见"],
    ["国务院关于加强数字政府建设的指导意见"],
    ["国务院办公厅关于推动", "公立医院高质量发展的意见"],
    ["国务院关于支持山东深化新旧动能转换", "推动绿色低碳高质量发展的意见"],
    ["国务院办公厅关于印发", "“十四五”国民健康规划的通知"],
    ["国务院关于印发2030年前", "碳达峰行动方案的通知"],
    ["国务院办公厅关于进一步盘活", "存量资产扩大有效投资的意见"],
    ["国务院关于开展第七次全国人口普查的通知"],
    ["国务院办公厅关于切实做好", "长江流域禁捕有关工作的通知"],
    ["教育部关于印发《义务教育课程方案", "和课程标准（2022年版）》的通知"],
    # 《…》 longer than a line: broken once it must be, between its words.
    [
        "内蒙古自治区人民政府关于印发",
        "《内蒙古自治区国民经济和社会发展",
        "第十四个五年规划和2035年远景目标纲要》",
        "的通知",
    ],
    ["国务院关于修改和废止部分行政法规的决定"],
    ["国务院关于印发《中国制造2025》的通知"],
    ["国务院办公厅关于印发", "新污染物治理行动方案的通知"],
]


@pytest.mark.parametrize("lines", REAL_TITLES, ids=lambda lines: "".join(lines)[:14])
def test_a_real_title_breaks_between_words_as_a_typesetter_would(lines):
    assert title_lines("".join(lines)) == lines


@pytest.mark.parametrize("lines", REAL_TITLES, ids=lambda lines: "".join(lines)[:14])
def test_a_title_has_no_short_line_and_the_shape_of_a_trapezoid_or_a_diamond(lines):
    broken = title_lines("".join(lines))

    assert len(broken) == 1 or min(len(line) for line in broken) >= 3
    lengths = [len(line) for line in broken]
    peak = lengths.index(max(lengths))
    assert all(above <= below for above, below in pairwise(lengths[: peak + 1]))
    assert all(above >= below for above, below in pairwise(lengths[peak:]))


def test_a_title_never_starts_a_line_with_a_closing_mark_nor_ends_one_with_an_opening_mark():
    for lines in REAL_TITLES:
        broken = title_lines("".join(lines))
        assert not any(line[0] in "》）”、，" for line in broken[1:])
        assert not any(line[-1] in "《（“" for line in broken[:-1])


def test_the_source_breaks_are_kept_when_each_line_fits_and_dropped_when_one_does_not():
    title = "关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用在打赢疫情防控攻坚战中切实担当作为的通知"

    assert title_lines(title, [17, 32]) == [
        "关于进一步发挥基层党组织战斗堡垒和",
        "党员先锋模范作用在打赢疫情防控",
        "攻坚战中切实担当作为的通知",
    ]
    # A first line of 21 characters does not fit (LINE_WIDTH ideographs of 2号 on 156 mm).
    assert LINE_WIDTH == 20
    assert (
        title_lines(title, [21])
        == title_lines(title)
        == [
            "关于进一步发挥基层党组织战斗堡垒",
            "和党员先锋模范作用在打赢疫情防控",
            "攻坚战中切实担当作为的通知",
        ]
    )


def test_the_seed_titles_break_exactly_as_the_source_does(seed_documents):  # noqa: F811
    cover, telegram = seed_documents

    assert title_lines(cover.title, cover.title_breaks) == [
        "中共内蒙古自治区教育工作委员会",
        "转发关于进一步发挥基层党组织战斗堡垒",
        "和党员先锋模范作用在打赢疫情防控",
        "攻坚战中切实担当作为的通知",
    ]
    assert title_lines(telegram.title, telegram.title_breaks) == [
        "关于进一步发挥基层党组织战斗堡垒和",
        "党员先锋模范作用在打赢疫情防控",
        "攻坚战中切实担当作为的通知",
    ]


def test_the_pdf_prints_the_seed_titles_in_the_source_lines_each_centred(seed_documents):  # noqa: F811
    cover, _telegram = seed_documents

    pages = page_lines(render_pdf(cover))

    for page, title in ((pages[0], cover), (pages[1], _telegram)):
        lines = title_lines(title.title, title.title_breaks)
        last = page.index(find_line(page, lines[-1]))
        printed = page[last - len(lines) + 1 : last + 1]
        assert [line.text for line in printed] == lines  # each line alone on its printed line, in order
        assert [line.size for line in printed] == [22] * len(lines)
        for line in printed:
            assert (line.left - TYPE_AREA_LEFT_MM) == pytest.approx(TYPE_AREA_RIGHT_MM - line.right, abs=0.3)
        assert [round(below.baseline - above.baseline, 1) for above, below in pairwise(printed)] == [
            round(35 / 72 * 25.4, 1)
        ] * (len(lines) - 1)  # one line after the other, 35 pt apart


def test_a_drafted_title_prints_in_the_lines_title_lines_gives(world):
    title = "国务院办公厅关于进一步优化营商环境降低市场主体制度性交易成本的意见"
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], title=title, kind="意见")

    page = page_lines(render_pdf(document))[0]

    assert document.title_breaks == []
    for line in ["国务院办公厅关于进一步优化营商环境", "降低市场主体制度性交易成本的意见"]:
        assert find_line(page, line).text == line


def test_the_source_breaks_are_layout_outside_the_digest_and_frozen_at_issue(seed_documents):  # noqa: F811
    cover, _telegram = seed_documents

    assert cover.title_breaks == [15, 33, 49]
    cover.title_breaks = []
    assert document_content_digest(cover, number=cover.number) == cover.digest  # as it was issued
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=cover.pk).update(title_breaks=[15])
    assert Document.objects.get(pk=cover.pk).title_breaks == [15, 33, 49]
