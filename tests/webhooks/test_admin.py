"""The administrator's pages: a subscription added through the audited service with its secret shown
once, the log of calls per subscription, "send again" and "stop" as audited actions; refusals on
the form with nothing written."""

import pytest
from django.urls import reverse

from api.services import api_client_create
from tests.factories import UserFactory, issue
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.services import webhook_deliveries_send, webhook_events_derive
from webhooks.signing import secret_open
from workflow.models import AuditEvent, AuditVerb

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, admin_user):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    client.force_login(admin_user)
    return client


@pytest.fixture
def oa(world, admin_user):
    client, _key = api_client_create(actor=admin_user, unit=world.education, name="OA", scopes=["read", "webhooks"])
    return client


def test_a_subscription_added_in_the_admin_shows_its_secret_on_that_page_only(superuser_client, oa, loopback, receiver):
    response = superuser_client.post(
        reverse("admin:webhooks_webhooksubscription_add"),
        {"client": oa.pk, "url": receiver.url(), "event_types": ["delivered", "signed"]},
    )

    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    secret = secret_open(subscription.sealed_secret)
    assert f'<code id="webhook-secret">{secret}</code>' in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(verb=AuditVerb.WEBHOOK_SUBSCRIPTION_CREATED).count() == 1
    page = superuser_client.get(reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk]))
    assert page.status_code == 200
    assert secret.removeprefix("whsec_") not in page.content.decode()
    assert "来文送达、签收" in page.content.decode()


def test_the_admin_form_names_a_refused_address_and_writes_nothing(superuser_client, oa, settings, nothing_written):
    settings.WEBHOOK_ALLOWED_HOSTS = ["oa.example.gov.cn"]
    with nothing_written():
        response = superuser_client.post(
            reverse("admin:webhooks_webhooksubscription_add"),
            {"client": oa.pk, "url": "https://127.0.0.1/hooks", "event_types": ["signed"]},
        )
    assert response.status_code == 200
    assert "主机“127.0.0.1”不在允许推送的主机名单（WEBHOOK_ALLOWED_HOSTS）中。" in response.content.decode()


def test_the_log_of_calls_opens_per_subscription_and_sends_again_through_the_service(
    superuser_client, world, subscribe, receiver, admin_user
):
    subscription, _secret = subscribe(world.education, receiver.url(), ["delivered"])
    other, _secret = subscribe(world.department, receiver.url("/issuer"), ["delivered"])
    issue(world.zzb, world.department, main=[world.education])
    webhook_events_derive()
    webhook_deliveries_send()
    call = WebhookDelivery.objects.get(subscription=subscription)

    log = superuser_client.get(
        reverse("admin:webhooks_webhookdelivery_changelist") + f"?subscription__id__exact={subscription.pk}"
    )
    assert log.status_code == 200
    assert call.event_id in log.content.decode()
    assert WebhookDelivery.objects.get(subscription=other).event_id in log.content.decode()  # same event
    assert log.context["cl"].result_count == 1
    detail = superuser_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[call.pk]))
    assert detail.status_code == 200
    assert "自治区教育工委" in detail.content.decode()

    response = superuser_client.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "send_again", "_selected_action": [call.pk]},
    )
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.state == "pending"
    assert AuditEvent.objects.filter(verb=AuditVerb.WEBHOOK_DELIVERY_RESENT, object_id=str(call.pk)).count() == 1


def test_stopping_subscriptions_in_the_admin_is_audited(superuser_client, world, subscribe, receiver):
    subscription, _secret = subscribe(world.education, receiver.url(), ["delivered"])
    response = superuser_client.post(
        reverse("admin:webhooks_webhooksubscription_changelist"),
        {"action": "deactivate", "_selected_action": [subscription.pk]},
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.is_active is False
    assert AuditEvent.objects.filter(verb=AuditVerb.WEBHOOK_SUBSCRIPTION_DEACTIVATED).count() == 1


def test_staff_who_are_not_administrators_cannot_subscribe_or_send_again(
    client, world, oa, subscribe, receiver, loopback, nothing_written
):
    subscription, _secret = subscribe(world.education, receiver.url(), ["delivered"])
    issue(world.zzb, world.department, main=[world.education])
    webhook_events_derive()
    webhook_deliveries_send()
    call = WebhookDelivery.objects.get()
    staff = UserFactory(username="staff", is_staff=True)
    client.force_login(staff)
    with nothing_written():
        add = client.post(
            reverse("admin:webhooks_webhooksubscription_add"),
            {"client": oa.pk, "url": receiver.url("/x"), "event_types": ["signed"]},
        )
        again = client.post(
            reverse("admin:webhooks_webhookdelivery_changelist"),
            {"action": "send_again", "_selected_action": [call.pk]},
        )
    assert (add.status_code, again.status_code) == (403, 403)
    assert subscription.is_active


def test_the_admin_form_refuses_a_second_subscription_at_one_address(
    superuser_client, oa, loopback, receiver, nothing_written
):
    data = {"client": oa.pk, "url": receiver.url(), "event_types": ["signed"]}
    assert superuser_client.post(reverse("admin:webhooks_webhooksubscription_add"), data).status_code == 200
    with nothing_written():
        again = superuser_client.post(reverse("admin:webhooks_webhooksubscription_add"), data)
    assert again.status_code == 200
    assert "这个接口客户端已订阅这个推送地址。" in again.content.decode()
