"""The hash-chained audit log: record an event inside the caller's transaction; verify the chain.

Each event's hash is SHA-256 over the canonical JSON of

    [seq, occurred_at (UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ"), actor_id, unit_id, verb,
     object_type, object_id, document_id, payload, prev_hash]

(keys sorted, no insignificant whitespace, non-ASCII kept), and prev_hash is the hash of event
seq - 1 (64 zeros for the first). Writers take one lock before reading the head, so two concurrent
transactions can never both extend the same head (no fork) and `seq` has no gaps: a gap, a changed
field, a deleted or an inserted event all break the chain at the first affected event.

Services record their event last, just before commit, so the lock is held for a moment only.
"""

import contextvars
import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from documents.models import Document
from units.models import Unit
from workflow import sql
from workflow.models import AuditEvent, AuditVerb

GENESIS_HASH = "0" * 64

# The API client (接口客户端) on whose request the events are being written, as {"id", "name"}: set by
# the API's authentication for the length of one request (api.authentication), None otherwise. The
# actor stays the client's service account and the unit the event's own; every event of the request
# carries the client in its payload ("api_client"), so the log says which system acted, not only for
# whom. A context variable, not an argument: the services take the actor alone and need not know
# whether a page, a command or another system called them.
acting_api_client: contextvars.ContextVar[dict | None] = contextvars.ContextVar("acting_api_client", default=None)
# An arbitrary constant naming the audit chain's advisory lock on PostgreSQL.
_AUDIT_LOCK_KEY = 0x6175646974  # "audit"


def _utc_text(moment: datetime.datetime | str) -> str:
    """The hash's form of a moment; a str is that form already (printed by PostgreSQL, see _rows)."""
    if isinstance(moment, str):
        return moment
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    seq: int,
    occurred_at: datetime.datetime | str,
    actor_id: int | None,
    unit_id: int | None,
    verb: str,
    object_type: str,
    object_id: str,
    document_id: int | None,
    payload: object,
    prev_hash: str,
) -> str:
    body = [
        seq,
        _utc_text(occurred_at),
        actor_id,
        unit_id,
        verb,
        object_type,
        object_id,
        document_id,
        payload,
        prev_hash,
    ]
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lock_chain_head() -> tuple[int, str]:
    # Every audited change passes here: two statements written out (workflow/sql.py).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.audit_lock(), {"key": _AUDIT_LOCK_KEY})
        # On SQLite the IMMEDIATE transaction already holds the database's single write lock.
        head = sql.audit_head().one(cursor)
    return (0, GENESIS_HASH) if head is None else (head.seq, head.hash)


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    verb: AuditVerb,
    object_type: str,
    object_id: int | str,
    unit: Unit | int | None = None,
    document: Document | int | None = None,
    payload: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the transaction of the change it records."""
    (event,) = audit_record_many(
        [
            {
                "actor": actor,
                "verb": verb,
                "object_type": object_type,
                "object_id": object_id,
                "unit": unit,
                "document": document,
                "payload": payload,
            }
        ]
    )
    return event


def audit_record_many(events: list[dict]) -> list[AuditEvent]:
    """Append several events, in order, in three queries whatever their number (one lock, the head,
    one INSERT): for set operations such as the reminder sweep, which audit each row they change.

    Each item takes the keyword arguments of `audit_record`. Must run inside the transaction.
    """
    if not events:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    seq, prev_hash = _lock_chain_head()
    now = timezone.now()
    client = acting_api_client.get()
    rows = []
    for event in events:
        unit, document, actor = event.get("unit"), event.get("document"), event.get("actor")
        seq += 1
        fields = {
            "seq": seq,
            "occurred_at": now,
            "actor_id": actor.pk if actor is not None else None,
            "unit_id": unit.pk if isinstance(unit, Unit) else unit,
            "verb": str(event["verb"]),
            "object_type": event["object_type"],
            "object_id": str(event["object_id"]),
            "document_id": document.pk if isinstance(document, Document) else document,
            "payload": {**(event.get("payload") or {}), "api_client": client} if client else event.get("payload") or {},
        }
        digest = event_hash(**fields, prev_hash=prev_hash)
        rows.append(AuditEvent(**fields, prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    _insert(rows)
    return rows


# Rows per INSERT: 11 parameters a row stays far below PostgreSQL's 65,535 parameters a statement.
_INSERT_BATCH = 1000


def _insert(events: list[AuditEvent]) -> None:
    """INSERT the events: a statement written out (every audited change ends here, and composing it
    through bulk_create cost more than executing it), the values prepared by the model's fields."""
    fields = sql.audit_event_fields()
    with connection.cursor() as cursor:
        for start in range(0, len(events), _INSERT_BATCH):
            batch = events[start : start + _INSERT_BATCH]
            params = [
                field.get_db_prep_save(getattr(event, field.attname), connection) for event in batch for field in fields
            ]
            cursor.execute(sql.audit_event_insert(len(batch)), params)
    for event in events:
        event._state.adding, event._state.db = False, connection.alias


