"""make bench-scale, section "chain": the chain page of a 10^6-delivery tree (issue 18).

Three trees, each a root dispatched to F units that each forward it to R units (F × R + F
deliveries): 10^4, 10^5 and 10^6 (10^2 … 10^4 with --quick). Built through the services where a
person acts, by COPY where routing would insert rows in bulk:

- the root is drafted, signed off, issued and routed by the services; each of its F deliveries is
  signed for, forwarded, signed off and issued by the services (the cover letters, their Forward and
  Enclosure rows, their dispatches with the resolved recipient set, the audit events);
- each cover dispatch's R deliveries are written by one binary COPY (the rows dispatch_route would
  insert, with their states: a share signed, some late, some pending past the deadline), and its
  figures are added by workflow.tally.tally_add, the statement the services use, with the counts of
  the rows copied; the dispatch is then marked routed and notified.

The build runs three days in the past (time_machine), so that half the cover dispatches, given a
one-day sign-for and two-day completion deadline, have overdue units now. Then, with the page of a
big chain forced (CHAIN_TREE_LIMIT=0), p95 of the chain page with a level's branches, of a branch
page, and the stalled CSV's peak memory (RSS growth) while streaming it whole, through Django's
test client.
"""

import datetime
import statistics
import threading
import time
from pathlib import Path

import psutil
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from documents.models import Document
from tests.bulk import bulk_units
from tests.factories import build_world, content, person
from units.models import NumberPrefix, Role, Unit
from workflow import services
from workflow.models import Delivery, Dispatch
from workflow.tally import tally_add

# (first level F, forwarded to R each): F + F × R deliveries.
FULL = [(100, 100), (100, 1_000), (1_000, 1_000)]
QUICK = [(10, 10), (10, 100), (100, 100)]
REQUESTS = 40
SIGNED_SHARE = 0.6  # of a cover dispatch's deliveries, signed for


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _prepare_forwarders(world, unit_ids: list[int]) -> None:
    """What a forwarding unit needs (a number prefix, its clerk may sign off): directory work, once."""
    for unit in Unit.objects.filter(pk__in=unit_ids).select_related("group"):
        clerk = unit.group.user_set.first()
        NumberPrefix.objects.get_or_create(unit=unit, is_default=True, defaults={"prefix": f"链{unit.pk}"})
        services.role_grant(actor=None, unit=unit, role=Role.SIGNER, user=clerk)
        services.unit_sign_off_policy_set(actor=None, unit=unit, allows_self_sign_off=True)


def _copy_level(dispatches: list[Dispatch], unit_ids: list[int], issued: datetime.datetime) -> int:
    """The deliveries of each cover dispatch, by binary COPY, and their figures by tally_add."""
    table = Delivery._meta.db_table
    columns = (
        "dispatch_id, document_id, unit_id, role, urgency, issuing_unit_id, state, created_at, read_at, signed_at, "
        "deadline_sign_for, deadline_complete"
    )
    types = ["int8", "int8", "int8", "varchar", "varchar", "int8", "varchar"] + ["timestamptz"] * 5
    documents = Document.objects.filter(pk__in={d.document_id for d in dispatches})
    copied = {pk: (urgency, issuer) for pk, urgency, issuer in documents.values_list("pk", "urgency", "issuing_unit")}
    raw, written = connection.connection, 0
    figures = []
    with transaction.atomic(), raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for n, dispatch in enumerate(dispatches):
                counts = {"total": 0, "pending": 0, "signed": 0, "signed_ever": 0, "signed_late": 0}
                for i, unit_id in enumerate(unit_ids):
                    signed = (i * 7 + n) % 10 < SIGNED_SHARE * 10
                    # Sign-for times spread over two days: the later ones past a one-day deadline.
                    signed_at = issued + datetime.timedelta(seconds=60 + (i * 7919 + n * 104729) % 172_800)
                    late = bool(signed and dispatch.deadline_sign_for and signed_at >= dispatch.deadline_sign_for)
                    copy.write_row(
                        (
                            dispatch.pk,
                            dispatch.document_id,
                            unit_id,
                            "主送",
                            *copied[dispatch.document_id],
                            "signed" if signed else "pending",
                            issued,
                            signed_at if signed else None,
                            signed_at if signed else None,
                            dispatch.deadline_sign_for,
                            dispatch.deadline_complete,
                        )
                    )
                    counts["total"] += 1
                    counts["signed" if signed else "pending"] += 1
                    counts["signed_ever"] += signed
                    counts["signed_late"] += late
                written += counts["total"]
                figures.append((dispatch.pk, 0, counts))
        tally_add(figures)
        Dispatch.objects.filter(pk__in=[d.pk for d in dispatches]).update(
            routed_at=issued, notify_enqueued_at=issued, notified_at=issued, route_attempts=1
        )
    return written


