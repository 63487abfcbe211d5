import datetime

import pytest
from django.core import signing
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import delivery_of, issue, person, unit
from units.models import Role
from workflow.api import api_token_for
from workflow.models import AuditEvent, AuditVerb, Delivery, Receipt


def _sign_for(client, delivery_id, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/deliveries/{delivery_id}/sign-for", headers=headers)


@pytest.fixture
def delivery(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    return delivery_of(document, world.education)


def test_sign_for_over_the_api_returns_the_receipt(world, client, delivery):
    response = _sign_for(client, delivery.pk, api_token_for(world.jygw))

    assert response.status_code == 200
    receipt = Receipt.objects.get(delivery=delivery)
    assert response.json() == {
        "receipt": {
            "id": receipt.pk,
            "delivery_id": delivery.pk,
            "document": delivery.document.number,
            "unit": "自治区教育工委",
            "signed_by_id": world.jygw.pk,
            "signed_at": receipt.signed_at.isoformat(),
            "content_digest": delivery.document.digest,
        }
    }


def test_the_answer_is_utf8_json_with_chinese_as_written(world, client, delivery):
    response = _sign_for(client, delivery.pk, api_token_for(world.jygw))
    assert response["Content-Type"] == "application/json"
    assert '"unit": "自治区教育工委"'.encode() in response.content


def test_repeating_the_request_returns_the_same_receipt_and_records_nothing_more(world, client, delivery):
    token = api_token_for(world.jygw)
    first = _sign_for(client, delivery.pk, token).json()
    events = AuditEvent.objects.count()

    again = _sign_for(client, delivery.pk, token)

    assert again.status_code == 200
    assert again.json() == first
    assert AuditEvent.objects.count() == events
    assert AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED).count() == 1


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", signing.dumps([1, "x"], salt="another.salt")],
    ids=["missing", "garbage", "other-salt"],
)
def test_a_request_without_a_valid_token_is_refused(client, delivery, nothing_written, token):
    with nothing_written():
        response = _sign_for(client, delivery.pk, token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="gongwen"'
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_session_cookie_is_not_accepted(world, client, delivery, nothing_written):
    client.force_login(world.jygw)
    with nothing_written():
        response = _sign_for(client, delivery.pk)
    assert response.status_code == 401


def test_changing_the_password_revokes_the_token(world, client, delivery, nothing_written):
    token = api_token_for(world.jygw)
    world.jygw.set_password("a-new-password")
    world.jygw.save()
    with nothing_written():
        assert _sign_for(client, delivery.pk, token).status_code == 401


def test_a_deactivated_person_is_refused(world, client, delivery, nothing_written):
    token = api_token_for(world.jygw)
    world.jygw.is_active = False
    world.jygw.save()
    with nothing_written():
        assert _sign_for(client, delivery.pk, token).status_code == 401


def test_an_expired_token_is_refused(world, client, delivery, nothing_written, time_machine):
    time_machine.move_to(timezone.now() - datetime.timedelta(hours=13), tick=False)
    token = api_token_for(world.jygw)
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=13), tick=False)
    with nothing_written():
        assert _sign_for(client, delivery.pk, token).status_code == 401


def test_a_delivery_the_person_cannot_see_is_not_found(world, client, delivery, nothing_written):
    with nothing_written():
        response = _sign_for(client, delivery.pk, api_token_for(world.other_clerk))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_missing_delivery_is_not_found_alike(world, client, nothing_written):
    with nothing_written():
        response = _sign_for(client, 999_999, api_token_for(world.jygw))
    assert response.status_code == 404


@pytest.mark.parametrize("delivery_id", [0, 2**31, 2**63, 10**30])
def test_an_id_beyond_any_delivery_is_not_found(world, client, nothing_written, delivery_id):
    with nothing_written():
        response = _sign_for(client, delivery_id, api_token_for(world.jygw))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_the_issuer_may_not_sign_for_it_and_learns_nothing_more_than_a_stranger(
    world, client, delivery, nothing_written
):
    # Only a clerk of the recipient unit acts on a delivery: to anyone else it is as if missing.
    with nothing_written():
        response = _sign_for(client, delivery.pk, api_token_for(world.zzb))
        missing = _sign_for(client, 10**9, api_token_for(world.zzb))
    assert (response.status_code, response.json()) == (missing.status_code, missing.json())
    assert response.status_code == 404


def test_get_is_not_allowed(world, client, delivery, nothing_written):
    with nothing_written():
        response = client.get(
            f"/api/deliveries/{delivery.pk}/sign-for", headers={"Authorization": f"Bearer {api_token_for(world.jygw)}"}
        )
    assert response.status_code == 405


def test_the_api_token_command_prints_a_working_token(world, client, delivery, capsys):
    call_command("api_token", "jygw")
    token = capsys.readouterr().out.strip()
    assert _sign_for(client, delivery.pk, token).status_code == 200


def test_sign_for_runs_the_same_queries_whatever_the_size_of_the_dispatch(world, client):
    schools = [unit(f"高校{i:04d}", world.education) for i in range(300)]
    for school in schools:
        person(school, Role.CLERK, username=f"clerk-{school.pk}")
    counts = []
    for recipients in (schools[:1], schools[1:]):
        _document, dispatch = issue(world.jygw, world.education, main=recipients)
        delivery = Delivery.objects.filter(dispatch=dispatch).select_related("unit").first()
        token = api_token_for(delivery.unit.group.user_set.get())
        for _attempt in ("first", "repeat"):
            with CaptureQueriesContext(connection) as queries:
                assert _sign_for(client, delivery.pk, token).status_code == 200
            counts.append(len(queries))
    # First: the token's person, the delivery and its receipt read with the clerk check (the door);
    # then a savepoint, the conditional move out of PENDING, the receipt written, the chain's lock,
    # its head, the event, the dispatch's figures (workflow.tally) and the release (10). A repeat: the
    # person, the delivery with its receipt (2).
    assert counts == [10, 2, 10, 2]
