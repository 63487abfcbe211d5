"""The private Redis stopped in the middle of routing and restarted empty: every queued and
unacknowledged message is gone, and the work is finished from the database state alone."""

import time

import pytest

from tests.bulk import bulk_units
from tests.factories import issue
from tests.fault.conftest import REPORT, assert_dispatch_complete
from tests.worker import wait_until
from workflow.models import Dispatch

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

# The sweep runs every PERIOD seconds and re-enqueues work enqueued more than STALE seconds ago.
PERIOD, STALE = 5, 2


def _finished(dispatches) -> bool:
    return Dispatch.objects.filter(pk__in=[d.pk for d in dispatches], notified_at__isnull=False).count() == len(
        dispatches
    )


def test_an_emptied_redis_loses_nothing_and_the_worker_resumes_by_itself(committed_world, fault):
    world = committed_world
    fault.env = {**fault.env, "SWEEP_INTERVAL_SECONDS": str(PERIOD), "SWEEP_STALE_SECONDS": str(STALE)}
    units = bulk_units(500, parent=world.region, label="redis", group_owner=world.department)
    clerk_emails = {pk: f"redis-clerk-{n}@example.org" for n, pk in enumerate(units.clerk_ids)}
    beat = fault.beat()
    worker = fault.worker()
    dispatches = [issue(world.zzb, world.department, main=[units.group], route=False)[1] for _ in range(3)]
    assert wait_until(lambda: Dispatch.objects.filter(pk=dispatches[0].pk, route_attempts__gt=0).exists(), timeout=30)

    fault.redis.stop()
    time.sleep(2)
    fault.redis.start()
    restarted = time.monotonic()

    assert wait_until(lambda: _finished(dispatches), timeout=2 * PERIOD + 5, interval=0.1), (
        worker.output()[-4000:] + beat.output()[-2000:]
    )
    recovered = time.monotonic() - restarted
    assert recovered <= 2 * PERIOD
    for dispatch in dispatches:
        # Each dispatch's clerks are the same people: every one of them notified once per dispatch.
        assert_dispatch_complete(dispatch, units.unit_ids, clerk_emails, fault.mail_dir)

    # The worker consumes new messages by itself: this one is done long before the sweep could
    # re-enqueue it, on its first start.
    _document, fresh = issue(world.zzb, world.department, main=[world.education], urgency="特提", route=False)
    assert wait_until(lambda: Dispatch.objects.filter(pk=fresh.pk, notified_at__isnull=False).exists(), timeout=STALE)
    fresh.refresh_from_db()
    assert (fresh.route_attempts, fresh.notify_attempts) == (1, 1)
    REPORT.append(
        f"redis restarted empty mid-routing: 3 dispatches x 500 units finished {recovered:.1f} s after the "
        f"restart (sweep period {PERIOD} s); a new dispatch then routed directly"
    )
