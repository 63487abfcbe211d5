"""Deadlines fixed at issue: the policy of the urgency, the official calendar, the forward's cap."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import delivery_of, issue
from units.errors import InvalidInput, NotAllowed
from workflow import services
from workflow.deadlines import deadlines_for, local_text, working_day_end
from workflow.models import AuditEvent, AuditVerb, CalendarDay, DeadlinePolicy, Delivery

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime.datetime:
    """A moment in Asia/Shanghai: at("2022-09-30 10:00")."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_the_default_policy_is_shipped_for_every_urgency(db):
    assert sorted(
        DeadlinePolicy.objects.values_list(
            "urgency", "sign_for_amount", "sign_for_unit", "complete_amount", "complete_unit"
        )
    ) == sorted(
        [
            ("特提", 30, "minutes", 1, "working_days"),
            ("特急", 2, "hours", 3, "working_days"),
            ("加急", 4, "hours", 5, "working_days"),
            ("平急", 1, "working_days", 10, "working_days"),
            ("普通", 1, "working_days", 10, "working_days"),
        ]
    )


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        # An ordinary week: Thursday → end of Friday; Friday → end of Monday.
        ("2022-09-22 10:00", 1, "2022-09-24 00:00"),
        ("2022-09-23 10:00", 1, "2022-09-27 00:00"),
        # 国庆 2022: 10-01..10-07 off, Saturday 10-08 and Sunday 10-09 worked (调休).
        ("2022-09-30 10:00", 1, "2022-10-09 00:00"),
        ("2022-09-30 10:00", 2, "2022-10-10 00:00"),
        ("2022-09-30 10:00", 10, "2022-10-20 00:00"),
        ("2022-10-03 09:00", 1, "2022-10-09 00:00"),
        # Issued on the 调休 Saturday itself: that day does not count, Sunday 10-09 does.
        ("2022-10-08 09:00", 1, "2022-10-10 00:00"),
        # The day of issue never counts, even at one minute past midnight.
        ("2022-10-10 00:01", 1, "2022-10-12 00:00"),
        # 春节 2026: 02-15..02-23 off, Saturday 02-14 and Saturday 02-28 worked.
        ("2026-02-13 17:00", 1, "2026-02-15 00:00"),
        ("2026-02-13 17:00", 2, "2026-02-25 00:00"),
        ("2026-02-27 17:00", 1, "2026-03-01 00:00"),
        # 国庆 2026: Sunday 09-20 worked; 中秋 09-25..09-27 off; 10-01..10-07 off; Saturday 10-10 worked.
        ("2026-09-18 12:00", 1, "2026-09-21 00:00"),
        ("2026-09-24 12:00", 1, "2026-09-29 00:00"),
        ("2026-09-30 12:00", 3, "2026-10-11 00:00"),
    ],
)
def test_working_days_skip_holidays_and_count_the_weekend_days_worked(db, start, days, end):
    assert working_day_end(at(start), days) == at(end)


def test_a_working_day_is_counted_in_shanghai_whatever_the_moment_is_given_in(db):
    # 2022-09-30 20:00 UTC is already Saturday 10-01 04:00 in Shanghai: the holiday, not Friday.
    start = datetime.datetime(2022, 9, 30, 20, 0, tzinfo=datetime.UTC)
    assert working_day_end(start, 1) == at("2022-10-09 00:00")


def test_a_year_without_a_calendar_counts_monday_to_friday(db):
    # 2031-01-01 is a Wednesday: no notice is shipped for 2031, so it is an ordinary working day.
    assert working_day_end(at("2030-12-31 10:00"), 1) == at("2031-01-02 00:00")


def test_hour_clocks_run_through_nights_and_holidays(db):
    deadlines = deadlines_for("特提", at("2022-09-30 23:50"))
    assert (deadlines.sign_for, deadlines.complete) == (at("2022-10-01 00:20"), at("2022-10-09 00:00"))
    deadlines = deadlines_for("特急", at("2022-10-01 11:00"))
    assert (deadlines.sign_for, deadlines.complete) == (at("2022-10-01 13:00"), at("2022-10-11 00:00"))
    deadlines = deadlines_for("加急", at("2022-10-07 22:00"))
    assert (deadlines.sign_for, deadlines.complete) == (at("2022-10-08 02:00"), at("2022-10-13 00:00"))


