"""Idempotency-Key on POST: a retry replays the first answer; a key names one request; two requests
with one key at once act once."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from api.idempotency import idempotency_keys_purge
from api.models import IdempotencyKey
from tests.api.conftest import bearer
from tests.factories import build_world, delivery_of, issue
from tests.worker import wait_until
from workflow.models import AuditEvent, AuditVerb, Receipt


def _url(delivery_id) -> str:
    return f"/api/v1/deliveries/{delivery_id}/sign-for"


@pytest.fixture
def deliveries(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    return delivery_of(document, world.education), delivery_of(document, world.other)


@pytest.mark.django_db
def test_a_retry_with_the_key_replays_the_first_answer(world, api, deliveries):
    delivery, _other = deliveries
    first = api.post(_url(delivery.pk), world.jygw, headers={"Idempotency-Key": "retry-1"})
    again = api.post(_url(delivery.pk), world.jygw, headers={"Idempotency-Key": "retry-1"})

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert again["Content-Type"] == "application/json"
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED).count() == 1
    assert IdempotencyKey.objects.get().status_code == 200


@pytest.mark.django_db
def test_a_refusal_is_replayed_too(world, api, deliveries, nothing_written):
    delivery, _other = deliveries
    with nothing_written():
        first = api.post(_url(delivery.pk), world.zzb, headers={"Idempotency-Key": "k"})
        again = api.post(_url(delivery.pk), world.zzb, headers={"Idempotency-Key": "k"})
    assert (first.status_code, again.status_code) == (403, 403)
    assert (again.content, again["Content-Type"]) == (first.content, "application/problem+json")


@pytest.mark.django_db
def test_the_key_used_for_another_request_is_refused_with_422(world, api, deliveries, nothing_written):
    delivery, other = deliveries
    api.post(_url(delivery.pk), world.jygw, headers={"Idempotency-Key": "one-request"})
    with nothing_written():
        response = api.post(_url(other.pk), world.jygw, headers={"Idempotency-Key": "one-request"})
        with_a_body = api.post(_url(delivery.pk), world.jygw, {"note": "x"}, headers={"Idempotency-Key": "one-request"})

    assert response.status_code == 422
    assert response.json() == {
        "type": "/api/v1/problems/idempotency-key-reused",
        "title": "幂等键已用于另一请求",
        "status": 422,
        "detail": "Idempotency-Key“one-request”已用于另一请求（不同的地址或请求体）。",
        "instance": _url(other.pk),
    }
    assert with_a_body.status_code == 422


@pytest.mark.django_db
def test_keys_belong_to_their_caller(world, api, deliveries):
    # Another person's key of the same text names their own request.
    delivery, other = deliveries
    assert api.post(_url(delivery.pk), world.jygw, headers={"Idempotency-Key": "same"}).status_code == 200
    response = api.post(_url(other.pk), world.other_clerk, headers={"Idempotency-Key": "same"})
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert Receipt.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "with space", "中文", "x" * 256])
def test_a_malformed_key_is_bad_input(world, api, deliveries, nothing_written, key):
    delivery, _other = deliveries
    with nothing_written():
        response = api.post(_url(delivery.pk), world.jygw, headers={"Idempotency-Key": key.encode().decode("latin-1")})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "Idempotency-Key", "detail": "Idempotency-Key 须为 1 至 255 个可打印的 ASCII 字符。"}
    ]
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_key_older_than_a_day_is_forgotten_and_purged(world, api, deliveries, time_machine):
    delivery, other = deliveries
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    api.post(_url(delivery.pk), world.jygw, headers={"Idempotency-Key": "old"})

    time_machine.move_to(start + datetime.timedelta(hours=23, minutes=59), tick=False)
    assert idempotency_keys_purge() == 0
    assert api.post(_url(other.pk), world.jygw, headers={"Idempotency-Key": "old"}).status_code == 422

    time_machine.move_to(start + datetime.timedelta(hours=24, seconds=1), tick=False)
    # The key counts as absent: it names a new request (which jygw may not make: 404, stored).
    response = api.post(_url(other.pk), world.jygw, headers={"Idempotency-Key": "old"})
    assert response.status_code == 404
    assert "Idempotent-Replayed" not in response
    assert IdempotencyKey.objects.get().created_at == start + datetime.timedelta(hours=24, seconds=1)

    time_machine.move_to(start + datetime.timedelta(hours=48, seconds=2), tick=False)
    assert idempotency_keys_purge() == 1
    assert not IdempotencyKey.objects.exists()


def _waiting_on_locks() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_act_once(committed_db):
    """The first request inserts its key and then waits (the test holds the delivery's row); the
    second, with the same key, waits on the first's key. When the first commits, the second replays
    its answer: one receipt, one event, two equal answers."""
    world = build_world()
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    headers = {**bearer(world.jygw), "Idempotency-Key": "at-once"}
    answers = {}

    def call(name):
        try:
            answers[name] = Client().post(_url(delivery.pk), b"", content_type="application/json", headers=headers)
        finally:
            connection.close()

    blocker = connections.create_connection("default")
    try:
        with blocker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM workflow_delivery WHERE id = %s FOR UPDATE", [delivery.pk])
            first = threading.Thread(target=call, args=["first"])
            first.start()
            assert wait_until(lambda: _waiting_on_locks() == 1, timeout=30)  # first, on the delivery
            second = threading.Thread(target=call, args=["second"])
            second.start()
            assert wait_until(lambda: _waiting_on_locks() == 2, timeout=30)  # second, on the key
            cursor.execute("COMMIT")
        first.join(30)
        second.join(30)
    finally:
        blocker.close()

    assert (answers["first"].status_code, answers["second"].status_code) == (200, 200)
    assert answers["second"].content == answers["first"].content
    assert answers["second"]["Idempotent-Replayed"] == "true"
    assert Receipt.objects.filter(delivery=delivery).count() == 1
    assert AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED).count() == 1
    assert IdempotencyKey.objects.count() == 1
