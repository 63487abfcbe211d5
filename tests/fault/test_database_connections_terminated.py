"""The worker's database connections terminated (pg_terminate_backend) while it routes, notifies and
emails."""

import time
import uuid

import pytest
from django.db import connection

from tests.bulk import bulk_units
from tests.factories import issue
from tests.fault.conftest import REPORT, assert_dispatch_complete, log_lines, unemailed
from tests.worker import wait_until
from workflow.models import Dispatch

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

TERMINATIONS = 5


def _terminate_busy_backends(application_name: str) -> int:
    """Terminate the worker's connections that are in the middle of something; only the worker's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND state IN ('active', 'idle in transaction')",
            [application_name],
        )
        return cursor.fetchone()[0]


def test_terminated_database_connections_are_retried_and_lose_nothing(committed_world, fault):
    world = committed_world
    units = bulk_units(5000, parent=world.region, label="pgkill", group_owner=world.department)
    clerk_emails = {pk: f"pgkill-clerk-{n}@example.org" for n, pk in enumerate(units.clerk_ids)}
    application_name = f"fault-worker-{uuid.uuid4().hex[:8]}"
    fault.beat()
    worker = fault.worker(PGAPPNAME=application_name)
    _document, dispatch = issue(world.zzb, world.department, main=[units.group], route=False)

    terminated, phases = 0, []
    deadline = time.monotonic() + 60
    while terminated < TERMINATIONS and time.monotonic() < deadline:
        time.sleep(0.05)
        dispatch.refresh_from_db()
        emailing = dispatch.notified_at is not None
        if emailing and not unemailed(dispatch):
            break
        if terminated >= 2 and dispatch.routed_at is None:
            continue  # two cuts while routing; the rest while notifying or emailing
        if _terminate_busy_backends(application_name):
            terminated += 1
            phases.append("routing" if dispatch.routed_at is None else "emailing" if emailing else "notifying")
            time.sleep(0.5)

    assert terminated >= 2, "the dispatch finished before the connections could be cut"
    assert wait_until(
        lambda: Dispatch.objects.filter(pk=dispatch.pk, notified_at__isnull=False).exists(), timeout=90
    ), worker.output()[-3000:]
    assert_dispatch_complete(dispatch, units.unit_ids, clerk_emails, fault.mail_dir)
    retries = log_lines(worker.output(), r"retry: Retry in")
    assert retries, worker.output()[-3000:]
    REPORT.append(
        f"worker's connections terminated {terminated} times ({', '.join(phases)}): "
        f"{len(retries)} task retries, 5000 deliveries, notifications and emails, nothing lost"
    )
