"""承办催办 inside a recipient unit (issue 14): an overdue assignment is urged at most once a working
day, in office hours; at the second reminder its instructing leader is told, once. The notices of
the steps inside a unit are emailed from their own templates."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from tests.factories import build_inner_unit, delivery_of, issue
from workflow import services
from workflow.models import Assignment, AuditEvent, Notification

ZONE = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=ZONE)


@pytest.fixture
def overdue(world):
    """Instructed on Monday 2022-10-17 with a deadline of 17:00 that day: 组织部 主办, 宣传部 协办."""
    inner = build_inner_unit(world)
    with time_machine.travel(at("2022-10-17 09:00"), tick=False):
        document, _dispatch = issue(world.jygw, world.education, main=[world.university])
        delivery = delivery_of(document, world.university)
        services.delivery_sign_for(actor=world.imu, delivery_id=delivery.pk)
        record = services.delivery_register(world.imu, delivery.pk)
        services.handling_instruct(
            inner.secretary,
            record.pk,
            text="请组织部抓好落实。",
            lead_department_ids=[inner.organization.pk],
            assist_department_ids=[inner.publicity.pk],
            deadline=at("2022-10-17 17:00"),
        )
    return inner, delivery


def _remind(moment: str) -> int:
    with time_machine.travel(at(moment), tick=False):
        return services.assignment_remind_overdue()


def test_overdue_assignments_are_urged_once_a_working_day_then_escalated(overdue):
    inner, delivery = overdue
    assert _remind("2022-10-17 16:59") == 0  # not overdue yet
    assert _remind("2022-10-17 17:30") == 2
    assert _remind("2022-10-17 17:45") == 0  # once a day
    assert _remind("2022-10-17 18:30") == 0  # out of office hours
    assert _remind("2022-10-22 10:00") == 0  # Saturday
    assert _remind("2022-10-24 08:30") == 2  # Monday: the second round, escalated
    assert _remind("2022-10-25 08:30") == 2
    assert list(Assignment.objects.order_by("id").values_list("reminders", "escalated_at")) == [
        (3, at("2022-10-24 08:30")),
        (3, at("2022-10-24 08:30")),
    ]
    reminders = Notification.objects.filter(kind="task_remind").order_by("round", "user__username")
    assert list(reminders.values_list("user__username", "round")) == [
        ("org_handler", 1),
        ("pub_handler", 1),
        ("org_handler", 2),
        ("pub_handler", 2),
        ("org_handler", 3),
        ("pub_handler", 3),
    ]
    assert reminders.first().text == (
        "内蒙古大学党委组织部：内教工委函〔2022〕1号《关于做好测试工作的通知》的主办已超过办理时限"
        "（2022年10月17日17时00分），请尽快办理（第1次催办）。"
    )
    # One notice per person, delivery and round: the leader hears once of both departments' delay
    # (both are escalated, and audited, each).
    escalations = Notification.objects.filter(kind="task_raised")
    assert list(escalations.values_list("user__username", "round")) == [("secretary", 2)]
    assert AuditEvent.objects.filter(verb="ASSIGNMENT_REMINDED").count() == 6
    escalated = AuditEvent.objects.filter(verb="ASSIGNMENT_ESCALATED").order_by("seq")
    assert [(event.actor_id, event.unit_id, event.payload["leader_id"]) for event in escalated] == [
        (None, delivery.unit_id, inner.secretary.pk),
        (None, delivery.unit_id, inner.secretary.pk),
    ]


def test_a_finished_assignment_is_never_urged(overdue):
    inner, _delivery = overdue
    lead = Assignment.objects.get(department=inner.organization)
    with time_machine.travel(at("2022-10-17 16:00"), tick=False):
        services.assignment_report(inner.org_handler, lead.pk, text="已落实。", finish=True)
    assert _remind("2022-10-17 17:30") == 1
    assert list(Assignment.objects.order_by("id").values_list("reminders", flat=True)) == [0, 1]


@pytest.mark.parametrize("size", [1, 4])
def test_the_sweep_asks_the_same_number_of_queries_whatever_it_urges(world, count_queries, size):
    inner = build_inner_unit(world)
    with time_machine.travel(at("2022-10-17 09:00"), tick=False):
        for _index in range(size):
            document, _dispatch = issue(world.jygw, world.education, main=[world.university])
            delivery = delivery_of(document, world.university)
            services.delivery_sign_for(actor=world.imu, delivery_id=delivery.pk)
            record = services.delivery_register(world.imu, delivery.pk)
            services.handling_instruct(
                inner.secretary,
                record.pk,
                text="请办理。",
                lead_department_ids=[inner.organization.pk],
                deadline=at("2022-10-17 17:00"),
            )
    with time_machine.travel(at("2022-10-24 08:30"), tick=False):
        Assignment.objects.update(reminders=1, last_reminded_at=at("2022-10-17 17:30"))
        queries, reminded = count_queries(services.assignment_remind_overdue)
    assert reminded == size
    assert Notification.objects.filter(kind="task_raised").count() == size
    # The same at both sizes: the calendar (twice), then one batch: its rows, the update, the
    # handlers, the notices, the audit (lock, head, insert), and the savepoints around them.
    assert queries == 11


def test_the_notices_inside_a_unit_are_emailed_in_chinese(overdue):
    _inner, delivery = overdue
    _remind("2022-10-17 17:30")
    mail.outbox.clear()
    services.notification_email_send()
    by_kind = {}
    for message in mail.outbox:
        kind = Notification.objects.get(pk=int(message.extra_headers["Message-ID"].split("-")[1].split("@")[0])).kind
        by_kind.setdefault(kind, []).append((message.to, message.subject))
    number, title = "内教工委函〔2022〕1号", "关于做好测试工作的通知"
    assert {kind: sorted(messages) for kind, messages in by_kind.items()} == {
        "assigned": [
            (["org_handler@example.org"], f"【承办】{number}《{title}》"),
            (["pub_handler@example.org"], f"【承办】{number}《{title}》"),
        ],
        "task_remind": [
            (["org_handler@example.org"], f"【承办催办】{number}《{title}》（第1次催办）"),
            (["pub_handler@example.org"], f"【承办催办】{number}《{title}》（第1次催办）"),
        ],
    }
    body = next(message.body for message in mail.outbox if message.to == ["org_handler@example.org"])
    assert body.startswith("org_handler：\n\n请主办")
    assert f"/deliveries/{delivery.pk}/" in body
