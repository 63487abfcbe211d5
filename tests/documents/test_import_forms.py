"""Hand-written texts for each form the importer must read, and each finding it must report."""

import datetime

import pytest

from documents.importing import parse_text


def _document(header: str, *, title: str = "关于做好秋季学期工作的通知", closing: str = "") -> str:
    return (
        f"{header}\n{title}\n各学院党委：\n"
        "为做好秋季学期工作，现将有关事项通知如下。\n"
        "各学院要高度重视，认真落实。\n"
        f"{closing or '中共内蒙古大学委员会' + chr(10) + '2022年9月1日'}\n"
    )


@pytest.mark.parametrize(
    ("printed", "problem"),
    [
        ("内大党发〔2022〕7号", None),
        ("内大党发[2022]7号", "年份应使用六角括号“〔〕”，不应使用“[]”"),
        ("内大党发［2022］7号", "年份应使用六角括号“〔〕”，不应使用“［］”"),
        ("内大党发（2022）7号", "年份应使用六角括号“〔〕”，不应使用“（）”"),
        ("内大党发(2022)7号", "年份应使用六角括号“〔〕”，不应使用“()”"),
        ("内大党发〔2022〕007号", "序号不编虚位（前面不加 0）"),
        ("内大党发〔2022〕第7号", "序号前不加“第”字"),
    ],
)
def test_every_bracket_around_the_year_reads_as_the_same_number(printed, problem):
    document = parse_text(_document(f"中共内蒙古大学委员会文件\n{printed}"))

    assert document.number == "内大党发〔2022〕7号"
    assert document.issuer == "中共内蒙古大学委员会"
    assert document.issuer_mark == "中共内蒙古大学委员会文件"
    expected = [f"第2行：发文字号“{printed}”：{problem}"] if problem else []
    assert document.warnings == expected


def test_a_two_digit_year_is_kept_as_printed_and_reported():
    document = parse_text(_document("中共内蒙古大学委员会文件\n内大党发[22]7号"))

    assert document.number == "内大党发[22]7号"
    assert document.warnings == [
        "第2行：发文字号“内大党发[22]7号”：年份应使用六角括号“〔〕”，不应使用“[]”",
        "第2行：发文字号“内大党发[22]7号”：年份应标全称（四位数字）",
    ]


@pytest.mark.parametrize(
    ("printed", "problem"),
    [
        ("2022年10月13日", None),
        ("2022 年 10 月 13 日", None),
        ("２０２２年１０月１３日", None),
        ("二〇二二年十月十三日", "成文日期应使用阿拉伯数字（如 2022年10月13日）"),
        ("二○二二年十月十三日", "成文日期应使用阿拉伯数字（如 2022年10月13日）"),
        ("二O二二年十月十三日", "成文日期应使用阿拉伯数字（如 2022年10月13日）"),
        ("2022-10-13", "成文日期应写作“2022年10月13日”的形式"),
    ],
)
def test_every_way_of_writing_the_date_reads_as_the_same_day(printed, problem):
    closing = f"中共内蒙古大学委员会\n{printed}"
    document = parse_text(_document("中共内蒙古大学委员会文件\n内大党发〔2022〕7号", closing=closing))

    assert document.written_on == datetime.date(2022, 10, 13)
    assert document.as_json()["date"] == "2022-10-13"
    assert document.signature_organ == "中共内蒙古大学委员会"
    expected = [f"第8行：成文日期“{document.date_text}”：{problem}"] if problem else []
    assert document.warnings == expected


def test_a_zero_padded_month_and_day_are_read_and_reported():
    closing = "中共内蒙古大学委员会\n2022年01月05日"
    document = parse_text(_document("中共内蒙古大学委员会文件\n内大党发〔2022〕7号", closing=closing))

    assert document.written_on == datetime.date(2022, 1, 5)
    assert document.warnings == ["第8行：成文日期“2022年01月05日”：月、日不编虚位（不在前面加 0）"]


def test_a_date_that_does_not_exist_is_reported_and_left_out():
    closing = "中共内蒙古大学委员会\n2022年2月30日"
    document = parse_text(_document("中共内蒙古大学委员会文件\n内大党发〔2022〕7号", closing=closing))

    assert document.written_on is None
    assert document.warnings == ["第8行：成文日期“2022年2月30日”：日期“2022年2月30日”不存在"]


