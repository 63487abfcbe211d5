"""The benchmark's sections. Each returns its part of bench/results.json (and rows for the table).

Everything is measured through the real code paths: documents are drafted, signed off and issued by
the services, routed and notified by real `celery worker` processes over Redis, signed for over
HTTP through gunicorn. Only the directory of units is built in bulk (tests/bulk.py), and the audit
chain is topped up to its benchmark length with valid events written by COPY (see audit_verify).
"""

import datetime
import http.client
import io
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models import Scope
from api.services import api_client_create
from config.celery import app
from documents.models import Document, Kind, Urgency
from tests.bulk import bulk_units
from tests.factories import build_world, content, person
from tests.worker import Gunicorn, Worker, wait_until
from units.models import NumberPrefix, RecipientGroup, Role, Unit
from workflow import services
from workflow.access import access_chain
from workflow.api import api_token_for
from workflow.audit import _AUDIT_LOCK_KEY, GENESIS_HASH, audit_record_many, audit_verify, event_hash
from workflow.audit_tree import consistency_proof, inclusion_proof, tree_extend, tree_head
from workflow.checkpoints import checkpoint_write, key_generate
from workflow.enqueue import ROUTE_DISPATCH
from workflow.evidence.export import VERIFIER
from workflow.merkle import MemoryTree
from workflow.models import AuditEvent, AuditVerb, Delivery, Dispatch, MerkleNode, Notification, Receipt
from workflow.selectors import chain_for_document

FULL = {
    "fanout_sizes": [100, 1_000, 10_000, 100_000],
    "fanout_repeats": {100: 5, 1_000: 5, 10_000: 5, 100_000: 1},
    "urgent_units": 100,
    "urgent_runs": 20,
    "backlog": 110_000,
    "backlog_heavy_dispatches": 2,
    "receipts_deliveries": 3_000,
    "receipts_clients": 16,
    "receipts_rounds": 3,
    "chain_large": [10, 5, 1_000, 5, 1_000, 5, 2_000],
    "audit_events": 100_000,
    # The evidence bundle's two chains: 10,010 and 100,010 deliveries over four levels, all signed.
    "evidence_chains": [[10, 5, 100, 5, 100, 5, 1_800], [10, 5, 1_000, 5, 1_000, 5, 18_000]],
}
QUICK = {
    "fanout_sizes": [100, 1_000, 5_000],
    "fanout_repeats": {100: 2, 1_000: 2, 5_000: 1},
    "urgent_units": 100,
    "urgent_runs": 5,
    "backlog": 5_000,
    "backlog_heavy_dispatches": 1,
    "receipts_deliveries": 300,
    "receipts_clients": 8,
    "receipts_rounds": 3,
    "chain_large": [10, 3, 100, 3, 100, 3, 200],
    "audit_events": 10_000,
    "evidence_chains": [[10, 3, 100, 3, 100, 3, 300], [10, 3, 300, 3, 300, 3, 1_500]],
}
CHAIN_SMALL = [10, 3, 10, 3, 10, 3, 10]  # 10 + 30 + 30 + 30 = 100 deliveries over 4 levels
ROOT = Path(__file__).resolve().parent.parent


class Bench:
    """The shared state of one run: the directory, the worker processes, the rows of the table."""

    def __init__(self, sizes: dict, workdir: Path, *, keep: bool = False):
        self.sizes = sizes
        self.keep = keep
        self.workdir = workdir
        self.rows: list[tuple[str, str, str]] = []
        self.world = None
        self.pool: list[int] = []
        self.groups: dict[int, RecipientGroup] = {}
        self.largest_dispatch: Dispatch | None = None

    def row(self, name: str, value: str, target: str = "") -> None:
        self.rows.append((name, value, target))
        print(f"  {name:<48} {value:<28} {target}", flush=True)

    def worker(self, queues: str, name: str, concurrency: int = 2) -> Worker:
        mail_dir = self.workdir / f"mail-{name}"
        mail_dir.mkdir(exist_ok=True)
        return Worker(queues=queues, mail_dir=mail_dir, concurrency=concurrency, name=name)


def run_all(args, workdir: Path) -> dict:
    sizes = QUICK if args.quick else FULL
    wanted = set(args.sections.split(","))
    started = time.monotonic()
    load_before = [round(x, 2) for x in os.getloadavg()[:2]]
    call_command("migrate", verbosity=0)
    bench = Bench(sizes, workdir, keep=args.keep)
    _directory(bench)
    results: dict = {}
    if "fanout" in wanted:
        results.update(fanout(bench))
    if "urgent" in wanted:
        results["urgent"] = urgent(bench)
    if "receipts" in wanted:
        results["receipts"] = receipts(bench)
    if "api_receipts" in wanted:
        results["api_receipts"] = api_receipts(bench)
    if "chain_view" in wanted:
        results["chain_view"] = chain_view(bench)
    if "audit_verify" in wanted:
        results["audit_verify"] = audit(bench)
    if "evidence" in wanted:
        results["evidence"] = evidence(bench)
    if "importing" in wanted:
        results["importing"] = importing(bench)
    if "exchange" in wanted:
        from bench import exchange

        results["exchange"] = exchange.run(quick=args.quick, workdir=workdir)
        bench.rows.append(
            (
                "exchange: consignments A→B a second",
                f"{results['exchange']['consignments_per_second']}",
                "",
            )
        )
        bench.rows.append(
            (
                "exchange: 特提 across a peer, p95",
                f"{results['exchange']['flash_behind_backlog_p95_seconds']} s behind the backlog",
                "",
            )
        )
    if bench.largest_dispatch is not None:
        results["recall"] = recall(bench)
    results["machine"] = machine(started=started, load_before=load_before, quick=args.quick)
    _table(bench)
    return results


def machine(*, started: float, load_before: list[float], quick: bool) -> dict:
    """The machine a run measured: its cores, its load before and after, how long the run took."""
    one, five, _fifteen = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": [round(one, 2), round(five, 2)],
        "quick": bool(quick),
        "minutes": round((time.monotonic() - started) / 60, 1),
    }


