"""The labelled form of 公文程式條例 (documents.importing.labelled): a 函 whose elements stand behind
printed labels, as the two real letters of tests/documents/corpus-pdf print them (新竹縣政府,
臺北市大安區健康服務中心)."""

import datetime

from documents.importing import parse_text
from documents.importing.parser import parse_documents

# The head of 新竹縣政府's 函 as its text layer gives it: a binding margin of | and 裝, one label a line.
HSINCHU = """檔 號：
保存年限：
| 新竹縣政府 函
| 地址：30210新竹縣竹北市光明六路10號| 承辦人：呂詩琦
電話：03-5518101分機2817
| 受文者：新竹縣立東興國民中學
| 發文日期：中華民國110年9月30日
裝 發文字號：府教學字第1103718733號
| 速別：普通件
| 密等及解密條件或保密期限：
| 附件：110學年度新竹縣科技教育創意實作競賽實施計畫
主旨：有關本縣辦理「110學年度科技教育創意實作競賽」乙
| 案，請各校踴躍報名參加，詳如說明，請查照。
| 說明：
一、依據本縣110學年度科技教育推動總體計畫辦理。
訂
五、檢附競賽實施計畫乙份。
正本：新竹縣各縣立國中小群組
副本：本府教育處學務管理科
第1頁 (共1頁)
"""


def test_a_labelled_letter_is_read_label_by_label():
    document = parse_text(HSINCHU)
    assert document.issuer == "新竹縣政府"
    assert document.kind == "函"
    assert document.number == "府教學字第1103718733號"
    assert document.written_on == datetime.date(2021, 9, 30)
    assert document.attachments == ["110學年度新竹縣科技教育創意實作競賽實施計畫"]
    assert document.main_recipients == ["新竹縣各縣立國中小群組"]
    assert document.cc == ["本府教育處學務管理科"]


def test_a_labelled_letter_has_no_title_and_says_so():
    document = parse_text(HSINCHU)
    assert document.title is None
    assert any("无标题" in warning for warning in document.warnings)


def test_the_year_of_the_republic_is_read_as_the_common_year():
    document = parse_text(HSINCHU.replace("中華民國110年9月30日", "中華民國109年10月5日"))
    assert document.written_on == datetime.date(2020, 10, 5)


def test_labels_glued_into_one_line_by_the_text_layer_are_parted():
    # 臺北市大安區健康服務中心's letter: its text layer joins the head's column into one line.
    glued = (
        "臺北市大安區健康服務中心 函\n"
        "傳真：27357653發文日期：中華民國109年10月5日 電子信箱：lc801220@health.gov.tw"
        "發文字號：北市安健個字第1093003080號速別：普通件密等及解密條件或保密期限："
        "附件：109年9月份登革熱病媒蚊密度調查結果表\n"
        "主旨：檢送調查結果(如附件)，請查照。說明：一、依據本中心函續辦。\n"
        "正本：臺北市大安區建倫里辦公處、文化部副本：臺北市政府衛生局（含附件）、臺北市大安區公所（含附件）\n"
        "第1頁 共2頁\n"
        "臺北市大安區109年度9月份登革熱病媒蚊密度調查結果表\n"
    )
    document = parse_text(glued)
    assert document.issuer == "臺北市大安區健康服務中心"
    assert document.number == "北市安健個字第1093003080號"
    assert document.written_on == datetime.date(2020, 10, 5)
    assert document.attachments == ["109年9月份登革熱病媒蚊密度調查結果表"]
    assert document.main_recipients == ["臺北市大安區建倫里辦公處", "文化部"]
    # 「（含附件）」 says the copy goes with its attachment; the page after the footer is not a 副本.
    assert document.cc == ["臺北市政府衛生局", "臺北市大安區公所"]


def test_a_letter_without_labels_is_not_read_as_the_labelled_form():
    text = (
        "国务院办公厅函\n国办函〔2016〕41号\n国务院办公厅关于宁波港口博物馆冠名问题的函\n浙江省人民政府：\n主旨明确。\n"
    )
    [document] = parse_documents(text)
    assert document.number == "国办函〔2016〕41号"