@dataclass(frozen=True)
class Verification:
    is_intact: bool
    events: int
    first_broken_seq: int | None = None
    reason: str = ""
    # The checkpoints (workflow.checkpoints) checked against the chain, and the file name of the
    # first one that disagrees (then `reason` says how).
    checkpoints: int = 0
    checkpoint: str = ""
    # verify_audit --since: the checkpoint trusted, and the events it vouches for (not rehashed).
    since: str = ""
    trusted: int = 0


class ChainBroken(Exception):
    """The walk met an event that does not fit: `verification` names it."""

    def __init__(self, verification: Verification):
        super().__init__(verification.reason)
        self.verification = verification


_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_id",
    "unit_id",
    "verb",
    "object_type",
    "object_id",
    "document_id",
    "payload",
    "prev_hash",
    "hash",
)


def _rows(batch_size: int, first_seq: int = 1) -> Iterator[tuple]:
    # A server-side cursor on PostgreSQL: memory stays flat whatever the length of the chain.
    events = AuditEvent.objects.order_by("seq")
    if first_seq > 1:
        events = events.filter(seq__gte=first_seq)
    if connection.vendor != "postgresql":
        yield from events.values_list(*_COLUMNS).iterator(chunk_size=batch_size)
        return
    # The moment as text and the payload as text, decoded here: parsing every timestamp into a
    # datetime only to print it again was a third of the verification's time (make bench).
    events = events.annotate(
        occurred_text=sql.audit_occurred_text(),
        payload_text=Cast("payload", TextField()),
    )
    columns = [{"occurred_at": "occurred_text", "payload": "payload_text"}.get(name, name) for name in _COLUMNS]
    payload = _COLUMNS.index("payload")
    for row in events.values_list(*columns).iterator(chunk_size=batch_size):
        yield (*row[:payload], json.loads(row[payload]), *row[payload + 1 :])


def audit_walk(
    *, batch_size: int = 5000, first_seq: int = 1, prev_hash: str | None = GENESIS_HASH
) -> Iterator[tuple[int, str]]:
    """(seq, hash) of each event from `first_seq` on, in order, each recomputed from its content and
    linked to the one before; raises ChainBroken at the first that is not.

    Trusts nothing in the table but, when `prev_hash` is None, the first event's stored link (the
    walk then starts inside the chain: verify_audit --since, after a checkpoint's signed head)."""
    expected_seq, count = first_seq, 0
    for (
        seq,
        occurred_at,
        actor_id,
        unit_id,
        verb,
        object_type,
        object_id,
        document_id,
        payload,
        stored_prev,
        stored,
    ) in _rows(batch_size, first_seq):
        if seq != expected_seq:
            raise ChainBroken(
                Verification(False, count, expected_seq, f"event {expected_seq} is missing (next is {seq})")
            )
        if prev_hash is None:
            prev_hash = stored_prev
        if stored_prev != prev_hash:
            raise ChainBroken(Verification(False, count, seq, f"event {seq} does not link to event {seq - 1}"))
        computed = event_hash(
            seq=seq,
            occurred_at=occurred_at,
            actor_id=actor_id,
            unit_id=unit_id,
            verb=verb,
            object_type=object_type,
            object_id=object_id,
            document_id=document_id,
            payload=payload,
            prev_hash=prev_hash,
        )
        if computed != stored:
            raise ChainBroken(
                Verification(False, count, seq, f"event {seq} was altered (its hash does not match its content)")
            )
        yield seq, stored
        expected_seq, prev_hash, count = seq + 1, stored, count + 1


def audit_verify(*, batch_size: int = 5000, since: str | None = None) -> Verification:
    """Walk the whole chain from the first event; report the first event that does not fit, or the
    first checkpoint that disagrees with the chain (workflow.checkpoints.chain_verify).

    Trusts nothing in the table: recomputes every hash and checks that seq runs 1, 2, 3, …
    With `since` (a checkpoint's file), trusts that signed checkpoint and walks only the events
    after it.
    """
    from workflow.checkpoints import chain_verify  # it builds on this module

    return chain_verify(batch_size=batch_size, since=since).verification