def _table(bench: Bench) -> None:
    width = max(len(name) for name, _value, _target in bench.rows)
    print()
    print(f"{'measure':<{width}}  {'value':<30} target")
    print("-" * (width + 50))
    for name, value, target in bench.rows:
        print(f"{name:<{width}}  {value:<30} {target}")


# --- the directory ------------------------------------------------------------------------------


def _directory(bench: Bench) -> None:
    """The small world of the tests, plus a pool of units (one clerk each) and recipient groups of
    the fan-out sizes, all owned by the issuing department."""
    t = time.monotonic()
    bench.world = build_world()
    largest = max(bench.sizes["fanout_sizes"])
    pool = bulk_units(largest, parent=bench.world.region, label="u", email_domain="bench.example.org")
    bench.pool = pool.unit_ids
    through = RecipientGroup.members.through
    for size in [*bench.sizes["fanout_sizes"], bench.sizes["urgent_units"]]:
        if size in bench.groups:
            continue
        group = RecipientGroup.objects.create(owner=bench.world.department, name=f"前{size}个单位")
        through.objects.bulk_create(
            (through(recipientgroup_id=group.pk, unit_id=unit_id) for unit_id in pool.unit_ids[:size]),
            batch_size=5000,
        )
        bench.groups[size] = group
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"directory: {largest} units with clerks in {time.monotonic() - t:.0f} s", flush=True)


def _signed_off(bench: Bench, *, main, urgency: str = Urgency.ROUTINE, kind: str = Kind.NOTICE, title: str = ""):
    world = bench.world
    document = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(urgency=urgency, kind=kind, title=title or f"关于{urgency}事项的通知"),
        main_recipients=main,
    )
    return services.document_sign_off(actor=world.zzb_leader, document=document)


def _issue_timed(bench: Bench, document: Document) -> tuple[Dispatch, float]:
    """Issue, and the wall-clock moment the issue's transaction committed (before its publish)."""
    committed = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # runs before the publish
        dispatch = services.document_issue(actor=bench.world.zzb, document=document)
    return dispatch, committed[0]


def _wait(dispatch: Dispatch, field: str, timeout: float = 600) -> float:
    """Poll (every 5 ms) until the dispatch's `field` is set; the wall-clock moment it was seen."""
    query = Dispatch.objects.filter(pk=dispatch.pk, **{f"{field}__isnull": False})
    if not wait_until(query.exists, timeout=timeout, interval=0.005):
        raise RuntimeError(f"dispatch {dispatch.pk}: {field} not set after {timeout} s")
    return time.time()


def _wait_emailed(dispatch: Dispatch, timeout: float = 600) -> None:
    """Poll until the outbox holds none of the dispatch's notifications (they are emailed after
    `notified_at`, by the run that notification enqueued)."""
    unsent = Notification.objects.filter(delivery__dispatch=dispatch, emailed_at__isnull=True)
    if not wait_until(lambda: not unsent.exists(), timeout=timeout, interval=0.05):
        raise RuntimeError(f"dispatch {dispatch.pk}: emails unsent after {timeout} s")


# --- fan-out ------------------------------------------------------------------------------------


