"""Every statement of the product written out by hand, in one place (the role rule they embed is
units/sql.py's, which units/selectors.py needs too).

Written out because they run on every request (签收, the API token's person, the audit event and
the chain head: composing them through the ORM cost more than executing them, make bench,
receipts), or because the ORM cannot say them (INSERT … SELECT unnest … ON CONFLICT, a recursive
query, INSERT … SELECT of notices). Each is

- built once (functools.cache): no request pays for composing it, and its text never changes, so
  PostgreSQL prepares it (PG_PREPARE_THRESHOLD);
- named from the models' _meta, quoted (units.sql): a field renamed in a model fails when the
  statement is built, a column renamed is followed, and tests/test_sql.py has PostgreSQL plan
  every statement, so a name the models do not have fails a test, not production;
- parameterised: named parameters (%(name)s), or positional ones in the order of a field list
  the statement publishes where rows repeat (multi-row VALUES) or where the ORM's compiled SQL,
  which has positional parameters, is embedded;
- read into rows by column name: a `Query` returns NamedTuples whose fields are its columns'
  names, checked against cursor.description the first time it runs.

Every line ruff flags as S608 carries `# noqa: S608` and its reason; tests/test_sql.py refuses one
anywhere but here and in units/sql.py.
"""

import datetime
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from documents.models import Document, SearchPeriod
from units.models import Unit, UnitUserObjectPermission
from units.sql import column, literal, pk, quoted, role_condition_sql, table
from workflow.models import AuditEvent, AuditVerb, Delivery, Forward, Notification, Receipt
from workflow.transitions import sources

Row = TypeVar("Row", bound=tuple)


class Query(Generic[Row]):
    """A statement that returns rows, read into `row` (a NamedTuple) by column name."""

    __slots__ = ("_named", "row", "sql")

    def __init__(self, sql: str, row: type[Row]) -> None:
        self.sql, self.row, self._named = sql, row, False

    def _name(self, cursor) -> None:
        # The text never changes, so neither do its columns: compared with the row's fields on the
        # first run only (reading cursor.description costs about 12 µs; a sign-for, 600).
        if cursor.description is None:
            return
        names = tuple(description[0] for description in cursor.description)
        if names != self.row._fields:
            raise RuntimeError(f"{self.row.__name__}: the statement returns {names}, not {self.row._fields}")
        self._named = True

    def one(self, cursor, params: Mapping[str, Any] | Sequence[Any] | None = None) -> Row | None:
        """Execute; the first row, or None."""
        cursor.execute(self.sql, params)
        found = cursor.fetchone()
        if not self._named:
            self._name(cursor)
        return None if found is None else self.row._make(found)

    def stream(self, cursor, params: Mapping[str, Any] | Sequence[Any] | None = None, *, size: int) -> Iterator[Row]:
        """Execute; the rows, fetched `size` at a time (with a chunked cursor, memory stays flat)."""
        cursor.execute(self.sql, params)
        if not self._named:
            self._name(cursor)
        while rows := cursor.fetchmany(size):
            yield from map(self.row._make, rows)

    def all(self, cursor, params: Mapping[str, Any] | Sequence[Any] | None = None) -> list[Row]:
        """Execute; every row."""
        cursor.execute(self.sql, params)
        found = cursor.fetchall()
        if not self._named:
            self._name(cursor)
        return list(map(self.row._make, found))


def _select(row: type[tuple], expressions: dict[str, str]) -> str:
    """The select list of a Query: each of the row's fields, in order, named by an alias."""
    if tuple(expressions) != row._fields:
        raise ValueError(f"{row.__name__}: columns {tuple(expressions)}, fields {row._fields}")
    return ", ".join(f"{expression} AS {quoted(name)}" for name, expression in expressions.items())


def _columns(model: type[models.Model], field_names: Sequence[str]) -> str:
    return ", ".join(column(model, name) for name in field_names)


# --- 签收 (workflow/services/deliveries.py) -------------------------------------------------------


class Signing(NamedTuple):
    """The delivery as signing sees it: its state, unit, document number and digest, its receipt if
    any, and whether the person is a clerk of its unit (1 or 0)."""

    delivery_id: int
    document_id: int
    unit_id: int
    state: str
    unit_name: str
    number_prefix: str
    number_year: int | None
    number_serial: int | None
    digest: str
    receipt_id: int | None
    signed_by_id: int | None
    signed_at: datetime.datetime | None  # naive on SQLite: deliveries.py converts it as the ORM would
    content_digest: str | None
    is_clerk: int


