"""催办: the beat's sweep and the issuer's button, rounds, escalation, idempotency, query counts."""

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core import mail

import api.tasks  # noqa: F401 (registers the tasks by name, as the worker's autodiscovery does)
import exchange.tasks  # noqa: F401 (likewise)
import webhooks.tasks  # noqa: F401 (likewise)
import workflow.tasks  # noqa: F401 (likewise)
from config.celery import app
from tests.factories import delivery_of, issue, person, unit
from tests.workflow.test_deadlines import at
from units.errors import Conflict, NotAllowed
from units.models import Role
from workflow import services
from workflow.checks import check_office_hours
from workflow.models import AuditEvent, AuditVerb, Delivery, Notification


def _reminders(kind=Notification.Kind.REMINDER):
    return list(
        Notification.objects.filter(kind=kind)
        .order_by("round", "user__username")
        .values_list("user__username", "round")
    )


@pytest.fixture
def overdue(world, settings):
    """A 特提 telegram to education and other, issued 2022-10-13 09:00: sign for by 09:30."""
    settings.REMINDER_INTERVAL_MINUTES = 60
    settings.REMINDER_ESCALATE_AFTER = 3
    with time_machine.travel(at("2022-10-13 09:00"), tick=False):
        document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")
    return document


def test_nothing_is_due_before_the_deadline(world, overdue):
    with time_machine.travel(at("2022-10-13 09:29"), tick=False):
        assert services.delivery_remind_overdue() == {"reminded": 0, "escalated": 0}
    assert _reminders() == []


def test_a_reminder_fires_once_when_the_deadline_passes_and_not_again_in_the_same_round(
    world, overdue, django_capture_on_commit_callbacks
):
    with time_machine.travel(at("2022-10-13 09:30"), tick=False):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert services.delivery_remind_overdue() == {"reminded": 2, "escalated": 0}
        assert services.delivery_remind_overdue() == {"reminded": 0, "escalated": 0}
    with time_machine.travel(at("2022-10-13 10:29"), tick=False):
        assert services.delivery_remind_overdue() == {"reminded": 0, "escalated": 0}

    assert _reminders() == [("jygw", 1), ("other_clerk", 1)]
    assert len(callbacks) == 1  # the emails, once for the batch
    education = delivery_of(overdue, world.education)
    assert (education.reminder_count, education.last_reminded_at) == (1, at("2022-10-13 09:30"))
    text = Notification.objects.get(user=world.jygw).text
    assert text == (
        f"{overdue.number}《关于做好测试工作的通知》已超过签收时限（2022年10月13日9时30分），请尽快办理（第1次催办）。"
    )
    event = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_REMINDED, object_id=str(education.pk))
    assert (event.actor_id, event.unit_id, event.document_id) == (None, world.education.pk, overdue.pk)
    assert event.payload == {"round": 1, "clock": "sign_for", "deadline": "2022-10-13T01:30:00+00:00", "manual": False}


def test_reminders_are_emailed_once(world, overdue):
    with time_machine.travel(at("2022-10-13 09:30"), tick=False):
        services.delivery_remind_overdue()
        assert services.notification_email_send() == 2
        assert services.notification_email_send() == 0
    reminders = [message for message in mail.outbox if message.subject.startswith("【催办】")]
    assert sorted(message.to[0] for message in reminders) == ["jygw@example.org", "other_clerk@example.org"]


def test_rounds_repeat_after_the_interval_and_escalate_to_the_parent_once_after_n(world, overdue):
    # education's parent is the region: give it a clerk to be told.
    region_clerk = person(world.region, Role.CLERK, username="region_clerk")
    services.delivery_sign_for(actor=world.other_clerk, delivery_id=delivery_of(overdue, world.other).pk)
    for minute in ("09:30", "10:30", "11:30", "12:30"):
        with time_machine.travel(at(f"2022-10-13 {minute}"), tick=False):
            services.delivery_remind_overdue()

    education = delivery_of(overdue, world.education)
    assert (education.reminder_count, education.escalated_at) == (4, at("2022-10-13 11:30"))
    assert _reminders() == [("jygw", 1), ("jygw", 2), ("jygw", 3), ("jygw", 4)]
    assert _reminders(Notification.Kind.ESCALATION) == [(region_clerk.username, 3)]
    escalation = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_ESCALATED)
    assert (escalation.unit_id, escalation.payload) == (
        world.region.pk,
        {"round": 3, "recipient_unit_id": world.education.pk},
    )


