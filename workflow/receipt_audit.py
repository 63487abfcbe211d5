"""Receipts (回执) against the audit log: every receipt matches its DELIVERY_SIGNED event, and the other
way round.

A receipt and its event are written in one transaction by `delivery_sign_for`: the event's actor is
the person who signed, its unit the receipt's unit, its object the delivery, and its payload holds
the receipt's id, the content digest signed for and the signing time (`signed_at`, in the form of
`signed_at_text`). The receipts' table can be changed behind the application's back by whoever may
switch its triggers off (migration 0010); the hash chain cannot, unnoticed (`audit_verify`). So
`receipt_verify` trusts the chain and checks the receipts against it:

- each receipt has exactly one DELIVERY_SIGNED event, and agrees with it on the receipt's id, the
  content digest, the person (the event's actor), the unit and the time: exactly, to the
  microsecond, when the event carries `signed_at`; events written before it did carry no time of
  their own, so there the receipt's time must not come after the moment the event was recorded;
- each receipt agrees with its delivery on the unit and the signing time;
- no DELIVERY_SIGNED event and no signed delivery lacks its receipt.

One statement (workflow/sql.py, signed_records) joins the receipts with their deliveries and events
in the database and is read as a stream, `batch_size` rows at a time: memory stays flat, and there is
no query per receipt.
"""

import datetime
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction

from workflow import sql
from workflow.models import Receipt

# How many problems a verification spells out; it counts them all.
REPORT_LIMIT = 100


def signed_at_text(moment: datetime.datetime) -> str:
    """A signing time as the DELIVERY_SIGNED event's payload records it: UTC, to the microsecond,
    the form the audit chain's hash gives its own moments."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ReceiptVerification:
    receipts: int
    events: int
    problems: int
    first_problems: tuple[str, ...] = ()

    @property
    def is_intact(self) -> bool:
        return self.problems == 0

    def lines(self) -> list[str]:
        """What verify_audit prints: "ok N receipts", or each problem (up to REPORT_LIMIT) and a count."""
        if self.is_intact:
            return [f"ok {self.receipts} receipts"]
        shown = len(self.first_problems)
        more = f", the first {shown} above" if shown < self.problems else ""
        return [
            *self.first_problems,
            f"receipts broken: problems {self.problems}, receipts {self.receipts}, "
            f"DELIVERY_SIGNED events {self.events}{more}",
        ]


def _moment_reader() -> Callable[[str | None], str | None]:
    """Moments as text in the form of signed_at_text: PostgreSQL prints them so (sql.signed_records);
    SQLite's stored text is read as the ORM reads Receipt.signed_at, then printed."""
    if connection.vendor == "postgresql":
        return lambda value: value
    field = Receipt._meta.get_field("signed_at")
    column = field.get_col(Receipt._meta.db_table)
    converters = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]

    def read(value):
        if value is None:
            return None
        for convert in converters:
            value = convert(value, column, connection)
        return signed_at_text(value)

    return read


def _payload(text: str | None) -> dict:
    payload = json.loads(text) if text else {}
    return payload if isinstance(payload, dict) else {}


class _Check:
    """The comparisons of one pass, row by row. Each row's problems, or () for the common row whose
    receipt, delivery and event agree (one chain of comparisons, nothing built)."""

    def __init__(self) -> None:
        self.moment = _moment_reader()
        self.receipts = self.events = 0

    def row(self, row: sql.SignedRecord) -> Sequence[str]:
        if row.part == 1:
            return self._receipt(row)
        if row.part == 2:
            self.events += 1
            receipt_id = _payload(row.payload).get("receipt_id")
            return [
                f"event {row.seq}: DELIVERY_SIGNED of delivery {row.event_object_id} "
                f"(receipt {receipt_id}) has no receipt"
            ]
        return [f"delivery {row.delivery_id} was signed at {self.moment(row.delivery_signed_at)} but has no receipt"]

    def _receipt(self, row: sql.SignedRecord) -> Sequence[str]:
        if row.seq is not None:
            self.events += 1
            if row.first_seq is not None and row.seq != row.first_seq:  # the receipt's row is the first event's
                name = f"receipt {row.receipt_id} of delivery {row.receipt_delivery_id}"
                return [f"{name} has another DELIVERY_SIGNED event: event {row.seq}"]
        self.receipts += 1
        signed_at = self.moment(row.signed_at)
        payload = _payload(row.payload)
        if (
            row.seq is not None
            and row.delivery_id is not None
            and row.receipt_unit_id == row.delivery_unit_id == row.event_unit_id
            and row.signed_by_id == row.actor_id
            and signed_at == self.moment(row.delivery_signed_at) == payload.get("signed_at")
            and row.receipt_id == payload.get("receipt_id")
            and row.content_digest == payload.get("content_digest")
        ):
            return ()
        return self._disagreements(row, signed_at, payload)

    def _disagreements(self, row: sql.SignedRecord, signed_at: str, payload: dict) -> list[str]:
        name = f"receipt {row.receipt_id} of delivery {row.receipt_delivery_id}"
        if row.delivery_id is None:
            problems = [f"{name}: the delivery is gone"]
        else:
            problems = _differences(
                f"{name} disagrees with its delivery",
                "delivery",
                [
                    ("unit", row.receipt_unit_id, row.delivery_unit_id),
                    ("signed_at", signed_at, self.moment(row.delivery_signed_at)),
                ],
            )
        if row.seq is None:
            return [*problems, f"{name} has no DELIVERY_SIGNED event"]
        pairs = [
            ("receipt_id", row.receipt_id, payload.get("receipt_id")),
            ("content_digest", row.content_digest, payload.get("content_digest")),
            ("signed_by", row.signed_by_id, row.actor_id),
            ("unit", row.receipt_unit_id, row.event_unit_id),
        ]
        if "signed_at" in payload:
            pairs.append(("signed_at", signed_at, payload["signed_at"]))
        else:
            # Written before events carried the time: the receipt cannot be later than its event
            # (the texts have one fixed width, so they compare as the moments do).
            occurred_at = self.moment(row.occurred_at)
            if signed_at > occurred_at:
                pairs.append(("signed_at", signed_at, f"recorded at {occurred_at}"))
        return [*problems, *_differences(f"{name} disagrees with event {row.seq}", "event", pairs)]


def _differences(subject: str, other: str, pairs: list[tuple[str, object, object]]) -> list[str]:
    return [
        f"{subject} on {field}: receipt {in_receipt}, {other} {in_other}"
        for field, in_receipt, in_other in pairs
        if in_receipt != in_other
    ]


def receipt_verify(*, batch_size: int = 5000) -> ReceiptVerification:
    """Compare every receipt with its DELIVERY_SIGNED event and its delivery, and find the events and
    signed deliveries without a receipt: one streaming pass. Trusts the audit chain (audit_verify)."""
    check, problems, count = _Check(), [], 0
    # In a transaction, PostgreSQL streams the chunked (server-side) cursor instead of materialising it.
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        for row in sql.signed_records(connection.vendor).stream(cursor, size=batch_size):
            found = check.row(row)
            if found:
                count += len(found)
                problems.extend(found[: REPORT_LIMIT - len(problems)])
    return ReceiptVerification(check.receipts, check.events, count, tuple(problems))
