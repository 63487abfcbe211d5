import socket

import pytest
from django.contrib.auth import get_user_model

from api.services import api_client_create
from tests.webhooks.receiver import Receiver
from webhooks.models import EventType
from webhooks.services import webhook_subscription_create

ALL_EVENTS = list(EventType.values)


def localhost_refused() -> str:
    """The refusal of "localhost" when its addresses are not allowed, naming those it resolves to
    on this machine."""
    found = sorted({info[4][0] for info in socket.getaddrinfo("localhost", 443, type=socket.SOCK_STREAM)})
    return f"主机“localhost”解析到不允许的地址：{'、'.join(found)}（内部地址须在 WEBHOOK_ALLOWED_HOSTS 中列出其网段）。"


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("webhook-admin", password="x")


@pytest.fixture
def loopback(settings):
    """Calls may go to 127.0.0.1 over plain http (the tests' receivers)."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_PLAIN_HTTP_HOSTS = ["127.0.0.1"]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def subscribe(admin_user, loopback):
    """subscribe(unit, url, events=ALL_EVENTS, name=...) -> (subscription, secret): a client of the
    unit holding the webhooks scope, subscribed at `url`."""

    def make(unit, url, events=ALL_EVENTS, *, name=None, scopes=("read", "webhooks")):
        client, _key = api_client_create(
            actor=admin_user, unit=unit, name=name or f"{unit.short_name}系统", scopes=list(scopes)
        )
        return webhook_subscription_create(actor=admin_user, client=client, url=url, event_types=events)

    return make
