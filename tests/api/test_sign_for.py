"""POST /api/v1/deliveries/{id}/sign-for: the receipt, idempotent as the old URL, every refusal a
problem, and the client that acted recorded in the audit event."""

import pytest
from django.utils import timezone

from tests.factories import delivery_of, issue
from workflow import services
from workflow.audit import acting_api_client
from workflow.models import AuditEvent, AuditVerb, Receipt

pytestmark = pytest.mark.django_db


def _url(delivery_id) -> str:
    return f"/api/v1/deliveries/{delivery_id}/sign-for"


@pytest.fixture
def delivery(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    return delivery_of(document, world.education)


def _receipt_json(receipt: Receipt) -> dict:
    delivery = receipt.delivery
    return {
        "id": receipt.pk,
        "delivery_id": delivery.pk,
        "document": {"id": delivery.document_id, "number": delivery.document.number},
        "unit": {"id": receipt.unit_id, "name": receipt.unit.name},
        "signed_by_id": receipt.signed_by_id,
        "signed_at": timezone.localtime(receipt.signed_at).isoformat(),
        "content_digest": delivery.document.digest,
    }


def test_a_clerk_signs_for_and_gets_the_receipt(world, api, delivery):
    response = api.post(_url(delivery.pk), world.jygw)

    assert response.status_code == 200
    receipt = Receipt.objects.select_related("delivery__document", "unit").get(delivery=delivery)
    assert response.json() == _receipt_json(receipt)
    assert receipt.signed_by == world.jygw
    assert receipt.content_digest == delivery.document.digest


def test_signing_again_returns_the_same_receipt_and_records_nothing(world, api, delivery):
    first = api.post(_url(delivery.pk), world.jygw).json()
    events = AuditEvent.objects.count()

    again = api.post(_url(delivery.pk), world.jygw)

    assert (again.status_code, again.json()) == (200, first)
    assert AuditEvent.objects.count() == events


def test_a_clients_sign_for_records_the_client_in_the_audit_event(world, api, delivery, make_client):
    client, key = make_client(world.education, "sign-for")

    response = api.post(_url(delivery.pk), key)

    assert response.status_code == 200
    receipt = Receipt.objects.get(delivery=delivery)
    assert receipt.signed_by_id == client.user_id
    event = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_SIGNED)
    assert (event.actor_id, event.unit_id, event.document_id) == (
        client.user_id,
        world.education.pk,
        delivery.document_id,
    )
    assert event.payload == {
        "receipt_id": receipt.pk,
        "content_digest": delivery.document.digest,
        "signed_at": event.payload["signed_at"],
        "api_client": {"id": client.pk, "name": client.name},
    }


def test_a_persons_sign_for_names_no_client(world, api, delivery):
    api.post(_url(delivery.pk), world.jygw)
    assert "api_client" not in AuditEvent.objects.get(verb=AuditVerb.DELIVERY_SIGNED).payload


def test_the_client_is_forgotten_when_its_request_ends(world, api, delivery, make_client):
    _client, key = make_client(world.education, "sign-for")
    api.post(_url(delivery.pk), key)
    assert acting_api_client.get() is None

    other = delivery_of(delivery.document, world.other)
    services.delivery_sign_for(actor=world.other_clerk, delivery_id=other.pk)
    signed = AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED).order_by("seq")
    assert ["api_client" in event.payload for event in signed] == [True, False]


# --- refusals: nothing written, and nothing learnt about what the caller may not see ---------------


def _not_found(delivery_id) -> dict:
    return {
        "type": "/api/v1/problems/not-found",
        "title": "未找到",
        "status": 404,
        "detail": "送达记录不存在或无权查看。",
        "instance": _url(delivery_id),
    }


@pytest.mark.parametrize("who", ["other_clerk", "imu", "college_clerk", "other_auditor"])
def test_a_unit_that_cannot_see_the_delivery_gets_not_found(world, api, delivery, nothing_written, who):
    # Another unit, a child unit of the recipient, a grandchild, an auditor of another subtree.
    with nothing_written():
        response = api.post(_url(delivery.pk), getattr(world, who))
    assert (response.status_code, response.json()) == (404, _not_found(delivery.pk))


def test_a_missing_delivery_is_answered_exactly_like_a_forbidden_one(world, api, nothing_written):
    with nothing_written():
        response = api.post(_url(10**9), world.other_clerk)
    assert (response.status_code, response.json()) == (404, _not_found(10**9))


@pytest.mark.parametrize("delivery_id", [0, 2**31, 2**63, 10**30])
def test_an_id_beyond_any_delivery_is_not_found(world, api, nothing_written, delivery_id):
    with nothing_written():
        response = api.post(_url(delivery_id), world.jygw)
    assert (response.status_code, response.json()) == (404, _not_found(delivery_id))


@pytest.mark.parametrize("who", ["zzb", "auditor", "jygw_leader"])
def test_who_may_see_it_but_not_sign_for_it_is_refused_with_403(world, api, delivery, nothing_written, who):
    # The issuer's clerk, the region's auditor (the parent unit's), a signer (not a clerk) of the unit.
    with nothing_written():
        response = api.post(_url(delivery.pk), getattr(world, who))
    assert response.status_code == 403
    assert response.json()["type"] == "/api/v1/problems/forbidden"
    assert response.json()["instance"] == _url(delivery.pk)


def test_anonymous_is_refused_with_401(world, api, delivery, nothing_written):
    with nothing_written():
        response = api.post(_url(delivery.pk))
    assert response.status_code == 401


def test_a_client_without_the_sign_for_scope_is_refused(world, api, delivery, make_client, nothing_written):
    # Its account is a clerk of the unit (the handle scope needs one), yet sign-for is not its scope.
    _client, key = make_client(world.education, "read", "handle")
    with nothing_written():
        response = api.post(_url(delivery.pk), key)
    assert response.status_code == 403
    assert response.json()["required_scope"] == "sign-for"


def test_a_client_of_another_unit_with_the_scope_gets_not_found(world, api, delivery, make_client, nothing_written):
    _client, key = make_client(world.university, "sign-for")
    with nothing_written():
        response = api.post(_url(delivery.pk), key)
    assert (response.status_code, response.json()) == (404, _not_found(delivery.pk))


def test_a_recalled_delivery_answers_410_with_its_stub(world, api, delivery, nothing_written):
    services.dispatch_recall(actor=world.zzb, dispatch_id=delivery.dispatch_id, reason="发错了")
    recalled_at = delivery.__class__.objects.get(pk=delivery.pk).recall.recalled_at

    with nothing_written():
        response = api.post(_url(delivery.pk), world.jygw)

    assert response.status_code == 410
    document = delivery.document
    assert response.json() == {
        "type": "/api/v1/problems/withdrawn",
        "title": "已撤回",
        "status": 410,
        "detail": f"{document.number}《{document.title}》已撤回。",
        "instance": _url(delivery.pk),
        "stub": {
            "number": document.number,
            "title": document.title,
            "issuer": "自治区党委组织部",
            "state": "recalled",
            "recalled_by": "zzb",
            "recalled_at": recalled_at.isoformat(),
            "reason": "发错了",
            "recalled_document": None,
        },
    }