def test_a_signed_delivery_is_reminded_again_only_when_the_completion_deadline_passes(world, overdue):
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(overdue, world.education).pk)
    services.delivery_sign_for(actor=world.other_clerk, delivery_id=delivery_of(overdue, world.other).pk)
    with time_machine.travel(at("2022-10-14 23:59"), tick=False):
        assert services.delivery_remind_overdue()["reminded"] == 0
    with time_machine.travel(at("2022-10-15 00:00"), tick=False):  # 1 working day: end of Friday 10-14
        assert services.delivery_remind_overdue()["reminded"] == 2
    assert "已超过办结时限（2022年10月14日24时）" in Notification.objects.filter(user=world.jygw).get().text


def test_completed_returned_and_recalled_deliveries_are_not_reminded(world, overdue):
    education = delivery_of(overdue, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=education.pk)
    services.delivery_complete(actor=world.jygw, delivery_id=education.pk, feedback="已传达学习。")
    services.delivery_recall(actor=world.zzb, delivery_id=delivery_of(overdue, world.other).pk)
    with time_machine.travel(at("2022-10-20 09:00"), tick=False):
        assert services.delivery_remind_overdue()["reminded"] == 0


def test_a_duplicated_sweep_after_a_crash_sends_nothing_twice(world, overdue):
    with time_machine.travel(at("2022-10-13 09:30"), tick=False):
        services.delivery_remind_overdue()
        # A redelivered message runs the task again: the round is already counted.
        app.tasks["workflow.remind_overdue"].apply().get()
    assert Notification.objects.filter(kind=Notification.Kind.REMINDER).count() == 2
    assert Delivery.objects.filter(reminder_count=1).count() == 2


def test_the_issuer_may_press_remind_by_hand(world, overdue, django_capture_on_commit_callbacks):
    delivery = delivery_of(overdue, world.other)
    with time_machine.travel(at("2022-10-13 09:10"), tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            assert services.delivery_remind(actor=world.zzb, delivery_id=delivery.pk) == 1
        with pytest.raises(Conflict, match="刚刚已经催办过"):
            services.delivery_remind(actor=world.zzb, delivery_id=delivery.pk)
    with time_machine.travel(at("2022-10-13 09:30"), tick=False):
        # The beat's sweep leaves other alone for the interval after the hand reminder.
        assert services.delivery_remind_overdue()["reminded"] == 1
    assert len(callbacks) == 1
    assert sorted(_reminders()) == [("jygw", 1), ("other_clerk", 1)]
    text = Notification.objects.get(user=world.other_clerk).text
    assert text.endswith("签收时限为2022年10月13日9时30分，请尽快办理（第1次催办）。")
    event = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_REMINDED, object_id=str(delivery.pk))
    assert (event.actor_id, event.payload["manual"]) == (world.zzb.pk, True)


@pytest.mark.parametrize("intruder", ["other_clerk", "jygw", "imu", "auditor", "anonymous", None])
def test_only_the_issuing_unit_may_remind(world, overdue, nothing_written, intruder):
    # other: a recipient; jygw: the recipient itself; imu: a child of it; auditor: the region above.
    user = AnonymousUser() if intruder == "anonymous" else world.people[intruder] if intruder else None
    delivery = delivery_of(overdue, world.education)
    with nothing_written(), pytest.raises(NotAllowed, match="不是自治区党委组织部的收发员或签发人"):
        services.delivery_remind(actor=user, delivery_id=delivery.pk)