def _copy_deliveries(bench: Bench, unit_ids: list[int], like: Dispatch) -> float:
    """Binary COPY of one delivery row per unit into the delivery table, committed: the floor.

    The same columns and values routing writes (deadlines included, so the same indexes are
    maintained), under a dispatch of their own (one delivery per dispatch and unit).
    """
    target = Dispatch.objects.create(
        document_id=like.document_id,
        issuing_unit_id=like.issuing_unit_id,
        issued_by=bench.world.zzb,
        queue="routine",
        recipient_count=0,
        routed_at=timezone.now(),
        notified_at=timezone.now(),
    )
    table = Delivery._meta.db_table
    columns = (
        "dispatch_id, document_id, unit_id, role, urgency, issuing_unit_id, state, created_at, deadline_sign_for, "
        "deadline_complete"
    )
    urgency = like.document.urgency
    now = timezone.now()
    raw = connection.connection  # the psycopg connection under Django's
    started = time.perf_counter()
    with (
        transaction.atomic(),
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int8"] * 3 + ["varchar", "varchar", "int8", "varchar"] + ["timestamptz"] * 3)
        for unit_id in unit_ids:
            copy.write_row(
                (
                    target.pk,
                    like.document_id,
                    unit_id,
                    "主送",
                    urgency,
                    like.issuing_unit_id,
                    "pending",
                    now,
                    like.deadline_sign_for,
                    like.deadline_complete,
                )
            )
    return time.perf_counter() - started


def _peak_memory(worker: Worker, stop: threading.Event, peaks: dict) -> None:
    """Sample the worker (main process and pool children) every 50 ms: the largest RSS of one
    process, and the sum of PSS over all of them (pages shared since the fork counted once)."""
    main = psutil.Process(worker.pid)
    while not stop.is_set():
        try:
            processes = [main, *main.children(recursive=True)]
            memory = [process.memory_full_info() for process in processes]
        except psutil.NoSuchProcess:
            continue
        peaks["rss"] = max(peaks.get("rss", 0), max(m.rss for m in memory))
        peaks["pss"] = max(peaks.get("pss", 0), sum(m.pss for m in memory))
        peaks["rss_sum"] = max(peaks.get("rss_sum", 0), sum(m.rss for m in memory))
        time.sleep(0.05)


def fanout(bench: Bench) -> dict:
    print("fan-out: document_issue → every delivery routed and audited, against a binary COPY", flush=True)
    worker = bench.worker("urgent,routine,control", "fanout")
    points = []
    memory = {}
    try:
        for size in bench.sizes["fanout_sizes"]:
            routed, copied = [], []
            for _ in range(bench.sizes["fanout_repeats"][size]):
                document = _signed_off(bench, main=[bench.groups[size]])
                stop, peaks = threading.Event(), {}
                watcher = threading.Thread(target=_peak_memory, args=(worker, stop, peaks), daemon=True)
                watcher.start()
                started = time.time()
                dispatch = services.document_issue(actor=bench.world.zzb, document=document)
                routed.append(_wait(dispatch, "routed_at") - started)
                _wait(dispatch, "notified_at")  # untimed: the next run starts on an idle worker
                _wait_emailed(dispatch)  # the memory sampled covers the emails, the outbox's run
                stop.set()
                watcher.join()
                if size == max(bench.sizes["fanout_sizes"]):
                    memory, bench.largest_dispatch = peaks, dispatch
                copied.append(_copy_deliveries(bench, bench.pool[:size], like=dispatch))
            point = {"units": size, "seconds": statistics.median(routed), "copy_seconds": statistics.median(copied)}
            point["ratio"] = point["seconds"] / point["copy_seconds"]
            points.append(point)
            bench.row(
                f"fan-out {size:>7,} units (median of {len(routed)})",
                f"{point['seconds']:.3f} s, COPY {point['copy_seconds']:.3f} s, {point['ratio']:.2f}x",
                "≤ 2x COPY (aim 1.5x)" if size == 10_000 else "",
            )
    finally:
        worker.stop()
    _plot_fanout(points)
    reference = next((p for p in points if p["units"] == 10_000), points[-1])
    largest = max(bench.sizes["fanout_sizes"])
    worker_memory = {
        "units": largest,
        "peak_rss_mb": round(memory.get("rss", 0) / 2**20, 1),
        "peak_pss_mb": round(memory.get("pss", 0) / 2**20, 1),
        "peak_rss_sum_mb": round(memory.get("rss_sum", 0) / 2**20, 1),
        "processes": "main + 2 pool children",
    }
    bench.row(
        f"worker memory, {largest:,}-unit fan-out",
        f"{worker_memory['peak_rss_mb']} MB RSS, {worker_memory['peak_pss_mb']} MB PSS in all",
        "< 300 MB",
    )
    return {
        "fanout": {**{k: round(v, 4) if isinstance(v, float) else v for k, v in reference.items()}, "points": points},
        "worker_memory": worker_memory,
    }


def recall(bench: Bench) -> dict:
    """撤回 of the largest fan-out, in-process as an issuer's click runs it: every delivery withdrawn
    and every clerk told, in one transaction. Last, because it queues the recall's emails."""
    dispatch = bench.largest_dispatch
    units = dispatch.deliveries.count()
    started = time.perf_counter()
    counts = services.dispatch_recall(actor=bench.world.zzb, dispatch_id=dispatch.pk, reason="压测撤回")
    seconds = time.perf_counter() - started
    bench.row(f"撤回 of the {units:,}-unit dispatch", f"{seconds:.2f} s ({counts['withdrawn']:,} withdrawn)")
    return {"units": units, "seconds": round(seconds, 3), **counts}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # The CJK font the project installs for the official layout (fonts-noto-cjk), for 特提.
    plt.rcParams["font.family"] = ["Noto Sans CJK JP", "Noto Sans CJK SC", "DejaVu Sans"]
    return plt


def _plot_fanout(points: list[dict]) -> None:
    plt = _pyplot()

    units = [p["units"] for p in points]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.plot(units, [p["seconds"] for p in points], "o-", label="document_issue → routed (worker, Redis)")
    axes.plot(units, [p["copy_seconds"] for p in points], "s--", label="binary COPY of the same delivery rows")
    axes.plot(units, [2 * p["copy_seconds"] for p in points], ":", color="grey", label="2 × COPY (target)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("recipient units")
    axes.set_ylabel("seconds")
    axes.set_title("Fan-out: routing time against the COPY floor")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(Path(__file__).parent / "fanout.png", dpi=120)
    plt.close(figure)


# --- urgent behind a routine backlog ------------------------------------------------------------


def _urgent_latencies(bench: Bench, runs: int) -> list[float]:
    latencies = []
    group = bench.groups[bench.sizes["urgent_units"]]
    for _ in range(runs):
        document = _signed_off(bench, main=[group], urgency=Urgency.FLASH, kind=Kind.TELEGRAM, title="特提电报")
        dispatch, committed = _issue_timed(bench, document)
        latencies.append(_wait(dispatch, "notified_at", timeout=120) - committed)
        _wait_emailed(dispatch, timeout=120)  # untimed: the next telegram starts on an idle urgent worker
        time.sleep(0.1)
    return latencies


def _routine_backlog(bench: Bench, count: int) -> None:
    """Queue real routine fan-outs, then `count` routine routing tasks behind them: re-deliveries of
    an already routed dispatch, each a real task that loads its dispatch and finds nothing to do.

    Call with no routine worker running. The copies are pushed to Redis in pipelined batches, each
    with its own delivery tag and task id (send_task one by one takes ~1.4 ms a message here).
    """
    done = services.document_issue(actor=bench.world.zzb, document=_signed_off(bench, main=[bench.groups[100]]))
    services.dispatch_route(dispatch_id=done.pk)
    heavy = bench.groups[min(10_000, max(bench.sizes["fanout_sizes"]))]
    for _ in range(bench.sizes["backlog_heavy_dispatches"]):
        services.document_issue(actor=bench.world.zzb, document=_signed_off(bench, main=[heavy]))
    app.send_task(ROUTE_DISPATCH, args=[done.pk], queue="routine")
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = _queue_key("routine")
    message = json.loads(client.lindex(key, 0))  # the one just published: LPUSH puts it at the head
    pipe = client.pipeline(transaction=False)
    for number in range(1, count):
        task_id = str(uuid.uuid4())
        message["headers"]["id"] = message["properties"]["correlation_id"] = task_id
        message["properties"]["delivery_tag"] = str(uuid.uuid4())
        pipe.lpush(key, json.dumps(message))
        if number % 5000 == 0:
            pipe.execute()
    pipe.execute()


def _queue_key(queue: str) -> str:
    return f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS['global_keyprefix']}{queue}"


def _queue_length(queue: str) -> int:
    return redis.Redis.from_url(settings.REDIS_URL).llen(_queue_key(queue))


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def urgent(bench: Bench) -> dict:
    print("urgent: a 特提 telegram to 100 units, idle and behind a routine backlog", flush=True)
    urgent_worker = bench.worker("urgent,control", "urgent", concurrency=1)
    routine_worker = None
    try:
        idle = _urgent_latencies(bench, bench.sizes["urgent_runs"])
        t = time.monotonic()
        _routine_backlog(bench, bench.sizes["backlog"])
        print(f"  queued {_queue_length('routine'):,} routine tasks in {time.monotonic() - t:.0f} s", flush=True)
        routine_worker = bench.worker("routine", "routine", concurrency=2)
        time.sleep(2)  # the routine worker's two processes are busy with the fan-outs at the head
        backlog = _queue_length("routine")
        busy = _urgent_latencies(bench, bench.sizes["urgent_runs"])
        remaining = _queue_length("routine")
    finally:
        urgent_worker.stop()
        if routine_worker is not None:
            routine_worker.stop()
        redis.Redis.from_url(settings.REDIS_URL).delete(_queue_key("routine"))
    result = {
        "backlog_tasks": backlog,
        "backlog_tasks_after": remaining,
        "p95_seconds": round(_p95(busy), 4),
        "idle_p95_seconds": round(_p95(idle), 4),
        "median_seconds": round(statistics.median(busy), 4),
        "idle_median_seconds": round(statistics.median(idle), 4),
        "runs": len(busy),
        "units": bench.sizes["urgent_units"],
        "latencies": [round(x, 4) for x in busy],
        "idle_latencies": [round(x, 4) for x in idle],
    }
    bench.row(
        "特提 to 100 units, idle: p95 (median)", f"{result['idle_p95_seconds']:.3f} s ({statistics.median(idle):.3f} s)"
    )
    bench.row(
        f"特提 behind {backlog:,} routine tasks: p95 (median)",
        f"{result['p95_seconds']:.3f} s ({statistics.median(busy):.3f} s)",
        "< 2 s (aim 1 s)",
    )
    _plot_urgent(idle, busy, backlog)
    return result


def _plot_urgent(idle: list[float], busy: list[float], backlog: int) -> None:
    plt = _pyplot()

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for values, label in ((idle, "idle workers"), (busy, f"behind {backlog:,} routine tasks")):
        ordered = sorted(values)
        axes.step(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], where="post", label=label)
    axes.axvline(2.0, color="grey", linestyle=":", label="target p95 2 s")
    axes.axhline(0.95, color="grey", linestyle="--", linewidth=0.8)
    axes.set_xlabel("seconds from the issue's commit to every clerk notified")
    axes.set_ylabel("fraction of 特提 issues")
    axes.set_title("特提 telegram to 100 units: latency distribution")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(Path(__file__).parent / "urgent.png", dpi=120)
    plt.close(figure)


