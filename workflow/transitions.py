"""The one guarded transition of a delivery's state (Delivery.TRANSITIONS).

Every service that changes a delivery's state moves it here, as a conditional UPDATE ... WHERE
state IN (the states allowed to move to the target): a row that may not move is left alone, and
a row another transaction moved first no longer matches. Sign-for, whose statements are written
out by hand, takes its WHERE from `sources` too.
"""

import functools

from django.db.models import QuerySet

from workflow.models import Assignment, Delivery, ReadingSlip


@functools.cache
def sources(target: str) -> tuple[str, ...]:
    """The states from which a delivery may move to `target`, in a fixed order."""
    return tuple(state for state, targets in Delivery.TRANSITIONS.items() if target in targets)


def may_move(state: str, target: str) -> bool:
    return target in Delivery.TRANSITIONS[state]


def delivery_move(deliveries: QuerySet[Delivery], target: str, **fields) -> int:
    """Move each of `deliveries` that may move to `target` (one UPDATE); returns how many moved."""
    if not sources(target):
        raise ValueError(f"no state moves to {target!r}")
    return deliveries.filter(state__in=sources(target)).update(state=target, **fields)


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
