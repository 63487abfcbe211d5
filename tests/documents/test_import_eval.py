"""import_eval: the importer scored field by field against expectations written by hand."""

import json

import pytest
from django.core.management import CommandError, call_command

from documents.importing.evaluation import SCORED_FIELDS
from tests.documents.importing_helpers import seed_bytes

TELEGRAM_TITLE = "关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用在打赢疫情防控攻坚战中切实担当作为的通知"
# The seed as a clerk reads it: the cover letter shows no 署名 and no date (its page 2 held the seal).
SEED = {
    "issuer": "中共内蒙古自治区教育工作委员会",
    "number": "内教工委函〔2022〕90号",
    "title": f"中共内蒙古自治区教育工作委员会转发{TELEGRAM_TITLE}",
    "main_recipients": ["各高等学校党委"],
    "cc": [],
    "signatory": None,
    "date": None,
    "attachments": [],
    "forwarded": [{"title": TELEGRAM_TITLE, "number": "内组电明字〔2022〕11号"}],
    "enclosed": [
        {
            "issuer": "中共内蒙古自治区委员会组织部",
            "number": "内组电明字〔2022〕11号",
            "title": TELEGRAM_TITLE,
            "main_recipients": ["各盟市委组织部", "自治区各直属党（工）委"],
            "cc": [],
            "signatory": "内蒙古自治区党委组织部",
            "date": "2022-10-13",
            "attachments": [],
            "forwarded": [],
        }
    ],
}
PROBE_TEXT = (
    "测试局文件\n\n测发〔2021〕3号\n\n关于做好测试工作的通知\n\n各科室，各直属单位：\n\n请认真做好测试工作。\n\n"
    "附件：测试方案\n\n测试局\n\n2021年3月5日\n"
)
# Written to disagree on purpose: a title the text does not have (wrong), a 抄送 it lacks (missing),
# and a number in the page's own brackets (right: brackets are made 〔〕 before comparing).
PROBE = {
    "issuer": "测试局",
    "number": "测发[2021]3号",
    "title": "关于做好其他工作的通知",
    "main_recipients": ["各科室", "各直属单位"],
    "cc": ["市政府办公室"],
    "signatory": "测试局",
    "date": "2021-03-05",
    "attachments": ["测试方案"],
    "forwarded": [],
}


@pytest.fixture
def corpus(tmp_path):
    for name, source, expected in (("001-seed", seed_bytes(), SEED), ("002-probe", PROBE_TEXT.encode(), PROBE)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "source.txt").write_bytes(source)
        (folder / "expected.json").write_text(json.dumps(expected, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "notes").mkdir()  # a folder without expected.json is not a document
    return tmp_path


def _figures(corpus, capsys) -> dict:
    call_command("import_eval", str(corpus), "--json")
    return json.loads(capsys.readouterr().out)


def test_every_field_is_scored_right_missing_or_wrong(corpus, capsys):
    figures = _figures(corpus, capsys)

    assert figures["documents"]["001-seed"] == {"right": 20, "missing": 0, "wrong": 0, "total": 20, "accuracy": 1.0}
    assert figures["documents"]["002-probe"] == {"right": 8, "missing": 1, "wrong": 1, "total": 10, "accuracy": 0.8}
    assert figures["accuracy"] == {"right": 28, "missing": 1, "wrong": 1, "total": 30, "accuracy": 0.9333}
    assert set(figures["fields"]) == set(SCORED_FIELDS)
    assert figures["fields"]["title"] == {"right": 2, "missing": 0, "wrong": 1, "total": 3, "accuracy": 0.6667}
    assert figures["misses"] == [
        {
            "document": "002-probe",
            "field": "title",
            "expected": "关于做好其他工作的通知",
            "found": "关于做好测试工作的通知",
        },
        {"document": "002-probe", "field": "cc", "expected": ["市政府办公室"], "found": []},
    ]


def test_the_table_names_each_field_and_each_miss_in_chinese(corpus, capsys):
    call_command("import_eval", str(corpus))

    out = capsys.readouterr().out
    assert "合计            28    30    93.3%     1     1" in out
    assert "标题             2     3    66.7%     0     1" in out
    assert "002-probe  8/10  80%" in out
    assert "    抄送 留空：应为 ('市政府办公室',)，读出 ()" in out


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("no-source", "001-bad：应有且只有一个 source.* 文件，找到 0 个。"),
        ("two-sources", "001-bad：应有且只有一个 source.* 文件，找到 2 个。"),
        ("bad-json", "001-bad/expected.json 不是有效的 JSON"),
    ],
)
def test_a_malformed_corpus_is_refused_by_name(tmp_path, layout, message):
    folder = tmp_path / "001-bad"
    folder.mkdir()
    (folder / "expected.json").write_text("{" if layout == "bad-json" else "{}", encoding="utf-8")
    if layout != "no-source":
        (folder / "source.txt").write_text("通知", encoding="utf-8")
    if layout == "two-sources":
        (folder / "source.docx").write_bytes(b"PK")
    with pytest.raises(CommandError, match=message):
        call_command("import_eval", str(tmp_path))


def test_a_folder_that_is_not_there_or_holds_no_document_is_refused(tmp_path):
    with pytest.raises(CommandError, match="不是文件夹"):
        call_command("import_eval", str(tmp_path / "nowhere"))
    with pytest.raises(CommandError, match="没有带 expected.json 的文档文件夹"):
        call_command("import_eval", str(tmp_path))