def _build_tree(world, label: str, first: list[int], second: list[int]) -> tuple[object, int, float]:
    """The root to `first`, each forwarding to `second`: (root, deliveries, seconds)."""
    started = time.monotonic()
    issued = timezone.now()
    root = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(title=f"关于全国链条{label}的通知"),
        main_recipients=list(Unit.objects.filter(pk__in=first)),
    )
    services.document_sign_off(actor=world.zzb_leader, document=root)
    services.dispatch_route(dispatch_id=services.document_issue(actor=world.zzb, document=root).pk)
    covers = []
    for delivery in Delivery.objects.filter(document=root).select_related("unit__group").order_by("id"):
        clerk = delivery.unit.group.user_set.first()
        services.delivery_sign_for(actor=clerk, delivery_id=delivery.pk)
        cover = services.document_forward(
            actor=clerk, delivery=delivery, main_recipients=list(Unit.objects.filter(pk__in=second[:1]))
        )
        services.document_sign_off(actor=clerk, document=cover)
        covers.append(services.document_issue(actor=clerk, document=cover))
    # The resolved recipient set is the whole second pool (the draft named one unit: a form of 10^3
    # units is not what is measured here); half the dispatches get a one-day sign-for deadline.
    for n, dispatch in enumerate(covers):
        dispatch.main_unit_ids, dispatch.recipient_count = second, len(second)
        if n % 2:
            dispatch.deadline_sign_for = issued + datetime.timedelta(days=1)
            dispatch.deadline_complete = issued + datetime.timedelta(days=2)
        dispatch.save(update_fields=["main_unit_ids", "recipient_count", "deadline_sign_for", "deadline_complete"])
    written = 0
    for start in range(0, len(covers), 50):
        written += _copy_level(covers[start : start + 50], second, issued)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflow_delivery")
        cursor.execute("ANALYZE workflow_dispatchtally")
    return root, len(first) + written, time.monotonic() - started


def _timed(client: Client, url: str, runs: int) -> tuple[float, int]:
    client.get(url)  # warm
    timings, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return _p95(timings), queries