def test_a_title_broken_over_lines_is_joined_without_the_spaces_of_the_break():
    text = (
        "中共内蒙古大学委员会文件\n内大党发〔2022〕7号\n"
        "关于进一步做好 2022 年秋季学期\n学生返校和疫情防控 工作的\n通知\n"
        "各学院党委、各部门：\n请认真落实。\n中共内蒙古大学委员会\n2022年9月1日\n"
    )

    document = parse_text(text)

    assert document.title == "关于进一步做好2022年秋季学期学生返校和疫情防控工作的通知"
    assert document.kind == "通知"
    assert document.main_recipients == ["各学院党委", "各部门"]
    assert document.body == "请认真落实。"


def test_a_number_glued_to_the_title_below_it_is_cut_off():
    text = "中共内蒙古大学委员会文件\n内大党发〔2022〕7号关于做好秋季学期工作的通知\n各学院党委：\n请认真落实。\n"

    document = parse_text(text)

    assert document.number == "内大党发〔2022〕7号"
    assert document.title == "关于做好秋季学期工作的通知"
    assert document.main_recipients == ["各学院党委"]


def test_a_number_glued_to_the_issuer_mark_before_it_is_cut_off():
    text = (
        "中共内蒙古自治区教育工作委员会内教工委函〔2022〕90号\n"
        "关于做好秋季学期工作的通知\n各高等学校党委：\n请认真落实。\n"
    )

    document = parse_text(text)

    assert document.issuer == "中共内蒙古自治区教育工作委员会"
    assert document.number == "内教工委函〔2022〕90号"


def test_collective_names_in_brackets_stay_whole_and_names_split_on_every_separator():
    text = (
        "中共内蒙古自治区委员会组织部文件\n内组字〔2022〕3号\n关于做好党员教育工作的通知\n"
        "各盟市委组织部，自治区各直属党（工、团）委、各高等学校党委；区直各单位：\n请认真落实。\n"
    )

    document = parse_text(text)

    assert document.main_recipients == ["各盟市委组织部", "自治区各直属党（工、团）委", "各高等学校党委", "区直各单位"]


def test_recipients_without_their_colon_are_read_and_reported():
    text = (
        "中共兴安盟委员会组织部\n兴组字〔2021〕12号\n关于开展党员教育培训的意见\n各旗县市委组织部\n"
        "根据《中国共产党党员教育管理工作条例》，结合实际，提出如下意见。各级党组织要认真落实。\n"
        "兴安盟委组织部\n2021年3月5日\n"
    )

    document = parse_text(text)

    assert (document.kind, document.main_recipients) == ("意见", ["各旗县市委组织部"])
    assert document.forwarded == []
    assert document.warnings == ["第4行：主送机关最后一个机关名称后应标全角冒号“：”"]


def test_half_width_colon_after_the_recipients_is_reported():
    text = _document("中共内蒙古大学委员会文件\n内大党发〔2022〕7号").replace("各学院党委：", "各学院党委:")

    document = parse_text(text)

    assert document.main_recipients == ["各学院党委"]
    assert document.warnings == ["第4行：主送机关后应使用全角冒号“：”"]


def test_a_title_without_a_kind_is_reported():
    document = parse_text(_document("中共内蒙古大学委员会文件\n内大党发〔2022〕7号", title="关于做好秋季学期工作"))

    assert document.kind is None
    assert document.warnings == [
        "第3行：标题应以文种结尾（决议、决定、命令、公报、公告、通告、意见、通知、通报、报告、请示、批复、议案、函、纪要）"
    ]


FULL = """000123
机密★1年
特急
内蒙古自治区教育厅文件
内教发〔2022〕3号
关于印发《高校安全工作办法》的通知
各高等学校：
现将《高校安全工作办法》印发给你们，请遵照执行。详见附件。
附件：1. 高校安全工作办法
      2. 高校安全检查表（供各校自查
         时使用）
内蒙古自治区教育厅
2022年1月5日
（此件公开发布）
附件1
高校安全工作办法
第一条 为了保障高校安全……
附件2
高校安全检查表
抄送：自治区党委教育工委，
      自治区公安厅。
内蒙古自治区教育厅办公室        2022年1月6日印发
"""


def test_every_element_of_a_full_document_is_read(settings):
    document = parse_text(FULL)

    assert document.copy_number == "000123"
    assert (document.classification, document.classification_period) == ("机密", "1年")
    assert document.urgency == "特急"
    assert (document.issuer, document.number, document.kind) == ("内蒙古自治区教育厅", "内教发〔2022〕3号", "通知")
    assert document.title == "关于印发《高校安全工作办法》的通知"
    assert document.main_recipients == ["各高等学校"]
    assert document.body == "现将《高校安全工作办法》印发给你们，请遵照执行。详见附件。"
    assert document.attachments == ["高校安全工作办法", "高校安全检查表（供各校自查时使用）"]
    assert (document.signature_organ, document.written_on) == ("内蒙古自治区教育厅", datetime.date(2022, 1, 5))
    assert document.annotation == "（此件公开发布）"
    # 印发 is not 转发: the regulation it issues is its own attachment, not a forwarded document.
    assert document.forwarded == []
    assert document.warnings == []