def test_deadlines_read_as_people_write_them():
    assert local_text(at("2022-10-09 00:00")) == "2022年10月8日24时"
    assert local_text(at("2022-10-01 00:20")) == "2022年10月1日0时20分"
    assert local_text(None) == "—"


@time_machine.travel(at("2022-09-30 10:00"), tick=False)
def test_issue_fixes_both_deadlines_on_the_dispatch_and_routing_copies_them_to_every_delivery(world):
    document, dispatch = issue(world.zzb, world.department, main=[world.education, world.other], urgency="普通")
    assert (dispatch.deadline_sign_for, dispatch.deadline_complete) == (at("2022-10-09 00:00"), at("2022-10-20 00:00"))
    assert list(Delivery.objects.filter(dispatch=dispatch).values_list("deadline_sign_for", "deadline_complete")) == [
        (at("2022-10-09 00:00"), at("2022-10-20 00:00")),
        (at("2022-10-09 00:00"), at("2022-10-20 00:00")),
    ]
    event = AuditEvent.objects.get(verb=AuditVerb.DOCUMENT_ISSUED, document=document)
    assert (event.payload["deadline_sign_for"], event.payload["deadline_complete"]) == (
        "2022-10-09T00:00:00+08:00",
        "2022-10-20T00:00:00+08:00",
    )


@time_machine.travel(at("2022-09-30 10:00"), tick=False)
def test_a_policy_change_moves_no_deadline_already_fixed(world):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education], urgency="普通")
    services.deadline_policy_set(
        actor=None, urgency="普通", sign_for_amount=2, sign_for_unit="hours", complete_amount=1, complete_unit="hours"
    )
    assert Delivery.objects.get(dispatch=dispatch).deadline_sign_for == at("2022-10-09 00:00")
    _document, later = issue(world.zzb, world.department, main=[world.education], urgency="普通")
    assert (later.deadline_sign_for, later.deadline_complete) == (at("2022-09-30 11:00"), at("2022-09-30 11:00"))


def _issue_with(world, complete_by, *, unit=None, actor=None, main=None):
    from tests.factories import content, second_signer

    unit, actor = unit or world.department, actor or world.zzb
    draft = services.document_draft(
        actor=actor, unit=unit, content=content(urgency="普通"), main_recipients=main or [world.education]
    )
    services.document_sign_off(actor=second_signer(unit, actor), document=draft)
    return draft, lambda: services.document_issue(actor=actor, document=draft, complete_by=complete_by)


@time_machine.travel(at("2022-09-30 10:00"), tick=False)
def test_a_document_may_set_an_earlier_completion_deadline_and_the_sign_for_deadline_follows(world):
    _draft, do_issue = _issue_with(world, at("2022-10-08 12:00"))
    dispatch = do_issue()
    assert (dispatch.deadline_sign_for, dispatch.deadline_complete) == (at("2022-10-08 12:00"), at("2022-10-08 12:00"))


@time_machine.travel(at("2022-09-30 10:00"), tick=False)
@pytest.mark.parametrize(
    ("complete_by", "message"),
    [
        ("2022-10-21 09:00", "晚于普通公文规定的办结时限2022年10月19日24时"),
        ("2022-09-30 09:00", "已经过去"),
    ],
)
def test_a_completion_deadline_later_than_the_policy_or_past_is_refused(world, nothing_written, complete_by, message):
    _draft, do_issue = _issue_with(world, at(complete_by))
    with nothing_written(), pytest.raises(InvalidInput, match=message):
        do_issue()


