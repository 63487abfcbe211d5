"""/api/v1/search: the search page's selector, for a bearer credential."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import issue


def test_search_answers_hits_with_escaped_highlights_and_a_cursor(world, api):
    first, _ = issue(world.zzb, world.department, main=[world.education], title="关于<b>防汛</b>工作的通知")
    second, _ = issue(world.zzb, world.department, main=[world.education], title="关于防汛值班的通知", urgency="特急")
    body = api.get("/api/v1/search", world.jygw, q="防汛", page_size=1).json()
    assert body["query"] == "防汛"
    [hit] = body["results"]
    assert hit["document"]["id"] == second.pk
    assert hit["document"]["number"] == second.number
    assert hit["state"] == "issued"
    assert hit["heading_matched"] is True
    assert hit["title_html"] == "关于<mark>防汛</mark>值班的通知"
    after = api.get("/api/v1/search", world.jygw, q="防汛", page_size=1, cursor=body["next_cursor"]).json()
    assert [h["document"]["id"] for h in after["results"]] == [first.pk]
    assert after["results"][0]["title_html"] == "关于&lt;b&gt;<mark>防汛</mark>&lt;/b&gt;工作的通知"
    assert after["next_cursor"] is None
    assert [
        h["document"]["id"] for h in api.get("/api/v1/search", world.jygw, q="防汛", urgency="特急").json()["results"]
    ] == [second.pk]


def test_search_shows_nothing_of_other_units(world, api):
    issue(world.zzb, world.department, main=[world.education], title="关于防汛工作的通知")
    for who in ("other_clerk", "imu", "other_auditor"):
        assert api.get("/api/v1/search", getattr(world, who), q="防汛").json()["results"] == [], who
    assert api.get("/api/v1/search", q="防汛").status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": "防汛", "state": "lost"}, "state"),
        ({"q": "防汛", "kind": "信"}, "kind"),
        ({"q": "防汛", "date_from": "2022-13-45"}, "date_from"),
        ({"q": "防汛", "date_from": "2022-10-14", "date_to": "2022-10-13"}, "date_to"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_a_bad_search_is_a_validation_problem_naming_it(world, api, params, field):
    response = api.get("/api/v1/search", world.jygw, **params)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_search_queries_do_not_grow(world, api):
    issue(world.zzb, world.department, main=[world.education], title="关于防汛抗旱工作的通知")
    with CaptureQueriesContext(connection) as small:
        assert api.get("/api/v1/search", world.jygw, q="防汛抗旱 通知").status_code == 200
    for n in range(12):
        issue(world.zzb, world.department, main=[world.education], title=f"关于第{n}次防汛抗旱的通知")
    with CaptureQueriesContext(connection) as large:
        assert api.get("/api/v1/search", world.jygw, q="防汛抗旱 通知", page_size=50).status_code == 200
    # The token's person, then the selector's three.
    assert len(small) == len(large) == 4
