import contextlib
import importlib

import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from documents.models import Attachment, Document, DocumentRecipient, Enclosure, ImportedSource, NumberSeries
from tests.factories import build_world
from units.models import Unit, UnitGroupObjectPermission, UnitUserObjectPermission
from webhooks.models import WebhookDelivery, WebhookSubscription
from workflow.models import (
    Assignment,
    AssignmentReport,
    AssignmentReportFile,
    AuditEvent,
    CalendarDay,
    Completion,
    CompletionAttachment,
    DeadlinePolicy,
    Delegation,
    Delivery,
    DeliveryReturn,
    Dispatch,
    Forward,
    HandlingRecord,
    Instruction,
    Notification,
    Proposal,
    ReadingSlip,
    Recall,
    Receipt,
    RegistrationSeries,
    Reply,
)

WATCHED = [
    Document,
    DocumentRecipient,
    Attachment,
    Enclosure,
    ImportedSource,
    Dispatch,
    Delivery,
    Receipt,
    Forward,
    Notification,
    AuditEvent,
    UnitUserObjectPermission,
    UnitGroupObjectPermission,
    DeliveryReturn,
    Recall,
    Completion,
    CompletionAttachment,
    CalendarDay,
    DeadlinePolicy,
    WebhookSubscription,
    WebhookDelivery,
    # Inside a recipient unit (issue 14).
    RegistrationSeries,
    HandlingRecord,
    Proposal,
    Instruction,
    Assignment,
    AssignmentReport,
    AssignmentReportFile,
    ReadingSlip,
    Reply,
    Delegation,
]


def _state() -> dict:
    state = {model.__name__: model.objects.count() for model in WATCHED}
    state["serials"] = NumberSeries.objects.aggregate(total=Sum("last_serial"))["total"]
    state["delivery_states"] = sorted(
        Delivery.objects.values_list("id", "state", "read_at", "recall_id", "reminder_count", "last_reminded_at")
    )
    state["document_states"] = sorted(Document.objects.values_list("id", "state"))
    state["dispatch_recalls"] = sorted(Dispatch.objects.values_list("id", "recall_id"))
    state["webhook_calls"] = sorted(WebhookDelivery.objects.values_list("id", "state", "next_attempt_at"))
    state["webhook_subscriptions"] = sorted(WebhookSubscription.objects.values_list("id", "is_active"))
    state["registration_serials"] = RegistrationSeries.objects.aggregate(total=Sum("last_serial"))["total"]
    state["assignments"] = sorted(Assignment.objects.values_list("id", "state", "reminders", "escalated_at"))
    state["reading_slips"] = sorted(ReadingSlip.objects.values_list("id", "state", "remark"))
    state["delegations"] = sorted(Delegation.objects.values_list("id", "withdrawn_at"))
    state["unit_letterheads"] = sorted(Unit.objects.values_list("id", "mongolian_name", "seal_image"))
    return state


@pytest.fixture
def nothing_written(django_capture_on_commit_callbacks):
    """Assert that the block writes no row, changes no state and enqueues no task.

    with nothing_written():
        with pytest.raises(NotAllowed):
            ...
    """

    @contextlib.contextmanager
    def check():
        before = _state()
        with django_capture_on_commit_callbacks() as callbacks:
            yield
        assert _state() == before
        assert callbacks == [], "a task was enqueued"

    return check


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(autouse=True)
def _office_language():
    """Each test starts in the office's language: a page requested in English (its cookie) leaves
    English active in the thread, and messages asserted in Chinese would then fail in later tests."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.2 s a password; tests create many people and prove nothing by it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _session_limits_lifted(request, settings):
    """Tests of deadlines move the clock by hours and days (and years) within one signed-in session,
    which the session limits (web.middleware.SessionLimitsMiddleware, and the stored session's age)
    would end. Their own tests, marked `session_limits`, keep the configured limits."""
    if request.node.get_closest_marker("session_limits") is None:
        settings.SESSION_IDLE_MINUTES, settings.SESSION_MAX_HOURS = 10**7, 10**6
        settings.SESSION_COOKIE_AGE = 10**9


@pytest.fixture(autouse=True)
def _own_audit_checkpoints(settings, tmp_path):
    """No test signs with a configured key or reads the project's checkpoints (var/checkpoints, a
    demo key named in .env): each has an empty directory of its own and no key unless it makes one."""
    settings.AUDIT_SIGNING_KEY_FILE = settings.AUDIT_PUBLIC_KEY_FILE = settings.AUDIT_CHECKPOINT_URL = ""
    settings.AUDIT_CHECKPOINT_EMAILS = []
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")


@pytest.fixture(autouse=True)
def _audit_triggers_on(django_db_blocker):
    """Undo `committed_db`'s replica role once the flush that needed it is over."""
    if connection.connection is not None:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")


@pytest.fixture(autouse=True)
def _flushable_audit_table(request):
    """Every transactional test (live_server included) gets `committed_db`'s flush handling."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("serialized_rollback")
    )
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("committed_db")


# Data the migrations ship (deadline policies, the official calendars): a transactional test's flush
# empties those tables, so the next one loads them again (the loaders ignore rows already there).
SHIPPED_DATA = [
    ("workflow.migrations.0004_deadline_policy_defaults", "create_defaults"),
    ("workflow.migrations.0005_official_calendars_2022_2026", "load"),
]


@receiver(post_migrate)
def _load_shipped_data_again(sender, **kwargs):
    """After the flush that ends a transactional test (Django's flush sends post_migrate), put the
    shipped data back. In one process pytest-django runs the transactional tests last; under
    pytest-xdist (make test) a worker runs whole files in any order, so a test that needs the
    deadline policies may come after a flush."""
    if sender.name == "workflow":
        for module, loader in SHIPPED_DATA:
            getattr(importlib.import_module(module), loader)(django_apps, None)


@pytest.fixture
def committed_db(transactional_db):
    """Committed data (other connections, threads and worker processes see it).

    The audit table refuses TRUNCATE, which Django's flush between transactional tests uses: as the
    test database's superuser, switch triggers off just for that flush.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = origin")
    for module, loader in SHIPPED_DATA:
        getattr(importlib.import_module(module), loader)(django_apps, None)
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


@pytest.fixture
def committed_world(committed_db):
    return build_world()


@pytest.fixture
def count_queries():
    """count_queries(fn) -> (number of queries, result)."""

    def run(fn, *args, **kwargs):
        with CaptureQueriesContext(connection) as queries:
            result = fn(*args, **kwargs)
        return len(queries), result

    return run


@pytest.fixture(scope="session", autouse=True)
def _forget_this_runs_broker_keys():
    """At the end, delete this run's own Redis keys (its BROKER_KEY_PREFIX), never anyone else's."""
    yield
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix")
    if not settings.REDIS_URL or not prefix:
        return
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # the suite's result stands; a later run cleans its own
    finally:
        client.close()
