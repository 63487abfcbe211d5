"""Deadlines (办理时限): when a recipient must sign for a delivery and when it must complete it.

Two kinds of clock, as the policy of the document's urgency says (DeadlinePolicy):

- minutes and hours run on the clock: nights, weekends and holidays count;
- working days run on the official calendar, in Asia/Shanghai whatever the server's zone. "N working
  days from a moment" ends at the end (24:00) of the Nth working day after the day of that moment:
  the day of issue never counts, even when issued at 08:00 on a working day, and a working day is a
  Monday to Friday that is not a holiday, or a weekend day made a working day (调休上班), as
  CalendarDay says. Issued on Friday 2022-09-30, one working day runs to the end of Saturday
  2022-10-08 (the 国庆 holiday is skipped, the 调休 Saturday counts).

A deadline is stored as the first moment that is late: the end of 2022-10-08 is stored as
2022-10-09 00:00+08:00, and a delivery is overdue when now >= its deadline.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from workflow.models import CalendarDay, ClockUnit, DeadlinePolicy, Delivery

CALENDAR_ZONE = ZoneInfo("Asia/Shanghai")
# Looked up in one query: far more calendar days than any N working days can span.
_HORIZON_EXTRA_DAYS = 40


# A delivery is open (its clocks run) until it is completed, returned or recalled.
OPEN_STATES = Delivery.OPEN_STATES


def overdue_q(now: datetime.datetime) -> Q:
    """Open deliveries past a deadline: not signed for by the sign-for deadline, or neither completed
    nor returned by the completion deadline. A recalled delivery is no longer anyone's business."""
    return Q(state=Delivery.State.PENDING, deadline_sign_for__lte=now) | Q(
        state__in=OPEN_STATES, deadline_complete__lte=now
    )


@dataclass(frozen=True)
class Deadlines:
    sign_for: datetime.datetime | None
    complete: datetime.datetime | None


def _is_working_day(day: datetime.date, exceptions: dict[datetime.date, bool]) -> bool:
    """Monday to Friday, unless the calendar's exceptions (CalendarDay) say otherwise for that day."""
    return exceptions.get(day, day.weekday() < 5)


def working_day_end(start: datetime.datetime, days: int) -> datetime.datetime:
    """The end (next midnight, Asia/Shanghai) of the `days`-th working day after `start`'s day."""
    return working_day_ends(start, [days])[days]


def working_day_ends(start: datetime.datetime, counts: list[int]) -> dict[int, datetime.datetime]:
    """`working_day_end` for several counts from one start, reading the calendar once."""
    if not counts:
        return {}
    first = start.astimezone(CALENDAR_ZONE).date()
    wanted, found = max(counts), {}
    horizon, day, seen = 0, first, 0
    while seen < wanted:
        horizon += 2 * wanted + _HORIZON_EXTRA_DAYS
        exceptions = dict(
            CalendarDay.objects.filter(date__gt=day, date__lte=first + datetime.timedelta(days=horizon)).values_list(
                "date", "is_working_day"
            )
        )
        while seen < wanted and day < first + datetime.timedelta(days=horizon):
            day += datetime.timedelta(days=1)
            if _is_working_day(day, exceptions):
                seen += 1
                found[seen] = day
    return {
        count: datetime.datetime.combine(found[count] + datetime.timedelta(days=1), datetime.time(), CALENDAR_ZONE)
        for count in counts
    }


def _on_the_clock(start: datetime.datetime, amount: int, unit: str) -> datetime.datetime:
    minutes = amount if unit == ClockUnit.MINUTES else amount * 60
    return start + datetime.timedelta(minutes=minutes)


def deadlines_for(urgency: str, start: datetime.datetime) -> Deadlines:
    """Both deadlines of a document of this urgency issued at `start`. Two queries at most.

    No policy for the urgency, no clock: such deliveries are never overdue.
    """
    policy = DeadlinePolicy.objects.filter(urgency=urgency).first()
    if policy is None:
        return Deadlines(None, None)
    clocks = [(policy.sign_for_amount, policy.sign_for_unit), (policy.complete_amount, policy.complete_unit)]
    ends = working_day_ends(start, [amount for amount, unit in clocks if unit == ClockUnit.WORKING_DAYS])
    sign_for, complete = (
        ends[amount] if unit == ClockUnit.WORKING_DAYS else _on_the_clock(start, amount, unit)
        for amount, unit in clocks
    )
    return Deadlines(sign_for, complete)


def office_hours(text: str) -> tuple[datetime.time, datetime.time] | None:
    """REMINDER_OFFICE_HOURS ("08:00-18:00") as (opening, closing); None when empty (no office hours)."""
    if not text.strip():
        return None
    try:
        opening, closing = (datetime.time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        opening = closing = None
    if opening is None or opening >= closing:
        raise ImproperlyConfigured(
            f"REMINDER_OFFICE_HOURS={text!r}: write the office hours as HH:MM-HH:MM, opening before closing "
            "(or leave it empty for none)"
        )
    return opening, closing


def is_office_hours(now: datetime.datetime) -> bool:
    """Whether `now` falls in REMINDER_OFFICE_HOURS on a working day (Asia/Shanghai). One query."""
    hours = office_hours(settings.REMINDER_OFFICE_HOURS)
    if hours is None:
        return True
    local = now.astimezone(CALENDAR_ZONE)
    if not hours[0] <= local.time() < hours[1]:
        return False
    today = local.date()
    return _is_working_day(today, dict(CalendarDay.objects.filter(date=today).values_list("date", "is_working_day")))


def is_working_day(day: datetime.date) -> bool:
    """Whether a day (Asia/Shanghai) is a working day of the official calendar. One query."""
    return _is_working_day(day, dict(CalendarDay.objects.filter(date=day).values_list("date", "is_working_day")))


def local_text(moment: datetime.datetime | None) -> str:
    """A deadline as people read it: 2022-10-09 00:00 reads "2022年10月8日24时"."""
    if moment is None:
        return "—"
    local = moment.astimezone(CALENDAR_ZONE)
    if local.time() == datetime.time():
        day = local.date() - datetime.timedelta(days=1)
        return f"{day.year}年{day.month}月{day.day}日24时"
    return f"{local.year}年{local.month}月{local.day}日{local.hour}时{local.minute:02d}分"
