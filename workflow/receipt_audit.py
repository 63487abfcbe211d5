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
from collections.abc import Callable, Iterator
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


def _moment_reader() -> Callable[[object], datetime.datetime | None]:
    """Moments as the ORM reads them (SQLite returns text): the converters of Receipt.signed_at."""
    field = Receipt._meta.get_field("signed_at")
    column = field.get_col(Receipt._meta.db_table)
    converters = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]

    def read(value):
        if value is None:
            return None
        for convert in converters:
            value = convert(value, column, connection)
        return value

    return read


def _payload(text: str | None) -> dict:
    payload = json.loads(text) if text else {}
    return payload if isinstance(payload, dict) else {}


class _Check:
    """The comparisons of one pass, row by row, in the statement's order."""

    def __init__(self) -> None:
        self.moment = _moment_reader()
        self.receipts = self.events = 0
        self.previous_receipt: int | None = None

    def row(self, row: sql.SignedRecord) -> Iterator[str]:
        if row.part == 1:
            yield from self._receipt(row)
        elif row.part == 2:
            self.events += 1
            receipt_id = _payload(row.payload).get("receipt_id")
            yield (
                f"event {row.seq}: DELIVERY_SIGNED of delivery {row.event_object_id} "
                f"(receipt {receipt_id}) has no receipt"
            )
        else:
            signed_at = signed_at_text(self.moment(row.delivery_signed_at))
            yield f"delivery {row.delivery_id} was signed at {signed_at} but has no receipt"

    def _receipt(self, row: sql.SignedRecord) -> Iterator[str]:
        name = f"receipt {row.receipt_id} of delivery {row.receipt_delivery_id}"
        if row.receipt_id == self.previous_receipt:
            self.events += 1
            yield f"{name} has another DELIVERY_SIGNED event: event {row.seq}"
            return
        self.receipts += 1
        self.previous_receipt = row.receipt_id
        signed_at = self.moment(row.signed_at)
        if row.delivery_id is None:
            yield f"{name}: the delivery is gone"
        else:
            delivery_signed_at = self.moment(row.delivery_signed_at)
            yield from _disagreements(
                f"{name} disagrees with its delivery",
                "delivery",
                [
                    ("unit", row.receipt_unit_id, row.delivery_unit_id),
                    ("signed_at", _text(signed_at), _text(delivery_signed_at)),
                ],
            )
        if row.seq is None:
            yield f"{name} has no DELIVERY_SIGNED event"
            return
        self.events += 1
        payload = _payload(row.payload)
        pairs = [
            ("receipt_id", row.receipt_id, payload.get("receipt_id")),
            ("content_digest", row.content_digest, payload.get("content_digest")),
            ("signed_by", row.signed_by_id, row.actor_id),
            ("unit", row.receipt_unit_id, row.event_unit_id),
        ]
        if "signed_at" in payload:
            pairs.append(("signed_at", _text(signed_at), payload["signed_at"]))
        else:
            # Written before events carried the time: the receipt cannot be later than its event.
            occurred_at = self.moment(row.occurred_at)
            if signed_at > occurred_at:
                pairs.append(("signed_at", _text(signed_at), f"recorded at {_text(occurred_at)}"))
        yield from _disagreements(f"{name} disagrees with event {row.seq}", "event", pairs)


def _text(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else signed_at_text(moment)


def _disagreements(subject: str, other: str, pairs: list[tuple[str, object, object]]) -> Iterator[str]:
    for field, in_receipt, in_other in pairs:
        if in_receipt != in_other:
            yield f"{subject} on {field}: receipt {in_receipt}, {other} {in_other}"


def receipt_verify(*, batch_size: int = 5000) -> ReceiptVerification:
    """Compare every receipt with its DELIVERY_SIGNED event and its delivery, and find the events and
    signed deliveries without a receipt: one streaming pass. Trusts the audit chain (audit_verify)."""
    check, problems, count = _Check(), [], 0
    # In a transaction, PostgreSQL streams the chunked (server-side) cursor instead of materialising it.
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        for row in sql.signed_records().stream(cursor, size=batch_size):
            for problem in check.row(row):
                count += 1
                if len(problems) < REPORT_LIMIT:
                    problems.append(problem)
    return ReceiptVerification(check.receipts, check.events, count, tuple(problems))
