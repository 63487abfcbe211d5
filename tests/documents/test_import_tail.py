"""The tail of a document as real texts write it: 主送 and 抄送 lists, and what a text forwards or issues.

Each test is a short snippet of one form seen on government portals, law databases and 公报.
"""

import pytest

from documents.importing import parse_text
from documents.importing.parser import split_names


def _notice(recipients: str, body: str = "请认真贯彻执行。", *, title: str = "关于做好节日工作的通知") -> str:
    return f"{title}\n{recipients}\n{body}\n某某市人民政府办公室\n2020年1月2日\n"


# --- 主送 and 抄送: 、 between addressees, or inside one --------------------------------------------


@pytest.mark.parametrize(
    ("printed", "addressees"),
    [
        # Places before the organ they share: a bare place is no addressee on its own.
        ("各省、自治区、直辖市人民政府：", ["各省、自治区、直辖市人民政府"]),
        ("湖北、湖南省人民政府：", ["湖北、湖南省人民政府"]),
        ("各县(市)、区人民政府，市政府各部门：", ["各县(市)、区人民政府", "市政府各部门"]),
        ("中央、省驻岳单位：", ["中央、省驻岳单位"]),
        # One 各 (or 有关) over several kinds of organ.
        ("市直各委、办、局：", ["市直各委、办、局"]),
        ("各部门、单位：", ["各部门、单位"]),
        ("各党委、党总支、直属党支部：", ["各党委、党总支、直属党支部"]),
        ("各县(区)人民政府、法院：", ["各县(区)人民政府、法院"]),
        ("国务院各部委、各直属机构：", ["国务院各部委、各直属机构"]),
        ("省政府有关部门、有关直属机构：", ["省政府有关部门、有关直属机构"]),
        # Addressees of their own.
        ("各学院党委、各部门：", ["各学院党委", "各部门"]),
        ("贸促会、外交部、财政部：", ["贸促会", "外交部", "财政部"]),
        ("各街镇、区级林长制协作单位：", ["各街镇", "区级林长制协作单位"]),
        ("自治区各直属党（工、团）委、各高等学校党委：", ["自治区各直属党（工、团）委", "各高等学校党委"]),
        ("岳阳经济技术开发区、南湖新区：", ["岳阳经济技术开发区", "南湖新区"]),
    ],
)
def test_an_addressee_holding_a_list_mark_stays_whole(printed, addressees):
    assert split_names(printed) == addressees
    assert parse_text(_notice(printed)).main_recipients == addressees


def test_cc_lists_split_between_organs_only():
    assert split_names("省委各部门、各直属机构，省人大常委会办公厅、省政协办公厅。") == [
        "省委各部门、各直属机构",
        "省人大常委会办公厅",
        "省政协办公厅",
    ]


# --- 转发 and 印发: the verb and the 《title》 in different clauses --------------------------------------


def _forwarded(body: str, *, title: str = "关于做好节日工作的通知", attachment: str = "") -> list[tuple]:
    text = f"{title}\n各区人民政府：\n{body}\n{attachment}某某市人民政府办公室\n2020年1月2日\n"
    return [(item.title, item.number) for item in parse_text(text).forwarded]


def test_a_title_before_its_verb_clause_is_issued():
    # Portal 印发 notices: 《…》已经市政府同意，现印发给你们.
    body = "《某某市工作规则》已经市政府第3次常务会议审议通过，现印发给你们，请认真贯彻执行。"
    assert _forwarded(body) == [("某某市工作规则", None)]


def test_a_title_written_before_a_forward_is_forwarded_with_its_number():
    body = "市文化局制定的《地方文献征集管理办法》（厦文〔2008〕3号）已经市政府同意，现转发给你们，请遵照执行。"
    assert _forwarded(body) == [("地方文献征集管理办法", "厦文〔2008〕3号")]


def test_present_issue_forms_are_read():
    assert _forwarded("我们制定了《违反〈劳动法〉有关劳动合同规定的赔偿办法》，现予发布，请按照执行。") == [
        ("违反〈劳动法〉有关劳动合同规定的赔偿办法", None)
    ]
    assert _forwarded("现将调整后的《某某县林长名录》印发给你们，请遵照执行。") == [("某某县林长名录", None)]


def test_a_verb_pointing_back_to_the_sentence_before_takes_its_title():
    body = "省政府办公厅《关于做好防汛工作的通知》（某政办〔2020〕5号）已收悉。现将该文件转发你们，请遵照执行。"
    assert _forwarded(body) == [("关于做好防汛工作的通知", "某政办〔2020〕5号")]