def test_an_attachment_note_that_disagrees_with_the_attachments_is_reported():
    text = FULL.replace("附件2\n高校安全检查表\n", "")

    document = parse_text(text)

    assert document.attachments == ["高校安全工作办法", "高校安全检查表（供各校自查时使用）"]
    assert document.warnings == ["第9行：附件说明列出 2 个附件，正文后附有 1 个附件"]


def test_a_single_numbered_attachment_and_punctuation_after_its_name_are_reported():
    note = "附件：1. 高校安全工作办法\n      2. 高校安全检查表（供各校自查\n         时使用）\n"
    text = FULL.replace(note, "附件：1. 高校安全工作办法。\n")
    text = text.replace("附件2\n高校安全检查表\n", "")

    document = parse_text(text)

    assert document.attachments == ["高校安全工作办法。"]
    assert document.warnings == [
        "第9行：只有一个附件时，附件说明不编序号",
        "第9行：附件名称“高校安全工作办法。”后不加标点符号",
    ]


def test_the_cc_and_printing_lines_of_the_closing_block_are_read():
    document = parse_text(FULL)

    assert document.cc == ["自治区党委教育工委", "自治区公安厅"]
    assert (document.printing_organ, document.printed_on) == ("内蒙古自治区教育厅办公室", datetime.date(2022, 1, 6))


CITING = """中共内蒙古大学委员会
内大党发〔2022〕15号
中共内蒙古大学委员会转发关于转发《关于做好X工作的通知》的通知
各学院党委：
根据《中国共产党章程》和《关于加强高校党建工作的意见》（中组发〔2021〕3号）要求，现将中共内蒙古自治区教育工作委员会《关于转发〈中共中央组织部关于做好X工作的通知〉的通知》（内教工委发〔2022〕7号）转发给你们，请按照《中共内蒙古大学委员会工作规则》认真贯彻执行。
中共内蒙古大学委员会
2022年10月20日
"""


def test_documents_cited_in_the_body_are_not_forwarded_and_a_nested_forward_is_nested():
    document = parse_text(CITING)

    assert [forwarded.as_json() for forwarded in document.forwarded] == [
        {
            "title": "关于转发〈中共中央组织部关于做好X工作的通知〉的通知",
            "number": "内教工委发〔2022〕7号",
            "issuer": "中共内蒙古自治区教育工作委员会",
            "forwarded": [
                {
                    "title": "中共中央组织部关于做好X工作的通知",
                    "number": None,
                    "issuer": "中共中央组织部",
                    "forwarded": [],
                }
            ],
        }
    ]


def test_two_documents_forwarded_in_one_sentence_are_both_listed_with_their_issuers():
    text = CITING.replace(
        "现将中共内蒙古自治区教育工作委员会《关于转发〈中共中央组织部关于做好X工作的通知〉的通知》（内教工委发〔2022〕7号）",
        "现将自治区党委组织部《关于做好A工作的通知》（内组字〔2022〕1号）和自治区教育厅《关于做好B工作的意见》（内教发〔2022〕2号）",
    )

    document = parse_text(text)

    assert [(f.title, f.number, f.issuer) for f in document.forwarded] == [
        ("关于做好A工作的通知", "内组字〔2022〕1号", "自治区党委组织部"),
        ("关于做好B工作的意见", "内教发〔2022〕2号", "自治区教育厅"),
    ]


def test_a_forwarded_document_listed_as_an_attachment_is_reported():
    text = CITING.replace(
        "中共内蒙古大学委员会\n2022年10月20日",
        "附件：关于转发〈中共中央组织部关于做好X工作的通知〉的通知\n中共内蒙古大学委员会\n2022年10月20日",
    )

    document = parse_text(text)

    assert document.warnings == [
        "第6行：转发的公文《关于转发〈中共中央组织部关于做好X工作的通知〉的通知》不是附件，不应列入附件说明"
    ]


def test_a_telegram_without_its_page_count_is_reported():
    text = (
        "中共内蒙古自治区委员会组织部明传电报\n发往地址 见报头\n签批盖章 机要三 李玉刚 发电专用章\n"
        "等 级 特 急 内组电明字〔2022〕12号\n关于做好值班工作的通知\n各盟市委组织部：\n请做好值班工作。\n"
        "内蒙古自治区党委组织部\n2022年10月1日\n"
    )

    document = parse_text(text)

    assert (document.kind, document.urgency, document.page_count) == ("明传电报", "特急", None)
    assert document.warnings == ["第4行：明传电报应标注页数（共 N 页）"]


