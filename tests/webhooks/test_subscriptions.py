"""Subscribing: by an administrator, for a client holding the webhooks scope, to an allowed https
address; the signing secret shown once and kept sealed; every refusal names its reason and writes
nothing."""

import base64

import pytest
from django.utils import translation

from api.services import api_client_create, api_client_revoke
from tests.factories import issue
from tests.webhooks.conftest import localhost_refused
from units.errors import InvalidInput, NotAllowed
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.services import webhook_events_derive, webhook_subscription_create, webhook_subscription_deactivate
from webhooks.signing import secret_open
from workflow.models import AuditEvent, AuditVerb

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(world, admin_user):
    client, _key = api_client_create(actor=admin_user, unit=world.education, name="OA", scopes=["read", "webhooks"])
    return client


def test_a_subscription_shows_its_secret_once_and_keeps_it_sealed(world, admin_user, client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.20.0.0/16"]  # an internal receiver, its network listed

    subscription, secret = webhook_subscription_create(
        actor=admin_user, client=client, url="https://10.20.3.4:8443/gongwen/hooks", event_types=["signed", "delivered"]
    )

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    stored = WebhookSubscription.objects.filter(pk=subscription.pk).values().get()
    assert secret.removeprefix("whsec_") not in str(stored)
    assert secret_open(stored["sealed_secret"]) == secret
    assert (stored["url"], stored["event_types"], stored["is_active"]) == (
        "https://10.20.3.4:8443/gongwen/hooks",
        ["delivered", "signed"],  # in the order of the event types
        True,
    )
    event = AuditEvent.objects.get(verb=AuditVerb.WEBHOOK_SUBSCRIPTION_CREATED)
    assert (event.actor_id, event.unit_id, event.object_id, event.payload) == (
        admin_user.pk,
        world.education.pk,
        str(subscription.pk),
        {"client_id": client.pk, "url": "https://10.20.3.4:8443/gongwen/hooks", "event_types": ["delivered", "signed"]},
    )
    assert stored["since_seq"] == event.seq


def test_a_secret_sealed_under_an_earlier_secret_key_opens_while_that_key_is_a_fallback(admin_user, client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.20.3.4"]
    subscription, secret = webhook_subscription_create(
        actor=admin_user, client=client, url="https://10.20.3.4/hooks", event_types=["signed"]
    )
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key", [settings.SECRET_KEY]
    assert secret_open(subscription.sealed_secret) == secret


@pytest.mark.parametrize(
    ("allowed", "plain_http", "url", "message"),
    [
        (
            [],
            [],
            "https://oa.example.gov.cn/hooks",
            "主机“oa.example.gov.cn”不在允许推送的主机名单（WEBHOOK_ALLOWED_HOSTS）中。",
        ),
        (
            ["oa.example.gov.cn"],
            [],
            "https://oa2.example.gov.cn/hooks",
            "主机“oa2.example.gov.cn”不在允许推送的主机名单（WEBHOOK_ALLOWED_HOSTS）中。",
        ),
        (
            ["10.20.0.0/16"],
            [],
            "https://10.21.0.1/hooks",
            "主机“10.21.0.1”不在允许推送的主机名单（WEBHOOK_ALLOWED_HOSTS）中。",
        ),
        (
            ["oa.example.gov.cn"],
            [],
            "http://oa.example.gov.cn/hooks",
            "推送地址必须使用 https（主机“oa.example.gov.cn”未获准使用 http）。",
        ),
        (["oa.example.gov.cn"], [], "ftp://oa.example.gov.cn/hooks", "推送地址必须是 https:// 开头的完整网址。"),
        (["oa.example.gov.cn"], [], "oa.example.gov.cn/hooks", "推送地址必须是 https:// 开头的完整网址。"),
        (["oa.example.gov.cn"], [], "https://oa:pw@oa.example.gov.cn/hooks", "推送地址不能包含用户名或密码。"),
        (["oa.example.gov.cn"], [], "https://oa.example.gov.cn:99999/hooks", "推送地址的端口无效。"),
        (["::1"], [], "https://[::1/hooks", "推送地址必须是 https:// 开头的完整网址。"),
        (
            ["公文.中国"],
            [],
            "https://公文.中国/hooks",
            "主机名“公文.中国”须写成 ASCII 形式（中文域名请写成以 xn-- 开头的形式）。",
        ),
        (["nowhere.invalid"], [], "https://nowhere.invalid/hooks", "主机“nowhere.invalid”无法解析。"),
        # A listed name that resolves to an internal address whose network is not listed: DNS
        # must not lead a call to this machine.
        (
            ["localhost"],
            ["localhost"],
            "http://localhost:8000/hooks",
            localhost_refused(),
        ),
    ],
)
def test_an_address_outside_the_allow_list_is_refused_and_nothing_is_written(
    admin_user, client, settings, nothing_written, allowed, plain_http, url, message
):
    settings.WEBHOOK_ALLOWED_HOSTS, settings.WEBHOOK_PLAIN_HTTP_HOSTS = allowed, plain_http
    with nothing_written(), pytest.raises(InvalidInput) as refused:
        webhook_subscription_create(actor=admin_user, client=client, url=url, event_types=["signed"])
    assert refused.value.message == message


def test_a_listed_name_may_resolve_to_a_listed_internal_network(admin_user, client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost", "127.0.0.0/8", "::1"]
    settings.WEBHOOK_PLAIN_HTTP_HOSTS = ["localhost"]
    subscription, _secret = webhook_subscription_create(
        actor=admin_user, client=client, url="http://localhost:8000/hooks", event_types=["signed"]
    )
    assert subscription.url == "http://localhost:8000/hooks"


def test_bad_subscriptions_are_refused_naming_the_problem_and_nothing_is_written(
    world, admin_user, client, settings, nothing_written
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["oa.example.gov.cn", "10.20.3.4"]
    reader, _key = api_client_create(actor=admin_user, unit=world.education, name="只读系统", scopes=["read"])
    revoked, _key = api_client_create(actor=admin_user, unit=world.education, name="旧系统", scopes=["webhooks"])
    api_client_revoke(actor=admin_user, client=revoked)
    webhook_subscription_create(actor=admin_user, client=client, url="https://10.20.3.4/hooks", event_types=["read"])
    cases = [
        (client, "https://10.20.3.4/hooks", ["signed"], "接口客户端“OA”已订阅这个推送地址。"),
        (client, "https://10.20.3.4/other", ["signed", "archived"], "事件类型“archived”不存在。"),
        (client, "https://10.20.3.4/other", [], "请至少选择一种事件类型。"),
        (client, "https://10.20.3.4/" + "a" * 2000, ["signed"], "推送地址过长（上限 2000 个字符）。"),
        (reader, "https://10.20.3.4/hooks", ["signed"], "接口客户端“只读系统”没有“事件推送（Webhook）”权限范围。"),
        (revoked, "https://10.20.3.4/hooks", ["signed"], "接口客户端“旧系统”已吊销。"),
    ]
    for subscriber, url, events, message in cases:
        with nothing_written(), pytest.raises(InvalidInput) as refused:
            webhook_subscription_create(actor=admin_user, client=subscriber, url=url, event_types=events)
        assert refused.value.message == message


def test_only_an_administrator_subscribes(world, client, settings, nothing_written):
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.20.3.4"]
    for person in (world.jygw, world.auditor, client.user):
        with nothing_written(), pytest.raises(NotAllowed):
            webhook_subscription_create(
                actor=person, client=client, url="https://10.20.3.4/hooks", event_types=["signed"]
            )


def test_stopping_a_subscription_drops_its_pending_calls_and_is_audited(world, admin_user, client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.20.3.4"]
    subscription, _secret = webhook_subscription_create(
        actor=admin_user, client=client, url="https://10.20.3.4/hooks", event_types=["delivered"]
    )
    issue(world.zzb, world.department, main=[world.education])
    assert webhook_events_derive() == 1

    assert webhook_subscription_deactivate(actor=admin_user, subscription=subscription) is True
    assert webhook_subscription_deactivate(actor=admin_user, subscription=subscription) is False

    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.deactivated_by) == (False, admin_user)
    assert list(WebhookDelivery.objects.values_list("state", "last_error")) == [("dead", "订阅已停用。")]
    event = AuditEvent.objects.get(verb=AuditVerb.WEBHOOK_SUBSCRIPTION_DEACTIVATED)
    assert (event.unit_id, event.payload) == (world.education.pk, {"pending_dropped": 1})


def test_only_an_administrator_stops_a_subscription(world, admin_user, client, settings, nothing_written):
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.20.3.4"]
    subscription, _secret = webhook_subscription_create(
        actor=admin_user, client=client, url="https://10.20.3.4/hooks", event_types=["delivered"]
    )
    with nothing_written(), pytest.raises(NotAllowed):
        webhook_subscription_deactivate(actor=world.jygw, subscription=subscription)


def test_a_refusal_is_in_the_administrators_language(admin_user, client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        webhook_subscription_create(
            actor=admin_user, client=client, url="https://oa.example.gov.cn/hooks", event_types=["signed"]
        )
    assert refused.value.message == (
        "The host “oa.example.gov.cn” is not in the list of hosts calls may go to (WEBHOOK_ALLOWED_HOSTS)."
    )
