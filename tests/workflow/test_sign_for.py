import threading

import pytest
from django.db import connection

from tests.factories import delivery_of, issue
from units.errors import NotAllowed, NotFound, Withdrawn
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Delivery, Receipt
from workflow.receipt_audit import signed_at_text


def test_sign_for_records_who_when_and_the_digest_signed_for(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)

    receipt = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (receipt.unit_id, receipt.signed_by_id, receipt.content_digest) == (
        world.education.pk,
        world.jygw.pk,
        document.digest,
    )
    assert (delivery.state, delivery.signed_at, delivery.read_at, delivery.read_by_id) == (
        Delivery.State.SIGNED,
        receipt.signed_at,
        receipt.signed_at,
        world.jygw.pk,
    )
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.verb, event.object_id, event.unit_id) == (
        AuditVerb.DELIVERY_SIGNED,
        str(delivery.pk),
        world.education.pk,
    )
    assert event.payload == {
        "receipt_id": receipt.pk,
        "content_digest": document.digest,
        "signed_at": signed_at_text(receipt.signed_at),
    }


def test_signing_twice_returns_the_same_receipt_and_records_nothing_more(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    first = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    with nothing_written():
        again = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    assert again == first


@pytest.mark.parametrize("intruder", ["other_clerk", "zzb", "imu", "college_clerk", "auditor"])
def test_only_a_clerk_of_the_recipient_unit_may_sign(world, nothing_written, intruder):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    with nothing_written(), pytest.raises(NotAllowed, match="不是自治区教育工委的收发员"):
        services.delivery_sign_for(actor=world.people[intruder], delivery_id=delivery.pk)


def test_a_member_without_the_clerk_role_may_not_sign(world, nothing_written):
    document, _dispatch = issue(world.jygw, world.education, main=[world.university])
    delivery = delivery_of(document, world.university)
    with nothing_written(), pytest.raises(NotAllowed):
        services.delivery_sign_for(actor=world.imu_signer, delivery_id=delivery.pk)


def test_signing_a_missing_delivery_is_not_found(world, nothing_written):
    with nothing_written(), pytest.raises(NotFound):
        services.delivery_sign_for(actor=world.jygw, delivery_id=999_999)


def test_a_recalled_delivery_cannot_be_signed(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_recall(actor=world.zzb, delivery_id=delivery.pk)
    with nothing_written(), pytest.raises(Withdrawn, match="状态为已撤回，不能签收"):
        services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_sign_fors_make_one_receipt(committed_world):
    world = committed_world
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    barrier = threading.Barrier(50)
    receipts, errors = [], []

    def sign():
        try:
            barrier.wait()
            receipts.append(services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk).pk)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(receipts)) == 1
    assert Receipt.objects.filter(delivery=delivery).count() == 1
    assert AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED).count() == 1


def test_the_receipt_returned_shows_the_delivery_as_it_is_now(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)

    first = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    again = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)

    assert [receipt.delivery.state for receipt in (first, again)] == [Delivery.State.SIGNED] * 2
    assert [receipt.delivery.document.number for receipt in (first, again)] == [document.number] * 2
    assert [receipt.unit.name for receipt in (first, again)] == ["自治区教育工委"] * 2
