"""Rate limits per caller, counted in the real Redis (shared by every web worker): 429 with Retry-After."""

import datetime

import pytest
import redis
from django.conf import settings
from django.core.cache import caches

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/units"
# 10:00:15 in Beijing: 45 seconds are left in the minute's window.
MOMENT = datetime.datetime(2026, 11, 30, 2, 0, 15, tzinfo=datetime.UTC)


def _window_key(caller: str) -> str:
    return caches["api"].make_key(f"rate:{caller}:{int(MOMENT.timestamp() // 60)}")


def test_a_client_past_its_limit_is_told_when_to_retry(world, api, make_client, time_machine):
    time_machine.move_to(MOMENT, tick=False)
    client, key = make_client(world.university, "read", rate_limit_per_minute=2)

    answers = [api.get(UNITS, key) for _request in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2]["Retry-After"] == "45"
    assert answers[2]["Content-Type"] == "application/problem+json"
    assert answers[2].json() == {
        "type": "/api/v1/problems/rate-limited",
        "title": "请求过于频繁",
        "status": 429,
        "detail": "超过每分钟请求上限，请在 45 秒后重试。",
        "instance": UNITS,
    }
    # The count is in Redis, where every web worker adds to it.
    store = redis.Redis.from_url(settings.REDIS_URL)
    try:
        assert int(store.get(_window_key(f"client:{client.pk}"))) == 3
        assert 60 < store.ttl(_window_key(f"client:{client.pk}")) <= 120
    finally:
        store.close()


def test_the_next_minute_opens_a_new_window(world, api, make_client, time_machine):
    time_machine.move_to(MOMENT, tick=False)
    _client, key = make_client(world.university, "read", rate_limit_per_minute=1)
    assert [api.get(UNITS, key).status_code for _request in range(2)] == [200, 429]
    time_machine.move_to(MOMENT + datetime.timedelta(seconds=45), tick=False)
    assert api.get(UNITS, key).status_code == 200


def test_each_client_has_its_own_count(world, api, make_client, time_machine):
    time_machine.move_to(MOMENT, tick=False)
    _first, first_key = make_client(world.university, "read", name="甲", rate_limit_per_minute=1)
    _second, second_key = make_client(world.university, "read", name="乙", rate_limit_per_minute=1)
    assert [api.get(UNITS, first_key).status_code for _request in range(2)] == [200, 429]
    assert api.get(UNITS, second_key).status_code == 200


def test_a_person_has_the_configured_limit(world, api, settings, time_machine, nothing_written):
    time_machine.move_to(MOMENT, tick=False)
    settings.API_PERSON_RATE_LIMIT_PER_MINUTE = 1
    assert api.get(UNITS, world.imu).status_code == 200
    with nothing_written():
        refused = api.post("/api/v1/deliveries/1/sign-for", world.imu, headers={"Idempotency-Key": "k"})
    assert (refused.status_code, refused["Retry-After"]) == (429, "45")
