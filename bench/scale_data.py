"""The lists' data at national scale (issue 18), grown by COPY to each size the bench measures.

One small world of its own (its names carry a label, so that two sections can build theirs in one
database), then at size n:

- the inbox unit holds n deliveries (one each of n documents issued by the issuing unit, each also
  delivered to two units of the pool): 30 % pending, 40 % signed, 30 % completed;
- its clerk has n notifications (来文, one per delivery; four in five read);
- the auditor audits the region, and so oversees the n documents (the chains list);
- the issuing unit's outbox holds the n dispatches of those documents and, newest, three national
  notices each routed to n units of the pool (3n deliveries more), a fifth of them signed.

The documents, dispatches and deliveries are copies of one document issued through the services
(the template), so every column holds what the services write. The directory is tests.bulk; the
delivery and notification rows (the big tables) go in by binary COPY, the per-document rows
(documents, enclosures, dispatches, receipts) by one INSERT … SELECT over generate_series each:
never one row at a time. Audit events are not copied (no list reads them).
"""

import datetime
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from documents.models import Document, Enclosure, Urgency
from tests.bulk import bulk_units
from tests.factories import issue, person, unit
from units.models import Role, Unit
from workflow.models import Delivery, Dispatch, Notification, Receipt
from workflow.tally import tally_rebuild

NATIONAL_NOTICES = 3  # the newest dispatches of the outbox, each routed to n units
# The bulk dispatches' deadlines, counted from their issue (the oldest are months old: overdue).
SIGN_FOR_DAYS, COMPLETE_DAYS = 3, 30
# The bulk documents' number year: the template's series (this year) stays the services' own.
BULK_YEAR = 2019
STATES = ["pending"] * 3 + ["signed"] * 4 + ["completed"] * 3  # by document number, modulo 10
URGENCIES = [Urgency.EXTRA_URGENT, Urgency.URGENT, Urgency.ROUTINE, Urgency.ROUTINE, Urgency.ROUTINE]
DELIVERY_TYPES = [
    "int8",
    "int8",
    "int8",
    "varchar",
    "varchar",
    "int8",
    "varchar",
    "timestamptz",
    "timestamptz",
    "int4",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "int2",
]
URGENCY_LIST = ", ".join(f"'{urgency.value}'" for urgency in URGENCIES)


def _table(model) -> str:
    return model._meta.db_table


def _columns(model, *, skip: tuple[str, ...] = ("id",)) -> list[str]:
    return [field.column for field in model._meta.concrete_fields if field.column not in skip]


@dataclass
class People:
    issuer_clerk: object
    issuer_signer: object
    inbox_clerk: object
    auditor: object