# --- receipts over HTTP -------------------------------------------------------------------------


def _hammer(port: int, jobs: list[tuple[str, str]], clients: int) -> tuple[float, list]:
    """Each client takes the next job and sends it three times (a client retrying every request).
    Returns the seconds taken and, per job, the three (status, body) answers."""
    answers: list = [None] * len(jobs)
    cursor = iter(range(len(jobs)))
    lock = threading.Lock()

    def client():
        connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            path, token = jobs[index]
            replies = []
            for _attempt in range(3):
                try:
                    connection_.request("POST", path, headers={"Authorization": f"Bearer {token}"})
                    response = connection_.getresponse()
                    replies.append((response.status, response.read()))
                except (OSError, http.client.HTTPException) as error:
                    replies.append((0, str(error).encode()))
                    connection_.close()
                    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            answers[index] = replies

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, answers


def receipts(bench: Bench) -> dict:
    count, clients = bench.sizes["receipts_deliveries"], bench.sizes["receipts_clients"]
    print(
        f"receipts: {count:,} sign-fors over HTTP by {clients} clients, each request sent 3 times, in "
        f"{bench.sizes['receipts_rounds']} rounds alternating with the bare view",
        flush=True,
    )
    dispatch, deliveries = _deliveries_to_sign(bench, "签收压测", bench.pool[-count:])
    clerks = dict(Unit.objects.filter(pk__in=bench.pool[-count:]).values_list("pk", "group__user"))
    users = get_user_model().objects.in_bulk(list(clerks.values()))
    tokens = {delivery_id: api_token_for(users[clerks[unit_id]]) for delivery_id, unit_id in deliveries}
    result = _sign_for_over_http(
        bench,
        dispatch,
        sign_jobs=[(f"/api/deliveries/{pk}/sign-for", token) for pk, token in tokens.items()],
        bare_jobs=[(f"/bench/bare/{pk}", token) for pk, token in tokens.items()],
        receipt_id=lambda answer: answer["receipt"]["id"],
    )
    bench.row(
        f"sign-for over HTTP, {clients} clients x3 retries",
        f"{result['per_second']:.0f} req/s ({result['receipts_per_second']:.0f} receipts/s)",
    )
    bench.row("bare Django view, same server", f"{result['bare_view_per_second']:.0f} req/s")
    bench.row("sign-for / bare view", f"{result['ratio']:.0%}", "≥ 30% (aim 50%)")
    bench.row("receipts lost / duplicated", f"{result['lost']} / {result['duplicated']}", "0 / 0")
    return result


