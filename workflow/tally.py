"""A dispatch's figures (DispatchTally), kept in the transaction of the service that changes them.

Routing and registration add the deliveries they create; sign-for, return, completion and recall
move one count from the delivery's old state to its new one. Each is one INSERT … ON CONFLICT DO
UPDATE adding to the counts (PostgreSQL and SQLite), so a slot's row is made by its first change.
The chain page of a big tree sums these rows (web.selectors.chain_figures) instead of reading its
deliveries; `tally_rebuild` recounts them from the deliveries (the migration, a repair).
"""

import functools
import operator
from collections import Counter
from collections.abc import Iterable, Mapping

from django.db import connection
from django.db.models import Expression, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from units.sql import column, literal, table
from workflow.models import Delivery, DispatchTally

# A sign-for adds to the slot of its delivery's id: concurrent sign-fors of one dispatch take
# different row locks (bench/scale_chain.py measures the difference).
TALLY_SLOTS = 16

# The column that counts the deliveries in each state.
STATE_COLUMN = {
    Delivery.State.PENDING: "pending",
    Delivery.State.SIGNED: "signed",
    Delivery.State.COMPLETED: "completed",
    Delivery.State.RETURNED: "returned",
    Delivery.State.RECALLED: "withdrawn",
    Delivery.State.RECALLED_AFTER_SIGNING: "withdrawn",
}
COUNTS = ("total", "pending", "signed", "completed", "returned", "withdrawn", "signed_ever", "signed_late")

# The figures an issuer reads of each dispatch (the outbox page and the API's dispatches), each the
# sum of these counts over the dispatch's slots. Signed: ever signed for, whatever came after (办结,
# 撤回). Recallable: in a state a recall may withdraw (Delivery.TRANSITIONS).
DISPATCH_FIGURES = {
    "delivered": ("total",),
    "signed": ("signed_ever",),
    "pending": ("pending",),
    "completed": ("completed",),
    "returned": ("returned",),
    "recalled": ("withdrawn",),
    "recallable": tuple(
        sorted(
            {
                STATE_COLUMN[state]
                for state, targets in Delivery.TRANSITIONS.items()
                if targets & set(Delivery.WITHDRAWN_STATES)
            }
        )
    ),
}


def _upsert(source: str) -> str:
    name = table(DispatchTally)
    columns = ", ".join(column(DispatchTally, field) for field in ("dispatch", "slot", *COUNTS))
    added = ", ".join(
        f"{column(DispatchTally, c)} = {name}.{column(DispatchTally, c)} + excluded.{column(DispatchTally, c)}"
        for c in COUNTS
    )
    conflict = f"{column(DispatchTally, 'dispatch')}, {column(DispatchTally, 'slot')}"
    return f"INSERT INTO {name} ({columns}) {source} ON CONFLICT ({conflict}) DO UPDATE SET {added}"


