import dataclasses
import datetime

import pytest

from documents.content import DocumentContent
from documents.digest import CONTENT_FIELDS, canonical_bytes, content_digest, normalise_text
from tests.factories import content
from units.errors import InvalidInput


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"kind": "便函"}, "文种“便函”不存在"),
        ({"urgency": "火急"}, "紧急程度“火急”不存在"),
        ({"classification": "秘密"}, "不是涉密信息系统，不能处理秘密公文"),
        ({"classification": "机密"}, "不能处理机密公文"),
        ({"title": "   "}, "标题不能为空"),
        ({"title": "长" * 501}, "标题过长（501 字"),
        ({"body": "\n\n"}, "正文不能为空"),
        ({"copy_number": "12"}, "份号“12”应为 6 位阿拉伯数字"),
        ({"page_count": 0}, "页数 0 不合理"),
        ({"printed_on": datetime.date(2022, 10, 1)}, "印发日期不能早于成文日期"),
    ],
)
def test_bad_elements_are_refused_naming_the_element(changes, problem):
    with pytest.raises(InvalidInput, match=problem):
        content(**changes).cleaned()


def test_classified_documents_are_accepted_only_by_an_approved_deployment(settings):
    settings.CLASSIFIED_ALLOWED = True
    assert content(classification="秘密").cleaned().classification == "秘密"


def test_text_is_normalised_before_it_is_stored():
    cleaned = content(title=" 关于 做好\n测试工作的通知 ", body="第一段  \r\n第二段\r\n\r\n").cleaned()
    assert cleaned.title == "关于 做好 测试工作的通知"
    assert cleaned.body == "第一段\n第二段"
    assert normalise_text("Cafe\u0301") == "Café"  # NFC


def test_the_digest_covers_every_element_and_the_number():
    elements = {name: getattr(content(), name) for name in CONTENT_FIELDS if hasattr(content(), name)}
    base = content_digest(number="内组字〔2022〕1号", elements=elements, attachments=[], enclosure_digests=[])
    assert content_digest(number="内组字〔2022〕2号", elements=elements, attachments=[], enclosure_digests=[]) != base
    for name in CONTENT_FIELDS:
        changed = {**elements, name: "变"}
        assert (
            content_digest(number="内组字〔2022〕1号", elements=changed, attachments=[], enclosure_digests=[]) != base
        )
    with_attachment = content_digest(
        number="内组字〔2022〕1号", elements=elements, attachments=[("附件.pdf", 10, "a" * 64)], enclosure_digests=[]
    )
    with_enclosure = content_digest(
        number="内组字〔2022〕1号", elements=elements, attachments=[], enclosure_digests=["b" * 64]
    )
    assert len({base, with_attachment, with_enclosure}) == 3


def test_the_canonical_serialisation_is_stable():
    """Version 1 of the serialisation, byte for byte: changing it would change every digest."""
    elements = dict.fromkeys(CONTENT_FIELDS)
    elements.update(title="标题", body="正文", kind="通知", written_on=datetime.date(2022, 10, 13), page_count=4)
    data = canonical_bytes(
        number="内组字〔2022〕1号",
        elements=elements,
        attachments=[("a.pdf", 3, "c" * 64)],
        enclosure_digests=["d" * 64],
    )
    assert data.startswith(b'{"attachments":[{"name":"a.pdf","sha256":"ccc')
    assert '"written_on":"2022-10-13"' in data.decode()
    assert '"number":"内组字〔2022〕1号"' in data.decode()
    assert (
        content_digest(
            number="内组字〔2022〕1号",
            elements=elements,
            attachments=[("a.pdf", 3, "c" * 64)],
            enclosure_digests=["d" * 64],
        )
        == "6be9000b3832f43920ece7f0de0ae555d6b8681ffb9a70e77b78377252045d7b"
    )


def test_document_content_has_every_digested_element():
    fields = {field.name for field in dataclasses.fields(DocumentContent)}
    assert set(CONTENT_FIELDS) <= fields
