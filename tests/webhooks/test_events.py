"""Events are derived from the audit log: each act, through the real services, becomes one call per
subscription of the delivery's two parties (its unit and its issuer), and nobody else's."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from api.services import api_client_revoke
from tests.factories import delivery_of, forward, issue, unit
from webhooks.models import WebhookCursor, WebhookDelivery
from webhooks.services import webhook_events_derive, webhook_subscription_deactivate
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Delivery

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"  # never called: these tests derive, they do not send


def calls() -> list[tuple[str, str, str, str]]:
    """(subscriber's unit, event type, the delivery's document number, the delivery's unit), in
    the order of the audit log, then of the deliveries, then of the subscriptions."""
    return [
        (
            call.subscription.client.unit.short_name,
            call.event_type,
            call.delivery.document.number,
            call.delivery.unit.short_name,
        )
        for call in WebhookDelivery.objects.select_related(
            "subscription__client__unit", "delivery__document", "delivery__unit"
        ).order_by("audit_event_id", "delivery_id", "subscription_id")
    ]


def test_every_act_is_an_event_for_the_unit_and_the_issuer_of_its_delivery(world, subscribe):
    for subscriber in (world.department, world.education, world.university, world.other):
        subscribe(subscriber, URL)
    # The region's auditing system: its door opens every delivery of the region, but it is a party
    # to none, so it is told of none (the parent unit, like the other unit and the child unit).
    subscribe(world.region, URL, scopes=["audit", "webhooks"])
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], cc=[world.other])
    received = delivery_of(document, world.education)
    services.delivery_open(actor=world.jygw, delivery=received)
    cover, _cover_dispatch = forward(world.jygw, received, main=[world.university])  # signs for it first
    services.delivery_complete(actor=world.jygw, delivery_id=received.pk, feedback="已组织学习。")
    copy = delivery_of(document, world.other)
    services.delivery_remind(actor=world.zzb, delivery_id=copy.pk)
    services.delivery_return(actor=world.other_clerk, delivery_id=copy.pk, reason="not_competent")
    at_university = delivery_of(cover, world.university)
    services.delivery_recall(actor=world.jygw, delivery_id=at_university.pk, reason="发错了")

    assert webhook_events_derive() == 20

    number, cover_number = document.number, cover.number
    assert calls() == [
        ("自治区党委组织部", "delivered", number, "自治区教育工委"),
        ("自治区教育工委", "delivered", number, "自治区教育工委"),
        ("自治区党委组织部", "delivered", number, "自治区直属机关工委"),
        ("自治区直属机关工委", "delivered", number, "自治区直属机关工委"),
        ("自治区党委组织部", "read", number, "自治区教育工委"),
        ("自治区教育工委", "read", number, "自治区教育工委"),
        ("自治区党委组织部", "signed", number, "自治区教育工委"),
        ("自治区教育工委", "signed", number, "自治区教育工委"),
        # The forward is an event once its cover letter is issued, as the issuer's chain shows it.
        ("自治区党委组织部", "forwarded", number, "自治区教育工委"),
        ("自治区教育工委", "forwarded", number, "自治区教育工委"),
        ("自治区教育工委", "delivered", cover_number, "内蒙古大学党委"),
        ("内蒙古大学党委", "delivered", cover_number, "内蒙古大学党委"),
        ("自治区党委组织部", "completed", number, "自治区教育工委"),
        ("自治区教育工委", "completed", number, "自治区教育工委"),
        ("自治区党委组织部", "reminded", number, "自治区直属机关工委"),
        ("自治区直属机关工委", "reminded", number, "自治区直属机关工委"),
        ("自治区党委组织部", "returned", number, "自治区直属机关工委"),
        ("自治区直属机关工委", "returned", number, "自治区直属机关工委"),
        # The recall's one event naming the deliveries it withdrew.
        ("自治区教育工委", "recalled", cover_number, "内蒙古大学党委"),
        ("内蒙古大学党委", "recalled", cover_number, "内蒙古大学党委"),
    ]


def test_a_recalled_dispatch_is_one_recalled_event_per_delivery_for_each_party(world, subscribe):
    document, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(document, world.education).pk)
    subscribe(world.department, URL, ["recalled"])
    subscribe(world.education, URL, ["recalled"])

    services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk, reason="内容有误")

    assert webhook_events_derive() == 3
    number = document.number
    assert calls() == [
        ("自治区党委组织部", "recalled", number, "自治区教育工委"),
        ("自治区教育工委", "recalled", number, "自治区教育工委"),
        ("自治区党委组织部", "recalled", number, "自治区直属机关工委"),
    ]


def test_the_sweeps_reminder_is_overdue_and_a_persons_is_reminded(world, subscribe):
    subscribe(world.education, URL, ["overdue", "reminded"])
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], urgency="特提")
    Delivery.objects.filter(document=document).update(deadline_sign_for=timezone.now() - timedelta(hours=1))

    with override_settings(REMINDER_ESCALATE_AFTER=1):  # the escalation to the parent tells no party
        assert services.delivery_remind_overdue() == {"reminded": 1, "escalated": 1}
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):  # past the double-click guard
        services.delivery_remind(actor=world.zzb, delivery_id=delivery_of(document, world.education).pk)

    assert webhook_events_derive() == 2
    assert calls() == [
        ("自治区教育工委", "overdue", document.number, "自治区教育工委"),
        ("自治区教育工委", "reminded", document.number, "自治区教育工委"),
    ]


def test_deliveries_created_already_withdrawn_are_not_delivered(world, subscribe):
    """A cover letter still being routed when the delivery it forwards is recalled creates the rest
    of its deliveries withdrawn: nothing reached those units, so nothing is announced to them."""
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    received = delivery_of(document, world.education)
    cover, cover_dispatch = forward(world.jygw, received, main=[world.university], route=False)
    subscribe(world.university, URL)
    subscribe(world.education, URL, ["delivered", "recalled"])

    services.delivery_recall(actor=world.zzb, delivery_id=received.pk)
    services.dispatch_route(dispatch_id=cover_dispatch.pk)

    assert delivery_of(cover, world.university).state == Delivery.State.RECALLED
    assert webhook_events_derive() == 1
    assert calls() == [("自治区教育工委", "recalled", document.number, "自治区教育工委")]


def test_a_subscription_hears_of_what_happens_after_it_was_created_and_only_what_it_asked_for(world, subscribe):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    subscribe(world.education, URL, ["signed", "completed"])

    services.delivery_open(actor=world.jygw, delivery=delivery)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)

    assert webhook_events_derive() == 1
    assert calls() == [("自治区教育工委", "signed", document.number, "自治区教育工委")]


def test_no_calls_for_a_revoked_client_or_a_stopped_subscription(world, subscribe, admin_user):
    revoked, _secret = subscribe(world.education, URL, name="旧系统")
    stopped, _secret = subscribe(world.education, URL + "2", name="停用的系统")
    listening, _secret = subscribe(world.education, URL + "3", name="在用的系统")
    api_client_revoke(actor=admin_user, client=revoked.client)
    assert webhook_subscription_deactivate(actor=admin_user, subscription=stopped) is True

    issue(world.zzb, world.department, main=[world.education])

    assert webhook_events_derive() == 1
    assert list(WebhookDelivery.objects.values_list("subscription_id", "event_type")) == [(listening.pk, "delivered")]


def test_deriving_again_from_the_start_creates_nothing_twice(world, subscribe):
    subscribe(world.department, URL)
    issue(world.zzb, world.department, main=[world.education, world.other])
    assert webhook_events_derive() == 2
    assert webhook_events_derive() == 0

    WebhookCursor.objects.update(last_seq=0)  # a crash before the cursor moved, at worst
    assert webhook_events_derive() == 0
    assert WebhookDelivery.objects.count() == 2
    assert WebhookCursor.objects.get().last_seq == AuditEvent.objects.order_by("seq").last().seq


def test_without_subscriptions_the_cursor_skips_the_log_unread(world, count_queries):
    issue(world.zzb, world.department, main=[world.education])
    queries, created = count_queries(webhook_events_derive)
    assert (created, WebhookCursor.objects.get().last_seq) == (0, AuditEvent.objects.order_by("seq").last().seq)
    # Create the cursor row, lock it, read the head and the oldest subscription, move the cursor (and
    # the savepoint of the transaction, inside the test's own).
    assert queries == 2 + 5


def _fan_out(world, subscribe, count: int) -> int:
    """A dispatch from the department to `count` new units, each with a subscribed client, routed
    in chunks of 4 (several DELIVERIES_CREATED events); returns the calls derived."""
    units = [unit(f"测试单位{index}", world.region) for index in range(count)]
    subscribe(world.department, URL)
    for recipient in units:
        subscribe(recipient, URL)
    issue(world.zzb, world.department, main=units)
    return len(units)


@pytest.mark.parametrize("count", [3, 30])
def test_derivation_is_set_based_whatever_the_number_of_deliveries_and_subscribers(
    world, subscribe, count_queries, settings, count
):
    settings.ROUTING_CHUNK_SIZE = 4
    _fan_out(world, subscribe, count)
    assert AuditEvent.objects.filter(verb=AuditVerb.DELIVERIES_CREATED).count() == (count + 3) // 4

    queries, created = count_queries(webhook_events_derive)

    # Every delivery is one call to the issuer and one to its unit: one INSERT … SELECT for all.
    assert created == 2 * count
    assert queries == 2 + 6
