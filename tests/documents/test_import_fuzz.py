"""No text crashes the importer: whatever comes in, a partial result with findings comes out."""

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents.importing import import_bytes, parse_text
from units.errors import InvalidInput

KEYS = {
    "issuer", "number", "kind", "title", "urgency", "classification", "page_count", "main_recipients", "cc",
    "signatory", "date", "attachments", "forwarded", "enclosed", "body", "warnings",
}  # fmt: skip

# Pieces of real documents, so that the fuzzer reaches the parser's branches and not only its
# "nothing found" path: marks, numbers in every bracket, dates, headers, brackets left open.
FRAGMENTS = [
    "中共内蒙古自治区教育工作委员会", "蒙古文：", "内教工委函〔2022〕90号", "内大党发[22]007号", "〔", "〕", "（", "）",
    "《", "》", "〈", "〉", "转发", "批转", "关于", "的通知", "：", "、", "，", "。", "\n", "\n\n", " ", "\u3000",
    "附件：1.", "2.", "附件1", "抄送：", "印发", "2022年10月13日", "二〇二二年十月十三日", "2022-13-45", "等 级 特 提",
    "共 4 页", "发往地址 见报头", "签批盖章 机要三 李玉刚 发电专用章", "(此页无正文)", "- 4 -", "签发人：张三",
    "各高等学校党委：", "一、", "（一）", "机密★1年", "特急", "000123", "\u1820\u1821", "号", "第", "0", "\r", "\x00",
]  # fmt: skip
DOCUMENT_LIKE = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=60).map("".join)


def _assert_well_formed(document_json: dict) -> None:
    assert set(document_json) == KEYS
    assert isinstance(document_json["warnings"], list)
    assert all(isinstance(warning, str) for warning in document_json["warnings"])
    for enclosed in document_json["enclosed"]:
        _assert_well_formed(enclosed)
    json.dumps(document_json, ensure_ascii=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_any_text_gives_a_result_of_the_contract_shape(text):
    _assert_well_formed(parse_text(text).as_json())


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT_LIKE)
def test_any_jumble_of_document_pieces_gives_a_result_of_the_contract_shape(text):
    document = parse_text(text)

    _assert_well_formed(document.as_json())
    assert document.warnings or document.number  # something found, or a finding that says what was not


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_a_result_or_a_clear_refusal_naming_the_file(data):
    try:
        document = import_bytes(data, name="来文.txt")
    except InvalidInput as error:
        refusal = str(error)
    else:
        _assert_well_formed(document.as_json())
        return
    assert "“来文.txt”" in refusal


def _specimen_files() -> dict[str, bytes]:
    """A small PDF and OFD of our own layout, made once: the fuzzer damages them byte by byte."""
    import datetime

    from documents.models import Document, Kind
    from documents.ofd import write_ofd
    from documents.rendering import render_pdf
    from units.models import Unit

    document = Document(
        issuing_unit=Unit(name="测试局"),
        issuer_mark="测试局文件",
        kind=Kind.NOTICE,
        title="关于做好测试工作的通知",
        main_recipients_text="各科室：",
        body="请认真做好测试工作。",
        signature_organ="测试局",
        written_on=datetime.date(2022, 10, 13),
        number_prefix="测发",
        number_year=2022,
        number_serial=1,
    )
    return {"pdf": render_pdf(document, enclosures=[]), "ofd": write_ofd(document, enclosures=[])}


_FILES: dict[str, bytes] = {}


def _damaged(kind: str, cuts: list[tuple[int, int]]) -> bytes:
    if not _FILES:
        _FILES.update(_specimen_files())
    data = bytearray(_FILES[kind])
    for position, value in cuts:
        data[position % len(data)] = value
    return bytes(data)


CUTS = st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=8)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 100)), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.sampled_from(["pdf", "ofd"]), CUTS, st.integers(min_value=0))
def test_a_damaged_pdf_or_ofd_gives_a_result_or_a_clear_refusal_naming_the_file(kind, cuts, length):
    data = _damaged(kind, cuts)
    data = data[: max(8, length % (len(data) + 1))]
    try:
        document = import_bytes(data, name=f"来文.{kind}")
    except InvalidInput as error:
        refusal = str(error)
    else:
        _assert_well_formed(document.as_json())
        return
    assert f"“来文.{kind}”" in refusal
