"""The chain page of a big tree (issue 18): above CHAIN_TREE_LIMIT deliveries it shows figures per
level and per branch from the dispatch figures, the slowest and longest waiting units, a branch's
deliveries by keyset, the stalled filter, and a streamed CSV of the stalled units."""

import csv
import datetime
import io
import json

import psycopg
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import delivery_of, forward, issue
from tests.web.conftest import sign_in
from workflow import services
from workflow.models import Delivery, Dispatch


@pytest.fixture
def big(world, settings):
    """department → education (signed, forwarded to both universities) and other (pending), with
    the limit below its four deliveries: the page of a big chain."""
    settings.CHAIN_TREE_LIMIT = 3
    root, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    # Education signs for it and forwards it five hours later: the slowest of the chain.
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=5)):
        cover, cover_dispatch = forward(
            world.jygw, delivery_of(root, world.education), main=[world.groups["各高校党委"]]
        )
        services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    return root, dispatch, cover, cover_dispatch


def _overdue(dispatch: Dispatch) -> None:
    """Move a dispatch's sign-for deadline (and its deliveries', which are copies) into the past."""
    past = timezone.now() - datetime.timedelta(hours=2)
    Dispatch.objects.filter(pk=dispatch.pk).update(deadline_sign_for=past)
    Delivery.objects.filter(dispatch=dispatch).update(deadline_sign_for=past)


def _levels(response) -> list[tuple]:
    return [
        (level.depth, level.branches, level.total, level.signed, level.pending, level.overdue)
        for level in response.context["page"].levels
    ]


def test_a_chain_above_the_limit_shows_figures_per_level_from_the_dispatch_figures(client, world, big):
    root, dispatch, _cover, _cover_dispatch = big
    _overdue(dispatch)
    sign_in(client, world.auditor)

    response = client.get(reverse("chain", args=[root.pk]))

    assert response.status_code == 200
    assert response.templates[0].name == "web/chain_big.html"
    # (level, branches, received, signed, pending, overdue): other's is pending past its deadline.
    assert _levels(response) == [(1, 1, 2, 1, 1, 1), (2, 1, 2, 1, 1, 0)]
    page = response.context["page"]
    assert [row.delivery.unit_id for row in page.slowest] == [world.education.pk, world.university.pk]
    assert datetime.timedelta(hours=5) <= page.slowest[0].waited < datetime.timedelta(hours=5, minutes=1)
    assert [(row.delivery.unit_id, row.is_overdue) for row in page.waiting] == [
        (world.other.pk, True),
        (world.university_b.pk, False),
    ]
    assert "各级签收情况" in response.content.decode()


def test_a_chain_within_the_limit_keeps_its_tree_page(client, world, big, settings):
    settings.CHAIN_TREE_LIMIT = 4
    sign_in(client, world.auditor)
    response = client.get(reverse("chain", args=[big[0].pk]))
    assert response.templates[0].name == "web/chain.html"


def test_a_level_lists_its_branches_by_keyset_and_the_stalled_ones_alone(client, world, big, monkeypatch):
    root, _dispatch, _cover, cover_dispatch = big
    _second, second_dispatch = forward(world.other_clerk, delivery_of(root, world.other), main=[world.college])
    monkeypatch.setattr("web.selectors.BRANCHES_SHOWN", 1)
    sign_in(client, world.auditor)

    first_page = client.get(reverse("chain", args=[root.pk]) + "?level=2")
    after = first_page.context["page"].next_after
    second_page = client.get(reverse("chain", args=[root.pk]) + f"?level=2&after={after}")

    assert [b.dispatch.pk for b in first_page.context["page"].branches] == [cover_dispatch.pk]
    assert after == cover_dispatch.pk
    assert [b.dispatch.pk for b in second_page.context["page"].branches] == [second_dispatch.pk]
    assert second_page.context["page"].next_after is None
    figures = first_page.context["page"].branches[0].figures
    assert (figures.total, figures.signed, figures.pending, figures.overdue) == (2, 1, 1, 0)

    _overdue(second_dispatch)
    stalled = client.get(reverse("chain", args=[root.pk]) + "?level=2&stalled=1")
    assert [b.dispatch.pk for b in stalled.context["page"].branches] == [second_dispatch.pk]


def test_a_branch_pages_its_deliveries_by_unit_and_links_the_branches_below(client, world, big, monkeypatch):
    root, dispatch, _cover, cover_dispatch = big
    monkeypatch.setattr("web.selectors.BRANCH_DELIVERIES_SHOWN", 1)
    sign_in(client, world.auditor)
    url = reverse("chain-branch", args=[root.pk, dispatch.pk])

    first = client.get(url).context["page"]
    second = client.get(url + f"?after={first.next_after}").context["page"]

    units = sorted([world.education.pk, world.other.pk])
    assert [row.delivery.unit_id for row in first.deliveries] == units[:1]
    assert [row.delivery.unit_id for row in second.deliveries] == units[1:]
    assert second.next_after is None
    education = next(
        row for row in [*first.deliveries, *second.deliveries] if row.delivery.unit_id == world.education.pk
    )
    assert [below.pk for below in education.forwarded] == [cover_dispatch.pk]
    assert (first.level, first.branch.figures.total) == (1, 2)


def test_a_branch_shows_its_stalled_units_alone(client, world, big):
    root, dispatch, _cover, _cover_dispatch = big
    _overdue(dispatch)
    sign_in(client, world.auditor)
    page = client.get(reverse("chain-branch", args=[root.pk, dispatch.pk]) + "?stalled=1").context["page"]
    assert [(row.delivery.unit_id, row.is_overdue) for row in page.deliveries] == [(world.other.pk, True)]


