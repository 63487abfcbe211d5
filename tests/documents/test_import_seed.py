"""The seed, read by the importer: a cover letter (内教工委函〔2022〕90号) and the telegram it encloses.

The expectations are written by hand from the text of the seed, element by element.
"""

import io
import re

import docx
import pytest

from documents.importing import import_bytes, parse_text
from tests.documents.importing_helpers import seed_bytes, seed_text

TITLE = "关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用在打赢疫情防控攻坚战中切实担当作为的通知"
COVER_TITLE = "中共内蒙古自治区教育工作委员会转发" + TITLE
COVER_FIRST_PARAGRAPH = (
    "现将内蒙古自治区党委组织部《关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用在打赢疫情防控攻坚战中"
    "切实担当作为的通知》（内组电明字〔2022〕11号）转发给你们。"
)
HEADINGS = [
    "一、扛起政治责任，筑牢疫情防控一线战斗堡垒",
    "二、体现政治担当，充分发挥党员先锋模范作用",
    "三、把稳政治方向，在疫情大考中考验培养和使用干部",
]

COVER = {
    "issuer": "中共内蒙古自治区教育工作委员会",
    "number": "内教工委函〔2022〕90号",
    "kind": "通知",
    "title": COVER_TITLE,
    "urgency": None,
    "classification": None,
    "page_count": None,
    "main_recipients": ["各高等学校党委"],
    "cc": [],
    # The page with the signature and the seal is missing: the text says 「(此页无正文)」 instead.
    "signatory": None,
    "date": None,
    "attachments": [],
    "forwarded": [
        {"title": TITLE, "number": "内组电明字〔2022〕11号", "issuer": "内蒙古自治区党委组织部", "forwarded": []}
    ],
}
TELEGRAM = {
    "issuer": "中共内蒙古自治区委员会组织部",
    "number": "内组电明字〔2022〕11号",
    "kind": "明传电报",
    "title": TITLE,
    "urgency": "特提",
    "classification": None,
    "page_count": 4,
    "main_recipients": ["各盟市委组织部", "自治区各直属党（工）委"],
    "cc": [],
    "signatory": "内蒙古自治区党委组织部",
    "date": "2022-10-13",
    "attachments": [],
    "forwarded": [],
    "enclosed": [],
}


def _elements(document_json: dict) -> dict:
    """Everything but the body, the warnings (line numbers move with the text) and the enclosed."""
    return {key: value for key, value in document_json.items() if key not in ("body", "warnings", "enclosed")}


def _assert_cover_body(body: str) -> None:
    paragraphs = body.split("\n")
    assert len(paragraphs) == 2
    assert paragraphs[0] == COVER_FIRST_PARAGRAPH
    assert paragraphs[1].startswith("请你们认真组织学习并抓好贯彻落实，坚决扛起疫情防控的政治责任")
    assert paragraphs[1].endswith("确保高校师生生命安全和身体健康，以实际行动迎接党的二十大胜利召开。")
    assert len(paragraphs[1]) == 191


def _assert_telegram_body(body: str, *, paragraphs_kept: bool = True) -> None:
    assert body.startswith("当前，我区新冠肺炎疫情多点散发，防控形势复杂严峻，任务十分艰巨。")
    assert body.endswith("激励广大党员忠于职守、勇战疫情，以实际行动迎接党的二十大胜利召开。")
    # The paragraph broken by a page ends mid-sentence (…表现突出的) and goes on (干部要…).
    assert "对敢担当、善作为、表现突出的干部要及时发现、褒奖激励" in body
    # The signature and the date are not body text; nor is the header.
    assert "2022年10月13日" not in body
    assert not body.rstrip("。").endswith("内蒙古自治区党委组织部")
    assert "共 4 页" not in body
    assert "发电专用章" not in body
    plain = re.sub(r"\s", "", body)
    assert len(plain) == 1718  # lines 37 to 51 of the seed, spaces aside
    if paragraphs_kept:
        paragraphs = body.split("\n")
        assert len(paragraphs) == 7
        assert [paragraphs[1], paragraphs[3], paragraphs[5]] == HEADINGS
        assert paragraphs[0].endswith("现就有关工作通知如下：")
        assert paragraphs[2].endswith("做到守土有责、守土担责、守土尽责。")
        assert paragraphs[4].endswith("形成联防联控的强大合力、筑牢群防群治的铜墙铁壁。")
        assert paragraphs[6].startswith("各级组织部门要把推动和服务疫情防控工作作为当前一项重要政治任务")


def test_the_cover_letter_of_the_seed_has_every_element_right():
    cover = parse_text(seed_text())

    assert _elements(cover.as_json()) == COVER
    _assert_cover_body(cover.body)
    assert cover.issuer_mark == "中共内蒙古自治区教育工作委员会"
    assert cover.mongolian_mark == "中共内蒙古自治区教育工作委员会"
    assert cover.warnings == ["第15行：未找到成文日期"]