def api_receipts(bench: Bench) -> dict:
    """The same sign-fors through /api/v1/, each unit's own API client calling with its key (the
    `sign-for` scope): what DRF, the key's lookup, the scope and the rate limit's count in Redis add
    to the old URL's path, measured the same way against the same bare view."""
    count, clients = bench.sizes["receipts_deliveries"], bench.sizes["receipts_clients"]
    print(
        f"api_receipts: {count:,} sign-fors through /api/v1/ with client keys by {clients} clients, each request "
        f"sent 3 times, in {bench.sizes['receipts_rounds']} rounds alternating with the bare view",
        flush=True,
    )
    # Units of its own: a client's service account joins its unit, and the other sections take a
    # unit's one member for its clerk.
    units = bulk_units(count, parent=bench.world.region, label="api", email_domain="bench.example.org")
    dispatch, deliveries = _deliveries_to_sign(bench, "接口签收压测", units.unit_ids)
    started = time.monotonic()
    administrator = get_user_model().objects.filter(username="bench-admin").first()
    administrator = administrator or get_user_model().objects.create_superuser("bench-admin", password=None)
    units = Unit.objects.in_bulk([unit_id for _delivery_id, unit_id in deliveries])
    keys = {
        delivery_id: api_client_create(
            actor=administrator, unit=units[unit_id], name="签收压测系统", scopes=[Scope.SIGN_FOR]
        )[1]
        for delivery_id, unit_id in deliveries
    }
    print(f"  {len(keys):,} API clients created in {time.monotonic() - started:.0f} s", flush=True)
    result = _sign_for_over_http(
        bench,
        dispatch,
        sign_jobs=[(f"/api/v1/deliveries/{pk}/sign-for", key) for pk, key in keys.items()],
        bare_jobs=[(f"/bench/bare/{pk}", key) for pk, key in keys.items()],
        receipt_id=lambda answer: answer["id"],
    )
    bench.row(
        f"API v1 sign-for, client keys, {clients} clients x3",
        f"{result['per_second']:.0f} req/s ({result['receipts_per_second']:.0f} receipts/s)",
    )
    bench.row("bare Django view, same server", f"{result['bare_view_per_second']:.0f} req/s")
    bench.row("API v1 sign-for / bare view", f"{result['ratio']:.0%}")
    bench.row("API v1 receipts lost / duplicated", f"{result['lost']} / {result['duplicated']}", "0 / 0")
    return result


def _deliveries_to_sign(bench: Bench, name: str, unit_ids: list[int]) -> tuple[Dispatch, list[tuple[int, int]]]:
    """A document issued and routed to these units: its dispatch and its (delivery id, unit id) pairs."""
    group = RecipientGroup.objects.create(owner=bench.world.department, name=name)
    group.members.set(unit_ids)
    dispatch = services.document_issue(
        actor=bench.world.zzb, document=_signed_off(bench, main=[group], title=f"关于{name}的通知")
    )
    services.dispatch_route(dispatch_id=dispatch.pk)
    return dispatch, list(Delivery.objects.filter(dispatch=dispatch).order_by("id").values_list("id", "unit_id"))


def _sign_for_over_http(bench: Bench, dispatch: Dispatch, *, sign_jobs: list, bare_jobs: list, receipt_id) -> dict:
    """Sign for every delivery of `dispatch` through gunicorn (each request three times), alternating
    round after round with as many requests to the bare view; count what was lost or duplicated."""
    clients = bench.sizes["receipts_clients"]
    web_workers = int(os.environ.get("BENCH_WEB_WORKERS", "4"))
    conn_max_age = os.environ.get("BENCH_CONN_MAX_AGE", "60")
    server = Gunicorn(
        log_dir=bench.workdir,
        workers=web_workers,
        extra_env={
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": conn_max_age,
        },
    )
    # The two halves alternate, round after round, each round signing for deliveries of its own and
    # sending the bare view as many requests: both see the machine as it is at that moment.
    rounds = bench.sizes["receipts_rounds"]
    per_round = -(-len(sign_jobs) // rounds)
    bare_seconds = sign_seconds = 0.0
    answers: list = []
    try:
        _hammer(server.port, bare_jobs[:200], clients)  # warm up the server's workers
        for start in range(0, len(sign_jobs), per_round):
            seconds, _bare_answers = _hammer(server.port, bare_jobs[start : start + per_round], clients)
            bare_seconds += seconds
            seconds, round_answers = _hammer(server.port, sign_jobs[start : start + per_round], clients)
            sign_seconds += seconds
            answers += round_answers
    finally:
        server.stop()
    requests = 3 * len(sign_jobs)
    failed = sum(1 for replies in answers for status, _body in replies if status != 200)
    mismatched = 0
    for replies in answers:
        ids = {receipt_id(json.loads(body)) for status, body in replies if status == 200}
        mismatched += len(ids) > 1
    stored = Receipt.objects.filter(delivery__dispatch=dispatch).count()
    signed_events = AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED, document=dispatch.document_id).count()
    return {
        "clients": clients,
        "per_second": round(requests / sign_seconds, 1),
        "bare_view_per_second": round(requests / bare_seconds, 1),
        "ratio": round(bare_seconds / sign_seconds, 3),
        "lost": len(sign_jobs) - stored,
        "duplicated": mismatched + max(0, signed_events - stored),
        "deliveries": len(sign_jobs),
        "requests": requests,
        "failed_requests": failed,
        "receipts_per_second": round(len(sign_jobs) / sign_seconds, 1),
        "rounds": rounds,
        "server": f"gunicorn, {web_workers} sync workers, loopback, CONN_MAX_AGE={conn_max_age}",
    }


# --- the chain view -----------------------------------------------------------------------------


def _build_chain(bench: Bench, shape: list[int], label: str, offset: int | None = None) -> tuple[Document, int]:
    """A forwarding tree through the services: [first level, (forwarders, recipients each) × 3].

    Returns the root document and the number of deliveries in the tree.
    """
    world = bench.world
    offset = ({"small": 0, "large": 20_000}[label] if offset is None else offset) % max(1, len(bench.pool))
    pool = bench.pool[offset:] + bench.pool[:offset]
    first = Unit.objects.filter(pk__in=pool[: shape[0]])
    root = services.document_draft(
        actor=world.zzb, unit=world.department, content=content(title=f"链条{label}"), main_recipients=list(first)
    )
    services.document_sign_off(actor=world.zzb_leader, document=root)
    dispatch = services.document_issue(actor=world.zzb, document=root)
    services.dispatch_route(dispatch_id=dispatch.pk)
    level, total, cursor = [root], shape[0], shape[0]
    for forwarders, each in zip(shape[1::2], shape[2::2], strict=True):
        deliveries = list(
            Delivery.objects.filter(document__in=level).select_related("unit", "document").order_by("id")[:forwarders]
        )
        next_level = []
        for delivery in deliveries:
            clerk = delivery.unit.group.user_set.first()
            NumberPrefix.objects.get_or_create(
                unit=delivery.unit, is_default=True, defaults={"prefix": f"链{delivery.unit_id}"}
            )
            services.role_grant(actor=None, unit=delivery.unit, role=Role.SIGNER, user=clerk)
            # A one-person office: its clerk signs off the forward it drafted.
            services.unit_sign_off_policy_set(actor=None, unit=delivery.unit, allows_self_sign_off=True)
            recipients = list(Unit.objects.filter(pk__in=pool[cursor : cursor + each]).exclude(pk=delivery.unit_id))
            cursor = (cursor + each) % max(1, len(pool) - each)
            services.delivery_sign_for(actor=clerk, delivery_id=delivery.pk)
            cover = services.document_forward(actor=clerk, delivery=delivery, main_recipients=recipients)
            services.document_sign_off(actor=clerk, document=cover)
            routed = services.document_issue(actor=clerk, document=cover)
            services.dispatch_route(dispatch_id=routed.pk)
            total += len(recipients)
            next_level.append(cover)
        level = next_level
    return root, total