def test_a_dispatch_of_another_chain_is_no_branch_of_this_one(client, world, big):
    root = big[0]
    _other_root, other_dispatch = issue(world.zzb, world.department, main=[world.education])
    sign_in(client, world.auditor)
    assert client.get(reverse("chain-branch", args=[root.pk, other_dispatch.pk])).status_code == 404
    # Nor is the chain above a forward a branch of the forward's own chain.
    assert client.get(reverse("chain-branch", args=[big[2].pk, big[1].pk])).status_code == 404


def test_a_moment_is_refused_on_a_big_chain(client, world, big):
    sign_in(client, world.auditor)
    response = client.get(reverse("chain", args=[big[0].pk]) + "?as_of=2022-10-13T12:00")
    assert response.status_code == 400
    assert "不能按时刻回放" in response.content.decode()


def test_the_stalled_csv_streams_from_a_server_side_cursor_a_chunk_at_a_time(client, world, big, monkeypatch):
    root, dispatch, _cover, cover_dispatch = big
    _overdue(dispatch)
    _overdue(cover_dispatch)
    monkeypatch.setattr("web.views.chains.STALLED_CSV_CHUNK", 1)
    fetched = []
    fetchmany = psycopg.ServerCursor.fetchmany

    def counted(self, size=0):
        rows = fetchmany(self, size)
        fetched.append((size, len(rows)))
        return rows

    monkeypatch.setattr(psycopg.ServerCursor, "fetchmany", counted)
    sign_in(client, world.auditor)

    response = client.get(reverse("chain-stalled-csv", args=[root.pk]))
    assert response.streaming
    chunks = iter(response.streaming_content)
    head, first = next(chunks), next(chunks)
    # Mid-stream: the cursor is open on the server and has handed over one row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone()[0] == 1
    assert fetched == [(1, 1)]
    rest = b"".join(chunks)

    assert fetched == [(1, 1), (1, 1), (1, 0)]
    rows = list(csv.reader(io.StringIO((head + first + rest).decode("utf-8-sig"))))
    assert rows[0][:4] == ["层级", "发文字号", "发文机关", "收文单位"]
    assert [(row[0], row[3], row[5]) for row in rows[1:]] == [
        ("1", world.other.name, "待签收"),
        ("2", world.university_b.name, "待签收"),
    ]


def _exports(client, document) -> tuple[dict, list[list[str]], list[bool]]:
    """The chain's JSON and CSV, read as a browser would, and whether each was streamed."""
    answers = [client.get(reverse(name, args=[document.pk])) for name in ("chain-json", "chain-csv")]
    assert [answer.status_code for answer in answers] == [200, 200]
    contents = [b"".join(answer.streaming_content) if answer.streaming else answer.content for answer in answers]
    rows = list(csv.reader(io.StringIO(contents[1].decode("utf-8-sig"))))
    return json.loads(contents[0]), rows, [answer.streaming for answer in answers]


def test_a_big_chains_exports_stream_the_same_json_and_csv_as_a_small_ones(client, world, big, settings):
    root, _dispatch, cover, _cover_dispatch = big
    # A forward from the university too: three levels, a delivery with forwards below a forward.
    forward(world.imu, delivery_of(cover, world.university), main=[world.college], signer=world.imu_signer)
    sign_in(client, world.auditor)

    settings.CHAIN_TREE_LIMIT = 10**6
    whole_json, whole_csv, whole_streamed = _exports(client, root)
    settings.CHAIN_TREE_LIMIT = 3
    streamed_json, streamed_csv, streamed = _exports(client, root)

    assert (whole_streamed, streamed) == ([False, False], [True, True])
    assert streamed_json == whole_json
    assert streamed_csv == whole_csv
    # Every level is there: the root's two, the cover's two, the university's forward's one.
    assert [row[0] for row in streamed_csv[1:]] == ["1", "1", "2", "2", "3"]
    university = next(d for d in streamed_json["deliveries"][0]["forwards"][0]["deliveries"] if d["forwards"])
    assert university["unit"] == world.university.name


def test_a_big_chain_refuses_an_export_as_of_a_moment_and_names_why(client, world, big):
    root = big[0]
    sign_in(client, world.auditor)
    moment = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    answers = [client.get(reverse(name, args=[root.pk]), {"as_of": moment}) for name in ("chain-json", "chain-csv")]
    assert [answer.status_code for answer in answers] == [400, 400]
    message = "本链送达超过 3 条，不能按时刻回放；可导出现在的情况。"
    assert answers[0].json() == {"error": message}
    assert answers[1].content.decode() == message


def test_a_big_chains_streamed_exports_read_a_cursor_per_document_not_per_delivery(client, world, settings):
    settings.CHAIN_TREE_LIMIT = 0
    sign_in(client, world.auditor)

    def queries(document) -> list[int]:
        counts = []
        for name in ("chain-json", "chain-csv"):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(reverse(name, args=[document.pk]))
                b"".join(response.streaming_content)
            counts.append(len(captured))
        return counts

    # Two chains of two documents each (the notice and one forward), of 1 + 2 and of 2 + 2 units.
    small, _dispatch = issue(world.zzb, world.department, main=[world.education])
    forward(world.jygw, delivery_of(small, world.education), main=[world.groups["各高校党委"]])
    large, _dispatch = issue(world.zzb, world.department, main=[world.groups["各直属党委"]])
    forward(world.jygw, delivery_of(large, world.education), main=[world.groups["各高校党委"]])
    assert Delivery.objects.filter(document=large).count() > Delivery.objects.filter(document=small).count()
    queries(small)  # the first request of a session caches what later ones do not read again

    # Session and user (2), the door and the figures per level (2), the skeleton (4: its position,
    # forwards, enclosures, documents), a cursor per document (2) = 10, whatever the deliveries.
    assert queries(small) == queries(large) == [10, 10]
