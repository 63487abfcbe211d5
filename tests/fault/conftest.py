"""Fault tests: each starts a Redis of its own on a private port, its own workers and beat, kills and
restarts them, and checks from the database that nothing was lost or done twice.

The test process publishes to the private Redis too (the issue's on-commit publish), so nothing
reaches the machine's shared Redis.
"""

import contextlib
import email
import re
from collections import Counter
from pathlib import Path

import psutil
import pytest
from kombu import pools

from config.celery import app
from tests.worker import Beat, PrivateRedis, Worker, wait_until
from workflow.audit import audit_verify
from workflow.models import AuditEvent, AuditVerb, Delivery, Dispatch, Notification

REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("fault tests")
        for line in REPORT:
            terminalreporter.write_line(line)


def _reset_publisher() -> None:
    # Close and forget every cached connection and producer pool, so the next publish connects
    # to the broker now configured.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def publishing_to(url: str):
    """Point this process's Celery app (the on-commit publishes of the services) at another broker."""
    previous = app.conf.broker_url
    _reset_publisher()
    app.conf.broker_url = url
    try:
        yield
    finally:
        _reset_publisher()
        app.conf.broker_url = previous


class Fault:
    """The private services of one fault test; every process it started is stopped at the end."""

    # Short periods, so that recovery takes seconds: the sweep every 2 s re-enqueues work whose last
    # enqueue is 6 s old. The visibility timeout is left long: recovery must not depend on it.
    # The tests crash a dispatch on purpose up to ten times in a row, beyond the production cap.
    env = {
        "BROKER_VISIBILITY_TIMEOUT": "300",
        "SWEEP_INTERVAL_SECONDS": "2",
        "SWEEP_STALE_SECONDS": "6",
        "DISPATCH_MAX_ATTEMPTS": "30",
    }

    def __init__(self, directory: Path):
        self.directory = directory
        self.mail_dir = directory / "mail"
        self.mail_dir.mkdir()
        self.redis = PrivateRedis(directory)
        self.processes: list = []
        self.orphans: list[psutil.Process] = []
        self.starts = 0

    @property
    def broker_env(self) -> dict:
        return {**self.env, "REDIS_URL": self.redis.url}

    def worker(self, *, queues: str = "urgent,routine,control", concurrency: int = 2, **env) -> Worker:
        self.starts += 1
        worker = Worker(
            queues=queues,
            mail_dir=self.mail_dir,
            concurrency=concurrency,
            name=f"worker{self.starts}",
            extra_env={**self.broker_env, **env},
        )
        self.processes.append(worker)
        return worker

    def beat(self) -> Beat:
        beat = Beat(log_dir=self.directory, extra_env=self.broker_env)
        self.processes.append(beat)
        return beat

    def close(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(Exception):
                process.stop()
        for orphan in self.orphans:
            with contextlib.suppress(psutil.NoSuchProcess):
                orphan.kill()
        self.redis.stop()


@pytest.fixture
def fault(tmp_path, django_db_blocker):
    services = Fault(tmp_path)
    try:
        with publishing_to(services.redis.url):
            yield services
    finally:
        with django_db_blocker.unblock():
            services.close()


def emails_sent(mail_dir: Path) -> Counter:
    """How many times each (Message-ID, address) was sent (Django's file backend: a file per connection)."""
    received: Counter = Counter()
    for path in mail_dir.glob("*.log"):
        text = path.read_text(encoding="utf-8", errors="replace")
        for chunk in text.split("-" * 79):
            if chunk.strip():
                message = email.message_from_string(chunk.strip())
                if message["To"]:
                    received[message["Message-ID"], message["To"]] += 1
    return received


def unemailed(dispatch: Dispatch) -> int:
    """The dispatch's notifications still in the email outbox."""
    return Notification.objects.filter(delivery__dispatch=dispatch, emailed_at__isnull=True).count()


def assert_dispatch_complete(dispatch: Dispatch, unit_ids: list[int], clerk_emails: dict[int, str], mail_dir: Path):
    """Exactly one delivery per unit, one notification per clerk, every email at least once, the
    audit chain intact and every delivery audited once. Returns the number of duplicate emails."""
    # The emails go out from the outbox after notification (the run enqueued on commit, or the beat's).
    assert wait_until(lambda: unemailed(dispatch) == 0, timeout=120), f"{unemailed(dispatch)} emails unsent"
    dispatch.refresh_from_db()
    assert dispatch.routed_at is not None
    assert dispatch.notified_at is not None
    deliveries = list(Delivery.objects.filter(dispatch=dispatch).values_list("unit_id", flat=True))
    assert len(deliveries) == len(unit_ids)
    assert sorted(deliveries) == sorted(unit_ids)
    notified = dict(
        Notification.objects.filter(delivery__dispatch=dispatch, kind=Notification.Kind.DELIVERED).values_list(
            "pk", "user_id"
        )
    )
    assert sorted(notified.values()) == sorted(clerk_emails)
    assert not Notification.objects.filter(delivery__dispatch=dispatch, emailed_at__isnull=True).exists()
    # Every notification's email went out at least once, to its clerk; a repeat is the same email
    # (same Message-ID) sent again.
    received = emails_sent(mail_dir)
    expected = {(f"<notification-{pk}@127.0.0.1>", clerk_emails[user_id]) for pk, user_id in notified.items()}
    missing = [key for key in expected if received[key] == 0]
    assert missing == []
    events = AuditEvent.objects.filter(object_type="Dispatch", object_id=str(dispatch.pk))
    created = [event.payload["count"] for event in events.filter(verb=AuditVerb.DELIVERIES_CREATED)]
    assert sum(created) == len(unit_ids)
    assert events.filter(verb=AuditVerb.DISPATCH_ROUTED).count() == 1
    assert events.filter(verb=AuditVerb.DISPATCH_NOTIFIED).count() == 1
    verification = audit_verify()
    assert verification.is_intact, verification.reason
    return sum(received[key] - 1 for key in expected)


def log_lines(text: str, pattern: str) -> list[str]:
    return [line for line in text.splitlines() if re.search(pattern, line)]
