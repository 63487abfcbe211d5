"""催办: remind recipient units of deliveries past a deadline, and escalate to the parent unit.

The beat runs `delivery_remind_overdue` every REMINDER_SWEEP_SECONDS; an issuer presses 催办 on one
unit with `delivery_remind`. Both go through `_remind`: one conditional UPDATE counts the round on
each delivery (`reminder_count`, `last_reminded_at`), the clerks of each unit get one REMINDER
notification per round (unique per user, delivery, kind and round), and when a delivery reaches
REMINDER_ESCALATE_AFTER reminders the clerks of its unit's parent get one ESCALATION, once
(`escalated_at`). A reminder round is due when a deadline has passed and the last reminder is at
least REMINDER_INTERVAL_MINUTES old: a retried or duplicated sweep finds nothing due and sends
nothing twice. Set operations throughout: the sweep's queries do not grow with the number of
overdue deliveries (one batch of REMINDER_BATCH_SIZE per transaction).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import URGENT_LEVELS
from documents.numbering import format_number
from units.errors import Conflict, NotFound
from workflow.audit import audit_record_many
from workflow.deadlines import is_office_hours, local_text, overdue_q
from workflow.enqueue import enqueue_notification_emails, queue_for
from workflow.models import AuditVerb, Delivery, Notification
from workflow.services.notifications import Notice, notice_language, notify_clerks
from workflow.services.rules import DeliveryAction, require_delivery_action

# Two presses of 催办 within this time are one press (a double click, a resubmitted form).
MANUAL_REMINDER_GAP = datetime.timedelta(minutes=1)
CONTROL_QUEUE = "control"


_DUE_FIELDS = (
    "id",
    "unit_id",
    "unit__name",
    "unit__parent_id",
    "document_id",
    "document__number_prefix",
    "document__number_year",
    "document__number_serial",
    "document__title",
    "state",
    "deadline_sign_for",
    "deadline_complete",
    "reminder_count",
    "escalated_at",
)


@dataclass(frozen=True)
class _Due:
    id: int
    unit_id: int
    unit_name: str
    parent_id: int | None
    document_id: int
    prefix: str
    year: int
    serial: int
    title: str
    state: str
    deadline_sign_for: datetime.datetime | None
    deadline_complete: datetime.datetime | None
    reminder_count: int
    escalated_at: datetime.datetime | None

    @property
    def round(self) -> int:
        return self.reminder_count + 1

    @property
    def clock(self) -> str:
        """What the unit is urged to do: sign for it, or complete it."""
        return "sign_for" if self.state == Delivery.State.PENDING else "complete"

    @property
    def deadline(self) -> datetime.datetime | None:
        return self.deadline_sign_for if self.clock == "sign_for" else self.deadline_complete

    def situation(self, now: datetime.datetime) -> str:
        action = _("签收") if self.clock == "sign_for" else _("办结")
        number = format_number(self.prefix, self.year, self.serial)
        if self.deadline is not None and self.deadline <= now:
            when = _("已超过%(action)s时限（%(deadline)s）") % {"action": action, "deadline": local_text(self.deadline)}
        else:
            when = _("%(action)s时限为%(deadline)s") % {"action": action, "deadline": local_text(self.deadline)}
        return f"{number}《{self.title}》{when}"


def _remind(dues: list[_Due], *, now: datetime.datetime, actor: AbstractBaseUser | None, queue: str) -> list[_Due]:
    """Count one round on each delivery, notify, escalate, audit. Inside the caller's transaction,
    with the deliveries locked. Returns the escalated ones."""
    threshold = settings.REMINDER_ESCALATE_AFTER
    escalated = [due for due in dues if threshold > 0 and due.escalated_at is None and due.round >= threshold]
    Delivery.objects.filter(pk__in=[due.id for due in dues]).update(
        reminder_count=F("reminder_count") + 1,
        last_reminded_at=now,
        escalated_at=Case(When(pk__in=[due.id for due in escalated], then=Value(now)), default=F("escalated_at")),
    )
    with notice_language():
        reminders = [
            Notice(
                due.unit_id,
                due.id,
                _("%(situation)s，请尽快办理（第%(round)d次催办）。")
                % {"situation": due.situation(now), "round": due.round},
                due.round,
            )
            for due in dues
        ]
        escalations = [
            Notice(
                due.parent_id,
                due.id,
                _("%(unit)s：%(situation)s，已催办%(round)d次，请督促办理。")
                % {"unit": due.unit_name, "situation": due.situation(now), "round": due.round},
                due.round,
            )
            for due in escalated
            if due.parent_id is not None
        ]
    notify_clerks(reminders, kind=Notification.Kind.REMINDER, now=now)
    notify_clerks(escalations, kind=Notification.Kind.ESCALATION, now=now)
    reminded_events = [
        {
            "actor": actor,
            "verb": AuditVerb.DELIVERY_REMINDED,
            "object_type": "Delivery",
            "object_id": due.id,
            "unit": due.unit_id,
            "document": due.document_id,
            "payload": {
                "round": due.round,
                "clock": due.clock,
                "deadline": due.deadline.isoformat() if due.deadline else None,
                "manual": actor is not None,
            },
        }
        for due in dues
    ]
    escalated_events = [
        {
            "actor": actor,
            "verb": AuditVerb.DELIVERY_ESCALATED,
            "object_type": "Delivery",
            "object_id": due.id,
            "unit": due.parent_id,
            "document": due.document_id,
            "payload": {"round": due.round, "recipient_unit_id": due.unit_id},
        }
        for due in escalated
    ]
    audit_record_many(reminded_events + escalated_events)
    enqueue_notification_emails(queue)
    return escalated


def delivery_remind_overdue(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """催办 sweep: one reminder round for every overdue delivery whose last reminder is old enough.

    Run by the beat as the system (actor None). Batch by batch, each batch locked (skipping rows a
    concurrent sweep or service holds) and handled in one transaction in a fixed number of queries.
    Returns {"reminded": n, "escalated": m}.
    """
    now = now or timezone.now()
    interval = datetime.timedelta(minutes=settings.REMINDER_INTERVAL_MINUTES)
    batch_size = settings.REMINDER_BATCH_SIZE
    # Out of office hours only 特提 and 特急 are urged; the others wait for the office to open.
    urgent_only = Q() if is_office_hours(now) else Q(document__urgency__in=URGENT_LEVELS)
    counts = {"reminded": 0, "escalated": 0}
    while True:
        with transaction.atomic():
            rows = list(
                Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(overdue_q(now), urgent_only)
                .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - interval))
                .order_by("id")
                .values_list(*_DUE_FIELDS)[:batch_size]
            )
            if not rows:
                return counts
            escalated = _remind([_Due(*row) for row in rows], now=now, actor=None, queue=CONTROL_QUEUE)
        counts["reminded"] += len(rows)
        counts["escalated"] += len(escalated)
        if len(rows) < batch_size:
            return counts


def delivery_remind(*, actor: AbstractBaseUser, delivery_id: int) -> int:
    """催办 by hand: a clerk or signer of the issuing unit urges one recipient unit, now.

    Any open delivery may be urged, overdue or not; the round counts like the beat's (and delays the
    beat's next one by REMINDER_INTERVAL_MINUTES). Returns the round number.
    Errors: NotFound, NotAllowed (not the issuer's clerk or signer), Conflict (signed for and
    completed, returned or recalled; urged less than a minute ago). Nothing is written on error.
    """
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("document__issuing_unit", "unit")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            raise NotFound(_("送达记录不存在或无权查看。"))
        document = delivery.document
        require_delivery_action(actor, DeliveryAction.REMIND, delivery)
        now = timezone.now()
        if delivery.last_reminded_at is not None and now - delivery.last_reminded_at < MANUAL_REMINDER_GAP:
            raise Conflict(_("刚刚已经催办过，请稍后再催办。"))
        due = _Due(*Delivery.objects.filter(pk=delivery.pk).values_list(*_DUE_FIELDS).get())
        _remind([due], now=now, actor=actor, queue=queue_for(document.urgency))
    return due.round
