"""Page chrome and metadata blocks around a published document (documents.importing.portal).

Each test is a short snippet of one form a portal, law database, wiki or university site gives.
"""

import datetime

from documents.importing import parse_text
from documents.importing.portal import is_chrome, read_page
from documents.importing.text import source_lines

BODY = "为做好秋季学期工作，现将有关事项通知如下，请各单位认真贯彻落实。\n特此通知。\n"


def _page(head: str, *, title: str = "关于做好秋季学期工作的通知", closing: str = "") -> str:
    return f"{head}\n{title}\n各学院：\n{BODY}{closing}"


def _kept(text: str) -> list[str]:
    return [line.text for line in read_page(source_lines(text)).lines]


# --- Metadata blocks ------------------------------------------------------------------------------


def test_label_colon_pairs_give_the_number_and_written_date_but_never_the_publication_date():
    """信息公开 pages: 「索引号：… 成文日期：…」 two pairs a line; 文号 and 成文日期 are the document's."""
    text = _page(
        "索引号:   002564301/2021-00880 成文日期:   2021-07-15\n"
        "文件编号: 湖交〔2021〕12号  发布机构:   湖州市交通运输局\n"
        "发布日期:2021-07-20 15:01:24",
        closing="湖州市交通运输局\n",
    )

    document = parse_text(text)

    assert document.title == "关于做好秋季学期工作的通知"
    assert document.main_recipients == ["各学院"]
    assert document.number == "湖交〔2021〕12号"
    assert document.written_on == datetime.date(2021, 7, 15)
    assert any("取自网页的文号栏" in warning for warning in document.warnings)
    assert any("取自网页的成文日期栏" in warning for warning in document.warnings)


def test_a_publication_or_generation_date_is_never_taken_as_the_written_date():
    text = _page(
        "索引号: 003129766/201901-00336 组配分类: 规范性文件发布\n生成日期: 2019-01-23 文号:\n发文日期: 2019-01-23"
    )

    document = parse_text(text)

    assert document.written_on is None
    assert document.number is None


def test_the_printed_number_and_date_win_over_the_metadata():
    text = _page(
        "文号: 瑞政办〔2011〕129号 成文日期: 2011-09-01",
        title="瑞政办〔2011〕130号\n关于做好秋季学期工作的通知",
        closing="瑞安市人民政府办公室\n2011年8月9日\n",
    )

    document = parse_text(text)

    assert document.number == "瑞政办〔2011〕130号"
    assert document.written_on == datetime.date(2011, 8, 9)


def test_a_table_flattened_into_bar_separated_rows_with_spaced_labels():
    """「索 引 号 | … | 发布机构 | … |」: a metadata table copied as text."""
    head = (
        "索 引 号 | 015425431/2019-00809 | 发布机构 | 眉山市人民政府 | 公开日期 | 2019-12-23 |\n"
        "文 号 | 眉府函〔2019〕105号 | 公文种类 | 批复 | ||\n"
        "成文日期 | 2019-12-20 | 有效性 | 有效 |"
    )

    assert _kept(head + "\n关于某事的批复") == ["关于某事的批复"]
    document = parse_text(_page(head, title="眉山市人民政府关于某事的批复"))
    assert document.number == "眉府函〔2019〕105号"
    assert document.written_on == datetime.date(2019, 12, 20)


def test_labels_on_a_line_of_their_own_with_the_value_on_the_next():
    """「索引号」 / 「01527918X-2020-153077」 / 「文      号」 (empty: the next line is a label)."""
    text = _page(
        "索引号\n01527918X-2020-153077\n发文机构\n怒江州民政局\n主题分类\n民政、乡村振兴、救灾\n"
        "文      号\n发文日期\n2020-10-10 19:48:26",
    )

    document = parse_text(text)

    assert document.title == "关于做好秋季学期工作的通知"
    assert document.main_recipients == ["各学院"]
    assert document.number is None
    assert document.written_on is None


def test_a_database_record_in_brackets_and_labels_glued_to_their_values():
    """Law databases: 「【颁布时间】2015-4-28」 numbered, or 「文号国办发明电[1994]38号」 with no colon."""
    assert _kept("1. 【颁布时间】2015-4-28\n2. 【标题】关于某事的决定\n3. 【发文号】\n关于某事的决定") == [
        "关于某事的决定"
    ]
    head = "制定机关国务院办公厅\n公布日期1994.12.09\n文号国办发明电[1994]38号\n时效性现行有效\n正文:\n------"

    document = parse_text(_page(head))

    assert document.number == "国办发明电〔1994〕38号"
    assert document.title == "关于做好秋季学期工作的通知"


