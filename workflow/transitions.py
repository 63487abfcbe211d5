"""The one guarded transition of a delivery's state (Delivery.TRANSITIONS).

Every service that changes a delivery's state moves it here, as a conditional UPDATE ... WHERE
state IN (the states allowed to move to the target): a row that may not move is left alone, and
a row another transaction moved first no longer matches. Sign-for, whose statements are written
out by hand, takes its WHERE from `sources` too.
"""

import functools

from django.db.models import QuerySet

from workflow.models import Delivery


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