def chain_view(bench: Bench) -> dict:
    print("chain view: chain_for_document at two sizes, 4 levels", flush=True)
    auditor = person(bench.world.region, Role.AUDITOR, username="bench-auditor")
    result = {}
    for label, shape in (("small", CHAIN_SMALL), ("large", bench.sizes["chain_large"])):
        root, deliveries = _build_chain(bench, shape, label)
        timings, queries = [], 0
        for _ in range(3):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                document = access_chain(auditor, root.pk)
                tree = chain_for_document(document)
                json.dumps(tree.as_json(), ensure_ascii=False)
                timings.append(time.perf_counter() - started)
            queries = len(captured)
        levels = 1 + max(node.depth for node in tree.walk())
        result[label] = {
            "deliveries": deliveries,
            "queries": queries,
            "seconds": round(statistics.median(timings), 4),
            "levels": levels,
        }
        bench.row(
            f"chain view, {deliveries:,} deliveries over {levels} levels",
            f"{queries} queries, {result[label]['seconds']:.3f} s",
            "same query count at both sizes",
        )
    return result


# --- audit verification -------------------------------------------------------------------------


def _append_events(count: int) -> None:
    """Append `count` valid events to the chain, by COPY, under the chain's lock: the log of a busy
    office (sign-fors), without spending minutes producing it one service call at a time."""
    raw = connection.connection
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first() or (0, GENESIS_HASH)
        seq, prev = head
        now = timezone.now()
        with (
            raw.cursor() as cursor,
            cursor.copy(
                f"COPY {AuditEvent._meta.db_table} (seq, occurred_at, actor_id, unit_id, verb, object_type, object_id, "
                "document_id, payload, prev_hash, hash) FROM STDIN"
            ) as copy,
        ):
            for n in range(count):
                seq += 1
                fields = {
                    "seq": seq,
                    "occurred_at": now,
                    "actor_id": None,
                    "unit_id": None,
                    "verb": AuditVerb.DELIVERY_READ.value,
                    "object_type": "Delivery",
                    "object_id": str(n),
                    "document_id": None,
                    "payload": {"bench": n},
                }
                digest = event_hash(**fields, prev_hash=prev)
                copy.write_row(
                    (
                        seq,
                        now,
                        None,
                        None,
                        fields["verb"],
                        "Delivery",
                        str(n),
                        None,
                        json.dumps(fields["payload"]),
                        prev,
                        digest,
                    )
                )
                prev = digest


def audit(bench: Bench) -> dict:
    # Checkpoints of this run only (never the project's var/checkpoints, or a demo key in .env).
    settings.AUDIT_CHECKPOINT_DIR = str(bench.workdir / "checkpoints")
    settings.AUDIT_SIGNING_KEY_FILE = settings.AUDIT_PUBLIC_KEY_FILE = settings.AUDIT_CHECKPOINT_URL = ""
    settings.AUDIT_CHECKPOINT_EMAILS = []
    existing = AuditEvent.objects.count()
    wanted = bench.sizes["audit_events"]
    if existing < wanted:
        _append_events(wanted - existing)
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        verification = audit_verify()
        timings.append(time.perf_counter() - started)
    if not verification.is_intact:
        raise RuntimeError(f"audit chain broken: {verification.reason}")
    seconds = min(timings)
    result = {
        "events": verification.events,
        "per_second": round(verification.events / seconds),
        "seconds": round(seconds, 3),
        "from_services": existing,
    }
    bench.row(
        f"audit_verify over {verification.events:,} events",
        f"{result['per_second']:,} events/s ({seconds:.2f} s)",
        "> 50,000 events/s",
    )
    result.update(_audit_tree(bench, verification.events))
    return result


