"""The API's conventions, end to end on the units directory: credentials, scopes, problems in two
languages, cursor pagination, and the routes that name nothing."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.problems import PROBLEM_TYPES
from api.services import api_client_revoke
from tests.api.conftest import bearer
from tests.factories import unit
from units.models import Unit
from workflow import services

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/units"


def _unit_json(unit: Unit) -> dict:
    return {
        "id": unit.pk,
        "name": unit.name,
        "short_name": unit.short_name,
        "mongolian_name": unit.mongolian_name,
        "kind": unit.kind,
        "parent": unit.parent_id,
    }


def _directory() -> list[dict]:
    return [_unit_json(unit) for unit in Unit.objects.filter(is_active=True).order_by("path")]


def test_a_person_reads_the_units_directory_in_directory_order(world, api):
    response = api.get(UNITS, world.imu)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"next": None, "previous": None, "results": _directory()}
    assert len(response.json()["results"]) == 7


def test_chinese_is_written_as_utf8_not_escaped(world, api):
    response = api.get(UNITS, world.imu)
    assert "自治区党委组织部".encode() in response.content


def test_a_client_with_the_read_scope_reads_it_too(world, api, make_client):
    _client, key = make_client(world.university, "read")
    response = api.get(UNITS, key)
    assert (response.status_code, response.json()["results"]) == (200, _directory())


def test_the_directory_is_walked_page_by_page_with_a_cursor(world, api):
    seen, url, pages = [], UNITS + "?page_size=3", 0
    while url:
        body = api.client.get(url, headers=bearer(world.imu)).json()
        seen += body["results"]
        url, pages = body["next"], pages + 1
    assert pages == 3
    assert seen == _directory()


def test_q_finds_units_by_every_word_of_their_names(world, api):
    assert api.get(UNITS, world.imu, q="党委 工业").json()["results"] == [_unit_json(world.university_b)]
    assert api.get(UNITS, world.imu, q="内蒙古大学").json()["results"] == [_unit_json(world.university)]


def test_a_deactivated_unit_is_not_in_the_directory(world, api):
    Unit.objects.filter(pk=world.other.pk).update(is_active=False)
    ids = [unit["id"] for unit in api.get(UNITS, world.imu).json()["results"]]
    assert world.other.pk not in ids
    assert len(ids) == 6


def test_a_forged_cursor_is_bad_input(world, api):
    for cursor in ["not-base64!", "bz0tMQ==", "cj14"]:  # garbage, offset -1, reverse "x"
        response = api.get(UNITS, world.imu, cursor=cursor)
        assert response.status_code == 400, cursor
        assert response["Content-Type"] == "application/problem+json"
        assert response.json() == {
            "type": "/api/v1/problems/validation",
            "title": "输入有误",
            "status": 400,
            "detail": "cursor：分页游标无效。",
            "instance": "/api/v1/units",
            "errors": [{"field": "cursor", "detail": "分页游标无效。"}],
        }


# --- who is calling -------------------------------------------------------------------------------


def test_no_credential_is_a_401_problem_naming_the_scheme(world, api):
    response = api.get(UNITS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="gongwen"'
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "/api/v1/problems/unauthenticated",
        "title": "需要身份认证",
        "status": 401,
        "detail": "需要有效的访问令牌或接口密钥（Authorization: Bearer …）。",
        "instance": "/api/v1/units",
    }


@pytest.mark.parametrize(
    "credential",
    [
        lambda key: "Bearer not-a-token",
        lambda key: "Bearer ",
        lambda key: f"Bearer {key[:-2]}xx",  # the client's key, altered
        lambda key: "Bearer gwk_000000000000_" + key.split("_", 2)[2],
        lambda key: f"Basic {key}",
    ],
    ids=["garbage", "empty", "altered-key", "other-key-id", "basic-scheme"],
)
def test_a_credential_that_is_not_valid_is_a_401(world, api, make_client, credential):
    _client, key = make_client(world.university, "read")
    response = api.client.get(UNITS, headers={"Authorization": credential(key)})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="gongwen"'
    assert response.json()["type"] == "/api/v1/problems/unauthenticated"


def test_a_revoked_clients_key_is_refused(world, api, make_client, admin_user):
    client, key = make_client(world.university, "read")
    assert api.get(UNITS, key).status_code == 200
    api_client_revoke(actor=admin_user, client=client)

    response = api.get(UNITS, key)
    assert response.status_code == 401
    assert response.json()["detail"] == "访问令牌或接口密钥无效、已过期或已吊销。"


def test_a_session_cookie_is_not_a_credential(world):
    browser = Client()
    browser.force_login(world.imu)
    assert browser.get(UNITS).status_code == 401


def test_a_client_without_the_scope_is_refused_with_the_scope_it_lacks(world, api, make_client):
    _client, key = make_client(world.university, "sign-for")
    response = api.get(UNITS, key)

    assert response.status_code == 403
    assert response.json() == {
        "type": "/api/v1/problems/insufficient-scope",
        "title": "权限范围不足",
        "status": 403,
        "detail": "接口客户端缺少权限范围“read”（查阅（收文、发文、流转链、通知））。",
        "instance": "/api/v1/units",
        "required_scope": "read",
    }


def test_a_method_a_route_does_not_take_is_a_405_problem(world, api):
    response = api.post(UNITS, world.imu, {})
    assert response.status_code == 405
    assert response.json()["type"] == "/api/v1/problems/method-not-allowed"
    assert response.json()["detail"] == "这个地址不接受 POST 请求。"


# --- the language of problems ---------------------------------------------------------------------


def test_problems_are_in_english_when_asked(world, api, make_client):
    _client, key = make_client(world.university, "sign-for")
    response = api.get(UNITS, key, headers={"Accept-Language": "en"})

    assert response.json() == {
        "type": "/api/v1/problems/insufficient-scope",
        "title": "Insufficient scope",
        "status": 403,
        "detail": "The API client lacks the scope “read” (Read (inbox, outbox, chains, notifications)).",
        "instance": "/api/v1/units",
        "required_scope": "read",
    }
    assert response["Content-Language"] == "en"


def test_a_language_the_api_does_not_speak_gets_chinese(world, api):
    response = api.get(UNITS, headers={"Accept-Language": "fr"})
    assert response.json()["title"] == "需要身份认证"
    assert response["Content-Language"] == "zh-hans"


def test_the_pages_still_ignore_the_browsers_language(world, client):
    client.force_login(world.imu)
    page = client.get("/", headers={"Accept-Language": "en"}, follow=True)
    assert "收文".encode() in page.content


# --- routes that name nothing ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/deliveries/-1/sign-for", "/api/v1/units/"])
def test_a_path_that_names_no_route_is_a_problem_404(world, api, path):
    response = api.get(path, world.imu)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "/api/v1/problems/not-found",
        "title": "未找到",
        "status": 404,
        "detail": "接口地址不存在。",
        "instance": path,
    }


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_to_a_path_that_names_no_route_is_a_problem_404_not_a_csrf_page(world, nothing_written, method):
    # Found by schemathesis: POST /api/v1/deliveries/null,null/sign-for met Django's CSRF check (an
    # HTML 403) before the catch-all. The API takes no session, so there is no CSRF to check.
    client = Client(enforce_csrf_checks=True)
    with nothing_written():
        response = getattr(client, method)("/api/v1/deliveries/null,null/sign-for", headers=bearer(world.imu))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/not-found"


def test_every_problem_type_is_described_at_its_uri(api):
    listed = api.get("/api/v1/problems").json()
    assert [problem["slug"] for problem in listed] == list(PROBLEM_TYPES)
    for problem in listed:
        assert api.get(problem["type"]).json() == problem
    assert api.get("/api/v1/problems/rate-limited").json() == {
        "type": "/api/v1/problems/rate-limited",
        "slug": "rate-limited",
        "status": 429,
        "title": "请求过于频繁",
        "description": "超过每分钟请求上限；Retry-After 给出可以重试前须等待的秒数。",
    }
    assert api.get("/api/v1/problems/no-such-problem").status_code == 404


# --- recipient groups -----------------------------------------------------------------------------


def test_recipient_groups_are_those_of_the_callers_units_with_their_members(world, api):
    response = api.get("/api/v1/recipient-groups", world.jygw)

    def unit(unit):
        return {"id": unit.pk, "name": unit.name, "short_name": unit.short_name}

    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": world.groups["各高校党委"].pk,
                "name": "各高等学校党委",
                "owner": unit(world.education),
                "members": [unit(world.university), unit(world.university_b)],
            }
        ],
    }
    assert api.get("/api/v1/recipient-groups", world.auditor).json()["results"] == []


def _count(api, path, who, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(path, who, **params).status_code == 200
    return len(queries)


def test_directory_queries_do_not_grow(world, api):
    small_units = _count(api, UNITS, world.jygw)
    small_groups = _count(api, "/api/v1/recipient-groups", world.jygw)
    schools = [unit(f"高校{number:02d}", world.education) for number in range(12)]
    for number in range(5):
        services.recipient_group_save(actor=None, owner=world.education, name=f"第{number}组", members=schools)
    # The person, then the page (and the groups' members: one query for the page).
    assert (small_units, _count(api, UNITS, world.jygw, page_size=100)) == (2, 2)
    assert (small_groups, _count(api, "/api/v1/recipient-groups", world.jygw)) == (3, 3)
