import hashlib
import io

import pytest

from documents.digest import CONTENT_FIELDS, content_digest, document_content_digest
from tests.factories import content, issue
from units.errors import Conflict, InvalidInput, NotAllowed
from workflow import services
from workflow.models import AuditEvent, AuditVerb

PDF = b"%PDF-1.7\n" + b"x" * 200


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def draft(world):
    return services.document_draft(
        actor=world.zzb, unit=world.department, content=content(), main_recipients=[world.education]
    )


def test_an_attachment_is_stored_by_digest_and_counted_in_the_document_digest(world, draft):
    attachment = services.attachment_add(
        actor=world.zzb, document=draft, name="C:\\附件\\名单.pdf", stream=io.BytesIO(PDF)
    )
    assert (attachment.name, attachment.size, attachment.sha256, attachment.position) == (
        "名单.pdf",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
        1,
    )
    assert attachment.file.read() == PDF
    assert AuditEvent.objects.order_by("-seq").first().verb == AuditVerb.ATTACHMENT_ADDED
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    services.document_issue(actor=world.zzb, document=draft)
    draft.refresh_from_db()
    assert draft.digest == document_content_digest(draft)
    elements = {name: getattr(draft, name) for name in CONTENT_FIELDS}
    without = content_digest(number=draft.number, elements=elements, attachments=[], enclosure_digests=[])
    with_it = content_digest(
        number=draft.number,
        elements=elements,
        enclosure_digests=[],
        attachments=[("名单.pdf", len(PDF), hashlib.sha256(PDF).hexdigest())],
    )
    assert draft.digest == with_it != without


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("病毒.exe", b"MZ...", "附件“病毒.exe”的类型不允许"),
        ("假的.pdf", b"PK\x03\x04 not a pdf", "附件“假的.pdf”的内容与扩展名 .pdf 不符"),
        ("空.pdf", b"", "附件“空.pdf”是空文件"),
        ("无扩展名", b"%PDF-", "类型不允许"),
        ("二进制.txt", b"\x00\x01\x02", "不是文本文件"),
    ],
)
def test_a_bad_file_is_refused_naming_it_and_nothing_is_written(world, draft, nothing_written, name, data, problem):
    with nothing_written(), pytest.raises(InvalidInput, match=problem):
        services.attachment_add(actor=world.zzb, document=draft, name=name, stream=io.BytesIO(data))


def test_an_oversized_file_is_refused(world, draft, nothing_written, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    with nothing_written(), pytest.raises(InvalidInput, match="附件“大.pdf”超过大小上限 100 B"):
        services.attachment_add(actor=world.zzb, document=draft, name="大.pdf", stream=io.BytesIO(PDF))


def test_no_attachment_on_an_issued_document(world, nothing_written):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    with nothing_written(), pytest.raises(Conflict, match="已经印发"):
        services.attachment_add(actor=world.zzb, document=document, name="a.pdf", stream=io.BytesIO(PDF))


def test_no_attachment_by_another_unit(world, draft, nothing_written):
    with nothing_written(), pytest.raises(NotAllowed, match="不能添加附件"):
        services.attachment_add(actor=world.jygw, document=draft, name="a.pdf", stream=io.BytesIO(PDF))