def tally_add(changes: Iterable[tuple[int, int, Mapping[str, int]]]) -> None:
    """Add to the figures: (dispatch id, slot, {count: delta}) each; one statement."""
    rows = [
        (dispatch_id, slot % TALLY_SLOTS, *(deltas.get(c, 0) for c in COUNTS)) for dispatch_id, slot, deltas in changes
    ]
    rows = [row for row in rows if any(row[2:])]
    if not rows:
        return
    values = ", ".join(["(" + ", ".join(["%s"] * (2 + len(COUNTS))) + ")"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(_upsert(f"VALUES {values}"), [value for row in rows for value in row])


def tally_created(dispatch_id: int, count: int, *, state: str = Delivery.State.PENDING) -> None:
    """`count` new deliveries of a dispatch, all in `state` (routing's chunk, a registration)."""
    tally_add([(dispatch_id, 0, {"total": count, STATE_COLUMN[state]: count})])


def tally_moved(moves: Mapping[int, int], source: str, target: str, *, slot: int = 0) -> None:
    """Deliveries moved from `source` to `target`: {dispatch id: how many}."""
    if STATE_COLUMN[source] == STATE_COLUMN[target]:
        return
    tally_add(
        (dispatch_id, slot, {STATE_COLUMN[source]: -count, STATE_COLUMN[target]: count})
        for dispatch_id, count in moves.items()
    )


def tally_moved_ids(dispatch_ids: Iterable[int], source: str, target: str) -> None:
    """As tally_moved, from the dispatch id of each delivery moved (one id per delivery)."""
    tally_moved(Counter(dispatch_ids), source, target)


def tally_signed(delivery_id: int) -> None:
    """The delivery was just signed for (pending → signed): late when at or after its deadline. Its
    dispatch, slot and lateness are read from its row by the same statement."""
    d = {name: column(Delivery, name) for name in ("dispatch", "signed_at", "deadline_sign_for")}
    signed_at, deadline = d["signed_at"], d["deadline_sign_for"]
    late = f"CASE WHEN {deadline} IS NOT NULL AND {signed_at} >= {deadline} THEN 1 ELSE 0 END"
    values = {"pending": "-1", "signed": "1", "signed_ever": "1", "signed_late": late}
    counts = ", ".join(values.get(c, "0") for c in COUNTS)
    source = (
        f"SELECT {d['dispatch']}, {column(Delivery, 'id')} %% {TALLY_SLOTS}, {counts} "  # noqa: S608 (names from _meta)
        f"FROM {table(Delivery)} WHERE {column(Delivery, 'id')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(_upsert(source), [delivery_id])


def _figure(counts: tuple[str, ...]) -> Sum:
    return Sum(functools.reduce(operator.add, (F(count) for count in counts)))


def tally_figures(dispatch_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """DISPATCH_FIGURES of each of these dispatches (a page of the outbox): one query over at most
    TALLY_SLOTS rows a dispatch, however many deliveries it made. A dispatch not yet routed has none."""
    dispatch_ids = list(dispatch_ids)
    rows = (
        DispatchTally.objects.filter(dispatch_id__in=dispatch_ids)
        .order_by()
        .values("dispatch_id")
        # Named apart from the columns: "pending" would name the sum, not the column, in "recallable".
        .annotate(**{f"figure_{name}": _figure(counts) for name, counts in DISPATCH_FIGURES.items()})
    )
    figures = {dispatch_id: dict.fromkeys(DISPATCH_FIGURES, 0) for dispatch_id in dispatch_ids}
    for row in rows:
        figures[row["dispatch_id"]] = {name: row[f"figure_{name}"] for name in DISPATCH_FIGURES}
    return figures


def tally_figure_annotations() -> dict[str, Expression]:
    """DISPATCH_FIGURES as annotations of a Dispatch queryset: a subquery each, over the dispatch's
    slots, computed for the rows a page returns (not grouped over every dispatch of the unit)."""
    slots = DispatchTally.objects.filter(dispatch=OuterRef("pk")).order_by().values("dispatch")
    return {
        name: Coalesce(Subquery(slots.annotate(n=_figure(counts)).values("n"), output_field=IntegerField()), Value(0))
        for name, counts in DISPATCH_FIGURES.items()
    }


REBUILD_CHUNK = 10_000  # dispatches recounted by one statement


def tally_rebuild(dispatch_ids: Iterable[int] | None = None) -> None:
    """Recount the figures of these dispatches (None: every one) from their deliveries, into slot 0.

    Not for a live dispatch: a sign-for committing meanwhile would be counted twice. For the
    migration that introduced the figures, a repair, and the benchmark's COPY-built trees.
    """
    tallies = DispatchTally.objects.all()
    if dispatch_ids is not None:
        dispatch_ids = list(dispatch_ids)
        if len(dispatch_ids) > REBUILD_CHUNK:  # a statement takes at most 65,535 parameters
            for start in range(0, len(dispatch_ids), REBUILD_CHUNK):
                tally_rebuild(dispatch_ids[start : start + REBUILD_CHUNK])
            return
        tallies = tallies.filter(dispatch_id__in=dispatch_ids)
    tallies.delete()
    state, signed_at, deadline = (column(Delivery, name) for name in ("state", "signed_at", "deadline_sign_for"))

    def count(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    def in_states(column_name: str) -> str:
        states = ", ".join(literal(s) for s, c in STATE_COLUMN.items() if c == column_name)
        return f"{state} IN ({states})"

    counts = [
        "COUNT(*)",
        *(count(in_states(name)) for name in ("pending", "signed", "completed", "returned", "withdrawn")),
        count(f"{signed_at} IS NOT NULL"),
        count(f"{signed_at} IS NOT NULL AND {deadline} IS NOT NULL AND {signed_at} >= {deadline}"),
    ]
    # SQLite reads ON CONFLICT after a SELECT without WHERE as a join's ON: always a WHERE.
    where, params = "WHERE 1 = 1", []
    if dispatch_ids is not None:
        if not dispatch_ids:
            return
        where, params = (
            f"WHERE {column(Delivery, 'dispatch')} IN ({', '.join(['%s'] * len(dispatch_ids))})",
            dispatch_ids,
        )
    source = (
        f"SELECT {column(Delivery, 'dispatch')}, 0, {', '.join(counts)} FROM {table(Delivery)} {where} "  # noqa: S608 (names from _meta)
        f"GROUP BY {column(Delivery, 'dispatch')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(_upsert(source), params)