def test_a_completed_delivery_needs_no_reminder(world, overdue, nothing_written):
    delivery = delivery_of(overdue, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    services.delivery_complete(actor=world.jygw, delivery_id=delivery.pk, feedback="已办结。")
    with nothing_written(), pytest.raises(Conflict, match="状态为已办结，不能催办"):
        services.delivery_remind(actor=world.zzb, delivery_id=delivery.pk)


def _overdue_deliveries(world, n):
    units = [unit(f"单位{n}-{i}", world.other) for i in range(n)]
    for each in units:
        person(each, Role.CLERK)
    with time_machine.travel(at("2022-10-13 09:00"), tick=False):
        issue(world.zzb, world.department, main=units, urgency="特提")


def test_the_sweep_runs_the_same_queries_for_any_number_of_overdue_deliveries(world, settings, count_queries):
    settings.REMINDER_ESCALATE_AFTER = 1  # escalate in the same round: every step of the sweep runs
    person(world.other, Role.CLERK, username="parent_clerk")
    _overdue_deliveries(world, 5)
    with time_machine.travel(at("2022-10-13 09:30"), tick=False):
        small_count, small = count_queries(services.delivery_remind_overdue)
    _overdue_deliveries(world, 60)
    with time_machine.travel(at("2022-10-13 09:31"), tick=False):
        large_count, large = count_queries(services.delivery_remind_overdue)

    assert (small, large) == ({"reminded": 5, "escalated": 5}, {"reminded": 60, "escalated": 60})
    assert Notification.objects.filter(kind=Notification.Kind.ESCALATION).count() == 2 * 65
    # Whether the office is open (the calendar's day), a savepoint pair, the locked select, the
    # counting UPDATE, clerks + INSERT for the reminders and for the escalations, the audit events
    # (lock, head, one INSERT), and the final empty check is not needed (a short batch ends the
    # sweep) = 12.
    assert small_count == large_count == 12


def test_the_batch_size_bounds_a_transaction_and_the_sweep_carries_on(world, settings):
    settings.REMINDER_BATCH_SIZE = 2
    _overdue_deliveries(world, 5)
    with time_machine.travel(at("2022-10-13 09:30"), tick=False):
        assert services.delivery_remind_overdue() == {"reminded": 5, "escalated": 0}
    assert Delivery.objects.filter(reminder_count=1).count() == 5


def test_every_beat_entry_names_a_task_that_exists_and_runs(db, settings):
    names = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert sorted(names) == sorted(
        [
            "workflow.sweep",
            "workflow.remind_overdue",
            "workflow.remind_assignments",
            "workflow.email_notifications",
            "workflow.verify_audit",
            "workflow.audit_checkpoint",
            "webhooks.derive_events",
            "webhooks.send_calls",
            "api.purge_idempotency_keys",
            "exchange.sweep",
        ]
    )
    for name in names:
        assert app.tasks[name].apply().successful(), name
    # The webhooks' work waits on other systems: on its own queue, never on control (config/celery.py).
    # The exchange's sweep only derives and enqueues (the sends go on the urgency's queue): control.
    assert {entry["task"]: entry["options"]["queue"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} == {
        name: "webhooks" if name.startswith("webhooks.") else "control" for name in names
    }


@pytest.fixture
def routine_and_flash(world):
    """A 普通 notice to education and a 特提 telegram to other, both overdue since 2022-10-07 00:00."""
    with time_machine.travel(at("2022-09-30 10:00"), tick=False):
        routine, _dispatch = issue(world.zzb, world.department, main=[world.education])
        flash, _dispatch = issue(world.zzb, world.department, main=[world.other], urgency="特提")
    Delivery.objects.filter(document__in=[routine, flash]).update(deadline_sign_for=at("2022-10-07 00:00"))
    return routine, flash


def _urged_units() -> list[str]:
    return sorted(Delivery.objects.filter(reminder_count__gt=0).values_list("unit__name", flat=True))


@pytest.mark.parametrize(
    ("moment", "urged"),
    [
        ("2022-10-14 03:00", ["自治区直属机关工委"]),  # Friday night: only the 特提
        ("2022-10-14 07:59", ["自治区直属机关工委"]),
        ("2022-10-14 08:00", ["自治区教育工委", "自治区直属机关工委"]),  # the office opens
        ("2022-10-14 17:59", ["自治区教育工委", "自治区直属机关工委"]),
        ("2022-10-14 18:00", ["自治区直属机关工委"]),  # closed
        ("2022-10-15 10:00", ["自治区直属机关工委"]),  # a Saturday
        ("2022-10-08 10:00", ["自治区教育工委", "自治区直属机关工委"]),  # a Saturday made a working day (调休)
        ("2022-10-06 10:00", []),  # a Thursday of the 国庆 holiday, and nothing overdue yet
        ("2022-10-07 10:00", ["自治区直属机关工委"]),  # a Friday of the 国庆 holiday
    ],
)
def test_the_sweep_urges_routine_documents_in_office_hours_and_flash_ones_around_the_clock(
    world, routine_and_flash, moment, urged
):
    with time_machine.travel(at(moment), tick=False):
        services.delivery_remind_overdue()
    assert _urged_units() == urged


def test_without_office_hours_every_urgency_is_urged_around_the_clock(world, routine_and_flash, settings):
    settings.REMINDER_OFFICE_HOURS = ""
    with time_machine.travel(at("2022-10-15 03:00"), tick=False):
        assert services.delivery_remind_overdue() == {"reminded": 2, "escalated": 0}
    assert _urged_units() == ["自治区教育工委", "自治区直属机关工委"]


def test_an_issuer_may_urge_a_routine_document_by_hand_at_night(world, routine_and_flash):
    routine, _flash = routine_and_flash
    with time_machine.travel(at("2022-10-15 03:00"), tick=False):
        services.delivery_remind(actor=world.zzb, delivery_id=delivery_of(routine, world.education).pk)
    assert _urged_units() == ["自治区教育工委"]


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("08:00-18:00", []),
        ("08:30-17:30", []),
        ("", []),
        ("18:00-08:00", ["workflow.E001"]),
        ("9-5", ["workflow.E001"]),
    ],
)
def test_office_hours_that_cannot_be_read_stop_the_system_check(settings, value, errors):
    settings.REMINDER_OFFICE_HOURS = value
    messages = check_office_hours(None)
    assert [message.id for message in messages] == errors
    if errors:
        assert "REMINDER_OFFICE_HOURS" in messages[0].msg
