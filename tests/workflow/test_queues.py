"""Urgency decides the queue (DESIGN invariant 8): a 特提 message lands in the urgent list in Redis,
never in the routine one, so a worker of its own takes it ahead of any routine backlog."""

import pytest
import redis
from django.conf import settings

from config.celery import app
from tests.factories import issue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    keys = [f"{prefix}{name}" for name in ("urgent", "routine")]
    client.delete(*keys)  # this run's own keys only (its own prefix)
    yield client, prefix
    client.delete(*keys)
    client.close()


def _messages(client, prefix, queue):
    return client.llen(f"{prefix}{queue}")


@pytest.mark.parametrize(("urgency", "queue", "other"), [("特提", "urgent", "routine"), ("普通", "routine", "urgent")])
def test_the_routing_message_goes_to_the_queue_of_the_urgency(committed_world, broker, urgency, queue, other):
    client, prefix = broker
    with app.connection_for_write() as connection:
        connection.default_channel  # noqa: B018 - declare the queues before counting
    issue(
        committed_world.zzb, committed_world.department, main=[committed_world.education], urgency=urgency, route=False
    )
    assert (_messages(client, prefix, queue), _messages(client, prefix, other)) == (1, 0)


def test_every_queue_has_its_own_routing_key():
    assert {q.name: (q.exchange.name, q.routing_key) for q in app.conf.task_queues} == {
        "urgent": ("urgent", "urgent"),
        "routine": ("routine", "routine"),
        "control": ("control", "control"),
        "webhooks": ("webhooks", "webhooks"),
    }
