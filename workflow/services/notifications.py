"""In-app notifications: notices to the clerks of a unit (来文, 催办, 撤回, 退文, 办结), the email outbox
that sends them, and a person marking theirs read.

Services write in-app notifications inside their transaction, unique per (user, delivery, kind,
round), so a retried or duplicated action notifies nobody twice. Emails go out afterwards, from the
table, and only from here: `notification_email_send` emails whatever is still unsent, run on commit
by the services (the task workflow.email_notifications) and by the beat (the database is the source
of truth; a lost message only delays an email).

Whether a person has seen a notification is their own reading state, not a step of the document's
flow, so marking it read writes no audit event; the step it stands for (a delivery opened, signed
for) is audited by its own service.
"""

import datetime
import logging
import smtplib
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from units.models import Role, Unit
from units.selectors import user_list_with_role_in_units
from workflow import sql
from workflow.deadlines import local_text
from workflow.models import Delivery, Notification

logger = logging.getLogger(__name__)


def notice_language():
    """Where a notice's text is composed: in the office's language (LANGUAGE_CODE, zh-hans), not in
    the language the acting person reads pages in. A notice is a record other units' clerks read, and
    its email goes to people whose language the sender does not know."""
    return translation.override(settings.LANGUAGE_CODE)


@dataclass(frozen=True)
class Notice:
    """One notice about one delivery, for every clerk of `unit_id`."""

    unit_id: int
    delivery_id: int
    text: str
    round: int = 0


