"""Read replicas (config/routers.py): the read-only pages read from "replica"; no write ever goes
there, nor any read that must see a write; without REPLICA_DATABASE_URL everything is as before.

The replica here is a test mirror of the default test database, as settings make it with
REPLICA_DATABASE_URL set: a "replica" alias whose wrapper runs its queries on the test's own
connection (so it sees the test's rows, as a caught-up standby would), each alias logging the
queries it served.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.db import connections, router, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.routers import REPLICA, reading_from_replica
from tests.factories import delivery_of, issue
from tests.web.conftest import sign_in
from workflow import services
from workflow.models import Delivery, Receipt

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def replica(db, settings):
    """A "replica" alias mirroring "default" (the test's connection, its own query log) and the router."""
    default = connections["default"]
    default.ensure_connection()
    connections.settings[REPLICA] = {**default.settings_dict, "TEST": {"MIRROR": "default"}}
    settings.DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
    mirror = connections[REPLICA]
    mirror.connection = default.connection  # the same session: it sees the test's uncommitted rows
    try:
        yield mirror
    finally:
        mirror.connection = None  # the default's to close, not the mirror's
        del connections[REPLICA]
        del connections.settings[REPLICA]


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) or "FOR UPDATE" in query["sql"]
    ]


def _served(url: str, client) -> tuple[CaptureQueriesContext, CaptureQueriesContext, int]:
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as mirror,
    ):
        status = client.get(url).status_code
    return primary, mirror, status


def test_without_replica_url_there_is_one_alias_and_no_router(settings):
    assert list(settings.DATABASES) == ["default"]
    assert settings.DATABASE_ROUTERS == []
    with reading_from_replica():
        assert router.db_for_read(Delivery) == "default"
        assert router.db_for_write(Delivery) == "default"


def test_without_replica_url_a_read_only_page_runs_every_query_on_default(client, world):
    issue(world.zzb, world.department, main=[world.education])
    sign_in(client, world.jygw)
    client.get(reverse("inbox"))  # the first request of a session does more; measure the steady state
    with CaptureQueriesContext(connections["default"]) as primary:
        response = client.get(reverse("inbox"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 1
    assert len(primary) == 9  # the inbox's count (tests/web/test_query_counts.py), all of it here


def test_the_inbox_reads_its_lists_from_the_replica_and_the_session_from_the_primary(client, world, replica):
    issue(world.zzb, world.department, main=[world.education])
    sign_in(client, world.jygw)
    client.get(reverse("inbox"))
    primary, mirror, status = _served(reverse("inbox"), client)
    assert status == 200
    # The session and the person (middleware, before the view) on the primary; the page's 7 on the replica.
    assert [query["sql"].split(" FROM ")[1].split()[0] for query in primary.captured_queries] == [
        '"django_session"',
        '"auth_user"',
    ]
    assert len(mirror) == 7
    assert _writes(mirror) == []
    assert any('"workflow_delivery"' in query["sql"] for query in mirror.captured_queries)
    # The page planned its statements for their parameters and gave the connection back as it was,
    # though both aliases share it here (config.routers.planned_for_their_parameters).
    assert connections["default"].connection.prepare_threshold == 5


@pytest.mark.parametrize("page", ["outbox", "chains", "notifications", "search"])
def test_every_read_only_list_writes_nothing_to_the_replica(client, world, replica, page):
    issue(world.zzb, world.department, main=[world.education])
    people = {"outbox": world.zzb, "chains": world.auditor, "notifications": world.jygw, "search": world.jygw}
    sign_in(client, people[page])
    url = reverse(page) + ("?q=通知" if page == "search" else "")
    client.get(url)
    primary, mirror, status = _served(url, client)
    assert status == 200
    assert len(mirror) > 0
    assert _writes(mirror) == []
    assert _writes(primary) == []


def test_a_write_inside_a_read_only_view_goes_to_the_primary_and_so_do_the_reads_after_it(world, replica):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    unread = Delivery.objects.filter(unit=world.education, read_at__isnull=True)
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as mirror,
        reading_from_replica(),
    ):
        before = unread.count()
        Delivery.objects.filter(pk=delivery.pk).update(read_at=timezone.now())  # a write the view did
        after = unread.count()
    assert (before, after) == (1, 0)
    assert [query["sql"].split()[0] for query in mirror.captured_queries] == ["SELECT"]  # the count before
    assert [query["sql"].split()[0] for query in primary.captured_queries] == ["UPDATE", "SELECT"]


def test_a_sign_for_in_a_read_only_scope_never_touches_the_replica(world, replica):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    with CaptureQueriesContext(connections[REPLICA]) as mirror, reading_from_replica():
        receipt = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    assert len(mirror) == 0  # its first read locks its rows: a transaction on the primary
    assert Receipt.objects.filter(pk=receipt.pk, delivery=delivery).count() == 1


def test_reads_inside_a_transaction_and_sessions_stay_on_the_primary(replica):
    with reading_from_replica():
        assert router.db_for_read(Delivery) == REPLICA
        assert router.db_for_read(Session) == "default"
        with transaction.atomic():
            assert router.db_for_read(Delivery) == "default"
        assert router.db_for_write(Delivery) == "default"
        assert router.db_for_read(Delivery) == "default"  # after a write, for the rest of the view
    assert router.db_for_read(Delivery) == "default"  # outside a read-only view


def test_pages_that_write_never_use_the_replica(client, world, replica):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    sign_in(client, world.jygw)
    with CaptureQueriesContext(connections[REPLICA]) as mirror:
        client.get(reverse("delivery", args=[delivery.pk]))
        response = client.post(reverse("delivery-sign", args=[delivery.pk]))
    assert response.status_code == 302
    assert len(mirror) == 0
    assert Delivery.objects.get(pk=delivery.pk).state == Delivery.State.SIGNED


def test_replica_url_adds_the_alias_as_a_test_mirror_and_the_router():
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([sorted(settings.DATABASES), settings.DATABASES['replica']['NAME'], "
        "settings.DATABASES['replica']['TEST']['MIRROR'], settings.DATABASE_ROUTERS, "
        "settings.DATABASES['replica']['OPTIONS']['options']]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "test-only",
        "DATABASE_URL": "postgres://gongwen@primary.example:5432/gongwen",
        "REPLICA_DATABASE_URL": "postgres://gongwen@standby.example:5432/gongwen",
    }
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output.strip().splitlines()[-1]) == [
        ["default", "replica"],
        "gongwen",
        "default",
        ["config.routers.ReplicaRouter"],
        "-c jit=off",
    ]