def test_the_telegram_the_seed_encloses_has_every_element_right():
    cover = parse_text(seed_text())

    assert len(cover.enclosed) == 1
    telegram = cover.enclosed[0]
    assert _elements(telegram.as_json()) == {key: value for key, value in TELEGRAM.items() if key != "enclosed"}
    assert telegram.as_json()["enclosed"] == []
    _assert_telegram_body(telegram.body)
    assert telegram.issuer_mark == "中共内蒙古自治区委员会组织部明传电报"
    assert telegram.mongolian_mark == "中共内蒙古自治区委员会组织部明传电报"
    assert (telegram.telegram_send_to, telegram.telegram_approval_office) == ("见报头", "机要三")
    assert (telegram.telegram_approver, telegram.telegram_seal) == ("李玉刚", "发电专用章")
    assert (telegram.number_line, telegram.title_line, telegram.date_line) == (29, 33, 55)
    assert telegram.warnings == []


def test_each_document_keeps_its_own_slice_of_the_source_text():
    cover = parse_text(seed_text())
    telegram = cover.enclosed[0]

    assert (cover.first_line, cover.last_line) == (3, 15)
    assert (telegram.first_line, telegram.last_line) == (21, 55)
    assert cover.text.startswith("中共内蒙古自治区教育工作委员会\n")
    assert "明传电报" not in cover.text
    assert telegram.text.startswith("中共内蒙古自治区委员会组织部明传电报")
    assert telegram.text.endswith("2022年10月13日")


NAVIGATION_BEFORE = """首页 > 信息公开 > 通知公告
当前位置：首页>>通知公告
关于转发内蒙古自治区党委组织部《关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用的通知》的通知
发布时间：2022-10-14 来源：自治区教育厅 浏览次数：1024
【字体：大 中 小】 【打印】 【关闭】

"""
NAVIGATION_AFTER = """

- 4 -

【打印本页】 【关闭窗口】
上一篇：关于做好2022年秋季学期开学工作的通知
下一篇：自治区教育厅召开疫情防控工作会议
相关文章
关于做好高校疫情防控工作的通知 2022-10-01
2022-09-30
版权所有：内蒙古自治区教育厅 蒙ICP备05001234号
"""


def test_site_navigation_around_the_seed_changes_no_element():
    cover = parse_text(NAVIGATION_BEFORE + seed_text() + NAVIGATION_AFTER)

    assert _elements(cover.as_json()) == COVER
    _assert_cover_body(cover.body)
    assert _elements(cover.enclosed[0].as_json()) == _elements(TELEGRAM)
    _assert_telegram_body(cover.enclosed[0].body)
    assert cover.warnings == ["第21行：未找到成文日期"]
    assert cover.enclosed[0].warnings == []


@pytest.mark.parametrize("separator", [" ", ""], ids=["spaces", "nothing"])
def test_the_seed_as_one_long_line_gives_the_same_elements(separator):
    one_line = separator.join(line.strip() for line in seed_text().split("\n") if line.strip())

    cover = parse_text(one_line)

    assert _elements(cover.as_json()) == COVER
    assert _elements(cover.enclosed[0].as_json()) == _elements(TELEGRAM)
    # One line has no paragraphs left: the text is all there, in order, but cut at sentence ends.
    assert re.sub(r"\s", "", cover.body) == re.sub(r"\s", "", COVER_FIRST_PARAGRAPH) + re.sub(
        r"\s", "", cover.body.split("\n", 1)[1]
    )
    _assert_telegram_body(cover.enclosed[0].body, paragraphs_kept=False)
    assert cover.warnings == ["第1行：未找到成文日期"]


def test_the_seed_encoded_in_gb18030_reads_the_same():
    from_utf8 = import_bytes(seed_bytes(), name="seed.txt").as_json()

    from_gb18030 = import_bytes(seed_text().encode("gb18030"), name="seed-gbk.txt").as_json()

    assert from_gb18030 == from_utf8


def test_the_seed_as_a_word_file_with_the_telegram_header_in_a_table_reads_the_same():
    lines = [line.strip() for line in seed_text().split("\n") if line.strip()]
    header_start = lines.index("发往地址 见报头")
    word = docx.Document()
    for line in lines[:header_start]:
        word.add_paragraph(line)
    table = word.add_table(rows=4, cols=3)
    rows = [
        ["发往地址", "见报头", ""],
        ["签批盖章", "机要三 李玉刚", "发电专用章"],
        ["等 级", "特 提", "内组电明字〔2022〕11号"],
    ]
    for row, cells in zip(table.rows, rows, strict=False):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    table.rows[3].cells[0].text = "共 4 页"
    for line in lines[header_start + 4 :]:
        word.add_paragraph(line)
    stream = io.BytesIO()
    word.save(stream)

    cover = import_bytes(stream.getvalue(), name="seed.docx")

    assert _elements(cover.as_json()) == COVER
    _assert_cover_body(cover.body)
    telegram = cover.enclosed[0]
    assert _elements(telegram.as_json()) == _elements(TELEGRAM)
    _assert_telegram_body(telegram.body)
    assert (telegram.telegram_approval_office, telegram.telegram_approver) == ("机要三", "李玉刚")