@functools.cache
def delivery_signing() -> Query[Signing]:
    """One delivery read for signing. Parameters: delivery_id, and units.sql.role_params (the
    clerk role) for is_clerk."""
    select = _select(
        Signing,
        {
            "delivery_id": pk(Delivery, "d"),
            "document_id": column(Delivery, "document", "d"),
            "unit_id": column(Delivery, "unit", "d"),
            "state": column(Delivery, "state", "d"),
            "unit_name": column(Unit, "name", "u"),
            "number_prefix": column(Document, "number_prefix", "doc"),
            "number_year": column(Document, "number_year", "doc"),
            "number_serial": column(Document, "number_serial", "doc"),
            "digest": column(Document, "digest", "doc"),
            "receipt_id": pk(Receipt, "r"),
            "signed_by_id": column(Receipt, "signed_by", "r"),
            "signed_at": column(Receipt, "signed_at", "r"),
            "content_digest": column(Receipt, "content_digest", "r"),
            "is_clerk": f"CASE WHEN {role_condition_sql(column(Delivery, 'unit', 'd'))} THEN 1 ELSE 0 END",
        },
    )
    return Query(
        f"SELECT {select} FROM {table(Delivery)} d "  # noqa: S608 (names from _meta, values are parameters)
        f"JOIN {table(Unit)} u ON {pk(Unit, 'u')} = {column(Delivery, 'unit', 'd')} "
        f"JOIN {table(Document)} doc ON {pk(Document, 'doc')} = {column(Delivery, 'document', 'd')} "
        f"LEFT JOIN {table(Receipt)} r ON {column(Receipt, 'delivery', 'r')} = {pk(Delivery, 'd')} "
        f"WHERE {pk(Delivery, 'd')} = %(delivery_id)s",
        Signing,
    )


@functools.cache
def delivery_sign() -> str:
    """The move to SIGNED: only from the states the transition table allows (workflow.transitions),
    only by a clerk of the unit; the row's lock decides between concurrent signers. Parameters:
    state, signed_at (also the first reading's moment, if none yet), reader_id, delivery_id, and
    units.sql.role_params (the clerk role)."""
    # The transition table's own constants, written into the text: it stays one statement.
    allowed = ", ".join(literal(state) for state in sources(Delivery.State.SIGNED))
    read_at, read_by = column(Delivery, "read_at"), column(Delivery, "read_by")
    return (
        f"UPDATE {table(Delivery)} SET {column(Delivery, 'state')} = %(state)s, "  # noqa: S608 (names from _meta and the transition table's states, values are parameters)
        f"{column(Delivery, 'signed_at')} = %(signed_at)s, {read_at} = COALESCE({read_at}, %(signed_at)s), "
        f"{read_by} = COALESCE({read_by}, %(reader_id)s) "
        f"WHERE {pk(Delivery)} = %(delivery_id)s AND {column(Delivery, 'state')} IN ({allowed}) "
        f"AND {role_condition_sql(column(Delivery, 'unit'))}"
    )


class NewReceipt(NamedTuple):
    id: int


@functools.cache
def receipt_insert() -> Query[NewReceipt]:
    """The receipt of a sign-for. Parameters: delivery_id, unit_id, signed_by_id, signed_at,
    content_digest."""
    fields = ("delivery", "unit", "signed_by", "signed_at", "content_digest")
    values = ", ".join(f"%({Receipt._meta.get_field(name).attname})s" for name in fields)
    return Query(
        f"INSERT INTO {table(Receipt)} ({_columns(Receipt, fields)}) VALUES ({values}) "  # noqa: S608 (names from _meta, values are parameters)
        f"RETURNING {pk(Receipt)} AS {quoted('id')}",
        NewReceipt,
    )


# --- the API's bearer token (workflow/api.py) ----------------------------------------------------


class ActiveUser(NamedTuple):
    id: int
    password: str


@functools.cache
def user_active() -> Query[ActiveUser]:
    """The person's id and password hash, if active. Parameter: user_id."""
    model = get_user_model()
    select = _select(ActiveUser, {"id": pk(model), "password": column(model, "password")})
    return Query(
        f"SELECT {select} FROM {table(model)} "  # noqa: S608 (names from _meta, values are parameters)
        f"WHERE {pk(model)} = %(user_id)s AND {column(model, 'is_active')}",
        ActiveUser,
    )


# --- the audit chain (workflow/audit.py) ---------------------------------------------------------


