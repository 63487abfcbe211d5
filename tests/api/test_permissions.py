"""The API's IDOR matrix: every route under /api/v1/ and every method it takes, called by everyone
who must not reach what it names, and by the one who may.

Every (route, method) the URL resolver lists is a row of MATRIX, or public (PUBLIC), or a test fails:
an endpoint cannot go live without saying who may call it. Each row names the unit whose object it
touches (the rightful caller's) and the status each caller gets, in the order of CALLERS:

- anonymous: no credential;
- a person of another unit, of the parent unit and of a child unit, each holding every operational
  role (clerk, signer, drafter) there, so that only the doors stand between them and the object;
- a client of another unit holding every scope;
- a client of the right unit holding every scope but the one the route needs;
- a revoked client of the right unit that held every scope;
- the rightful caller: a client of the right unit holding just the scope the route needs (or the
  row's `rightful_person`).

The rightful caller goes last (a write changes the state the others are tried against). Every other
call, reads included, writes nothing and enqueues nothing (`nothing_written`); a list that answers
2xx to an outsider holds nothing of the rightful caller's (`hidden`).

Adding a route: add its row, e.g.

    ("api:delivery-return", "POST"): Row(
        lambda s: reverse("api:delivery-return", args=[s["pending"].pk]),
        body=lambda s: {"reason": "not_competent"},
        expect=(401, 404, 404, 404, 404, 403, 401, 201),
    ),

The objects of `scenario` (tests/api/conftest.py) are education's mail in every state.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from api.models import Scope
from api.permissions import required_scopes
from api.services import api_client_revoke
from tests.api.conftest import bearer
from tests.factories import person, unit
from units.models import Role, Unit

pytestmark = pytest.mark.django_db

CALLERS = (
    "anonymous",
    "other_unit",
    "parent_unit",
    "child_unit",
    "other_unit_client",
    "client_without_scope",
    "revoked_client",
    "rightful",
)


@dataclass(frozen=True)
class Row:
    path: Callable[[dict], str]  # from the scenario's objects
    expect: tuple[int, ...]  # the status of each caller, in the order of CALLERS
    unit: str = "education"  # the World's unit whose object the route touches
    body: Callable[[dict], dict] | None = None  # a POST's JSON body
    multipart: bool = False  # the body sent as multipart/form-data (files), not JSON
    # A list: text the rightful caller's answer holds and no outsider's answer may.
    hidden: Callable[[dict], str] | None = None
    # The rightful caller is a person of the World instead of a client (what is theirs alone: their
    # notifications, made before any client existed).
    rightful_person: str | None = None


MATRIX: dict[tuple[str, str], Row] = {
    # The directory is open to anyone signed in: outsiders read it too, and nothing is hidden.
    ("api:units", "GET"): Row(
        lambda s: reverse("api:units"),
        expect=(401, 200, 200, 200, 200, 403, 401, 200),
    ),
    # A unit's own recipient groups: outsiders get theirs, never education's.
    ("api:recipient-groups", "GET"): Row(
        lambda s: reverse("api:recipient-groups"),
        hidden=lambda s: "各高等学校党委",
        expect=(401, 200, 200, 200, 200, 403, 401, 200),
    ),
    ("api:inbox", "GET"): Row(
        lambda s: reverse("api:inbox"),
        hidden=lambda s: s["pending"].document.title,
        expect=(401, 200, 200, 200, 200, 403, 401, 200),
    ),
    ("api:delivery", "GET"): Row(
        lambda s: reverse("api:delivery", args=[s["pending"].pk]),
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    ("api:delivery-sign-for", "POST"): Row(
        lambda s: reverse("api:delivery-sign-for", args=[s["pending"].pk]),
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    # The telegram's file: the child unit (the university) received the forward that encloses the
    # telegram, so it may read the telegram and its files (DESIGN, invariant 6).
    ("api:attachment-content", "GET"): Row(
        lambda s: reverse("api:attachment-content", args=[s["attachment"].pk]),
        expect=(401, 404, 404, 200, 404, 403, 401, 200),
    ),
    # A file of education's 办结 feedback: for education, the issuer and their auditors.
    ("api:completion-attachment-content", "GET"): Row(
        lambda s: reverse("api:completion-attachment-content", args=[s["completion_file"].pk]),
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    ("api:outbox", "GET"): Row(
        lambda s: reverse("api:outbox"),
        hidden=lambda s: s["cover"].number,
        expect=(401, 200, 200, 200, 200, 403, 401, 200),
    ),
    # Education's dispatch of its forward: its recipients (the child unit) see their deliveries, not it.
    ("api:dispatch", "GET"): Row(
        lambda s: reverse("api:dispatch", args=[s["cover_dispatch"].pk]),
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    ("api:dispatch-deliveries", "GET"): Row(
        lambda s: reverse("api:dispatch-deliveries", args=[s["cover_dispatch"].pk]),
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    # A chain opens for its issuing unit's people and its auditors: education's forward, not the
    # department's telegram, and not for the universities it reached.
    ("api:document-chain", "GET"): Row(
        lambda s: reverse("api:document-chain", args=[s["cover"].pk]),
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    ("api:notifications", "GET"): Row(
        lambda s: reverse("api:notifications"),
        hidden=lambda s: s["pending"].document.title,
        rightful_person="jygw",
        expect=(401, 200, 200, 200, 200, 403, 401, 200),
    ),
    # Marks the caller's own notifications read: an outsider has none of education's to mark.
    ("api:notifications-read", "POST"): Row(
        lambda s: reverse("api:notifications-read"),
        body=lambda s: {"delivery_id": s["pending"].pk},
        rightful_person="jygw",
        expect=(401, 200, 200, 200, 200, 403, 401, 200),
    ),
    # --- the write endpoints: education's drafts, and what is done with its deliveries ---
    ("api:documents", "POST"): Row(
        lambda s: reverse("api:documents"),
        body=lambda s: {"unit": s["draft"].issuing_unit_id, "kind": "通知", "title": "关于试行的通知", "body": "正文"},
        expect=(401, 404, 404, 404, 404, 403, 401, 201),
    ),
    ("api:document", "GET"): Row(
        lambda s: reverse("api:document", args=[s["draft"].pk]),
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    ("api:document", "PUT"): Row(
        lambda s: reverse("api:document", args=[s["draft"].pk]),
        body=lambda s: {"kind": "通知", "title": "关于开展自查的通知（修改）", "body": "正文"},
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    ("api:document-attachments", "POST"): Row(
        lambda s: reverse("api:document-attachments", args=[s["draft"].pk]),
        body=lambda s: {"files": [SimpleUploadedFile("名单.txt", "名单\n".encode(), content_type="text/plain")]},
        multipart=True,
        expect=(401, 404, 404, 404, 404, 403, 401, 201),
    ),
    ("api:document-sign-off", "POST"): Row(
        lambda s: reverse("api:document-sign-off", args=[s["draft"].pk]),
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    ("api:document-issue", "POST"): Row(
        lambda s: reverse("api:document-issue", args=[s["signed_off"].pk]),
        expect=(401, 404, 404, 404, 404, 403, 401, 201),
    ),
    ("api:delivery-return", "POST"): Row(
        lambda s: reverse("api:delivery-return", args=[s["pending"].pk]),
        body=lambda s: {"reason": "not_competent"},
        expect=(401, 404, 404, 404, 404, 403, 401, 201),
    ),
    ("api:delivery-forward", "POST"): Row(
        lambda s: reverse("api:delivery-forward", args=[s["signed"].pk]),
        body=lambda s: {"main_groups": [s["cover"].recipients.get().group_id]},
        expect=(401, 404, 404, 404, 404, 403, 401, 201),
    ),
    ("api:delivery-complete", "POST"): Row(
        lambda s: reverse("api:delivery-complete", args=[s["signed"].pk]),
        body=lambda s: {"feedback": "已落实。"},
        expect=(401, 404, 404, 404, 404, 403, 401, 201),
    ),
    # 催办 and 撤回 are the issuer's: the department's, of its delivery to education. The parent
    # unit (the region) and a child unit of the department are refused like anyone else.
    ("api:delivery-remind", "POST"): Row(
        lambda s: reverse("api:delivery-remind", args=[s["pending"].pk]),
        unit="department",
        expect=(401, 404, 404, 404, 404, 403, 401, 200),
    ),
    ("api:delivery-recall", "POST"): Row(
        lambda s: reverse("api:delivery-recall", args=[s["pending"].pk]),
        body=lambda s: {"reason": "发错了"},
        unit="department",
        expect=(401, 404, 404, 404, 404, 403, 401, 201),
    ),
    # 全文检索: education's own draft is found by education alone; outsiders get their own results.
    ("api:search", "GET"): Row(
        lambda s: reverse("api:search") + "?q=自查",
        hidden=lambda s: s["draft"].title,
        expect=(401, 200, 200, 200, 200, 403, 401, 200),
    ),
    ("api:dispatch-recall", "POST"): Row(
        lambda s: reverse("api:dispatch-recall", args=[s["pending"].dispatch_id]),
        body=lambda s: {"reason": "发错了"},
        unit="department",
        expect=(401, 404, 404, 404, 404, 403, 401, 201),
    ),
}

# Routes open to anyone, that show no data: the schema, its docs, the problem types, and the 404
# problem of a path that names no route (test_the_public_routes_are_public).
PUBLIC = {"api:schema", "api:docs", "api:problem-types", "api:problem-type", "api:not-found"}

# The problem each refusal is, by status; a client lacking the scope gets insufficient-scope.
PROBLEM = {401: "unauthenticated", 403: "forbidden", 404: "not-found", 409: "conflict", 410: "withdrawn"}


def _api_routes(patterns=None, namespace: str = ""):
    """(name, view) of every URL pattern in the api namespace."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_routes(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and namespace == "api":
            yield f"api:{pattern.name}", pattern.callback