def _median_seconds(function, *args, repeats: int = 21) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(*args)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _audit_tree(bench: Bench, events: int) -> dict:
    """The Merkle tree's table built over the whole log, a head and proofs from it, a signed
    checkpoint, and verify_audit --since that checkpoint after an hour's worth of new events."""
    settings.AUDIT_SIGNING_KEY_FILE = str(bench.workdir / "audit-signing.key")
    key_generate(settings.AUDIT_SIGNING_KEY_FILE)
    started = time.perf_counter()
    covered = tree_extend()
    extend_seconds = time.perf_counter() - started
    nodes = MerkleNode.objects.count()
    with CaptureQueriesContext(connection) as captured:
        head = tree_head(events)
    head_queries = len(captured)
    head_seconds = _median_seconds(tree_head, events)
    inclusion_seconds = _median_seconds(inclusion_proof, events // 3, events)
    consistency_seconds = _median_seconds(consistency_proof, events // 2 + 1, events)
    assert head == MemoryTree(
        [bytes.fromhex(h) for h in AuditEvent.objects.order_by("seq").values_list("hash", flat=True)]
    ).head(events)
    started = time.perf_counter()
    written = checkpoint_write()
    checkpoint_seconds = time.perf_counter() - started
    after = 1_000
    _append_events(after)
    started = time.perf_counter()
    since = audit_verify(since=written.checkpoint.name)
    since_seconds = time.perf_counter() - started
    if not since.is_intact:
        raise RuntimeError(f"verify --since failed: {since.reason}")
    started = time.perf_counter()
    extended = tree_extend()
    increment_seconds = time.perf_counter() - started
    result = {
        "tree_events": covered,
        "tree_nodes": nodes,
        "tree_extend_seconds": round(extend_seconds, 3),
        "tree_extend_per_second": round(covered / extend_seconds),
        "tree_extend_increment_seconds": round(increment_seconds, 4),
        "tree_extend_increment_events": extended - covered,
        "tree_head_queries": head_queries,
        "tree_head_ms": round(head_seconds * 1000, 3),
        "inclusion_proof_ms": round(inclusion_seconds * 1000, 3),
        "consistency_proof_ms": round(consistency_seconds * 1000, 3),
        "checkpoint_seconds": round(checkpoint_seconds, 3),
        "since_events": since.events - since.trusted,
        "since_seconds": round(since_seconds, 4),
    }
    bench.row(
        f"Merkle tree table over {covered:,} events",
        f"{extend_seconds:.2f} s ({result['tree_extend_per_second']:,} events/s), {nodes:,} nodes",
        "",
    )
    bench.row(
        "tree head, inclusion, consistency proof",
        f"{result['tree_head_ms']:.2f} / {result['inclusion_proof_ms']:.2f} / {result['consistency_proof_ms']:.2f} ms",
        f"{head_queries} queries each",
    )
    bench.row(f"audit_checkpoint (first: the whole log, {events:,} events)", f"{checkpoint_seconds:.2f} s", "")
    bench.row(
        f"verify_audit --since, {after:,} events after it",
        f"{since_seconds * 1000:.0f} ms; tree extended by them in {increment_seconds * 1000:.0f} ms",
        "∝ events since",
    )
    return result


# --- the evidence bundle ------------------------------------------------------------------------


def _sign_everything(root: Document) -> int:
    """Sign for every pending delivery of the chain at `root`, each by its unit's clerk, writing what
    delivery_sign_for writes (the move to 已签收 with its reading, the receipt, the DELIVERY_SIGNED
    event with the receipt, digest and time) in one transaction, the events through the audit log's
    own writer: a national notice's sign-fors without 10^5 requests."""
    from documents.models import Enclosure

    chain = Enclosure.objects.filter(enclosed=root, cover__state=Document.State.ISSUED).values("cover_id")
    pending = list(
        Delivery.objects.filter(document__in=chain, state=Delivery.State.PENDING)
        .order_by("id")
        .values_list("id", "unit_id", "document_id", "document__digest", "unit__group__user")
    )
    now = timezone.now()
    signed_at = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with transaction.atomic():
        # The same set by its query, not by 10^5 ids (PostgreSQL takes at most 65,535 parameters).
        Delivery.objects.filter(document__in=chain, state=Delivery.State.PENDING).update(
            state=Delivery.State.SIGNED,
            signed_at=now,
            read_at=Coalesce("read_at", Value(now)),
            read_by=Coalesce(
                "read_by", Subquery(get_user_model().objects.filter(groups__unit=OuterRef("unit_id")).values("pk")[:1])
            ),
        )
        receipts = Receipt.objects.bulk_create(
            [
                Receipt(delivery_id=pk, unit_id=unit, signed_by_id=clerk, signed_at=now, content_digest=digest)
                for pk, unit, _document, digest, clerk in pending
            ],
            batch_size=5000,
        )
        audit_record_many(
            [
                {
                    "actor": _Actor(clerk),
                    "verb": AuditVerb.DELIVERY_SIGNED,
                    "object_type": "Delivery",
                    "object_id": pk,
                    "unit": unit,
                    "document": document,
                    "payload": {"receipt_id": receipt.pk, "content_digest": digest, "signed_at": signed_at},
                }
                for (pk, unit, document, digest, clerk), receipt in zip(pending, receipts, strict=True)
            ]
        )
    return len(pending)


class _Actor:
    """Who acted, by id (audit_record_many reads `pk`)."""

    def __init__(self, pk: int):
        self.pk = pk


def _run_measured(command: list[str], env: dict, workdir: Path) -> tuple[float, int, str]:
    """Run a child process: its wall-clock seconds, its peak RSS (sampled every 20 ms) and its output."""
    output = workdir / "output.txt"
    started = time.perf_counter()
    with output.open("wb") as sink:
        # Our own interpreter running manage.py or verify.py, with arguments built here.
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
        process, peak = psutil.Process(child.pid), 0
        while child.poll() is None:
            try:
                peak = max(peak, process.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.02)
    seconds = time.perf_counter() - started
    printed = output.read_text()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}): {printed[-2000:]}")
    return seconds, peak, printed


