"""The write endpoints and the parent unit's auditor: it may see what was issued below it, and acts on
nothing (403, nothing written). Every other caller of every route is tried by the IDOR matrix
(tests/api/test_permissions.py)."""

import json
from dataclasses import dataclass

import pytest

from api.models import Scope
from tests.api.conftest import bearer
from tests.factories import content, delivery_of, issue
from units.models import Role
from workflow import services

pytestmark = pytest.mark.django_db

# Every role that acts for a unit; the parent unit's auditor is tried on its own (it may see).
ACTING_ROLES = (Role.CLERK, Role.SIGNER, Role.DRAFTER)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {draft}, {signed_off}, {delivery}, {dispatch}
    scope: Scope
    owner: str  # the unit whose people may call it: "education" (recipient, drafter) or "department"
    body: dict | None = None


ROUTES = [
    Route("post", "/api/v1/documents", Scope.DRAFT, "education", {"kind": "通知", "title": "t", "body": "b"}),
    Route("get", "/api/v1/documents/{draft}", Scope.DRAFT, "education"),
    Route("put", "/api/v1/documents/{draft}", Scope.DRAFT, "education", {"kind": "通知", "title": "t", "body": "b"}),
    Route("post", "/api/v1/documents/{draft}/attachments", Scope.DRAFT, "education"),
    Route("post", "/api/v1/documents/{draft}/sign-off", Scope.SIGN_OFF, "education"),
    Route("post", "/api/v1/documents/{signed_off}/issue", Scope.ISSUE, "education"),
    Route("post", "/api/v1/deliveries/{delivery}/return", Scope.HANDLE, "education", {"reason": "not_competent"}),
    Route("post", "/api/v1/deliveries/{delivery}/forward", Scope.HANDLE, "education", {"main_units": []}),
    Route("post", "/api/v1/deliveries/{delivery}/complete", Scope.HANDLE, "education", {"feedback": "x"}),
    Route("post", "/api/v1/deliveries/{delivery}/remind", Scope.HANDLE, "department"),
    Route("post", "/api/v1/deliveries/{delivery}/recall", Scope.ISSUE, "department"),
    Route("post", "/api/v1/dispatches/{dispatch}/recall", Scope.ISSUE, "department"),
]


@pytest.fixture
def objects(world):
    document, dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    draft = services.document_draft(
        actor=world.jygw,
        unit=world.education,
        content=content(),
        main_recipients=[world.university],
    )
    signed_off = services.document_draft(
        actor=world.jygw,
        unit=world.education,
        content=content(title="另一份"),
        main_recipients=[world.university],
    )
    services.document_sign_off(actor=world.jygw_leader, document=signed_off)
    return {"draft": draft.pk, "signed_off": signed_off.pk, "delivery": delivery.pk, "dispatch": dispatch.pk}


def _call(client, route: Route, path: str, who):
    headers = bearer(who) if who is not None else {}
    body = json.dumps(route.body if route.body is not None else {})
    if route.method == "get":
        return client.get(path, headers=headers)
    return getattr(client, route.method)(path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_the_parent_units_auditor_sees_what_was_issued_but_acts_on_nothing(
    world, client, objects, nothing_written, route
):
    # A draft is its unit's alone (404); an issued document's deliveries and dispatch are in the
    # region's audit scope (403: visible, not to be acted on).
    issued = "{delivery}" in route.path or "{dispatch}" in route.path
    body = {**(route.body or {}), "unit": world.education.pk} if route.path == "/api/v1/documents" else route.body
    route = Route(route.method, route.path, route.scope, route.owner, body)
    with nothing_written():
        response = _call(client, route, route.path.format(**objects), world.auditor)
    assert response.status_code == (403 if issued else 404)
