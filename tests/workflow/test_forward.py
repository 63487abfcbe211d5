import pytest
from django.db import IntegrityError, connection, transaction

from documents.digest import document_content_digest
from documents.models import Document, Enclosure
from tests.factories import content, delivery_of, forward, issue
from units.errors import Conflict, InvalidInput, NotAllowed
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Forward


def test_forward_drafts_a_cover_letter_that_encloses_the_received_document_by_reference(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], title="关于做好测试工作的通知")
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)

    cover = services.document_forward(actor=world.jygw, delivery=delivery, main_recipients=[world.groups["各高校党委"]])

    assert cover.state == Document.State.DRAFT
    assert cover.issuing_unit == world.education
    assert cover.title == "自治区教育工委转发关于做好测试工作的通知"
    assert (
        cover.body
        == "现将《关于做好测试工作的通知》（内组电明字〔2022〕1号）转发给你们，请认真组织学习并抓好贯彻落实。"
    )
    assert cover.main_recipients_text == "各高等学校党委："
    assert cover.urgency == document.urgency
    assert cover.number_prefix == "内教工委函"
    assert list(Enclosure.objects.filter(cover=cover).values_list("enclosed_id", "depth")) == [
        (cover.pk, 0),
        (document.pk, 1),
    ]
    link = Forward.objects.get(cover=cover)
    assert (link.source_delivery_id, link.chain_root_id, link.depth) == (delivery.pk, document.pk, 1)
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.verb, event.document_id) == (AuditVerb.DOCUMENT_FORWARDED, cover.pk)


def test_the_original_keeps_its_digest_at_every_level_of_a_chain(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    original_digest = document.digest
    level1, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    level2, _ = forward(world.imu, delivery_of(level1, world.university), main=[world.college], signer=world.imu_signer)

    document.refresh_from_db()
    assert document.digest == original_digest == document_content_digest(document)
    assert level1.digest == document_content_digest(level1)
    assert level2.digest == document_content_digest(level2)
    # Each cover encloses the level above by digest; the deepest encloses the original transitively.
    assert list(Enclosure.objects.filter(cover=level2).order_by("depth").values_list("enclosed_id", "depth")) == [
        (level2.pk, 0),
        (level1.pk, 1),
        (document.pk, 2),
    ]
    assert level2.title == "内蒙古大学党委转发关于做好测试工作的通知"  # intermediate 转发 dropped
    assert Forward.objects.get(cover=level2).depth == 2


def test_a_title_that_is_not_a_notice_gets_de_tongzhi(world):
    document, _dispatch = issue(
        world.zzb, world.department, main=[world.education], title="关于测试工作的意见", kind="意见"
    )
    level1, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.university])
    assert level1.title == "自治区教育工委转发关于测试工作的意见的通知"


def test_forwarding_before_signing_for_is_refused(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    with nothing_written(), pytest.raises(Conflict, match="状态为待签收，不能转发。签收后才能转发。"):
        services.document_forward(actor=world.jygw, delivery=delivery_of(document, world.education))


@pytest.mark.parametrize("intruder", ["other_clerk", "zzb", "imu", "auditor"])
def test_only_the_receiving_units_clerk_may_forward_what_it_received(world, nothing_written, intruder):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    with nothing_written(), pytest.raises(NotAllowed, match="不能转发"):
        services.document_forward(actor=world.people[intruder], delivery=delivery)


def test_a_forward_may_not_use_another_units_recipient_group(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    with nothing_written(), pytest.raises(InvalidInput, match="各直属党委”不属于自治区教育工委"):
        services.document_forward(actor=world.jygw, delivery=delivery, main_recipients=[world.groups["各直属党委"]])


def test_an_issued_document_cannot_be_edited_by_the_service(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    with nothing_written(), pytest.raises(Conflict, match="已经印发，不能再修改"):
        services.document_update(actor=world.zzb, document=document, content=content(title="改过的标题"))


def test_an_enclosed_document_cannot_be_edited_by_the_forwarding_unit(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    services.document_forward(actor=world.jygw, delivery=delivery)
    with nothing_written(), pytest.raises(NotAllowed):
        services.document_update(actor=world.jygw, document=document, content=content(title="改过的标题"))


@pytest.mark.parametrize(
    ("column", "value"), [("title", "改过的标题"), ("body", "改过的正文"), ("digest", "0" * 64), ("urgency", "特急")]
)
def test_the_database_refuses_to_change_an_issued_document(world, column, value):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    with pytest.raises(IntegrityError, match="frozen"), transaction.atomic():
        Document.objects.filter(pk=document.pk).update(**{column: value})
    with pytest.raises(IntegrityError, match="frozen"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM documents_document WHERE id = %s", [document.pk])


def test_the_database_refuses_new_enclosures_or_attachments_on_an_issued_document(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    other, _ = issue(world.zzb, world.department, main=[world.education])
    with pytest.raises(IntegrityError, match="is issued"), transaction.atomic():
        Enclosure.objects.create(cover=document, enclosed=other, depth=1)
    with pytest.raises(IntegrityError, match="is issued"), transaction.atomic():
        Enclosure.objects.filter(cover=document).delete()