def test_a_bulleted_metadata_list_without_a_title_leaves_the_title_empty():
    """「- 备注/文号:明汛电〔2024〕11号」: the page's list, then straight the 主送 — no title."""
    text = (
        "- 索 引 号:SM04126-3000-2024-00016\n- 备注/文号:明汛电〔2024〕11号\n- 发布机构:县应急管理局\n各乡(镇)防指：\n"
        + BODY
    )

    document = parse_text(text)

    assert document.title is None
    assert document.number == "明汛电〔2024〕11号"
    assert document.main_recipients == ["各乡(镇)防指"]


# --- The publishing organ as the issuer: the weakest fallback ----------------------------------------


def test_the_publishing_organ_is_the_issuer_only_when_the_document_names_none():
    document = parse_text(_page("索引号: 002482082/2023-00356 发布机构: 湖州市交通运输局"))

    assert document.issuer == "湖州市交通运输局"
    assert any("网页可能转载他机关的公文" in warning for warning in document.warnings)


def test_the_publishing_organ_is_not_the_issuer_of_a_signed_document():
    """A portal republishes: 发布机构 省教育厅, the document signed by another organ."""
    text = _page("发布机构: 省教育厅", closing="浙江教育报刊总社\n2023年8月16日\n")

    assert parse_text(text).issuer != "省教育厅"


def test_the_publishing_organ_is_not_the_issuer_when_the_title_names_one():
    text = _page("发文机构: 怒江州民政局", title="云南省民政厅办公室关于做好秋季学期工作的通知")

    assert parse_text(text).issuer != "怒江州民政局"


# --- Page chrome ------------------------------------------------------------------------------------


def test_breadcrumbs_and_the_site_banner_above_them_are_dropped():
    text = (
        "通知公告\n您目前的位置: 首页» 通知公告» 党建工作\n> 政府信息公开 > 政策文件\n关于某事的通知\n各单位：\n" + BODY
    )

    assert _kept(text)[:2] == ["关于某事的通知", "各单位："]


def test_publishing_lines_and_widgets_are_dropped():
    """「发布者：…发布时间：…浏览次数：…」 under the title; 字号 大 中 小, 打印本页, 扫一扫, 分享到."""
    for line in ["发布者:党委办公室发布时间:2018-06-27浏览次数:8", "- 发布日期:2024-10-10", "【打印本页】【关闭本页】",
                 "扫一扫在手机上查看当前页面", "分享到:", "|", "视力保护色:"]:  # fmt: skip
        assert is_chrome(line), line
    assert is_chrome("字号：大 中 小", head=True)
    text = _page("发布人:高级管理员\n字号：大 中 小")
    assert parse_text(text).title == "关于做好秋季学期工作的通知"


def test_a_body_line_that_looks_like_a_label_is_kept():
    """「时间：」「来源：」 in a meeting notice are the document's, not the page's."""
    text = _page("") + "时间：2024年5月1日上午9时\n"

    assert "时间：2024年5月1日上午9时" in _kept(text)


def test_lines_without_a_chinese_character_and_site_lines_above_the_document_are_dropped():
    text = "\n".join(
        [
            "EN",
            "https://www.gov.cn/",
            "中央政府门户网站 www.gov.cn   2005年08月25日   来源:国务院办公厅",
            "000123",
            "关于某事的通知",
        ]
    )

    assert _kept(text) == ["000123", "关于某事的通知"]


def test_a_page_heading_that_repeats_the_wrapped_title_is_dropped_and_the_title_joined():
    text = "\n".join(
        [
            "国务院办公厅关于宁波港口博物馆冠名问题的函",
            "国务院办公厅关于宁波港口博物馆",
            "冠 名 问 题 的 函",
            "浙江省人民政府：",
        ]
    )

    assert _kept(text) == ["国务院办公厅关于宁波港口博物馆冠名问题的函", "浙江省人民政府："]


def test_a_repeated_heading_followed_by_its_number_in_brackets_keeps_the_number_apart():
    text = "关于某事的通知\n关于某事的通知 (国办发明电〔2001〕1号)\n各省人民政府："

    assert _kept(text) == ["关于某事的通知", "(国办发明电〔2001〕1号)", "各省人民政府："]