class ListsData:
    """The world, the pool of recipient units (built once, at the largest size) and the template."""

    def __init__(self, *, label: str, largest: int):
        started = time.monotonic()
        self.label = label
        self.region = unit(f"{label}自治区党委", kind=Unit.Kind.PARTY_COMMITTEE)
        self.issuer = unit(f"{label}组织部", self.region, prefixes=[f"{label}组字"])
        self.inbox_unit = unit(f"{label}教育工委", self.region, prefixes=[f"{label}教函"])
        self.people = People(
            issuer_clerk=person(self.issuer, Role.CLERK, Role.DRAFTER, Role.SIGNER, username=f"{label}-zzb"),
            issuer_signer=person(self.issuer, Role.SIGNER, username=f"{label}-zzb-leader"),
            inbox_clerk=person(self.inbox_unit, Role.CLERK, Role.SIGNER, username=f"{label}-jygw"),
            auditor=person(self.region, Role.AUDITOR, username=f"{label}-auditor"),
        )
        self.pool = bulk_units(largest, parent=self.region, label=f"{label}u", email_domain="bench.example.org")
        self.template, self.template_dispatch = issue(
            self.people.issuer_clerk,
            self.issuer,
            main=[self.inbox_unit],
            signer=self.people.issuer_signer,
            title="关于做好基层党组织建设工作的通知",
        )
        self.national = [
            issue(
                self.people.issuer_clerk,
                self.issuer,
                main=[self.inbox_unit],
                signer=self.people.issuer_signer,
                route=False,
                urgency=Urgency.EXTRA_URGENT,
                title=f"关于开展第{n + 1}次全国基层组织统计的通知",
            )[1]
            for n in range(NATIONAL_NOTICES)
        ]
        # Issued yesterday and not signed for since: the sign-for deadline has passed (the worst
        # case of 发文's overdue list, a national notice's units all overdue at once).
        yesterday = timezone.now() - datetime.timedelta(days=1)
        Dispatch.objects.filter(pk__in=[d.pk for d in self.national]).update(deadline_sign_for=yesterday)
        for dispatch in self.national:
            dispatch.deadline_sign_for = yesterday
        self.size = 0
        print(f"  world, {largest:,} pool units and the template in {time.monotonic() - started:.0f} s", flush=True)

    # --- growing ------------------------------------------------------------------------------

    def grow(self, size: int) -> float:
        """Add documents (each with its dispatch, deliveries, receipts, notification) and national
        deliveries until the data stands at `size`; vacuum and analyse. Returns the seconds taken."""
        started = time.monotonic()
        first, last = self.size + 1, size
        with transaction.atomic():
            self._documents(first, last)
            self._deliveries(first, last)
            self._receipts()
            self._national(first, last)
        with connection.cursor() as cursor:
            # Every table, the directory's too (autovacuum would get there; the bench does not wait):
            # statistics for the planner, and the visibility map for index-only scans.
            cursor.execute("VACUUM ANALYZE")
        self.size = size
        return time.monotonic() - started

    def _documents(self, first: int, last: int) -> None:
        """Documents first..last: the template's row with its number, title, urgency and moments
        changed; each with its self-enclosure and its dispatch (routed, notified)."""
        columns = _columns(Document)
        replaced = {
            # Inserted signed off, issued once its self-enclosure is in (the database refuses new
            # parts of an issued document).
            "state": "'signed_off'",
            "number_year": str(BULK_YEAR),
            "number_serial": "g",
            "title": "t.title || '（' || g || '）'",
            "urgency": f"(ARRAY[{URGENCY_LIST}])[1 + g %% {len(URGENCIES)}]",
            "created_at": "t.created_at - make_interval(mins => g)",
            "signed_off_at": "t.signed_off_at - make_interval(mins => g)",
            "issued_at": "t.issued_at - make_interval(mins => g)",
        }
        values = ", ".join(replaced.get(column, f"t.{column}") for column in columns)
        dispatch_columns = _columns(Dispatch)
        dispatch_replaced = {
            "document_id": "d.id",
            "created_at": "d.issued_at",
            "route_enqueued_at": "d.issued_at",
            "routed_at": "d.issued_at",
            "notify_enqueued_at": "d.issued_at",
            "notified_at": "d.issued_at",
            "recipient_count": "3",
            "main_unit_ids": "jsonb_build_array(%(inbox)s)",
            # As _copy_deliveries sets its deliveries' (a delivery's deadlines are its dispatch's).
            "deadline_sign_for": f"d.issued_at + interval '{SIGN_FOR_DAYS} days'",
            "deadline_complete": f"d.issued_at + interval '{COMPLETE_DAYS} days'",
        }
        dispatch_values = ", ".join(dispatch_replaced.get(column, f"t.{column}") for column in dispatch_columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_table(Document)} ({', '.join(columns)}) SELECT {values} "
                f"FROM {_table(Document)} t, generate_series(%(first)s::int, %(last)s::int) g "
                "WHERE t.id = %(template)s",
                {"first": first, "last": last, "template": self.template.pk},
            )
            cursor.execute(
                f"INSERT INTO {_table(Enclosure)} (cover_id, enclosed_id, depth, position) "
                f"SELECT id, id, 0, 0 FROM {_table(Document)} WHERE {self._new_documents('')}",
                self._range(first, last),
            )
            cursor.execute(
                f"UPDATE {_table(Document)} SET state = 'issued' WHERE {self._new_documents('')}",
                self._range(first, last),
            )
            cursor.execute(
                f"INSERT INTO {_table(Dispatch)} ({', '.join(dispatch_columns)}) SELECT {dispatch_values} "
                f"FROM {_table(Dispatch)} t, {_table(Document)} d "
                f"WHERE t.id = %(template)s AND {self._new_documents('d.')}",
                {**self._range(first, last), "template": self.template_dispatch.pk, "inbox": self.inbox_unit.pk},
            )

    def _new_documents(self, alias: str) -> str:
        return (
            f"{alias}number_prefix = %(prefix)s AND {alias}number_year = {BULK_YEAR} "
            f"AND {alias}number_serial BETWEEN %(first)s AND %(last)s"
        )

    def _range(self, first: int, last: int) -> dict:
        return {"prefix": self.template.number_prefix, "first": first, "last": last}

    def _deliveries(self, first: int, last: int) -> None:
        """Each new dispatch to the inbox unit and two pool units, by binary COPY; the inbox
        unit's clerk notified of each."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT p.id, p.document_id, d.number_serial, d.urgency, d.issued_at FROM {_table(Dispatch)} p "
                f"JOIN {_table(Document)} d ON d.id = p.document_id WHERE {self._new_documents('d.')}",
                self._range(first, last),
            )
            rows = cursor.fetchall()
        pool = self.pool.unit_ids
        deliveries = []
        for dispatch_id, document_id, serial, urgency, issued_at in rows:
            state = STATES[serial % 10]
            deadlines = (
                issued_at + datetime.timedelta(days=SIGN_FOR_DAYS),
                issued_at + datetime.timedelta(days=COMPLETE_DAYS),
            )
            for unit_id in (self.inbox_unit.pk, pool[serial % len(pool)], pool[(serial * 7 + 1) % len(pool)]):
                deliveries.append((dispatch_id, document_id, unit_id, urgency, state, issued_at, *deadlines))
        self._copy_deliveries(deliveries)
        self._copy_notifications(first, last)
        # Their figures, as routing and sign-for keep them (发文 and its overdue list read them).
        tally_rebuild(row[0] for row in rows)

    def _copy_deliveries(self, rows: list[tuple]) -> None:
        """(dispatch, document, unit, urgency, state, delivered at, deadline to sign for, to complete):
        signed ones an hour after, completed ones a day after, as the services would set them."""
        columns = (
            "dispatch_id, document_id, unit_id, role, urgency, issuing_unit_id, state, created_at, read_at, "
            "read_by_id, signed_at, completed_at, deadline_sign_for, deadline_complete, reminder_count"
        )
        reader = self.people.inbox_clerk.pk
        hour, day = datetime.timedelta(hours=1), datetime.timedelta(days=1)
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {_table(Delivery)} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(DELIVERY_TYPES)
            for dispatch_id, document_id, unit_id, urgency, state, at, sign_for, complete in rows:
                signed = state != "pending"
                copy.write_row(
                    (
                        dispatch_id,
                        document_id,
                        unit_id,
                        "主送",
                        urgency,
                        self.issuer.pk,
                        state,
                        at,
                        at + hour if signed else None,
                        reader if signed and unit_id == self.inbox_unit.pk else None,
                        at + hour if signed else None,
                        at + day if state == "completed" else None,
                        sign_for,
                        complete,
                        0,
                    )
                )

    def _copy_notifications(self, first: int, last: int) -> None:
        """来文 for the inbox unit's clerk, one per new delivery to that unit; four in five read."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT v.id, v.created_at, d.number_serial, d.title FROM {_table(Delivery)} v "
                f"JOIN {_table(Document)} d ON d.id = v.document_id "
                f"WHERE v.unit_id = %(inbox)s AND {self._new_documents('d.')}",
                {**self._range(first, last), "inbox": self.inbox_unit.pk},
            )
            rows = cursor.fetchall()
        columns = "user_id, delivery_id, kind, round, text, created_at, read_at, emailed_at"
        user = self.people.inbox_clerk.pk
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {_table(Notification)} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(["int4", "int8", "varchar", "int2", "varchar", "timestamptz", "timestamptz", "timestamptz"])
            for delivery_id, at, serial, title in rows:
                read = at + datetime.timedelta(hours=2) if serial % 5 else None
                copy.write_row((user, delivery_id, "delivered", 0, f"来文：{title}"[:500], at, read, at))

    def _receipts(self) -> None:
        """A receipt for every signed delivery without one (as delivery_sign_for writes it)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_table(Receipt)} (delivery_id, unit_id, signed_by_id, signed_at, content_digest) "
                f"SELECT v.id, v.unit_id, %(signer)s, v.signed_at, d.digest FROM {_table(Delivery)} v "
                f"JOIN {_table(Document)} d ON d.id = v.document_id "
                f"WHERE v.signed_at IS NOT NULL AND d.issuing_unit_id = %(issuer)s "
                f"AND NOT EXISTS (SELECT 1 FROM {_table(Receipt)} r WHERE r.delivery_id = v.id)",
                {"signer": self.people.inbox_clerk.pk, "issuer": self.issuer.pk},
            )

    def _national(self, first: int, last: int) -> None:
        """The national notices reach pool units first-1..last-1 too: their dispatches record the
        resolved set (as document_issue does), their deliveries a fifth signed."""
        pool = self.pool.unit_ids[first - 1 : last]
        now = timezone.now()
        rows = []
        for dispatch in self.national:
            if first == 1:
                rows.append(
                    (
                        dispatch.pk,
                        dispatch.document_id,
                        self.inbox_unit.pk,
                        Urgency.EXTRA_URGENT,
                        "pending",
                        now,
                        dispatch.deadline_sign_for,
                        dispatch.deadline_complete,
                    )
                )
            rows += [
                (
                    dispatch.pk,
                    dispatch.document_id,
                    unit_id,
                    Urgency.EXTRA_URGENT,
                    "signed" if index % 5 == 0 else "pending",
                    now,
                    # Its deadlines (a day past to sign for: see __init__): its pending units are overdue.
                    dispatch.deadline_sign_for,
                    dispatch.deadline_complete,
                )
                for index, unit_id in enumerate(pool, start=first)
            ]
        self._copy_deliveries(rows)
        tally_rebuild(dispatch.pk for dispatch in self.national)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_table(Dispatch)} SET main_unit_ids = (SELECT jsonb_agg(u ORDER BY u) "
                f"FROM unnest(%(units)s::bigint[]) u), recipient_count = %(count)s, "
                f"routed_at = COALESCE(routed_at, now()), notified_at = COALESCE(notified_at, now()) "
                f"WHERE id = ANY(%(ids)s)",
                {
                    "units": [self.inbox_unit.pk, *self.pool.unit_ids[:last]],
                    "count": last + 1,
                    "ids": [dispatch.pk for dispatch in self.national],
                },
            )