def audit_lock() -> str:
    """PostgreSQL: the transaction's lock on the audit chain. Parameter: key."""
    return "SELECT pg_advisory_xact_lock(%(key)s)"


class ChainHead(NamedTuple):
    seq: int
    hash: str


@functools.cache
def audit_head() -> Query[ChainHead]:
    """The last event's seq and hash (no row: the chain is empty). No parameters."""
    seq = column(AuditEvent, "seq")
    select = _select(ChainHead, {"seq": seq, "hash": column(AuditEvent, "hash")})
    return Query(f"SELECT {select} FROM {table(AuditEvent)} ORDER BY {seq} DESC LIMIT 1", ChainHead)  # noqa: S608 (names from _meta, no values)


@functools.cache
def audit_event_fields() -> tuple[models.Field, ...]:
    """The fields `audit_event_insert` takes, in the order of its parameters."""
    return tuple(AuditEvent._meta.concrete_fields)


@functools.lru_cache(maxsize=8)  # one event (most changes), a full batch, and a few other sizes
def audit_event_insert(rows: int) -> str:
    """Insert `rows` events. Parameters: each event's values of audit_event_fields(), in order."""
    fields = audit_event_fields()
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    names = ", ".join(quoted(field.column) for field in fields)
    return f"INSERT INTO {table(AuditEvent)} ({names}) VALUES " + ", ".join([row] * rows)  # noqa: S608 (names from _meta, values are parameters)


def _utc_text(moment: str) -> str:
    """PostgreSQL: a moment printed in the audit hash's own form (UTC, microseconds, "Z")."""
    return f"to_char({moment} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


@functools.cache
def _audit_occurred_text() -> str:
    return _utc_text(column(AuditEvent, "occurred_at"))


def audit_occurred_text() -> RawSQL:
    """PostgreSQL: the event's moment printed in the hash's own form (UTC, microseconds, "Z"), for
    the verifier, which would otherwise parse every timestamp only to print it again."""
    return RawSQL(_audit_occurred_text(), [])  # noqa: S611 (a name from _meta and a constant format, no values)


# --- routing (workflow/services/dispatch.py) -----------------------------------------------------


class NewDelivery(NamedTuple):
    unit_id: int


# The columns routing writes; the deadlines fixed at issue travel with each delivery.
DELIVERY_INSERT_FIELDS = (
    "dispatch",
    "document",
    "unit",
    "role",
    "urgency",
    "issuing_unit",
    "is_cover",
    "state",
    "recall",
    "created_at",
    "deadline_sign_for",
    "deadline_complete",
)


def _delivery_insert(source: str) -> Query[NewDelivery]:
    unit = column(Delivery, "unit")
    return Query(
        f"INSERT INTO {table(Delivery)} ({_columns(Delivery, DELIVERY_INSERT_FIELDS)}) {source} "
        f"ON CONFLICT ({column(Delivery, 'dispatch')}, {unit}) DO NOTHING RETURNING {unit} AS {quoted('unit_id')}",
        NewDelivery,
    )


@functools.cache
def delivery_insert_unnest() -> Query[NewDelivery]:
    """PostgreSQL: a chunk of deliveries of one dispatch, those that exist skipped; the units of the
    new ones. Parameters: dispatch_id, document_id, urgency, issuing_unit_id, is_cover, state, recall_id,
    created_at, deadline_sign_for, deadline_complete, unit_ids and roles (two arrays, one element per
    delivery)."""
    return _delivery_insert(
        "SELECT %(dispatch_id)s, %(document_id)s, t.unit_id, t.role, %(urgency)s, %(issuing_unit_id)s, %(is_cover)s, "
        "%(state)s, "
        "%(recall_id)s, "
        "%(created_at)s, "
        "%(deadline_sign_for)s::timestamptz, %(deadline_complete)s::timestamptz "
        "FROM unnest(%(unit_ids)s::bigint[], %(roles)s::text[]) AS t(unit_id, role)"
    )


@functools.lru_cache(maxsize=4)  # a full chunk and the last one
def delivery_insert_values(rows: int) -> Query[NewDelivery]:
    """SQLite (no arrays): as delivery_insert_unnest, for `rows` deliveries. Parameters: each
    delivery's values of DELIVERY_INSERT_FIELDS, in order."""
    row = "(" + ", ".join(["%s"] * len(DELIVERY_INSERT_FIELDS)) + ")"
    return _delivery_insert("VALUES " + ", ".join([row] * rows))


# --- notices (workflow/services/notifications.py) ------------------------------------------------