def _methods(view) -> list[str]:
    """The methods a view answers (a function view: any)."""
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if view_class is None:
        return ["*"]
    names = [name for name in view_class.http_method_names if name not in ("options", "head")]
    return [name.upper() for name in names if hasattr(view_class, name)]


def _routes() -> dict[tuple[str, str], object]:
    return {(name, method): view for name, view in _api_routes() for method in _methods(view)}


def test_every_api_route_and_method_is_in_the_matrix():
    routes = _routes()
    assert {name for name, _method in routes} >= PUBLIC, "a public route of PUBLIC is gone"
    unsaid = {route for route in routes if route[0] not in PUBLIC} - set(MATRIX)
    assert unsaid == set(), "an API route nobody said who may call: add its row to MATRIX"
    assert set(MATRIX) <= set(routes), "a row of MATRIX names no route"


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: f"{route[1]} {route[0]}")
def test_each_row_says_what_every_caller_gets(route):
    row = MATRIX[route]
    assert len(row.expect) == len(CALLERS), route
    assert row.expect[0] == 401, "anonymous is always asked for a credential"
    assert row.expect[CALLERS.index("revoked_client")] == 401, "a revoked key is no credential"
    assert row.expect[CALLERS.index("client_without_scope")] == 403, "a missing scope is always a 403"
    assert 200 <= row.expect[-1] < 300, "the rightful caller is answered"


