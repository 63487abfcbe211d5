"""In-app notifications: notices to the clerks of a unit (催办, 撤回, 退文, 办结), the email outbox that
sends them, and a person marking theirs read.

Services write in-app notifications inside their transaction, unique per (user, delivery, kind,
round), so a retried or duplicated action notifies nobody twice. Emails go out afterwards, from the
table: `notification_email_send` emails whatever is still unsent, run on commit by the services and
by the beat (the database is the source of truth; a lost message only delays an email).

Whether a person has seen a notification is their own reading state, not a step of the document's
flow, so marking it read writes no audit event; the step it stands for (a delivery opened, signed
for) is audited by its own service.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from units.models import Role, Unit
from units.selectors import user_list_with_role_in_units
from workflow.models import Delivery, Notification


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


def notify_clerks_of(
    deliveries: QuerySet[Delivery], *, text: str, kind: Notification.Kind, now: datetime.datetime
) -> int:
    """The same notice about each of `deliveries`, for the clerks of its unit: one INSERT … SELECT,
    whatever their number (a recall of a national notice reaches 10^5 units), nothing loaded into
    memory. Returns how many notifications were written (existing ones are skipped)."""
    clerks = user_list_with_role_in_units(Unit.objects.filter(pk__in=deliveries.values("unit_id")), Role.CLERK)
    clerks_sql, clerks_params = clerks.query.sql_with_params()
    deliveries_sql, deliveries_params = deliveries.order_by().values("id", "unit_id").query.sql_with_params()
    # Constant names and the ORM's own compiled, parameterised SQL. "WHERE 1 = 1": SQLite's grammar
    # can read the ON of ON CONFLICT as a join's ON; its documentation asks INSERT … SELECT for a WHERE.
    sql = (
        f"INSERT INTO {Notification._meta.db_table} (user_id, delivery_id, kind, round, text, created_at) "
        f"SELECT c.user_id, d.id, %s, 0, %s, %s FROM ({deliveries_sql}) d "
        f"JOIN ({clerks_sql}) c ON c.content_object_id = d.unit_id WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    params = [str(kind), text[:500], connection.ops.adapt_datetimefield_value(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *deliveries_params, *clerks_params])
        return cursor.rowcount


_SUBJECTS = {
    Notification.Kind.REMINDER: "【催办】",
    Notification.Kind.ESCALATION: "【催办升级】",
    Notification.Kind.RECALLED: "【撤回】",
    Notification.Kind.RETURNED: "【退文】",
    Notification.Kind.COMPLETED: "【办结】",
}


def notification_email_send(*, batch_size: int = 500) -> int:
    """Email every notification not yet emailed, except DELIVERED ones (dispatch_notify sends those).

    Batch by batch, each in a transaction that locks its rows (skipping rows another worker holds),
    sends, and marks them sent: at least once (a crash between sending and commit sends that batch
    again). People without an email address get the in-app notification only. Returns emails sent.
    """
    sent_total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(emailed_at__isnull=True)
                .exclude(kind=Notification.Kind.DELIVERED)
                .exclude(user__email="")
                .select_related("user")
                .order_by("id")[:batch_size]
            )
            if not batch:
                return sent_total
            messages = [
                EmailMessage(
                    subject=f"{_SUBJECTS.get(notification.kind, '')}{notification.text}"[:200],
                    body=f"{notification.text}\n\n请登录公文流转系统查看：{settings.SITE_URL}/\n",
                    to=[notification.user.email],
                )
                for notification in batch
            ]
            with get_connection() as mail:
                sent_total += mail.send_messages(messages) or 0
            Notification.objects.filter(pk__in=[notification.pk for notification in batch]).update(
                emailed_at=timezone.now()
            )
        if len(batch) < batch_size:
            return sent_total


def notification_mark_read(*, actor: AbstractBaseUser, delivery_id: int | None = None) -> int:
    """Mark the actor's unread notifications read: those about one delivery, or all of them.

    Touches only the actor's own rows. Returns how many were marked.
    """
    unread = Notification.objects.filter(user=actor, read_at__isnull=True)
    if delivery_id is not None:
        unread = unread.filter(delivery_id=delivery_id)
    return unread.update(read_at=timezone.now())
