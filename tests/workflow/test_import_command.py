"""manage.py import_document: its JSON lines (a contract), its report, its refusals."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from documents.models import Document
from tests.documents.importing_helpers import seed_bytes
from workflow.models import Delivery

KEYS = {
    "issuer", "number", "kind", "title", "urgency", "classification", "page_count", "main_recipients", "cc",
    "signatory", "date", "attachments", "forwarded", "enclosed", "body", "warnings",
}  # fmt: skip


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_document", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "来文.txt"
    path.write_bytes(seed_bytes())
    return path


def _assert_contract_shape(document: dict) -> None:
    assert set(document) == KEYS
    for key in ("issuer", "number", "kind", "title", "urgency", "classification", "signatory", "date", "body"):
        assert document[key] is None or isinstance(document[key], str), key
    assert document["page_count"] is None or isinstance(document["page_count"], int)
    for key in ("main_recipients", "cc", "attachments", "forwarded", "enclosed", "warnings"):
        assert isinstance(document[key], list), key
    for forwarded in document["forwarded"]:
        assert set(forwarded) == {"title", "number", "issuer", "forwarded"}
    for enclosed in document["enclosed"]:
        _assert_contract_shape(enclosed)


def test_dry_run_json_prints_one_object_a_line_per_file_and_writes_nothing(db, seed_file, tmp_path, nothing_written):
    other = tmp_path / "other.txt"
    other.write_text(
        "中共内蒙古大学委员会文件\n内大党发[2022]7号\n关于做好工作的通知\n各学院党委：\n请落实。\n", "gb18030"
    )

    with nothing_written():
        out, err = _run(str(seed_file), str(other), "--dry-run", "--json")

    lines = out.splitlines()
    assert len(lines) == 2
    cover, second = (json.loads(line) for line in lines)
    _assert_contract_shape(cover)
    _assert_contract_shape(second)
    assert (cover["number"], cover["kind"], cover["date"]) == ("内教工委函〔2022〕90号", "通知", None)
    assert [enclosed["number"] for enclosed in cover["enclosed"]] == ["内组电明字〔2022〕11号"]
    assert (cover["enclosed"][0]["date"], cover["enclosed"][0]["page_count"]) == ("2022-10-13", 4)
    assert cover["warnings"] == ["第15行：未找到成文日期"]
    assert second["number"] == "内大党发〔2022〕7号"
    assert second["warnings"][0] == "第2行：发文字号“内大党发[2022]7号”：年份应使用六角括号“〔〕”，不应使用“[]”"
    assert err == ""


def test_dry_run_without_json_shows_the_elements_and_the_findings(db, seed_file):
    out, _err = _run(str(seed_file), "--dry-run")

    assert "内教工委函〔2022〕90号 通知" in out
    assert "! 第15行：未找到成文日期" in out
    assert "所附公文：" in out
    assert "内组电明字〔2022〕11号 明传电报【特提】 共 4 页" in out
    assert "转发：内蒙古自治区党委组织部《关于进一步发挥" in out


def test_a_file_that_cannot_be_read_still_gets_its_json_line_saying_why(db, seed_file, tmp_path):
    garbled = tmp_path / "乱码.txt"
    garbled.write_bytes(b"\x80\x80\xff\xfe")
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 个文件未能导入"):
        call_command("import_document", str(garbled), str(seed_file), "--dry-run", "--json", stdout=out, stderr=err)

    unreadable, seed = (json.loads(line) for line in out.getvalue().splitlines())
    _assert_contract_shape(unreadable)
    reason = f"文件“{garbled}”无法识别文字编码：从第 1 字节起既不是 UTF-8 / GB18030 编码的文字。"
    assert unreadable == {key: [] for key in KEYS} | {
        key: None for key in KEYS if key not in ("main_recipients", "cc", "attachments", "forwarded", "enclosed")
    } | {"warnings": [reason]}
    assert seed["number"] == "内教工委函〔2022〕90号"
    assert reason in err.getvalue()


def test_without_dry_run_a_unit_to_register_for_is_required(db, seed_file):
    with pytest.raises(CommandError, match="请用 --as-received-by 单位 或 --draft-for 单位"):
        _run(str(seed_file))


def test_an_unknown_unit_is_refused_before_anything_is_read(world, seed_file, nothing_written):
    with nothing_written(), pytest.raises(CommandError, match="单位“没有这个单位”不存在或已停用"):
        _run(str(seed_file), "--as-received-by", "没有这个单位")


def test_registering_as_received_reports_what_was_created_and_a_second_run_changes_nothing(world, seed_file):
    out, _err = _run(str(seed_file), "--as-received-by", "内蒙古大学党委")

    assert "已登记内蒙古大学党委收文 内教工委函〔2022〕90号" in out
    assert "新登记：内组电明字〔2022〕11号（自治区党委组织部）" in out
    assert Document.objects.filter(state=Document.State.ISSUED).count() == 2
    assert Delivery.objects.get().unit == world.university

    again, _err = _run(str(seed_file), "--as-received-by", "内蒙古大学党委")

    assert "内教工委函〔2022〕90号已送达内蒙古大学党委，无需重复登记，未作任何改动。" in again
    assert Delivery.objects.count() == 1


def test_with_json_stdout_holds_only_the_json_lines(world, seed_file):
    out, err = _run(str(seed_file), "--json", "--as-received-by", "内蒙古大学党委")

    assert [json.loads(line)["number"] for line in out.splitlines()] == ["内教工委函〔2022〕90号"]
    assert "已登记内蒙古大学党委收文" in err


def test_a_file_that_cannot_be_read_or_registered_is_named_and_the_others_go_on(world, seed_file, tmp_path):
    missing = tmp_path / "missing.txt"
    garbled = tmp_path / "乱码.txt"
    garbled.write_bytes(b"\x80\x80\xff\xfe")
    numberless = tmp_path / "无文号.txt"
    numberless.write_text("关于做好工作的通知\n各学院党委：\n请落实。\n", "utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="3 个文件未能导入"):
        call_command(
            "import_document",
            str(missing),
            str(garbled),
            str(numberless),
            str(seed_file),
            "--as-received-by",
            "内蒙古大学党委",
            stdout=io.StringIO(),
            stderr=err,
        )

    messages = err.getvalue()
    assert f"{missing}：无法读取文件" in messages
    assert f"文件“{garbled}”无法识别文字编码" in messages
    assert f"{numberless}：未登记。文件“{numberless}”：第1行起的公文没有找到发文字号，无法登记。" in messages
    # The good file was registered all the same, the bad ones left nothing.
    assert list(Document.objects.values_list("number_prefix", flat=True).order_by("number_prefix")) == [
        "内教工委函",
        "内组电明字",
    ]


def test_a_draft_for_a_unit_that_never_received_what_it_forwards_is_refused(world, seed_file, nothing_written):
    _run(str(seed_file), "--as-received-by", "内蒙古大学党委")  # now the telegram is in the system
    err = io.StringIO()

    with nothing_written(), pytest.raises(CommandError, match="1 个文件未能导入"):
        call_command(
            "import_document", str(seed_file), "--draft-for", "自治区直属机关工委", stdout=io.StringIO(), stderr=err
        )

    assert "内组电明字〔2022〕11号没有送达自治区直属机关工委，不能转发" in err.getvalue()


def test_a_draft_for_a_unit_is_created_when_what_it_forwards_is_not_in_the_system(world, tmp_path):
    text = "自治区教育工委\n关于做好工作的通知\n各高等学校党委：\n请认真落实。\n自治区教育工委\n2022年10月14日\n"
    path = tmp_path / "draft.txt"
    path.write_text(text, "utf-8")

    out, _err = _run(str(path), "--draft-for", "自治区教育工委")

    draft = Document.objects.get()
    assert (draft.state, draft.issuing_unit, draft.title) == (
        Document.State.DRAFT,
        world.education,
        "关于做好工作的通知",
    )
    assert f"{path}：已登记为自治区教育工委的草稿《关于做好工作的通知》" in out