def notify_clerks(notices: list[Notice], *, kind: Notification.Kind, now: datetime.datetime) -> int:
    """Write the notices for the clerks of their units: two queries whatever their number.

    Returns how many notifications were offered (conflicts with existing ones are skipped).
    """
    if not notices:
        return 0
    by_unit: dict[int, list[Notice]] = {}
    for notice in notices:
        by_unit.setdefault(notice.unit_id, []).append(notice)
    clerks = user_list_with_role_in_units(Unit.objects.filter(pk__in=list(by_unit)), Role.CLERK)
    rows = [
        Notification(
            user_id=user_id,
            delivery_id=notice.delivery_id,
            kind=kind,
            round=notice.round,
            text=notice.text[:500],
            created_at=now,
        )
        for user_id, unit_id in clerks
        for notice in by_unit[unit_id]
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# Deliveries told about per statement of notify_clerks_of.
NOTIFY_CHUNK = 5_000


def notify_clerks_of(
    deliveries: QuerySet[Delivery], *, text: str, kind: Notification.Kind, now: datetime.datetime
) -> int:
    """The same notice about each of `deliveries`, for the clerks of its unit: the deliveries' ids
    and units first (one query), then one INSERT … SELECT per NOTIFY_CHUNK of them, named by id.
    Returns how many notifications were written (existing ones are skipped).

    By id, not by the condition that chose them: a recall's `recall_id = %s`, written in the same
    transaction, is estimated from statistics that have never seen it (tens of rows), and PostgreSQL
    then read the recall's every delivery once per clerk: 0.7 s for 5,000 units, minutes for a
    national notice's 10^5, the recall's transaction open all the while. A list of ids is estimated
    exactly."""
    pairs = list(deliveries.order_by("pk").values_list("pk", "unit_id"))
    written = 0
    for start in range(0, len(pairs), NOTIFY_CHUNK):
        chunk = pairs[start : start + NOTIFY_CHUNK]
        units = Unit.objects.filter(pk__in=sorted({unit_id for _pk, unit_id in chunk}))
        statement, params = sql.notification_insert_select(
            Delivery.objects.filter(pk__in=[pk for pk, _unit_id in chunk]),
            user_list_with_role_in_units(units, Role.CLERK),
            kind=str(kind),
            text=text[:500],
            created_at=connection.ops.adapt_datetimefield_value(now),
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            written += cursor.rowcount
    return written


# Emails per transaction: a worker killed between sending and committing sends at most this many
# again (at least once; the Message-ID, fixed per notification, lets a mail client fold a repeat).
EMAIL_BATCH = 20


def _addressable(user: AbstractBaseUser) -> bool:
    # A deactivated person no longer receives the office's notices, by email or otherwise.
    return bool(user.email) and user.is_active


def _email(notification: Notification, domain: str) -> EmailMessage:
    """One notification's email, rendered from templates/email/<kind>_subject.txt and _body.txt."""
    delivery = notification.delivery
    context = {
        "notification": notification,
        "delivery": delivery,
        "document": delivery.document,
        "sign_for_deadline": local_text(delivery.deadline_sign_for) if delivery.deadline_sign_for else "",
        "site_url": settings.SITE_URL,
    }
    subject = render_to_string(f"email/{notification.kind}_subject.txt", context)
    return EmailMessage(
        # A header is one line: a title or a text with a line break must not end it.
        subject=" ".join(subject.split()),
        # Ends with one line break, whatever line breaks the templates' files end with.
        body=render_to_string(f"email/{notification.kind}_body.txt", context).strip() + "\n",
        to=[notification.user.email],
        headers={"Message-ID": f"<notification-{notification.pk}@{domain}>"},
    )


class _Sender:
    """One mail connection for a run (opened at its first email, not for an empty outbox every beat),
    and what the run has sent and taken out of the outbox."""

    def __init__(self, limit: int | None):
        self.mail = get_connection()
        self.opened = False
        self.limit = limit
        self.sent = self.taken = 0
        self.domain = urlsplit(settings.SITE_URL).hostname or "localhost"

    def post(self, message: EmailMessage) -> None:
        if not self.opened:
            self.mail.open()
            self.opened = True
        try:
            self.sent += self.mail.send_messages([message]) or 0
        except smtplib.SMTPRecipientsRefused:
            # Refused for good: retrying would hold up the whole outbox behind this one address.
            logger.warning("email to %s refused (%s); not sent", message.to, message.extra_headers["Message-ID"])

    def drain(self, outbox: QuerySet[Notification]) -> bool:
        """Send `outbox` batch by batch; False once the run's limit is reached."""
        pending = (
            outbox.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "user", "delivery__unit__parent", "delivery__document__issuing_unit", "delivery__return_record"
            )
            .order_by("id")
        )
        while self.limit is None or self.taken < self.limit:
            size = EMAIL_BATCH if self.limit is None else min(EMAIL_BATCH, self.limit - self.taken)
            with transaction.atomic():
                batch = list(pending[:size])
                if not batch:
                    return True
                with notice_language():
                    messages = [_email(row, self.domain) for row in batch if _addressable(row.user)]
                for message in messages:
                    self.post(message)
                Notification.objects.filter(pk__in=[row.pk for row in batch]).update(emailed_at=timezone.now())
            self.taken += len(batch)
            if len(batch) < size:
                return True
        return False

    def close(self) -> None:
        if self.opened:
            self.mail.close()


def notification_email_send(*, dispatch_id: int | None = None, limit: int | None = None) -> int:
    """Email the notifications not yet emailed: the one outbox of every email the product sends.

    `dispatch_id`: only the notifications about that dispatch's deliveries (dispatch_notify enqueues
    this on the dispatch's own queue, so a 特提 telegram's emails never wait behind a routine outbox).
    `limit`: stop after that many (the beat's run, which must keep the control queue short).
    Subject and body come from templates/email/, in the office's language whatever language the
    acting person reads pages in, with a link to the delivery's page.

    Batch by batch, EMAIL_BATCH rows each, in a transaction that locks its rows (skipping rows
    another worker holds), sends and marks them: at least once (a crash between sending and commit
    sends that batch again), never by two workers at once. A person without an address, or
    deactivated, keeps the in-app notification only; the row leaves the outbox all the same.
    Returns how many emails were sent.
    """
    outbox = Notification.objects.filter(emailed_at__isnull=True)
    sender = _Sender(limit)
    try:
        if dispatch_id is None:
            sender.drain(outbox)
            return sender.sent
        # A dispatch's deliveries chunk by chunk (ROUTING_CHUNK_SIZE), each batch looked up within
        # its chunk's range of delivery ids: whatever plan the database picks for a prepared
        # statement, a batch reads at most one chunk, for a 10^5-unit dispatch as for a 10-unit one.
        last_id = 0
        while True:
            chunk = list(
                Delivery.objects.filter(dispatch_id=dispatch_id, id__gt=last_id)
                .order_by("id")
                .values_list("id", flat=True)[: settings.ROUTING_CHUNK_SIZE]
            )
            if not chunk:
                return sender.sent
            first_id, last_id = chunk[0], chunk[-1]
            in_chunk = outbox.filter(
                delivery__dispatch_id=dispatch_id, delivery_id__gte=first_id, delivery_id__lte=last_id
            )
            if not sender.drain(in_chunk):
                return sender.sent
    finally:
        sender.close()


def notification_mark_read(*, actor: AbstractBaseUser, delivery_id: int | None = None) -> int:
    """Mark the actor's unread notifications read: those about one delivery, or all of them.

    Touches only the actor's own rows. Returns how many were marked.
    """
    unread = Notification.objects.filter(user=actor, read_at__isnull=True)
    if delivery_id is not None:
        unread = unread.filter(delivery_id=delivery_id)
    return unread.update(read_at=timezone.now())