@functools.cache
def _notification_insert_select() -> tuple[str, str, str]:
    target = _columns(Notification, ("user", "delivery", "kind", "round", "text", "created_at"))
    # The subqueries' columns as the ORM names them: the deliveries' values("id", "unit_id"), and the
    # (user, unit) pairs of units.selectors.user_list_with_role_in_units, named by its first SELECT.
    clerk, clerk_unit = column(UnitUserObjectPermission, "user"), column(UnitUserObjectPermission, "content_object")
    # "WHERE 1 = 1": SQLite's grammar can read the ON of ON CONFLICT as a join's ON; its
    # documentation asks INSERT … SELECT for a WHERE.
    return (
        f"INSERT INTO {table(Notification)} ({target}) "  # noqa: S608 (names from _meta; the subqueries, compiled by the ORM, and the values are parameterised)
        f"SELECT c.{clerk}, d.{pk(Delivery)}, %s, 0, %s, %s FROM (",
        ") d JOIN (",
        f") c ON c.{clerk_unit} = d.{column(Delivery, 'unit')} WHERE 1 = 1 ON CONFLICT DO NOTHING",
    )


def notification_insert_select(
    deliveries: QuerySet[Delivery], clerks: QuerySet, *, kind: str, text: str, created_at: Any
) -> tuple[str, list]:
    """One notice (round 0) per clerk of each delivery's unit, those that exist skipped: (SQL,
    parameters). `clerks` gives the (user id, unit id) pairs of the units' clerks; `created_at` is
    adapted for the database already. The ORM's compiled subqueries, with positional parameters, are
    embedded, so the statement's own are positional too: kind, text, created_at, then the
    subqueries'."""
    head, middle, tail = _notification_insert_select()
    deliveries_sql, deliveries_params = deliveries.order_by().values("id", "unit_id").query.sql_with_params()
    clerks_sql, clerks_params = clerks.query.sql_with_params()
    sql = head + deliveries_sql + middle + clerks_sql + tail
    return sql, [kind, text, created_at, *deliveries_params, *clerks_params]


# --- 撤回 (workflow/services/recall.py) ----------------------------------------------------------


@functools.cache
def _deliveries_below() -> str:
    delivery_id, document = pk(Delivery), column(Delivery, "document", "d")
    return (
        f"WITH RECURSIVE below(id) AS (SELECT {delivery_id} FROM {table(Delivery)} "  # noqa: S608 (names from _meta, values are parameters)
        f"WHERE {column(Delivery, 'recall')} = %s AND {column(Delivery, 'state')} = %s "
        f"UNION SELECT {pk(Delivery, 'd')} FROM {table(Delivery)} d "
        f"JOIN {table(Forward)} f ON {document} = {column(Forward, 'cover', 'f')} "
        f"JOIN below b ON {column(Forward, 'source_delivery', 'f')} = b.id) SELECT id FROM below"
    )


def deliveries_below(recall_id: int) -> RawSQL:
    """The ids of every delivery of every cover letter forwarded from a delivery this recall
    withdrew after signing, level after level down the chain: one recursive query."""
    # The parameters in this order: the recall's id, the state.
    return RawSQL(_deliveries_below(), [recall_id, Delivery.State.RECALLED_AFTER_SIGNING])  # noqa: S611 (names from _meta, values are parameters)


# --- receipts against their DELIVERY_SIGNED events (workflow/receipt_audit.py) --------------------


class SignedRecord(NamedTuple):
    """One row of the receipts' cross-check. `part` 1: a receipt, with its delivery and its
    DELIVERY_SIGNED event (none: the event's columns are empty; several: a row for each, and
    `first_seq` names the first); 2: a DELIVERY_SIGNED event whose delivery has no receipt; 3: a
    delivery with a signing time and no receipt. Moments as text: on PostgreSQL in the form of
    receipt_audit.signed_at_text already, on SQLite as stored (receipt_audit converts them); the
    payload as JSON text."""

    part: int
    receipt_id: int | None
    receipt_delivery_id: int | None
    receipt_unit_id: int | None
    signed_by_id: int | None
    signed_at: str | None
    content_digest: str | None
    delivery_id: int | None
    delivery_unit_id: int | None
    delivery_signed_at: str | None
    seq: int | None
    first_seq: int | None
    event_object_id: str | None
    actor_id: int | None
    event_unit_id: int | None
    occurred_at: str | None
    payload: str | None


