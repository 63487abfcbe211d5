"""The head of copies without a red 版头: the title above the number, the issuer from the title or
the 署名, and the lines (site names, wrapped title halves, 特此通知) never taken for either.

Each text is a short snippet of one form met in real copies (portal pages, 公报, law databases).
"""

from documents.importing import parse_text

_BODY = "为做好有关工作，现将有关事项通知如下。\n各单位要高度重视，认真落实。\n"


def test_a_title_wrapped_above_the_number_is_the_title_not_the_mark():
    # 公报 and wiki copies: the title in two halves, then the number, and no red mark.
    document = parse_text(
        "国务院办公厅关于部际联席会议\n\n审批程序等有关问题的通知\n国办函〔2003〕49号\n"
        f"国务院各部委、各直属机构：\n{_BODY}国务院办公厅\n2003年7月18日\n"
    )

    assert document.title == "国务院办公厅关于部际联席会议审批程序等有关问题的通知"
    assert document.number == "国办函〔2003〕49号"
    assert document.issuer_mark is None
    assert document.issuer == "国务院办公厅"


def test_a_letter_spaced_title_half_above_the_number_joins_its_title():
    document = parse_text(
        "国 务 院 办 公 厅 关 于\n安阳文字博物馆冠名问题的复函\n国办函〔2005〕94号\n"
        f"河南省人民政府：\n{_BODY}国务院办公厅\n二〇〇五年十一月十二日\n"
    )

    assert document.title == "国务院办公厅关于安阳文字博物馆冠名问题的复函"
    assert document.issuer == "国务院办公厅"


def test_a_headline_above_the_title_is_neither_title_nor_mark():
    # News copies put their own headline above the document's title.
    document = parse_text(
        "国务院：自今年起将每年农历秋分设为“中国农民丰收节”\n\n"
        "国务院关于同意设立“中国农民丰收节”的批复\n\n国函〔2018〕80号\n\n农业农村部：\n"
        "关于申请设立“中国农民丰收节”的请示收悉。同意。\n\n国务院\n\n2018年6月7日\n"
    )

    assert document.title == "国务院关于同意设立“中国农民丰收节”的批复"
    assert document.issuer == "国务院"
    assert document.issuer_mark is None


def test_the_title_below_the_number_wins_over_a_page_heading_above_it():
    document = parse_text(
        "转发温州市推行说理性行政处罚文书指导意见的通知\n瑞政办〔2011〕129号\n"
        "瑞安市人民政府办公室转发温州市推行说理性行政处罚文书指导意见的通知\n"
        f"各乡镇人民政府：\n{_BODY}瑞安市人民政府办公室\n2011年8月1日\n"
    )

    assert document.title == "瑞安市人民政府办公室转发温州市推行说理性行政处罚文书指导意见的通知"
    assert document.issuer == "瑞安市人民政府办公室"


def test_a_mark_by_its_own_words_stays_above_a_title_printed_above_the_number():
    document = parse_text(
        "XX市人民政府文件\n关于做好秋季防火工作的通知\nX政发〔2020〕3号\n"
        f"各区人民政府：\n{_BODY}XX市人民政府\n2020年9月1日\n"
    )

    assert document.issuer_mark == "XX市人民政府文件"
    assert document.issuer == "XX市人民政府"
    assert document.title == "关于做好秋季防火工作的通知"


def test_a_wrapped_title_half_above_the_number_is_never_the_mark():
    # Law-database copies: the database's 发布机关 line, the title cut to its first half, the number.
    document = parse_text(
        "浙江省金华市人民政府办公室\n关于印发金华市人民政府办理人大代表建议\n金政办发〔2010〕15号\n"
        f"各县（市、区）人民政府：\n{_BODY}金华市人民政府办公室\n二○一○年四月七日\n"
    )

    assert document.issuer != "关于印发金华市人民政府办理人大代表建议"
    assert "关于" not in (document.issuer_mark or "")


def test_the_issuer_comes_from_the_title_when_there_is_no_mark():
    document = parse_text(
        f"劳动部关于发布《违反劳动法有关劳动合同规定的赔偿办法》的通知\n劳部发〔1995〕223号\n各省劳动厅：\n{_BODY}"
    )

    assert document.issuer == "劳动部"


def test_of_joint_issuers_in_a_title_the_first_leads():
    joint = parse_text(f"中共中央、国务院关于表彰全国劳动模范和先进工作者的决定\n各地区：\n{_BODY}")
    glued = parse_text(f"鹤岗市人民政府鹤岗市中级人民法院关于完善府院联动机制的意见\n各县区：\n{_BODY}")

    assert joint.issuer == "中共中央"
    assert glued.issuer == "鹤岗市人民政府"


def test_one_organ_whose_name_holds_another_is_not_split():
    document = parse_text(f"XX省人民政府国有资产监督管理委员会关于做好年报工作的通知\n各企业：\n{_BODY}")

    assert document.issuer == "XX省人民政府国有资产监督管理委员会"


def test_the_issuer_comes_from_the_signature_when_the_title_names_none():
    document = parse_text(f"关于开展学校卫生大扫除的通知\n各部门：\n{_BODY}党委办公室\n2017年6月27日\n")

    assert document.issuer == "党委办公室"