def test_cited_and_past_issues_are_not_forwarded():
    body = (
        "根据《某某省工作条例》，经市政府同意，现就有关事项通知如下。2019年印发的《关于做好节日工作的通知》同时废止。"
    )
    assert _forwarded(body) == []
    # 根据《…》 before the verb clause is a citation, not the document issued.
    assert _forwarded("根据《某某省工作条例》，现印发给你们，请遵照执行。") == []


def test_an_issued_document_listed_as_an_attachment_is_not_forwarded():
    body = "《某某市工作规则》已经市政府同意，现印发给你们。"
    assert _forwarded(body, attachment="附件：某某市工作规则\n") == []


def test_the_title_names_what_it_issues_when_the_body_does_not():
    # 关于印发X的通知 with X bare and a sloppy body sentence (its 《 lost).
    body = "经市政府同意，现将东宁市干旱灾害应急预案》现印发给你们，请认真贯彻执行。"
    assert _forwarded(body, title="东宁市人民政府办公室关于印发东宁市干旱灾害应急预案的通知") == [
        ("东宁市干旱灾害应急预案", None)
    ]
    # A page line that happens to hold 发布 is no title of an issue.
    assert _forwarded("请认真贯彻执行。", title="发布机关:某某市人民政府办公室关于放假的通知") == []


# --- The closing of flattened and web copies ---------------------------------------------------------


def _flattened(tail: str) -> str:
    # A page flattened to one line: every element after the other, separated by single spaces.
    return (
        "某某市人民政府办公厅关于做好防汛工作的通知 各县、区人民政府，市政府各有关部门： "
        + "为切实做好今年的防汛工作，确保人民群众生命财产安全，现将有关事项通知如下，请各地各部门认真贯彻执行。" * 2
        + f" 某某市人民政府办公厅 {tail}"
    )


@pytest.mark.parametrize(
    "tail",
    [
        "二○○五年十一月二十一日 附: 防汛工作要点",
        "二〇〇五年十一月二十一日（此件公开发布）",
        "2005年11月21日 附件：防汛工作要点",
    ],
)
def test_a_date_glued_to_what_follows_it_in_flattened_text_is_read(tail):
    document = parse_text(_flattened(tail))

    assert document.written_on.isoformat() == "2005-11-21"
    assert document.signature_organ == "某某市人民政府办公厅"


def test_a_document_reproduced_after_a_bare_attachment_label_is_enclosed():
    text = _flattened(
        "二○○五年十一月二十一日 附: 关于督查情况的通报 各市州人民政府: "
        "督查组对我省专项行动进行了督查，现将督查情况通报如下。 省专项行动联席会议办公室 二○○五年十一月十五日"
    )

    document = parse_text(text)

    assert document.written_on.isoformat() == "2005-11-21"
    [enclosed] = document.enclosed
    assert (enclosed.title, enclosed.main_recipients) == ("关于督查情况的通报", ["各市州人民政府"])
    assert enclosed.written_on.isoformat() == "2005-11-15"


def test_a_web_attachment_link_ends_at_its_file_extension():
    document = parse_text(
        _flattened("附件：防汛工作要点.pdf 某某市人民政府办公厅二○○八年四月十一日").replace(
            " 某某市人民政府办公厅 附件", " 附件"
        )
    )

    assert document.attachments == ["防汛工作要点.pdf"]
    assert document.signature_organ == "某某市人民政府办公厅"


def test_an_attachment_note_below_the_date_gives_the_attachment_named_under_it():
    # Web copies put 「附件:」 below the date, then the attachment itself (its heading, then its text).
    text = (
        "关于报送党员报到情况的通知\n各社区党委：\n请于月底前报送统计表（见附件）。\n"
        "区委组织部办公室\n2010年4月9日\n附件:\n党员报到情况统计表\n单位: 联系人:\n"
    )

    document = parse_text(text)

    assert document.attachments == ["党员报到情况统计表"]
    assert document.written_on.isoformat() == "2010-04-09"


@pytest.mark.parametrize(
    ("signature", "organ"),
    [
        ("校务公开领导小组办公室(代章)", "校务公开领导小组办公室"),  # another office's seal stands in
        ("党委办公室(学院办公室)", "党委办公室(学院办公室)"),  # one office under both its names
        ("國務院辦公廳", "國務院辦公廳"),  # Big5 copies of the 公报
    ],
)
def test_signatures_in_brackets_and_traditional_characters_are_read(signature, organ):
    text = f"关于做好节日工作的通知\n各部门：\n请认真贯彻执行。\n{signature}\n二○○七年九月二十四日\n"

    document = parse_text(text)

    assert (document.signature_organ, document.written_on.isoformat()) == (organ, "2007-09-24")