def _csv_peak(client: Client, url: str) -> tuple[float, int, float]:
    """Stream the CSV whole: (the process's RSS growth at its peak while streaming, in MB, rows,
    seconds). RSS sampled every 20 ms by a thread (tracemalloc would slow the stream fivefold)."""
    process = psutil.Process()
    before, peak, done = process.memory_info().rss, [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    response = client.get(url)
    rows = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return max(0, peak[0] - before) / 2**20, rows, seconds


def _contention(world, unit_ids: list[int], threads: int = 8) -> dict:
    """Sign-fors per second when `threads` clerks sign for deliveries of one dispatch at once,
    through delivery_sign_for, with the figures over TALLY_SLOTS rows and over a single row."""
    from django.db import connections

    from workflow import tally

    results = {}
    for slots in (tally.TALLY_SLOTS, 1):
        root = services.document_draft(
            actor=world.zzb,
            unit=world.department,
            content=content(title=f"关于签收争用{slots}的通知"),
            main_recipients=list(Unit.objects.filter(pk__in=unit_ids)),
        )
        services.document_sign_off(actor=world.zzb_leader, document=root)
        services.dispatch_route(dispatch_id=services.document_issue(actor=world.zzb, document=root).pk)
        jobs = list(Delivery.objects.filter(document=root).order_by("id").values_list("id", "unit__group__user"))
        clerks = {user.pk: user for user in get_user_model().objects.filter(pk__in=[u for _d, u in jobs])}
        shares = [jobs[n::threads] for n in range(threads)]

        def sign(share, clerks=clerks):
            try:
                for delivery_id, user_id in share:
                    services.delivery_sign_for(actor=clerks[user_id], delivery_id=delivery_id)
            finally:
                connections.close_all()

        saved, tally.TALLY_SLOTS = tally.TALLY_SLOTS, slots
        try:
            workers = [threading.Thread(target=sign, args=(share,)) for share in shares]
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            seconds = time.perf_counter() - started
        finally:
            tally.TALLY_SLOTS = saved
        results[f"{slots} slots"] = round(len(jobs) / seconds, 1)
        print(
            f"  {len(jobs)} sign-fors by {threads} clerks at once, figures over {slots} row(s): "
            f"{len(jobs) / seconds:.0f}/s",
            flush=True,
        )
    return results


def run(*, quick: bool, workdir: Path) -> dict:
    shapes = QUICK if quick else FULL
    started = time.monotonic()
    world = build_world()
    widest = max(f for f, _r in shapes)
    deepest = max(r for _f, r in shapes)
    pool = bulk_units(widest + deepest, parent=world.region, label="链", email_domain="bench.example.org")
    first_pool, second_pool = pool.unit_ids[:widest], pool.unit_ids[widest:]
    _prepare_forwarders(world, first_pool)
    auditor = person(world.region, Role.AUDITOR, username="bench-chain-auditor")
    trees = []
    with time_machine.travel(timezone.now() - datetime.timedelta(days=3), tick=True):
        for f, r in shapes:
            root, deliveries, seconds = _build_tree(world, f"{f}x{r}", first_pool[:f], second_pool[:r])
            print(f"  built {deliveries:>9,} deliveries ({f} × {r}) in {seconds:.0f} s", flush=True)
            trees.append((root, deliveries, seconds))
    build_seconds = time.monotonic() - started
    client = Client(SERVER_NAME="localhost")  # an allowed host outside the test runner
    client.force_login(auditor)
    curves: dict[str, list] = {"chain page": [], "chain branch page": []}
    rows = []
    with override_settings(CHAIN_TREE_LIMIT=0):
        for root, deliveries, _seconds in trees:
            branch = Dispatch.objects.filter(document__forward__chain_root=root).order_by("pk").first()
            page_p95, page_queries = _timed(client, reverse("chain", args=[root.pk]) + "?level=2", REQUESTS)
            branch_url = reverse("chain-branch", args=[root.pk, branch.pk])
            branch_p95, branch_queries = _timed(client, branch_url, REQUESTS)
            curves["chain page"].append({"size": deliveries, "p95_ms": round(page_p95, 1)})
            curves["chain branch page"].append({"size": deliveries, "p95_ms": round(branch_p95, 1)})
            rows.append((deliveries, page_p95, page_queries, branch_p95, branch_queries))
            print(
                f"  {deliveries:>9,} deliveries: chain page p95 {page_p95:.1f} ms ({page_queries} queries), "
                f"branch page p95 {branch_p95:.1f} ms ({branch_queries} queries)",
                flush=True,
            )
        peak_mb, csv_rows, csv_seconds = _csv_peak(client, reverse("chain-stalled-csv", args=[trees[-1][0].pk]))
        # The whole chain's exports, streamed (a cursor per document; JSON lines are not rows).
        exports = {
            name: _csv_peak(client, reverse(name, args=[trees[-1][0].pk])) for name in ("chain-csv", "chain-json")
        }
    print(f"  stalled CSV of the largest: {csv_rows:,} rows in {csv_seconds:.1f} s, peak {peak_mb:.1f} MB", flush=True)
    for name, (export_mb, _lines, export_seconds) in exports.items():
        print(f"  {name} of the largest: {export_seconds:.1f} s, peak {export_mb:.1f} MB", flush=True)
    contention = _contention(world, second_pool[:400])
    return {
        "curves": curves,
        "csv_peak_mb": round(peak_mb, 1),
        "csv_rows": csv_rows,
        "csv_seconds": round(csv_seconds, 1),
        "exports": {
            name: {"peak_mb": round(mb, 1), "seconds": round(seconds, 1)}
            for name, (mb, _lines, seconds) in exports.items()
        },
        "build_seconds": round(build_seconds),
        "tree_build_seconds": [round(seconds) for _root, _n, seconds in trees],
        "deliveries": [n for _root, n, _seconds in trees],
        "queries": {"chain page": [r[2] for r in rows], "chain branch page": [r[4] for r in rows]},
        "requests_per_point": REQUESTS,
        "sign_fors_per_second_8_clerks_one_dispatch": contention,
        "p95_median_ms": round(statistics.median(r[1] for r in rows), 1),
        "how": "root and forwards through the services; each cover dispatch's deliveries by binary COPY, "
        "their figures by workflow.tally.tally_add; test client, CHAIN_TREE_LIMIT=0",
    }