def test_a_site_or_section_line_above_the_title_is_not_the_mark():
    portal = parse_text(
        "怒江州人民政府\n云南省民政厅办公室关于印发索引号编制规则的通知\n"
        f"厅机关各处（室、局）：\n{_BODY}2020年10月10日\n"
    )
    section = parse_text(f"规章制度\n校务公开领导小组办公室关于校务公开有关工作的通知\n各单位：\n{_BODY}2007年3月1日\n")

    assert portal.issuer == "云南省民政厅办公室"
    assert portal.title == "云南省民政厅办公室关于印发索引号编制规则的通知"
    assert section.issuer == "校务公开领导小组办公室"
    assert section.title == "校务公开领导小组办公室关于校务公开有关工作的通知"


def test_without_a_title_the_closing_formula_is_never_taken_for_one():
    document = parse_text("各学院：\n请于本周五前报送名单。\n特此通知\n学生处\n2017年10月19日\n")

    assert document.title is None
    assert document.main_recipients == ["各学院"]


def test_a_body_heading_is_never_a_title():
    document = parse_text("一、总体要求\n各单位要高度重视，认真落实。\n学生处\n2017年10月19日\n")

    assert document.title is None


def test_a_printed_document_without_a_header_starts_at_the_title_its_cover_names():
    # 印发 covers reproduce the document they print after their date, with no number of its own.
    root = parse_text(
        "太湖县人民政府关于印发《太湖县人民政府工作规则》的通知\n太政〔2019〕3号\n各乡镇人民政府：\n"
        "《太湖县人民政府工作规则》已经县政府同意，现印发给你们，请认真贯彻执行。\n"
        "太湖县人民政府\n2019年3月1日\n太湖县人民政府工作规则\n（2019年3月修订）\n"
        "第一章 总则\n第一条 为规范县政府工作，制定本规则。\n"
    )

    assert root.title == "太湖县人民政府关于印发《太湖县人民政府工作规则》的通知"
    assert [document.title for document in root.enclosed] == ["太湖县人民政府工作规则"]
    assert root.enclosed[0].body.startswith("（2019年3月修订）")


def test_an_enclosed_title_may_carry_a_qualifier_in_brackets_and_wrap():
    root = parse_text(
        "关于印发清远市人民政府工作规则的通知\n各县人民政府：\n现将《清远市人民政府工作规则》印发给你们。\n"
        "清远市人民政府\n2019年11月28日\n清远市人民政府\n工作规则(2019年11月修订)\n第一章 总则\n"
    )

    assert [document.title for document in root.enclosed] == ["清远市人民政府工作规则(2019年11月修订)"]


def test_a_line_after_the_date_that_the_cover_does_not_name_starts_nothing():
    root = parse_text(
        "关于做好秋季防火工作的通知\n各乡镇：\n请做好秋季防火工作。\n县人民政府\n2020年9月1日\n值班安排表\n"
    )

    assert root.enclosed == []


def test_an_attachment_the_cover_lists_stays_an_attachment():
    root = parse_text(
        "关于印发《高校安全工作办法》的通知\n各高等学校：\n现将《高校安全工作办法》印发给你们。\n"
        "附件：高校安全工作办法\n自治区教育厅\n2022年1月5日\n附件\n高校安全工作办法\n第一条 为了保障高校安全……\n"
    )

    assert root.enclosed == []
    assert root.attachments == ["高校安全工作办法"]


def test_a_number_on_its_own_line_in_brackets_is_the_number():
    plain = parse_text(
        f"关于做好劳动合同管理工作的通知\n（劳社厅函〔2007〕120号）\n各省劳动保障厅：\n{_BODY}劳动和社会保障部办公厅\n2007年4月1日\n"
    )
    dated = parse_text(f"关于教材审定工作的通知\n(教基厅[1993]6号 1993年3月15日)\n各省教委：\n{_BODY}")

    assert plain.number == "劳社厅函〔2007〕120号"
    assert plain.title == "关于做好劳动合同管理工作的通知"
    assert plain.main_recipients == ["各省劳动保障厅"]
    assert dated.number == "教基厅〔1993〕6号"
    assert dated.title == "关于教材审定工作的通知"


def test_a_sentence_that_opens_with_a_cited_number_is_body():
    long_sentence = "根据教党〔2009〕20号和湘教发〔2009〕45号文件精神，为进一步理顺我校各级关工委工作机制，" * 2
    document = parse_text(f"关于调整二级关工委成员的通知\n各学院：\n{long_sentence}\n")

    assert document.number is None
    assert document.title == "关于调整二级关工委成员的通知"
    assert document.main_recipients == ["各学院"]


def test_an_organ_line_above_a_title_without_its_issuer_is_the_titles_first_half():
    document = parse_text(
        "瑞政办〔2011〕129号\n瑞安市人民政府办公室\n转发温州市推行说理性行政处罚文书\n指导意见及操作规范的通知\n"
        f"市政府直属各单位：\n{_BODY}"
    )

    assert document.title == "瑞安市人民政府办公室转发温州市推行说理性行政处罚文书指导意见及操作规范的通知"
    assert document.issuer == "瑞安市人民政府办公室"


def test_a_database_organ_line_with_its_province_yields_to_the_signature():
    document = parse_text(
        "广东省东莞市人民政府\n东府办〔2005〕42号\n关于印发东莞市困难家庭住房保障办法实施细则的通知\n"
        f"各镇人民政府：\n{_BODY}东莞市人民政府办公室\n二○○五年六月二十八日\n"
    )
    red_mark = parse_text(
        f"东莞市人民政府文件\n东府〔2005〕4号\n关于做好防汛工作的通知\n各镇人民政府：\n{_BODY}东莞市人民政府办公室\n2005年6月1日\n"
    )

    assert document.issuer == "东莞市人民政府办公室"
    assert red_mark.issuer == "东莞市人民政府"