def evidence(bench: Bench) -> dict:
    """The evidence bundle of a chain at two sizes, every delivery signed: `manage.py export_evidence`
    and `python verify.py` as an operator and an auditor run them, each in a process of its own."""
    print("evidence: export_evidence and verify.py over two chains, every delivery signed", flush=True)
    workdir = bench.workdir / "evidence"
    workdir.mkdir(exist_ok=True)
    key = workdir / "signing.key"
    key_generate(key)
    # A directory and key of its own (the audit section's, if it ran, has checkpoints of another key).
    settings.AUDIT_SIGNING_KEY_FILE, settings.AUDIT_PUBLIC_KEY_FILE = str(key), ""
    settings.AUDIT_CHECKPOINT_DIR = str(workdir / "checkpoints")
    settings.AUDIT_CHECKPOINT_URL, settings.AUDIT_CHECKPOINT_EMAILS = "", []
    env = {
        **os.environ,
        "AUDIT_SIGNING_KEY_FILE": settings.AUDIT_SIGNING_KEY_FILE,
        "AUDIT_PUBLIC_KEY_FILE": "",
        "AUDIT_CHECKPOINT_DIR": settings.AUDIT_CHECKPOINT_DIR,
        "AUDIT_CHECKPOINT_URL": "",
        "AUDIT_CHECKPOINT_EMAILS": "",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    # What any run of verify.py pays before it reads a byte: the interpreter and its imports.
    startup, _rss, _printed = _run_measured(
        [sys.executable, "-c", "import argparse, json, zipfile, cryptography.hazmat.primitives.asymmetric.ed25519"],
        env,
        workdir,
    )
    points = []
    for number, shape in enumerate(bench.sizes["evidence_chains"]):
        root, deliveries = _build_chain(bench, shape, "evidence", offset=40_000 + number * 7_919)
        _sign_everything(root)
        root.refresh_from_db()
        started = time.perf_counter()
        checkpoint_write()
        checkpoint_seconds = time.perf_counter() - started
        out = workdir / f"chain-{deliveries}.zip"
        export_seconds, export_rss, printed = _run_measured(
            [sys.executable, "manage.py", "export_evidence", root.number, str(out)], env, workdir
        )
        counts = re.search(r"(\d+) deliveries, (\d+) receipts, (\d+) events", printed)
        verify_seconds, verify_rss, verified = _run_measured([sys.executable, str(VERIFIER), str(out)], env, workdir)
        if not verified.startswith("核验通过 ok"):
            raise RuntimeError(f"verify.py: {verified[:500]}")
        events = int(counts.group(3))
        point = {
            "deliveries": int(counts.group(1)),
            "receipts": int(counts.group(2)),
            "events": events,
            "checkpoint_seconds": round(checkpoint_seconds, 3),
            "export_seconds": round(export_seconds, 3),
            "export_peak_rss_mb": round(export_rss / 2**20, 1),
            "bundle_bytes": out.stat().st_size,
            "bytes_per_delivery": round(out.stat().st_size / int(counts.group(1)), 1),
            "verify_seconds": round(verify_seconds, 3),
            "verify_events_per_second": round(events / verify_seconds),
            "verify_events_per_second_after_startup": round(events / max(verify_seconds - startup, 1e-6)),
            "verify_peak_rss_mb": round(verify_rss / 2**20, 1),
        }
        points.append(point)
        bench.row(
            f"evidence bundle, {point['deliveries']:,} deliveries, {events:,} events",
            f"export {export_seconds:.2f} s ({point['export_peak_rss_mb']} MB), {point['bundle_bytes'] / 2**20:.1f} MB",
            "",
        )
        bench.row(
            f"verify.py over it ({point['verify_peak_rss_mb']} MB)",
            f"{point['verify_events_per_second']:,} events/s ({verify_seconds:.2f} s; "
            f"{point['verify_events_per_second_after_startup']:,}/s after its {startup:.2f} s start)",
            "≥ 50,000 events/s",
        )
        if not bench.keep:
            out.unlink()
    small, large = points
    # Linear: a fixed part (verify.py, the key, the checkpoint, README) and so many bytes a delivery.
    per_delivery = (large["bundle_bytes"] - small["bundle_bytes"]) / (large["deliveries"] - small["deliveries"])
    growth = {
        "deliveries": round(large["deliveries"] / small["deliveries"], 2),
        "bytes": round(large["bundle_bytes"] / small["bundle_bytes"], 2),
        "bytes_per_added_delivery": round(per_delivery, 1),
        "fixed_bytes": round(small["bundle_bytes"] - per_delivery * small["deliveries"]),
    }
    bench.row(
        "bundle growth, large / small",
        f"{growth['bytes']}x bytes for {growth['deliveries']}x deliveries: "
        f"{growth['fixed_bytes'] / 1024:.0f} KiB + {per_delivery:.0f} B a delivery",
        "linear",
    )
    return {
        "points": points,
        "growth": growth,
        "verify_startup_seconds": round(startup, 3),
        **{f"large_{key}": value for key, value in large.items()},
    }


def importing(bench: Bench) -> dict:
    """The importer's speed by input form (documents a second: the corpus's texts; a notice printed
    as PDF and as OFD; seconds a scanned page takes in OCR), and its accuracy on the corpus."""
    import pypdfium2

    from documents.importing import import_bytes
    from documents.importing.evaluation import corpus_documents, evaluate
    from documents.ofd import write_ofd
    from documents.rendering import render_pdf
    from tests.documents import specimens

    print("importing: text, PDF, OFD and scans through import_bytes", flush=True)
    corpus = ROOT / "tests" / "documents" / "corpus"
    texts = [(source.read_bytes(), source.name) for _name, source, _expected in corpus_documents(corpus)]
    notice = specimens.notice(bench.world)
    pdf, ofd = render_pdf(notice, enclosures=[]), write_ofd(notice, enclosures=[])

    def per_second(files: list[tuple[bytes, str]], rounds: int) -> float:
        started = time.perf_counter()
        for _ in range(rounds):
            for data, name in files:
                import_bytes(data, name=name)
        return round(rounds * len(files) / (time.perf_counter() - started), 1)

    # A scan of the notice's first page: drawn at 200 dpi, saved as a PDF of that image alone.
    with pypdfium2.PdfDocument(pdf) as document:
        page = document[0].render(scale=200 / 72).to_pil().convert("RGB")
    scan = io.BytesIO()
    page.save(scan, format="PDF", resolution=200)
    started = time.perf_counter()
    scans = 3
    for _ in range(scans):
        import_bytes(scan.getvalue(), name="scan.pdf")
    accuracy = evaluate(corpus).as_json()
    result = {
        "text_per_second": per_second(texts, 3),
        "pdf_per_second": per_second([(pdf, "notice.pdf")], 10),
        "ofd_per_second": per_second([(ofd, "notice.ofd")], 10),
        "scan_seconds_per_page": round((time.perf_counter() - started) / scans, 2),
        "corpus_documents": len(texts),
        "corpus_accuracy": accuracy["accuracy"]["accuracy"],
        "corpus_fields": {name: tally["accuracy"] for name, tally in accuracy["fields"].items()},
    }
    bench.row("import: text documents a second (corpus)", f"{result['text_per_second']}")
    bench.row("import: PDF documents a second (2 pages)", f"{result['pdf_per_second']}")
    bench.row("import: OFD documents a second (2 pages)", f"{result['ofd_per_second']}")
    bench.row("import: seconds a scanned page (OCR, 200 dpi)", f"{result['scan_seconds_per_page']}")
    bench.row("import: fields right on the corpus", f"{result['corpus_accuracy']:.1%}", "≥ 95%")
    return result
