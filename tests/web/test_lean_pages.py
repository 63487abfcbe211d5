"""The long lists page as before after issue 18: 收文, 发文 and the notifications read their page's ids
first, then its rows (web.pagination.lean_page), the chains list is not counted (第 N 页, 上一页, 下一页).
The same rows, in the same order, page after page."""

from django.db import connection
from django.urls import reverse

from tests.factories import issue
from tests.web.conftest import sign_in
from web.views import chains, inbox, outbox
from workflow.models import Delivery


def _titles(response, name: str = "page") -> list[str]:
    page = response.context[name]
    return [row.document.title if hasattr(row, "document") else row.title for row in page.object_list]


def test_the_inbox_pages_newest_first_with_the_tab_count_as_its_count(client, world):
    documents = [
        issue(world.zzb, world.department, main=[world.education], title=f"关于第{n}号事项的通知")[0] for n in range(3)
    ]
    sign_in(client, world.jygw)
    inbox.INBOX_PAGE_SIZE, size = 2, inbox.INBOX_PAGE_SIZE
    try:
        first = client.get(reverse("inbox"), {"tab": "all"})
        second = client.get(reverse("inbox"), {"tab": "all", "page": 2})
    finally:
        inbox.INBOX_PAGE_SIZE = size
    assert _titles(first) == [documents[2].title, documents[1].title]
    assert _titles(second) == [documents[0].title]
    assert first.context["page"].paginator.count == 3
    assert first.context["page"].paginator.num_pages == 2
    assert first.context["counts"]["all"] == 3


def test_the_outbox_pages_its_dispatches_with_their_figures(client, world):
    documents = [
        issue(world.zzb, world.department, main=[world.education], title=f"关于第{n}号事项的通知")[0] for n in range(3)
    ]
    sign_in(client, world.zzb)
    outbox.OUTBOX_PAGE_SIZE, size = 2, outbox.OUTBOX_PAGE_SIZE
    try:
        first = client.get(reverse("outbox"))
        second = client.get(reverse("outbox"), {"page": 2})
        beyond = client.get(reverse("outbox"), {"page": 9})
    finally:
        outbox.OUTBOX_PAGE_SIZE = size
    assert [row.dispatch.document.title for row in first.context["rows"]] == [documents[2].title, documents[1].title]
    assert [row.dispatch.document.title for row in second.context["rows"]] == [documents[0].title]
    assert [(row.dispatch.delivered, row.dispatch.signed, row.dispatch.pending) for row in first.context["rows"]] == [
        (1, 0, 1),
        (1, 0, 1),
    ]
    # Not counted (issue 18: a unit's 10^5 dispatches): 第 N 页 with 上一页 / 下一页.
    assert (first.context["page"].has_previous(), first.context["page"].has_next()) == (False, True)
    assert (second.context["page"].has_previous(), second.context["page"].has_next()) == (True, False)
    assert "第 2 页" in second.content.decode()
    assert 'rel="next"' in first.content.decode()
    assert 'rel="next"' not in second.content.decode()
    assert beyond.context["rows"] == []


def test_the_chains_list_is_not_counted_and_pages_by_next_and_previous(client, world):
    documents = [
        issue(world.zzb, world.department, main=[world.education], title=f"关于第{n}号事项的通知")[0] for n in range(3)
    ]
    sign_in(client, world.auditor)
    chains.CHAINS_PAGE_SIZE, size = 2, chains.CHAINS_PAGE_SIZE
    try:
        first = client.get(reverse("chains"))
        second = client.get(reverse("chains"), {"page": 2})
        beyond = client.get(reverse("chains"), {"page": 9})
        garbage = client.get(reverse("chains"), {"page": "x"})
    finally:
        chains.CHAINS_PAGE_SIZE = size
    assert _titles(first) == [documents[2].title, documents[1].title]
    assert (first.context["page"].has_previous(), first.context["page"].has_next()) == (False, True)
    assert _titles(second) == [documents[0].title]
    assert (second.context["page"].has_previous(), second.context["page"].has_next()) == (True, False)
    assert [(d.delivered, d.signed) for d in first.context["page"].object_list] == [(1, 0), (1, 0)]
    assert "第 2 页" in second.content.decode()
    assert 'rel="prev"' in second.content.decode()
    assert 'rel="next"' not in second.content.decode()
    assert _titles(beyond) == []
    assert _titles(garbage) == _titles(first)


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_a_read_only_page_prepares_none_of_its_statements_and_the_rest_still_do(client, world):
    # After five runs PostgreSQL may keep a prepared statement's generic plan, which for a list page
    # at 10^5 rows is twice as slow as one planned for its unit and moment (config.routers,
    # planned_for_their_parameters). The same reads outside such a page are still prepared.
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == 5
    issue(world.zzb, world.department, main=[world.education])
    sign_in(client, world.jygw)
    before = _prepared_statements()
    for _ in range(8):
        assert client.get(reverse("inbox"), {"tab": "pending"}).status_code == 200
    assert {s for s in _prepared_statements() - before if "workflow_delivery" in s} == set()
    assert connection.connection.prepare_threshold == 5  # the page gives it back
    for _ in range(8):
        list(Delivery.objects.filter(unit=world.education, state="pending").values_list("id"))
    assert len({s for s in _prepared_statements() - before if "workflow_delivery" in s}) == 1