def test_a_text_with_no_document_in_it_gives_a_partial_result_with_findings():
    document = parse_text("今天天气很好，我们去公园散步。\n然后回家吃饭。")

    assert document.as_json()["number"] is None
    assert document.title is None
    assert document.body == "今天天气很好，我们去公园散步。\n然后回家吃饭。"
    assert document.warnings == [
        "第1行：未找到发文字号",
        "第1行：未找到标题",
        "第1行：未找到发文机关标志",
        "第2行：未找到成文日期",
    ]


def test_an_empty_text_gives_an_empty_result_that_says_so():
    document = parse_text(" \n\n\t\n")

    assert document.as_json()["title"] is None
    assert document.warnings == ["第1行：文件中没有找到任何文字"]


def test_a_second_document_the_first_does_not_forward_is_enclosed_with_a_finding():
    second = _document("中共内蒙古工业大学委员会文件\n内工大党发〔2022〕3号")
    first = _document("中共内蒙古大学委员会文件\n内大党发〔2022〕7号")

    document = parse_text(first + second)

    assert [enclosed.number for enclosed in document.enclosed] == ["内工大党发〔2022〕3号"]
    assert "第9行：此处起的公文“关于做好秋季学期工作的通知”未被前文转发，按所附公文处理" in document.warnings


def test_a_forward_of_a_forward_nests_the_enclosed_documents_by_their_numbers():
    telegram = (
        "中共内蒙古自治区委员会组织部明传电报\n等级 特提 内组电明字〔2022〕11号\n共 2 页\n关于做好X工作的通知\n"
        "各直属党委：\n请做好X工作。\n内蒙古自治区党委组织部\n2022年10月13日\n"
    )
    education = (
        "中共内蒙古自治区教育工作委员会\n内教工委函〔2022〕90号\n中共内蒙古自治区教育工作委员会转发关于做好X工作的通知\n"
        "各高等学校党委：\n现将自治区党委组织部《关于做好X工作的通知》（内组电明字〔2022〕11号）转发给你们。\n"
        "中共内蒙古自治区教育工作委员会\n2022年10月14日\n"
    )
    university = (
        "中共内蒙古大学委员会\n内大党发〔2022〕20号\n中共内蒙古大学委员会转发关于做好X工作的通知\n各学院党委：\n"
        "现将自治区教育工委《中共内蒙古自治区教育工作委员会转发关于做好X工作的通知》（内教工委函〔2022〕90号）转发给你们。\n"
        "中共内蒙古大学委员会\n2022年10月15日\n"
    )

    document = parse_text(university + education + telegram)

    assert document.number == "内大党发〔2022〕20号"
    assert [enclosed.number for enclosed in document.enclosed] == ["内教工委函〔2022〕90号"]
    assert [enclosed.number for enclosed in document.enclosed[0].enclosed] == ["内组电明字〔2022〕11号"]
    # What the enclosed cover letter forwards becomes the nest of what this one forwards.
    assert document.as_json()["forwarded"] == [
        {
            "title": "中共内蒙古自治区教育工作委员会转发关于做好X工作的通知",
            "number": "内教工委函〔2022〕90号",
            "issuer": "自治区教育工委",
            "forwarded": [
                {
                    "title": "关于做好X工作的通知",
                    "number": "内组电明字〔2022〕11号",
                    "issuer": "自治区党委组织部",
                    "forwarded": [],
                }
            ],
        }
    ]
    assert document.warnings == []


def test_a_cover_letter_without_its_number_is_still_split_from_the_document_it_encloses():
    text = (
        "首页 > 通知公告\n关于做好秋季学期工作的通知\n"
        + CITING.replace("内大党发〔2022〕15号\n", "")
        + (
            "中共内蒙古自治区教育工作委员会\n内教工委发〔2022〕7号\n"
            "关于转发〈中共中央组织部关于做好X工作的通知〉的通知\n各高校党委：\n请认真落实。\n"
        )
    )

    document = parse_text(text)

    assert (document.number, document.issuer) == (None, "中共内蒙古大学委员会")
    assert document.title == "中共内蒙古大学委员会转发关于转发《关于做好X工作的通知》的通知"
    assert [enclosed.number for enclosed in document.enclosed] == ["内教工委发〔2022〕7号"]
    assert document.warnings[0] == "第3行：未找到发文字号"