def _received(world, complete_by):
    """education receives a document due `complete_by`, signs for it and drafts a forward."""
    _draft, do_issue = _issue_with(world, complete_by)
    dispatch = do_issue()
    services.dispatch_route(dispatch_id=dispatch.pk)
    delivery = delivery_of(dispatch.document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    cover = services.document_forward(actor=world.jygw, delivery=delivery, main_recipients=[world.university])
    services.document_sign_off(actor=world.jygw_leader, document=cover)
    return cover


@time_machine.travel(at("2022-09-30 10:00"), tick=False)
def test_a_forward_gets_at_most_the_deadline_its_unit_received(world):
    cover = _received(world, at("2022-10-11 18:00"))
    dispatch = services.document_issue(actor=world.jygw, document=cover)
    # The policy would give 2022-10-19 24时; the unit itself must finish by 10-11 18:00.
    assert (dispatch.deadline_sign_for, dispatch.deadline_complete) == (at("2022-10-09 00:00"), at("2022-10-11 18:00"))


@time_machine.travel(at("2022-09-30 10:00"), tick=False)
def test_a_forward_that_asks_for_a_later_deadline_than_it_received_is_refused(world, nothing_written):
    cover = _received(world, at("2022-10-11 18:00"))
    with nothing_written(), pytest.raises(InvalidInput, match="不能晚于本单位收到的办结时限2022年10月11日18时00分"):
        services.document_issue(actor=world.jygw, document=cover, complete_by=at("2022-10-12 09:00"))
    dispatch = services.document_issue(actor=world.jygw, document=cover, complete_by=at("2022-10-10 09:00"))
    assert dispatch.deadline_complete == at("2022-10-10 09:00")


def test_the_calendar_holds_the_notices_days_exactly(db):
    def days(year, working):
        return [
            day.strftime("%m-%d")
            for day in CalendarDay.objects.filter(date__year=year, is_working_day=working).values_list(
                "date", flat=True
            )
        ]

    assert days(2022, True) == ["01-29", "01-30", "04-02", "04-24", "05-07", "10-08", "10-09"]
    assert days(2026, True) == ["01-04", "02-14", "02-28", "05-09", "09-20", "10-10"]
    assert len(days(2022, False)) == 3 + 7 + 3 + 5 + 3 + 3 + 7
    assert len(days(2026, False)) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    # Every day worked instead is a weekend day; the 2026 notice's weekday labels hold.
    assert all(
        day.weekday() >= 5 for day in CalendarDay.objects.filter(is_working_day=True).values_list("date", flat=True)
    )
    assert [datetime.date(2026, 1, 1).weekday(), datetime.date(2026, 2, 15).weekday()] == [3, 6]  # 周四, 周日
    assert CalendarDay.objects.get(date="2022-10-01").source.endswith("国办发明电〔2021〕11号）")


def test_calendar_changes_are_for_administrators_and_audited(world, nothing_written):
    with nothing_written(), pytest.raises(NotAllowed):
        services.calendar_day_set(actor=world.zzb, date=datetime.date(2027, 1, 1), is_working_day=False, name="元旦")
    with pytest.raises(InvalidInput, match="不需要设为调休上班"):
        services.calendar_day_set(actor=None, date=datetime.date(2027, 1, 4), is_working_day=True)
    services.calendar_day_set(actor=None, date=datetime.date(2027, 1, 1), is_working_day=False, name="元旦")
    assert working_day_end(at("2026-12-31 10:00"), 1) == at("2027-01-05 00:00")
    assert services.calendar_day_remove(actor=None, date=datetime.date(2027, 1, 1)) is True
    assert services.calendar_day_remove(actor=None, date=datetime.date(2027, 1, 1)) is False
    assert working_day_end(at("2026-12-31 10:00"), 1) == at("2027-01-02 00:00")
    assert list(
        AuditEvent.objects.filter(verb__in=[AuditVerb.CALENDAR_DAY_SET, AuditVerb.CALENDAR_DAY_REMOVED]).values_list(
            "verb", flat=True
        )
    ) == [AuditVerb.CALENDAR_DAY_SET, AuditVerb.CALENDAR_DAY_REMOVED]


def test_a_policy_refuses_a_nonsense_clock(db, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput, match="不合理"):
        services.deadline_policy_set(
            actor=None,
            urgency="特提",
            sign_for_amount=0,
            sign_for_unit="minutes",
            complete_amount=1,
            complete_unit="hours",
        )


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_still_has_the_shipped_policies_and_calendars(committed_db):
    # The flush after any earlier transactional test emptied these tables; committed_db reloads them.
    assert DeadlinePolicy.objects.count() == 5
    assert CalendarDay.objects.filter(date__year=2022).exists()
    assert CalendarDay.objects.filter(date__year=2026).exists()