@functools.cache
def signed_records(vendor: str) -> Query[SignedRecord]:
    """Every receipt with its delivery and DELIVERY_SIGNED event, then the events and the signed
    deliveries that have no receipt: one statement, read as a stream (workflow.receipt_audit), in no
    particular order (sorting the rows cost more than the rest of the statement): a delivery's
    second event is told by `first_seq`, from a grouping of the few deliveries that have several.
    An event names its delivery in object_id, a text: the joins compare text, which PostgreSQL
    hashes (an event whose object_id is not a number joins nothing and is reported, never an error).
    PostgreSQL prints the moments (loading 300,000 timestamps into datetimes only to print them
    again was most of the check's time). No parameters."""
    moment = _utc_text if vendor == "postgresql" else str
    signed = f"{column(AuditEvent, 'verb', 'e')} = {literal(AuditVerb.DELIVERY_SIGNED)}"
    object_id, seq = column(AuditEvent, "object_id", "e"), column(AuditEvent, "seq", "e")
    receipt_delivery = column(Receipt, "delivery", "r")
    receipt = {
        "receipt_id": pk(Receipt, "r"),
        "receipt_delivery_id": receipt_delivery,
        "receipt_unit_id": column(Receipt, "unit", "r"),
        "signed_by_id": column(Receipt, "signed_by", "r"),
        "signed_at": moment(column(Receipt, "signed_at", "r")),
        "content_digest": column(Receipt, "content_digest", "r"),
    }
    delivery = {
        "delivery_id": pk(Delivery, "d"),
        "delivery_unit_id": column(Delivery, "unit", "d"),
        "delivery_signed_at": moment(column(Delivery, "signed_at", "d")),
    }
    event = {
        "seq": seq,
        "first_seq": "m.first_seq",
        "event_object_id": object_id,
        "actor_id": column(AuditEvent, "actor", "e"),
        "event_unit_id": column(AuditEvent, "unit", "e"),
        "occurred_at": moment(column(AuditEvent, "occurred_at", "e")),
        "payload": column(AuditEvent, "payload", "e"),
    }

    def empty(names: dict) -> dict:
        return dict.fromkeys(names, "NULL")

    receipts = _select(SignedRecord, {"part": "1", **receipt, **delivery, **event})
    events = _select(SignedRecord, {"part": "2", **empty(receipt), **empty(delivery), **event, "first_seq": "NULL"})
    deliveries = _select(SignedRecord, {"part": "3", **empty(receipt), **delivery, **empty(event)})
    return Query(
        f"SELECT {receipts} FROM {table(Receipt)} r "  # noqa: S608 (names from _meta and a verb of the code, no values)
        f"LEFT JOIN {table(Delivery)} d ON {pk(Delivery, 'd')} = {receipt_delivery} "
        f"LEFT JOIN {table(AuditEvent)} e ON {signed} AND {object_id} = CAST({receipt_delivery} AS TEXT) "
        f"LEFT JOIN (SELECT {object_id} AS object_id, MIN({seq}) AS first_seq FROM {table(AuditEvent)} e "
        f"WHERE {signed} GROUP BY {object_id} HAVING COUNT(*) > 1) m ON m.object_id = {object_id} "
        f"UNION ALL SELECT {events} FROM {table(AuditEvent)} e WHERE {signed} AND NOT EXISTS "
        f"(SELECT 1 FROM {table(Receipt)} r WHERE CAST({receipt_delivery} AS TEXT) = {object_id}) "
        f"UNION ALL SELECT {deliveries} FROM {table(Delivery)} d "
        f"WHERE {column(Delivery, 'signed_at', 'd')} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {table(Receipt)} r WHERE {receipt_delivery} = {pk(Delivery, 'd')})",
        SignedRecord,
    )


# --- the chain page of a big tree (web.selectors, issue 18) ------------------------------------------


