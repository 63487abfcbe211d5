"""Sending, in this process, to a real receiver on loopback: the body and its signature, what the
door lets a call say, the order per delivery, retries and the dead end of the window, "send again",
and the allow-list checked again at the moment of the call."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from api.services import api_client_revoke
from tests.factories import delivery_of, issue
from tests.webhooks.conftest import localhost_refused
from tests.webhooks.receiver import Receiver
from units.errors import Conflict, NotAllowed, NotFound
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_deliveries_send, webhook_delivery_resend, webhook_events_derive
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Recall, Receipt

pytestmark = pytest.mark.django_db


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event(verb: str) -> AuditEvent:
    return AuditEvent.objects.filter(verb=verb).order_by("seq").last()


def test_a_call_carries_its_event_signed_with_the_subscriptions_secret(world, subscribe, receiver):
    subscription, secret = subscribe(world.education, receiver.url("/gongwen/hooks?from=oa"), ["signed"])
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)

    assert webhook_events_derive() == 1
    assert webhook_deliveries_send() == {"sent": 1, "failed": 0, "dead": 0}

    signed = _event(AuditVerb.DELIVERY_SIGNED)
    (call,) = receiver.calls()
    event_id = f"evt_{signed.seq}_{delivery.pk}"
    assert call.path == "/gongwen/hooks?from=oa"
    assert (call.headers["content-type"], call.event_id) == ("application/json", event_id)
    assert call.headers["webhook-timestamp"].isdigit()
    assert call.signature_valid(secret)
    assert call.json == {
        "id": event_id,
        "type": "signed",
        "timestamp": _utc(signed.occurred_at),
        "data": {
            "delivery": {"id": delivery.pk, "unit": {"id": world.education.pk, "name": "自治区教育工委"}},
            "document": {"number": document.number, "title": "关于做好测试工作的通知", "issuer": "自治区党委组织部"},
            "receipt_id": Receipt.objects.get(delivery=delivery).pk,
        },
    }
    row = WebhookDelivery.objects.get()
    assert (row.subscription, row.event_id, row.state, row.attempts, row.last_status, row.last_error) == (
        subscription,
        event_id,
        "sent",
        1,
        204,
        "",
    )
    assert row.payload == call.json
    assert webhook_deliveries_send() == {"sent": 0, "failed": 0, "dead": 0}
    assert len(receiver.calls()) == 1


def test_the_recipient_of_a_recalled_delivery_is_told_what_its_stub_shows_and_no_more(world, subscribe, receiver):
    _subscription, secret = subscribe(world.education, receiver.url(), ["recalled"])
    document, dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk, reason="内容有误")

    webhook_events_derive()
    assert webhook_deliveries_send() == {"sent": 1, "failed": 0, "dead": 0}

    withdrawn = _event(AuditVerb.DELIVERIES_WITHDRAWN)
    (call,) = receiver.calls()
    assert call.signature_valid(secret)
    assert call.json == {
        "id": f"evt_{withdrawn.seq}_{delivery.pk}",
        "type": "recalled",
        "timestamp": _utc(withdrawn.occurred_at),
        "data": {
            "delivery": {"id": delivery.pk, "unit": {"id": world.education.pk, "name": "自治区教育工委"}},
            "document": {"number": document.number, "title": "关于做好测试工作的通知", "issuer": "自治区党委组织部"},
            "recall_id": Recall.objects.get().pk,
        },
    }


def test_reminders_say_their_round_clock_and_deadline(world, subscribe, receiver):
    subscribe(world.department, receiver.url(), ["reminded"])
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_remind(actor=world.zzb, delivery_id=delivery.pk)

    webhook_events_derive()
    webhook_deliveries_send()

    delivery.refresh_from_db()
    (call,) = receiver.calls()
    assert call.json["data"]["reminder"] == {
        "round": 1,
        "clock": "sign_for",
        "deadline": delivery.deadline_sign_for.isoformat(),
    }


def test_a_call_the_clients_door_no_longer_opens_dies_unsent(world, subscribe, receiver, admin_user):
    subscription, _secret = subscribe(world.education, receiver.url(), ["delivered"])
    revoked, _secret = subscribe(world.education, receiver.url("/old"), ["delivered"], name="旧系统")
    issue(world.zzb, world.department, main=[world.education])
    assert webhook_events_derive() == 2
    # The service account left the unit: its door no longer opens the unit's deliveries.
    services.unit_remove_member(actor=admin_user, unit=world.education, user=subscription.client.user)
    api_client_revoke(actor=admin_user, client=revoked.client)

    assert webhook_deliveries_send() == {"sent": 0, "failed": 0, "dead": 2}

    assert receiver.calls() == []
    assert sorted(WebhookDelivery.objects.values_list("subscription_id", "state", "attempts", "last_error")) == [
        (subscription.pk, "dead", 1, "接口客户端已无权查看这份送达。"),
        (revoked.pk, "dead", 1, "接口客户端已吊销。"),
    ]


def test_calls_about_one_delivery_leave_in_audit_order_and_others_do_not_wait(world, subscribe, receiver, settings):
    settings.WEBHOOK_RETRY_SECONDS = 60
    subscribe(world.department, receiver.url(), ["delivered", "signed"])
    document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    to_education, to_other = delivery_of(document, world.education), delivery_of(document, world.other)
    services.delivery_sign_for(actor=world.jygw, delivery_id=to_education.pk)
    assert webhook_events_derive() == 3
    ids = dict(WebhookDelivery.objects.values_list("event_type", "event_id").filter(delivery=to_education))
    receiver.answers[ids["delivered"]] = [500]

    # The education's `delivered` fails; its `signed` waits for it; the other's `delivered` goes.
    assert webhook_deliveries_send() == {"sent": 1, "failed": 1, "dead": 0}
    other = WebhookDelivery.objects.get(delivery=to_other).event_id
    assert sorted((call.event_id, call.answered) for call in receiver.calls()) == sorted(
        [(ids["delivered"], 500), (other, 204)]
    )
    failed = WebhookDelivery.objects.get(event_id=ids["delivered"])
    assert (failed.state, failed.attempts, failed.last_status, failed.last_error) == (
        "pending",
        1,
        500,
        "对方返回 HTTP 500：",
    )
    assert 30 <= (failed.next_attempt_at - failed.last_attempt_at).total_seconds() <= 60  # the jittered back-off
    assert WebhookDelivery.objects.get(event_id=ids["signed"]).attempts == 0

    with time_machine.travel(failed.next_attempt_at + datetime.timedelta(seconds=1), tick=False):
        assert webhook_deliveries_send() == {"sent": 2, "failed": 0, "dead": 0}

    about_education = [
        call.event_id for call in receiver.calls() if call.json["data"]["delivery"]["id"] == to_education.pk
    ]
    assert about_education == [ids["delivered"], ids["delivered"], ids["signed"]]
    assert [call.event_id for call in receiver.unique()][-1] == ids["signed"]


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(world, subscribe, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    slow = Receiver(script=["timeout"], hold_seconds=2)
    try:
        subscribe(world.education, slow.url(), ["delivered"])
        issue(world.zzb, world.department, main=[world.education])
        webhook_events_derive()
        assert webhook_deliveries_send() == {"sent": 0, "failed": 1, "dead": 0}
    finally:
        slow.stop()
    call = WebhookDelivery.objects.get()
    assert (call.state, call.last_status, call.last_error) == ("pending", None, "超时（0.5 秒）未响应。")


def test_a_call_dies_when_the_retry_window_is_over_and_its_admin_sends_it_again(
    world, subscribe, receiver, settings, admin_user
):
    settings.WEBHOOK_RETRY_SECONDS, settings.WEBHOOK_RETRY_WINDOW_SECONDS = 60, 3600
    receiver.script = [503] * 100
    subscribe(world.education, receiver.url(), ["delivered"])
    issue(world.zzb, world.department, main=[world.education])
    webhook_events_derive()
    call = WebhookDelivery.objects.get()
    start = call.window_started_at

    with time_machine.travel(start, tick=False) as clock:
        while webhook_deliveries_send()["dead"] == 0:
            call.refresh_from_db()
            assert call.state == "pending"
            clock.move_to(call.next_attempt_at)
    call.refresh_from_db()

    # Attempts about 60, 120, 240, … s apart (at most 900 s: a quarter of the window), every one
    # inside the window; the one after would not have been.
    assert call.state == "dead"
    assert call.last_attempt_at <= start + datetime.timedelta(seconds=3600)
    assert call.attempts == len(receiver.calls()) >= 6
    assert {received.event_id for received in receiver.calls()} == {call.event_id}
    assert len({received.body for received in receiver.calls()}) == 1  # the same bytes at every attempt
    assert (call.last_status, call.last_error) == (503, "对方返回 HTTP 503：")

    receiver.script = []
    assert webhook_delivery_resend(actor=admin_user, call_id=call.pk).state == "pending"
    assert webhook_deliveries_send() == {"sent": 1, "failed": 0, "dead": 0}
    call.refresh_from_db()
    assert (call.state, call.last_status, call.attempts) == ("sent", 204, len(receiver.calls()))
    assert receiver.calls()[-1].body == receiver.calls()[0].body
    event = AuditEvent.objects.get(verb=AuditVerb.WEBHOOK_DELIVERY_RESENT)
    assert (event.actor_id, event.unit_id, event.payload) == (
        admin_user.pk,
        world.education.pk,
        {"event_id": call.event_id, "subscription_id": call.subscription_id, "previous_state": "dead"},
    )


def test_send_again_is_refused_for_a_pending_call_a_stranger_or_a_missing_one(
    world, subscribe, receiver, nothing_written
):
    subscribe(world.education, receiver.url(), ["delivered"])
    issue(world.zzb, world.department, main=[world.education])
    webhook_events_derive()
    call = WebhookDelivery.objects.get()
    with nothing_written(), pytest.raises(Conflict) as refused:
        webhook_delivery_resend(actor=None, call_id=call.pk)
    assert refused.value.message == f"推送“{call.event_id}”尚在发送中，不必再次发送。"
    webhook_deliveries_send()
    for person in (world.jygw, world.zzb, call.subscription.client.user):
        with nothing_written(), pytest.raises(NotAllowed):
            webhook_delivery_resend(actor=person, call_id=call.pk)
    with nothing_written(), pytest.raises(NotFound):
        webhook_delivery_resend(actor=None, call_id=call.pk + 1000)


def test_a_name_that_now_resolves_outside_the_allow_list_is_not_called(world, subscribe, receiver, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost", "127.0.0.0/8", "::1"]
    settings.WEBHOOK_PLAIN_HTTP_HOSTS = ["localhost"]
    subscribe(world.education, f"http://localhost:{receiver.port}/hooks", ["delivered"])
    issue(world.zzb, world.department, main=[world.education])
    webhook_events_derive()
    # As if the name now pointed at this machine: its addresses are no longer allowed.
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]

    assert webhook_deliveries_send() == {"sent": 0, "failed": 1, "dead": 0}

    assert receiver.calls() == []
    call = WebhookDelivery.objects.get()
    assert (call.state, call.attempts, call.last_status, call.last_error) == (
        "pending",
        1,
        None,
        localhost_refused(),
    )
    assert call.next_attempt_at > timezone.now()