def test_a_wiki_metadata_block_of_title_number_and_date_lines():
    """Wikis: the title, number and date lines above 「发布机关：…」, then the document."""
    text = "\n".join(
        [
            "关于某事的复函",
            "国办函〔2000〕70号",
            "2000年9月27日",
            "发布机关:中华人民共和国国务院办公厅",
            "关于某事的复函",
            "国办函〔2000〕70号",
            "重庆市人民政府：",
        ]
    )

    assert _kept(text) == ["关于某事的复函", "国办函〔2000〕70号", "重庆市人民政府："]


def test_a_wiki_heading_run_together_on_one_line():
    text = "关于某事的函 国办函〔2001〕72号 2001年12月18日 |\n|\n贸促会、外交部："

    assert _kept(text) == ["关于某事的函", "国办函〔2001〕72号", "贸促会、外交部："]


def test_a_page_heading_above_its_timestamp_is_dropped_when_the_document_has_its_own_title():
    """The page is headed by the enclosed 办法's name; the 印发 notice has a title of its own."""
    text = "\n".join(
        [
            "某大学干部选拔任用工作办法",
            "2016-07-24 21:37",
            "某大党发〔2016〕12号",
            "某大学党委关于印发《某大学干部选拔任用工作办法》的通知",
            "各单位：",
        ]
    )

    assert _kept(text)[0] == "某大党发〔2016〕12号"


def test_a_title_above_its_publishing_line_is_kept_when_it_is_the_only_one():
    text = "关于开展卫生大扫除的通知\n发布者:党委办公室发布时间:2018-06-27\n各部门、单位："

    assert _kept(text) == ["关于开展卫生大扫除的通知", "各部门、单位："]


def test_a_sites_repost_prefix_is_not_part_of_the_title():
    """「转发医学部：关于…的通知」: the site says whose notice it reposts; a title holds no colon."""
    text = _page("", title="转发医学部:关于重申公文交换工作规范的通知")

    document = parse_text(text)

    assert document.title == "关于重申公文交换工作规范的通知"
    assert document.forwarded == []


def test_a_database_prints_the_number_and_date_in_brackets_under_the_title():
    """「（甬政发[2001]159号 2001年12月5日）」: the number stays a line of its own, the date is the
    database's date of the document, used only when the text has none."""
    text = "法搜网--中国法律信息搜索网\n关于某事的意见\n(甬政发[2001]159号 2001年12月5日)\n" + BODY

    assert _kept(text)[:2] == ["关于某事的意见", "（甬政发[2001]159号）"]
    document = parse_text(text)
    assert document.written_on == datetime.date(2001, 12, 5)
    assert any("数据库标题下的日期" in warning for warning in document.warnings)


def test_a_law_database_prints_its_issuing_organ_field_between_two_copies_of_the_title():
    text = "关于印发某规定的通知\n上海市建设和管理委员会\n关于印发某规定的通知\n沪建建[2003]89号\n各区建设局："

    page = read_page(source_lines(text))

    assert [line.text for line in page.lines] == ["关于印发某规定的通知", "沪建建[2003]89号", "各区建设局："]
    assert page.publisher == ("上海市建设和管理委员会", 2)


# --- Lists and old copies -------------------------------------------------------------------------


def test_a_bullet_a_web_list_puts_before_a_line_is_not_part_of_it():
    """Law-library pages list a document's lines with bullets: 「•中共中央、国务院关于…的决定」."""
    text = "•中共中央、国务院关于表彰全国劳动模范和先进工作者的决定\n• 各省、自治区、直辖市党委和人民政府：\n" + BODY

    document = parse_text(text)

    assert document.title == "中共中央、国务院关于表彰全国劳动模范和先进工作者的决定"
    assert document.issuer == "中共中央"
    assert document.main_recipients == ["各省、自治区、直辖市党委和人民政府"]


def test_a_number_in_small_form_brackets_or_ending_in_traditional_hao_is_read_as_printed():
    """Web pages type the year's brackets as ﹝﹞; Big5 公报 copies end the number in 號."""
    small = parse_text("关于简化党员组织关系转接手续的通知\n闽委组通﹝2004﹞31号\n各设区市委组织部：\n" + BODY)
    old = parse_text("國務院辦公廳關於南海博物館冠名問題的函\n國辦函〔2017〕35號\n海南省人民政府：\n" + BODY)

    assert small.number == "闽委组通〔2004〕31号"
    assert old.number == "國辦函〔2017〕35號"
    assert old.title == "國務院辦公廳關於南海博物館冠名問題的函"
