"""The deadline policy and the working-day calendar: the system administrator's settings, audited.

Changing either moves no deadline already fixed: deliveries keep the deadlines of their issue.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from documents.models import Urgency
from units.errors import InvalidInput
from workflow.audit import audit_record
from workflow.models import AuditVerb, CalendarDay, ClockUnit, DeadlinePolicy
from workflow.services.directory import require_administrator

# A clock longer than this is a typing mistake, not a policy.
_LIMITS = {ClockUnit.MINUTES: 60 * 24 * 30, ClockUnit.HOURS: 24 * 30, ClockUnit.WORKING_DAYS: 250}


def _check_clock(amount: int, unit: str, what: str) -> None:
    if unit not in ClockUnit.values:
        raise InvalidInput(_("%(what)s的单位“%(unit)s”不存在。") % {"what": what, "unit": unit})
    if not 1 <= amount <= _LIMITS[unit]:
        raise InvalidInput(
            _("%(what)s %(amount)s%(unit)s不合理（1 至 %(limit)s）。")
            % {"what": what, "amount": amount, "unit": ClockUnit(unit).label, "limit": _LIMITS[unit]}
        )


def deadline_policy_set(
    *,
    actor: AbstractBaseUser | None,
    urgency: str,
    sign_for_amount: int,
    sign_for_unit: str,
    complete_amount: int,
    complete_unit: str,
) -> DeadlinePolicy:
    """Set the sign-for and completion clocks of one urgency (for documents issued from now on)."""
    require_administrator(actor)
    if urgency not in Urgency.values:
        raise InvalidInput(_("紧急程度“%(value)s”不存在。") % {"value": urgency})
    _check_clock(sign_for_amount, sign_for_unit, _("签收时限"))
    _check_clock(complete_amount, complete_unit, _("办结时限"))
    values = {
        "sign_for_amount": sign_for_amount,
        "sign_for_unit": sign_for_unit,
        "complete_amount": complete_amount,
        "complete_unit": complete_unit,
    }
    with transaction.atomic():
        policy, _created = DeadlinePolicy.objects.update_or_create(urgency=urgency, defaults=values)
        audit_record(
            actor=actor,
            verb=AuditVerb.DEADLINE_POLICY_SET,
            object_type="DeadlinePolicy",
            object_id=policy.pk,
            payload={"urgency": urgency, **values},
        )
    return policy


def calendar_day_set(
    *, actor: AbstractBaseUser | None, date: datetime.date, is_working_day: bool, name: str = "", source: str = ""
) -> CalendarDay:
    """Make a date a holiday (放假) or a working weekend day (调休上班); replaces what it was."""
    require_administrator(actor)
    name, source = " ".join(name.split()), " ".join(source.split())
    if is_working_day and date.weekday() < 5:
        raise InvalidInput(_("%(date)s是工作日（周一至周五），不需要设为调休上班。") % {"date": date.isoformat()})
    if not is_working_day and date.weekday() >= 5 and not name:
        raise InvalidInput(_("%(date)s本来就是周末，设为放假时请写明节日名称。") % {"date": date.isoformat()})
    with transaction.atomic():
        day, _created = CalendarDay.objects.update_or_create(
            date=date, defaults={"is_working_day": is_working_day, "name": name, "source": source}
        )
        audit_record(
            actor=actor,
            verb=AuditVerb.CALENDAR_DAY_SET,
            object_type="CalendarDay",
            object_id=day.pk,
            payload={"date": date.isoformat(), "is_working_day": is_working_day, "name": name, "source": source},
        )
    return day


def calendar_day_remove(*, actor: AbstractBaseUser | None, date: datetime.date) -> bool:
    """Make a date an ordinary day of the week again. False (nothing recorded) when it was one."""
    require_administrator(actor)
    with transaction.atomic():
        day = CalendarDay.objects.select_for_update().filter(date=date).first()
        if day is None:
            return False
        day.delete()
        audit_record(
            actor=actor,
            verb=AuditVerb.CALENDAR_DAY_REMOVED,
            object_type="CalendarDay",
            object_id=date.isoformat(),
            payload={"date": date.isoformat(), "was_working_day": day.is_working_day, "name": day.name},
        )
    return True