def chain_first_per_dispatch(dispatches_sql: str, *, signed: bool, limit: int) -> str:
    """The `limit` slowest signed (`signed`) or longest waiting pending deliveries of a chain, as
    (delivery id, level): per dispatch the first few by its own index (delivery_signed_by_dispatch,
    delivery_pending_by_dispatch; LATERAL … LIMIT), then the first of those. `dispatches_sql` is the
    ORM's compiled SELECT of the chain's (dispatch id, level, document issued_at); its positional
    parameters are the statement's only ones. A sign-for time and a wait run from the issue."""
    v = "v"
    dispatch_column, signed_at = column(Delivery, "dispatch", v), column(Delivery, "signed_at", v)
    if signed:
        inner = f"{signed_at} IS NOT NULL ORDER BY {signed_at} DESC"
        order = f"x.{quoted('signed_at')} - d.issued_at DESC, x.id"
    else:
        pending = literal(Delivery.State.PENDING)
        inner = f"{column(Delivery, 'state', v)} = {pending} ORDER BY {column(Delivery, 'deadline_sign_for', v)}"
        order = "d.issued_at, x.id"
    return (
        f"SELECT x.id, d.level FROM ({dispatches_sql}) AS d(id, level, issued_at) "  # noqa: S608 (names from _meta, the ORM's own SELECT)
        f"CROSS JOIN LATERAL (SELECT {pk(Delivery, v)} AS id, {signed_at} FROM {table(Delivery)} {v} "
        f"WHERE {dispatch_column} = d.id AND {inner} LIMIT {int(limit)}) AS x "
        f"ORDER BY {order} LIMIT {int(limit)}"
    )


# --- 全文检索 by month (workflow.search, issue 18) ------------------------------------------------

_MONTHS = "months"
# How a month's SELECT (the ORM's, in search_month_walk) names the month being walked.
SEARCH_WALKED_MONTH = f"{_MONTHS}.{quoted('period')}"


def search_month_walk(month_sql: str, columns: Sequence[str], limit: int, *, newest: bool, oldest: bool) -> str:
    """The first `limit` rows of `month_sql` over the months that hold search rows, newest month
    first (SearchPeriod), each month's rows in its own order (dated_at, document id, newest first):
    a LATERAL per month and an incremental sort whose LIMIT stops the walk when it is full.
    `month_sql` is the ORM's compiled SELECT of one month (it names SEARCH_WALKED_MONTH) with the
    `columns` and dated_at and document_id. Parameters: the newest month (with `newest`), the oldest
    (with `oldest`), then month_sql's own, positionally."""
    bounds = [f"{quoted('period')} <= %s"] * newest + [f"{quoted('period')} >= %s"] * oldest
    where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
    selected = ", ".join(f"walked.{quoted(name)}" for name in columns)
    return (
        f"SELECT {selected} FROM (SELECT {quoted('period')} FROM {table(SearchPeriod)}{where}) {_MONTHS} "  # noqa: S608 (names from _meta, the ORM's own SELECT)
        f"CROSS JOIN LATERAL ({month_sql}) walked ORDER BY {SEARCH_WALKED_MONTH} DESC, "
        f"walked.{quoted('dated_at')} DESC, walked.{quoted('document_id')} DESC LIMIT {int(limit)}"
    )


_WINDOW = "search_window"
# The document ids of search_window's window, for the door's statement to read.
SEARCH_WINDOW_IDS = f"SELECT {quoted('document_id')} FROM {_WINDOW}"  # noqa: S608 (names of ours, no value)


def search_window(walk_sql: str, passed_sql: str, window: int) -> str:
    """A tier's candidates for a door tested per candidate: the `window` newest matches, walked once
    (`walk_sql`, a search_month_walk of tier, dated_at, document_id, is_window_end), the ones the door
    lets through (`passed_sql`, which reads SEARCH_WINDOW_IDS), and the window's last match marked
    is_window_end (none when the window is not full). Parameters: walk_sql's, then passed_sql's."""
    return (
        f"WITH {_WINDOW} AS MATERIALIZED ({walk_sql}) ({passed_sql}) UNION ALL ("  # noqa: S608 (statements of search_month_walk's and the ORM's)
        f"SELECT tier, {quoted('dated_at')}, {quoted('document_id')}, true AS is_window_end FROM {_WINDOW} "
        f"ORDER BY {quoted('dated_at')} DESC, {quoted('document_id')} DESC OFFSET {int(window) - 1} LIMIT 1)"
    )


def search_tiers(first_sql: str, second_sql: str) -> str:
    """Both tiers' candidates, the second read only when the first leaves room: fewer than the
    last parameter (the page's count) of its candidates, and not stopped at its door's window end
    (is_window_end). Parameters: first_sql's, second_sql's, then the count."""
    room = (
        "(SELECT count(*) FROM first WHERE NOT is_window_end) < %s "
        "AND NOT EXISTS (SELECT FROM first WHERE is_window_end)"
    )
    return (
        f"WITH first AS MATERIALIZED ({first_sql}) SELECT * FROM first "  # noqa: S608 (statements of search_month_walk's)
        f"UNION ALL SELECT * FROM ({second_sql}) second WHERE {room}"
    )