# --- the callers ----------------------------------------------------------------------------------


def _child_of(parent: Unit) -> Unit:
    return parent.children.filter(is_active=True).order_by("path").first() or unit("下属单位", parent)


def _callers(world, make_client, admin_user, route: tuple[str, str], row: Row) -> dict[str, object]:
    """Each caller's credential (None for anonymous): a person, or a client's key."""
    right = getattr(world, row.unit)
    other = world.other if right != world.other else world.education
    operational = (Role.CLERK, Role.SIGNER, Role.DRAFTER)
    scopes = required_scopes(_routes()[route].cls, route[1])  # any one of them will do
    everything = list(Scope.values)
    revoked, revoked_key = make_client(right, *everything, name="已吊销的系统")
    api_client_revoke(actor=admin_user, client=revoked)
    return {
        "anonymous": None,
        "other_unit": person(other, *operational),
        "parent_unit": person(right.parent, *operational),
        "child_unit": person(_child_of(right), *operational),
        "other_unit_client": make_client(other, *everything, name="他单位的系统")[1],
        "client_without_scope": make_client(
            right, *[value for value in everything if value not in scopes], name="缺少权限范围的系统"
        )[1],
        "revoked_client": revoked_key,
        "rightful": getattr(world, row.rightful_person)
        if row.rightful_person
        else make_client(right, *scopes[:1], name="本单位的系统")[1],
    }


def _call(client, method: str, path: str, who, body: dict | None, *, multipart: bool = False):
    headers = bearer(who) if who is not None else {}
    if method == "GET":
        return client.get(path, headers=headers)
    if multipart:
        for files in body.values():
            for file in files:
                file.seek(0)
        return client.post(path, body, headers=headers)
    data = json.dumps(body) if body is not None else b""
    return client.generic(method, path, data, content_type="application/json", headers=headers)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: f"{route[1]} {route[0]}")
def test_every_caller_gets_what_the_matrix_says_and_outsiders_write_nothing(
    client, world, scenario, make_client, admin_user, nothing_written, route
):
    row = MATRIX[route]
    callers = _callers(world, make_client, admin_user, route, row)
    path, body = row.path(scenario), row.body(scenario) if row.body else None
    hidden = row.hidden(scenario) if row.hidden else None
    for who, expected in zip(CALLERS[:-1], row.expect[:-1], strict=True):
        with nothing_written():
            response = _call(client, route[1], path, callers[who], body, multipart=row.multipart)
        assert response.status_code == expected, (who, response.status_code, response.content.decode()[:500])
        if response.status_code >= 400:
            problem = "insufficient-scope" if who == "client_without_scope" else PROBLEM[response.status_code]
            assert response["Content-Type"] == "application/problem+json", who
            assert response.json()["type"] == f"/api/v1/problems/{problem}", (who, response.json())
            if who == "client_without_scope":
                assert response.json()["required_scope"] in required_scopes(_routes()[route].cls, route[1])
        elif hidden is not None:
            assert hidden not in response.content.decode(), (who, "sees what is the rightful caller's")

    response = _call(client, route[1], path, callers["rightful"], body, multipart=row.multipart)
    assert response.status_code == row.expect[-1], response.content.decode()[:500]
    if hidden is not None:
        assert hidden in response.content.decode(), "the row's `hidden` text proves nothing"


# --- the public routes ----------------------------------------------------------------------------


def test_the_public_routes_are_public(client, world, nothing_written):
    with nothing_written():
        for path in ("/api/v1/schema/", "/api/v1/docs/", "/api/v1/problems", "/api/v1/problems/not-found"):
            assert client.get(path).status_code == 200, path
        missing = client.get("/api/v1/no-such-route")
    assert (missing.status_code, missing.json()["type"]) == (404, "/api/v1/problems/not-found")
