"""kill -9 of the worker, ten times, while it routes, notifies and emails a 10,000-unit dispatch."""

import os
import random
import time

import psutil
import pytest
from django.db.models import F

from tests.bulk import bulk_units
from tests.factories import issue
from tests.fault.conftest import REPORT, assert_dispatch_complete, unemailed
from tests.worker import wait_until
from workflow.models import Dispatch

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

UNITS = 10_000
KILLS = 10


def _starts(dispatch: Dispatch) -> int:
    return Dispatch.objects.filter(pk=dispatch.pk).values_list(F("route_attempts") + F("notify_attempts"), flat=True)[0]


def _notified(dispatch: Dispatch) -> bool:
    return Dispatch.objects.filter(pk=dispatch.pk, notified_at__isnull=False).exists()


def _phase(dispatch: Dispatch) -> str:
    dispatch.refresh_from_db()
    if dispatch.routed_at is None:
        return "routing"
    if dispatch.notified_at is None:
        return "notifying"
    # Notified: the emails leave the outbox afterwards, and most of a run's time is theirs.
    return "emailing" if unemailed(dispatch) else "done"


def _busiest(children: list[psutil.Process]) -> psutil.Process:
    """The pool child running the task: the one burning CPU."""
    before = {child.pid: sum(child.cpu_times()[:2]) for child in children}
    time.sleep(0.1)
    return max(children, key=lambda child: sum(child.cpu_times()[:2]) - before[child.pid])


def test_killing_the_worker_ten_times_loses_and_duplicates_nothing(committed_world, fault):
    world = committed_world
    units = bulk_units(UNITS, parent=world.region, label="kill", group_owner=world.department)
    clerk_emails = {pk: f"kill-clerk-{n}@example.org" for n, pk in enumerate(units.clerk_ids)}
    seed = int(os.environ.get("FAULT_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    fault.beat()
    worker = fault.worker()
    _document, dispatch = issue(world.zzb, world.department, main=[units.group], route=False)

    kills = []
    for number in range(KILLS):
        started = _starts(dispatch)
        # Wait for the next start of routing or notification (a requeue, or the sweep after a crash),
        # or for the end: the run the last kill aimed at may have finished before the kill landed.
        assert wait_until(
            lambda started=started: _starts(dispatch) > started or _notified(dispatch), timeout=60, interval=0.02
        ), f"no new start after {started} (seed {seed}; kills: {kills})\n{worker.output()[-3000:]}"
        time.sleep(rng.uniform(0.05, 1.5))
        phase = _phase(dispatch)
        if phase == "done":
            break
        kind = ("main process", "whole worker", "pool child")[number % 3]
        if kind == "pool child":
            _busiest(worker.pool_children()).kill()
        else:
            children = worker.children()
            worker.kill()
            if kind == "whole worker":  # as the OOM killer of a container, or a lost machine, would
                for child in children:
                    child.kill()
            else:  # orphaned, the pool children finish what they hold, unacknowledged
                fault.orphans += children
            worker.stop()
            worker = fault.worker()
        kills.append(f"{phase}: {kind}")

    assert wait_until(lambda: _notified(dispatch), timeout=120), worker.output()[-3000:]
    duplicates = assert_dispatch_complete(dispatch, units.unit_ids, clerk_emails, fault.mail_dir)
    dispatch.refresh_from_db()
    REPORT.append(
        f"worker killed {len(kills)} times (seed {seed}; {', '.join(kills)}); "
        f"starts: routing {dispatch.route_attempts}, notification {dispatch.notify_attempts}; "
        f"{UNITS} deliveries, {UNITS} notifications, duplicate emails: {duplicates}"
    )
