"""What pages read about deadlines, returns and completions: selectors, chain JSON, the 退文告知单, the admin."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from tests.factories import UserFactory, delivery_of, forward, issue
from tests.workflow.test_deadlines import at
from units.errors import NotFound
from web.selectors import delivery_list_overdue_for_unit
from workflow import services
from workflow.access import access_chain, access_return, access_unit_as_member
from workflow.deadlines import overdue_q
from workflow.models import AuditEvent, AuditVerb, CalendarDay, DeadlinePolicy, Delivery, ReturnReason
from workflow.selectors import chain_for_document, completion_list_for_chain, inbox_for_user


@pytest.fixture
def telegram(world):
    """特提 to education and other at 2022-10-13 09:00 (sign for by 09:30, complete by 10-14 24时)."""
    with time_machine.travel(at("2022-10-13 09:00"), tick=False):
        document, _ = issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")
    return document


def test_the_inbox_shows_each_deadline_and_flags_the_overdue(world, telegram):
    with time_machine.travel(at("2022-10-13 09:29"), tick=False):
        (row,) = inbox_for_user(world.jygw)
        assert (row.deadline_sign_for, row.deadline_complete, row.is_overdue) == (
            at("2022-10-13 09:30"),
            at("2022-10-15 00:00"),
            False,
        )
    with time_machine.travel(at("2022-10-13 09:30"), tick=False):
        assert [row.is_overdue for row in inbox_for_user(world.jygw)] == [True]


def test_the_outbox_overdue_list_is_for_the_issuing_unit_only(world, telegram):
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(telegram, world.education).pk)
    now = at("2022-10-13 10:00")
    department = access_unit_as_member(world.zzb, world.department.pk)
    overdue = delivery_list_overdue_for_unit(department, now=now)
    assert [delivery.unit_id for delivery in overdue] == [world.other.pk]
    later = delivery_list_overdue_for_unit(department, now=at("2022-10-15 00:00"))
    assert {delivery.unit_id for delivery in later} == {world.education.pk, world.other.pk}
    for outsider in (world.jygw, world.other_clerk, world.auditor, AnonymousUser(), None):
        with pytest.raises(NotFound):
            access_unit_as_member(outsider, world.department.pk)


def test_the_overdue_lists_two_parts_are_exactly_the_overdue_deliveries_most_overdue_first(world):
    # Deadlines of every kind against one moment: each delivery is overdue by workflow.deadlines.
    # overdue_q or not, and the list (two index walks, web.selectors._overdue_parts) holds exactly
    # the overdue ones of what the unit issued, each once, overdue since its running clock's deadline.
    now = at("2022-10-20 12:00")
    with time_machine.travel(at("2022-10-13 09:00"), tick=False):
        document, _ = issue(world.zzb, world.department, main=[world.education, world.other, world.university])
        others, _ = issue(world.jygw, world.education, main=[world.university])
    deliveries = {d.unit_id: d for d in Delivery.objects.filter(document=document)}
    hours = datetime.timedelta(hours=1)
    cases = {  # unit: (state after, deadline_sign_for, deadline_complete)
        world.education.pk: ("pending", now - 5 * hours, now + hours),  # late to sign since -5 h
        world.other.pk: ("pending", now + hours, now - 2 * hours),  # a policy completing first: -2 h
        world.university.pk: ("signed", now - 9 * hours, now - hours),  # late to complete since -1 h
    }
    for unit_id, (state, sign_for, complete) in cases.items():
        if state == "signed":
            services.delivery_sign_for(actor=world.imu, delivery_id=deliveries[unit_id].pk)
        moved = Delivery.objects.filter(pk=deliveries[unit_id].pk)
        moved.update(deadline_sign_for=sign_for, deadline_complete=complete)
    Delivery.objects.filter(document=others).update(deadline_sign_for=now - 9 * hours)  # another issuer's
    expected = Delivery.objects.filter(document__issuing_unit=world.department).filter(overdue_q(now))
    listed = delivery_list_overdue_for_unit(world.department, now=now)
    assert sorted(d.pk for d in listed) == sorted(d.pk for d in expected)
    assert len(listed) == 3
    assert [(d.unit_id, d.overdue_since) for d in listed] == [
        (world.education.pk, now - 5 * hours),
        (world.other.pk, now - 2 * hours),
        (world.university.pk, now - hours),
    ]
    assert delivery_list_overdue_for_unit(world.department, now=now - 6 * hours) == []


def test_chain_json_carries_the_deadlines_and_the_reminder_count(world, telegram):
    with time_machine.travel(at("2022-10-13 09:30"), tick=False):
        services.delivery_remind_overdue()
    tree = chain_for_document(telegram).as_json()
    assert [
        (d["unit"], d["deadline_sign_for"], d["deadline_complete"], d["reminders"]) for d in tree["deliveries"]
    ] == [
        # In UTC like read_at and signed_at: 09:30 and 24时 of 10-14 in Shanghai.
        ("自治区教育工委", "2022-10-13T01:30:00+00:00", "2022-10-14T16:00:00+00:00", 1),
        ("自治区直属机关工委", "2022-10-13T01:30:00+00:00", "2022-10-14T16:00:00+00:00", 1),
    ]


def test_chain_lateness_shows_late_signs_and_open_deliveries_past_their_deadline(world, telegram):
    with time_machine.travel(at("2022-10-13 09:45"), tick=False):
        services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(telegram, world.education).pk)
    education, other = chain_for_document(telegram).deliveries
    now = at("2022-10-13 10:00")
    assert education.sign_for_lateness(now) == datetime.timedelta(minutes=15)
    assert other.sign_for_lateness(now) == datetime.timedelta(minutes=30)
    assert (education.completion_lateness(now), other.completion_lateness(now)) == (None, None)
    assert other.completion_lateness(at("2022-10-15 01:00")) == datetime.timedelta(hours=1)


def test_the_chain_query_count_is_unchanged_by_the_new_columns(world, telegram, count_queries):
    count, _tree = count_queries(chain_for_document, telegram)
    assert count == 5


def test_completion_feedback_is_for_the_issuer_and_the_chains_auditors(world):
    root, _ = issue(world.zzb, world.department, main=[world.education])
    cover, _ = forward(world.jygw, delivery_of(root, world.education), main=[world.university])
    for delivery, clerk in (
        (delivery_of(root, world.education), world.jygw),
        (delivery_of(cover, world.university), world.imu),
    ):
        services.delivery_sign_for(actor=clerk, delivery_id=delivery.pk)
        services.delivery_complete(actor=clerk, delivery_id=delivery.pk, feedback=f"{clerk.username}已落实。")

    def feedback(user, document):
        return [completion.feedback for completion in completion_list_for_chain(access_chain(user, document.pk))]

    assert feedback(world.zzb, root) == ["jygw已落实。", "imu已落实。"]
    assert feedback(world.auditor, root) == ["jygw已落实。", "imu已落实。"]
    assert feedback(world.jygw, cover) == ["imu已落实。"]
    for outsider in (world.other_clerk, world.other_auditor, world.imu, AnonymousUser()):
        with pytest.raises(NotFound):
            access_chain(outsider, root.pk)


@pytest.fixture
def returned(world):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    return services.delivery_return(
        actor=world.jygw,
        delivery_id=delivery_of(document, world.education).pk,
        reason=ReturnReason.NOT_CONSULTED,
        text="涉及多个部门，请先会签。",
    )


def test_the_return_notice_is_for_both_units_and_their_auditors(world, returned):
    for user in (world.zzb, world.jygw, world.auditor):
        assert access_return(user, returned.pk) == returned
    for outsider in (world.other_clerk, world.imu, world.other_auditor, AnonymousUser(), None):
        with pytest.raises(NotFound):
            access_return(outsider, returned.pk)


def test_the_return_notice_prints_the_reason(client, world, returned):
    client.force_login(world.zzb)
    response = client.get(reverse("return_notice", args=[returned.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "退文告知单",
        "自治区党委组织部：",
        returned.delivery.document.number,
        "未协商会签",
        "请先会签",
        "自治区教育工委",
    ):
        assert text in page
    client.force_login(world.other_clerk)
    assert client.get(reverse("return_notice", args=[returned.pk])).status_code == 404


@pytest.fixture
def superuser_client(client, world):
    client.force_login(UserFactory(username="root-admin", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", ["deadlinepolicy", "calendarday", "completion", "deliveryreturn"])
def test_the_new_admin_lists_open(superuser_client, returned, model):
    assert superuser_client.get(reverse(f"admin:workflow_{model}_changelist")).status_code == 200


def test_the_admin_changes_a_policy_and_the_calendar_through_the_audited_services(superuser_client, world):
    policy = DeadlinePolicy.objects.get(urgency="加急")
    response = superuser_client.post(
        reverse("admin:workflow_deadlinepolicy_change", args=[policy.pk]),
        {"sign_for_amount": 3, "sign_for_unit": "hours", "complete_amount": 4, "complete_unit": "working_days"},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.sign_for_amount, policy.complete_amount) == (3, 4)
    response = superuser_client.post(
        reverse("admin:workflow_calendarday_add"),
        {
            "date": "2027-01-01",
            "is_working_day": "",
            "name": "元旦",
            "source": "国务院办公厅关于2027年部分节假日安排的通知",
        },
    )
    assert response.status_code == 302
    day = CalendarDay.objects.get(date="2027-01-01")
    response = superuser_client.post(reverse("admin:workflow_calendarday_delete", args=[day.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(date="2027-01-01").exists()
    assert list(
        AuditEvent.objects.filter(
            verb__in=[AuditVerb.DEADLINE_POLICY_SET, AuditVerb.CALENDAR_DAY_SET, AuditVerb.CALENDAR_DAY_REMOVED]
        ).values_list("verb", "actor__username")
    ) == [
        (AuditVerb.DEADLINE_POLICY_SET, "root-admin"),
        (AuditVerb.CALENDAR_DAY_SET, "root-admin"),
        (AuditVerb.CALENDAR_DAY_REMOVED, "root-admin"),
    ]
