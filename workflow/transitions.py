"""The one guarded transition of a delivery's state (Delivery.TRANSITIONS).

Every service that changes a delivery's state moves it here, as a conditional UPDATE ... WHERE
state IN (the states allowed to move to the target): a row that may not move is left alone, and
a row another transaction moved first no longer matches. Sign-for, whose statements are written
out by hand, takes its WHERE from `sources` too.
"""

import functools
from collections import Counter

from django.db.models import QuerySet

from workflow.models import Assignment, Delivery, ReadingSlip
from workflow.tally import tally_moved


@functools.cache
def sources(target: str) -> tuple[str, ...]:
    """The states from which a delivery may move to `target`, in a fixed order."""
    return tuple(state for state, targets in Delivery.TRANSITIONS.items() if target in targets)


def may_move(state: str, target: str) -> bool:
    return target in Delivery.TRANSITIONS[state]


# Ids per UPDATE when a move is applied to the rows it locked: well under PostgreSQL's 65,535
# parameters a statement.
MOVE_CHUNK = 10_000


def delivery_move(deliveries: QuerySet[Delivery], target: str, **fields) -> int:
    """Move each of `deliveries` that may move to `target`; returns how many moved.

    The rows that may move are locked first (by id, the one order every locker uses), then moved by
    id, and their dispatches' figures (workflow.tally) move with them in the same transaction: the
    figures count exactly the rows this call moved, whatever another transaction did meanwhile.
    """
    if not sources(target):
        raise ValueError(f"no state moves to {target!r}")
    locked = list(
        deliveries.filter(state__in=sources(target))
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "dispatch_id", "state")
    )
    for start in range(0, len(locked), MOVE_CHUNK):
        chunk = [pk for pk, _dispatch, _state in locked[start : start + MOVE_CHUNK]]
        Delivery.objects.filter(pk__in=chunk).update(state=target, **fields)
    moves: dict[str, Counter] = {}
    for _pk, dispatch_id, state in locked:
        moves.setdefault(state, Counter())[dispatch_id] += 1
    for state, per_dispatch in moves.items():
        # One delivery: the slot of its id, as a sign-for's (a bulk move takes slot 0).
        tally_moved(per_dispatch, state, target, slot=locked[0][0] if len(locked) == 1 else 0)
    return len(locked)


# --- inside a recipient unit: an assignment's (承办) and a reading slip's (传阅) states ---------------
# Forward only, one step at a time, as the delivery's: a conditional UPDATE … WHERE state = the one
# state that may move to the target. Zero rows: another transaction moved it first, or it may not.

ASSIGNMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    Assignment.State.ASSIGNED: frozenset({Assignment.State.ACCEPTED}),
    Assignment.State.ACCEPTED: frozenset({Assignment.State.FINISHED}),
    Assignment.State.FINISHED: frozenset(),
}
READING_TRANSITIONS: dict[str, frozenset[str]] = {
    ReadingSlip.State.WAITING: frozenset({ReadingSlip.State.OPEN}),
    ReadingSlip.State.OPEN: frozenset({ReadingSlip.State.READ}),
    ReadingSlip.State.READ: frozenset(),
}


def _step_sources(table: dict[str, frozenset[str]], target: str) -> tuple[str, ...]:
    found = tuple(state for state, targets in table.items() if target in targets)
    if not found:
        raise ValueError(f"no state moves to {target!r}")
    return found


def assignment_move(assignments: QuerySet[Assignment], target: str, **fields) -> int:
    """Move each of `assignments` that may move to `target` (one UPDATE); returns how many moved."""
    return assignments.filter(state__in=_step_sources(ASSIGNMENT_TRANSITIONS, target)).update(state=target, **fields)


def reading_move(slips: QuerySet[ReadingSlip], target: str, **fields) -> int:
    """Move each of `slips` that may move to `target` (one UPDATE); returns how many moved."""
    return slips.filter(state__in=_step_sources(READING_TRANSITIONS, target)).update(state=target, **fields)
