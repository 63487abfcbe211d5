import contextlib

import pytest
from django.db import connection
from django.db.models import Sum
from django.db.models.signals import post_migrate
from django.test.utils import CaptureQueriesContext

from documents.models import Attachment, Document, DocumentRecipient, Enclosure, NumberSeries
from tests.factories import build_world
from units.models import UnitGroupObjectPermission, UnitUserObjectPermission
from workflow.models import AuditEvent, Delivery, Dispatch, Forward, Notification, Receipt

WATCHED = [
    Document,
    DocumentRecipient,
    Attachment,
    Enclosure,
    Dispatch,
    Delivery,
    Receipt,
    Forward,
    Notification,
    AuditEvent,
    UnitUserObjectPermission,
    UnitGroupObjectPermission,
]


def _state() -> dict:
    state = {model.__name__: model.objects.count() for model in WATCHED}
    state["serials"] = NumberSeries.objects.aggregate(total=Sum("last_serial"))["total"]
    state["delivery_states"] = sorted(Delivery.objects.values_list("id", "state", "read_at"))
    state["document_states"] = sorted(Document.objects.values_list("id", "state"))
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


@pytest.fixture
def count_queries():
    """count_queries(fn) -> (number of queries, result)."""

    def run(fn, *args, **kwargs):
        with CaptureQueriesContext(connection) as queries:
            result = fn(*args, **kwargs)
        return len(queries), result

    return run


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
        or (marker is not None and marker.kwargs.get("transaction"))
    )


@pytest.fixture(autouse=True)
def _audit_log_flushable(request):
    """Let the flush that ends a transactional test (live_server, transactional_db) empty the audit log.

    The audit table refuses TRUNCATE (a statement trigger), so Django's flush fails. Right before
    that flush, this session stops firing triggers (`session_replication_role = replica`; the tests
    run as a superuser); the first post_migrate signal the flush sends turns them back on, so no
    later test runs with the append-only triggers off.
    """
    if not _is_transactional(request):
        yield
        return
    # Set up the test database first, so that this fixture's teardown runs before its flush.
    request.getfixturevalue("transactional_db")
    yield
    if connection.vendor != "postgresql":
        return

    def triggers_back_on(**kwargs):
        post_migrate.disconnect(dispatch_uid=_TRIGGERS_BACK_ON)
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")

    post_migrate.connect(triggers_back_on, weak=False, dispatch_uid=_TRIGGERS_BACK_ON)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


_TRIGGERS_BACK_ON = "tests.conftest.audit_triggers_back_on"
