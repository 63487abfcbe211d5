"""schemathesis against the API's own schema: every operation the schema lists, called in-process on
the real PostgreSQL by a client of a unit with mail in every state (tests/api/conftest.py
`scenario`), with generated valid and invalid input. No answer may be a server error, and every
answer must be one the schema documents: its status, its content type, its headers and its body.

The schema is the one the app serves (/api/v1/schema/), so an operation added to the API is fuzzed
here without touching this file. An id in a path is mostly replaced by the id of a real row of the
kind the path names (`ROWS`), so that the calls reach the doors, the services and the serializers,
not only the 404; ids outside that range are sent as generated (missing objects, huge numbers).

Bounded: `MAX_EXAMPLES` generated cases per operation (plus the schema's examples and schemathesis's
coverage cases), no deadline (the machine is shared; timings belong in `make bench`), a fixed seed
(derandomize) and no example database, so that a run is the same on every machine.
"""

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import Scope
from documents.models import Attachment, Document
from units.models import RecipientGroup, Unit
from workflow.models import Completion, Delivery, DeliveryReturn, Dispatch, Notification, Receipt

MAX_EXAMPLES = 30

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())

CHECKS = [
    schemathesis.checks.not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
]

# The rows a path's collection names: /deliveries/{id}/… takes a delivery's id, and so on. A
# collection not listed keeps the generated ids (still checked, mostly 404).
ROWS = {
    "deliveries": Delivery,
    "documents": Document,
    "dispatches": Dispatch,
    "attachments": Attachment,
    "notifications": Notification,
    "receipts": Receipt,
    "returns": DeliveryReturn,
    "completions": Completion,
    "units": Unit,
    "recipient-groups": RecipientGroup,
}
# Generated ids below this are replaced by real ones; above it, they stay (not found, or too big).
REAL_ID_RANGE = 1_000


@pytest.fixture
def wsgi_connection_kept():
    """The app is called in-process, inside the test's transaction: like Django's test client, keep
    the request signals from closing the connection (and with it the test's data)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def credential(world, scenario, make_client, wsgi_connection_kept) -> dict:
    """A client of education holding every scope, with a limit it never reaches."""
    _client, key = make_client(world.education, *Scope.values, rate_limit_per_minute=10**6)
    return {"Authorization": f"Bearer {key}"}


def _real_ids(case) -> None:
    segments = case.operation.path.strip("/").split("/")
    for position, segment in enumerate(segments):
        if not (segment.startswith("{") and segment.endswith("}")) or position == 0:
            continue
        name, model = segment[1:-1], ROWS.get(segments[position - 1])
        value = (case.path_parameters or {}).get(name)
        if model is None or not isinstance(value, int) or not 0 <= value < REAL_ID_RANGE:
            continue
        ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
        if ids:
            case.path_parameters[name] = ids[value % len(ids)]


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    # One world per operation, shared by its examples: what one call changes, the next meets.
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture, hypothesis.HealthCheck.too_slow],
)
def test_the_api_answers_as_its_schema_says(case, credential):
    _real_ids(case)
    case.call_and_validate(headers=credential, checks=CHECKS)
