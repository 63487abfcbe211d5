"""make bench-scale, load: 50 simulated clerks against gunicorn, each signing for its deliveries,
opening its inbox and searching, for a bounded time (issue 18).

The data are the lists section's (bench/scale_data.py) at 10^5: five of the clerks are the clerk of
the unit holding 10^5 deliveries (sharing its pending ones), the other 45 clerks of units of the
pool, each with its national notices and a few other deliveries. Each clerk, in a loop: opens 收文
(待签收), signs for its next pending delivery through POST /api/deliveries/<id>/sign-for (a bearer
token: the client a unit's own system would use; the page's form calls the same service), opens
全文检索 (/search/) for a two-character word and for a part of a number, pausing between
actions as a person does: a think time drawn uniformly from THINK_SECONDS (`SCALE_LOAD_THINK`,
e.g. "0,0" for none: the clients then press as fast as the server answers and measure its
saturation instead). gunicorn runs 4 sync workers on this machine's two cores, which the 50 client
threads (in the bench's process) share.

Afterwards: every sign-for answered 200 must have its delivery signed with exactly one receipt,
whose id is the one answered ("lost" counts the others), and no answer may be a 5xx.

Each page has two times: the client's (from sending the request to reading the whole answer: what a
clerk waits) and the server's (gunicorn's access log, %(M)s: from the worker taking the request to
its answer). Their difference is the wait for a free worker and for the client threads' own turn on
the cores they share with the server and PostgreSQL.
"""

import http.client
import json
import os
import random
import statistics
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.test import Client

from bench.scale_data import ListsData
from tests.worker import Gunicorn
from workflow.api import api_token_for
from workflow.models import Delivery, Receipt

CLERKS = 50
BIG_INBOX_CLERKS = 5  # of the 50, those of the unit holding 10^5 deliveries
SIZE, QUICK_SIZE = 100_000, 1_000
SECONDS, QUICK_SECONDS = 60, 10
THINK_SECONDS = (0.5, 3.0)  # a clerk's pause between two actions, drawn uniformly
TARGET_MS = {"inbox": 150, "search": 100, "number search": 100}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def _session_cookie(user) -> str:
    """A signed-in session of `user` (as a login leaves it), for the client's Cookie header."""
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies["sessionid"].value


class Clerk:
    """One simulated clerk: its session, its token and the queue of deliveries it signs for."""

    def __init__(self, user, pending: list[int], lock: threading.Lock):
        self.cookie = f"sessionid={_session_cookie(user)}"
        self.token = api_token_for(user)
        self.pending = pending  # shared by the clerks of one unit
        self.lock = lock

    def next_delivery(self) -> int | None:
        with self.lock:
            return self.pending.pop() if self.pending else None


def _clerks(data: ListsData) -> list[Clerk]:
    user_model = get_user_model()
    big_pending = list(
        Delivery.objects.filter(unit=data.inbox_unit, state=Delivery.State.PENDING).values_list("id", flat=True)
    )
    big_lock = threading.Lock()
    clerks = [Clerk(data.people.inbox_clerk, big_pending, big_lock) for _ in range(BIG_INBOX_CLERKS)]
    pool = dict(zip(data.pool.unit_ids, data.pool.clerk_ids, strict=True))
    for unit_id in data.pool.unit_ids[: CLERKS - BIG_INBOX_CLERKS]:
        pending = list(
            Delivery.objects.filter(unit_id=unit_id, state=Delivery.State.PENDING).values_list("id", flat=True)
        )
        clerks.append(Clerk(user_model.objects.get(pk=pool[unit_id]), pending, threading.Lock()))
    return clerks


def _hammer(
    port: int, clerks: list[Clerk], seconds: float, number_fragment: str, think: tuple[float, float]
) -> tuple[dict, dict, float]:
    """Run every clerk's loop until `seconds` have passed: (ms per page, answers per status, seconds)."""
    timings: dict[str, list[float]] = {"inbox": [], "sign for": [], "search": [], "number search": []}
    statuses: dict[int, int] = {}
    answered: dict[int, list[int]] = {}  # delivery id -> receipt ids answered
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def request(connection, name: str, method: str, path: str, headers: dict) -> tuple[int, bytes]:
        started = time.perf_counter()
        try:
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            status, body = response.status, response.read()
        except (OSError, http.client.HTTPException):
            status, body = 0, b""
            connection.close()
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            timings[name].append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
        return status, body

    def run(clerk: Clerk, rng: random.Random) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        page_headers = {"Cookie": clerk.cookie}

        def pause() -> None:
            time.sleep(rng.uniform(*think))

        while time.monotonic() < deadline:
            request(connection, "inbox", "GET", "/?tab=pending", page_headers)
            pause()
            delivery_id = clerk.next_delivery()
            if delivery_id is not None:
                status, body = request(
                    connection,
                    "sign for",
                    "POST",
                    f"/api/deliveries/{delivery_id}/sign-for",
                    {"Authorization": f"Bearer {clerk.token}"},
                )
                if status == 200:
                    with lock:
                        answered.setdefault(delivery_id, []).append(json.loads(body)["receipt"]["id"])
                pause()
            request(connection, "search", "GET", "/search/?" + urlencode({"q": "基层"}), page_headers)
            pause()
            request(connection, "number search", "GET", "/search/?" + urlencode({"q": number_fragment}), page_headers)
            pause()
        connection.close()

    # Seeded per clerk: the same pauses every run (not for secrets).
    rngs = [random.Random(n) for n in range(len(clerks))]  # noqa: S311
    threads = [threading.Thread(target=run, args=(clerk, rng)) for clerk, rng in zip(clerks, rngs, strict=True)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return timings, {"statuses": statuses, "answered": answered}, elapsed


ACCESS_FORMAT = "%(m)s %(U)s %(q)s %(s)s %(M)s"  # method, path, query, status, milliseconds


def _page_of(method: str, path: str, query: str) -> str | None:
    """The page of `_hammer`'s timings an access log line is for (None for another request)."""
    if method == "POST" and path.endswith("/sign-for"):
        return "sign for"
    if path == "/":
        return "inbox"
    if path == "/search/":
        return "search" if "q=%E5%9F%BA%E5%B1%82" in query else "number search"
    return None


def _server_timings(lines: list[str]) -> dict[str, list[float]]:
    """Milliseconds per page from gunicorn's access log (ACCESS_FORMAT), as the server took them."""
    timings: dict[str, list[float]] = {"inbox": [], "sign for": [], "search": [], "number search": []}
    for line in lines:
        fields = line.split(" ")
        if len(fields) != 5:
            continue
        method, path, query, _status, milliseconds = fields
        page = _page_of(method, path, query)
        if page is not None and milliseconds.isdigit():
            timings[page].append(float(milliseconds))
    return timings


def _lost(answered: dict[int, list[int]]) -> tuple[int, int]:
    """(lost, duplicated): sign-fors answered 200 whose delivery is not signed with that one receipt,
    and deliveries with more than one receipt id answered."""
    receipts = dict(Receipt.objects.filter(delivery_id__in=list(answered)).values_list("delivery_id", "id"))
    signed = set(Delivery.objects.filter(pk__in=list(answered), signed_at__isnull=False).values_list("id", flat=True))
    lost = sum(
        1 for delivery_id, ids in answered.items() if delivery_id not in signed or receipts.get(delivery_id) != ids[0]
    )
    duplicated = sum(1 for ids in answered.values() if len(set(ids)) > 1)
    return lost, duplicated


def run(*, quick: bool, workdir: Path) -> dict:
    size, seconds = (QUICK_SIZE, QUICK_SECONDS) if quick else (SIZE, SECONDS)
    size = int(os.environ.get("SCALE_LOAD_SIZE", size))
    print(f"load: {CLERKS} clerks for {seconds} s against gunicorn, over the lists' data at {size:,}", flush=True)
    data = ListsData(label="load", largest=size)
    print(f"  grown to {size:,} in {data.grow(size):.0f} s", flush=True)
    clerks = _clerks(data)
    workers = int(os.environ.get("BENCH_WEB_WORKERS", "4"))
    access_log = workdir / "load-access.log"
    server = Gunicorn(
        log_dir=workdir,
        workers=workers,
        extra_env={"DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING", "CONN_MAX_AGE": "60"},
        options=("--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT),
    )
    fragment = f"〔{data.template.number_year}〕"
    think = tuple(float(x) for x in os.environ.get("SCALE_LOAD_THINK", ",".join(map(str, THINK_SECONDS))).split(","))
    try:
        _hammer(server.port, clerks[:10], 2, fragment, (0, 0))  # warm the workers up (their first requests)
        warmed = len(access_log.read_text(encoding="utf-8").splitlines())
        timings, outcome, elapsed = _hammer(server.port, clerks, seconds, fragment, think)
    finally:
        server.stop()
    server_timings = _server_timings(access_log.read_text(encoding="utf-8").splitlines()[warmed:])
    lost, duplicated = _lost(outcome["answered"])
    statuses = outcome["statuses"]
    requests = sum(statuses.values())
    pages = {
        name: {
            "requests": len(values),
            "p95_ms": round(p95(values), 1),
            "median_ms": round(statistics.median(values), 1),
            "per_second": round(len(values) / elapsed, 1),
            "server_p95_ms": round(p95(server_timings[name]), 1) if server_timings[name] else None,
            "server_median_ms": round(statistics.median(server_timings[name]), 1) if server_timings[name] else None,
        }
        for name, values in timings.items()
        if values
    }
    for name, figures in pages.items():
        target = TARGET_MS.get(name)
        verdict = "" if target is None else ("ok" if figures["p95_ms"] <= target else "OVER")
        print(
            f"  {name:<20} {figures['requests']:>6} requests  {figures['per_second']:6.1f}/s  "
            f"p95 {figures['p95_ms']:7.1f} ms  median {figures['median_ms']:6.1f} ms  {verdict}  "
            f"(server: p95 {figures['server_p95_ms']} ms, median {figures['server_median_ms']} ms)"
        )
    server_errors = sum(count for status, count in statuses.items() if status >= 500 or status == 0)
    print(
        f"  {requests:,} requests in {elapsed:.0f} s: {requests / elapsed:.0f}/s; {len(outcome['answered']):,} "
        f"sign-fors, {lost} lost, {duplicated} duplicated, {server_errors} 5xx or failed"
    )
    return {
        "pages": pages,
        "per_second": round(requests / elapsed, 1),
        "requests": requests,
        "seconds": round(elapsed, 1),
        "clerks": CLERKS,
        "sign_fors": len(outcome["answered"]),
        "lost": lost,
        "duplicated": duplicated,
        "server_errors": server_errors,
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "size": size,
        "server": f"gunicorn, {workers} sync workers, loopback, CONN_MAX_AGE=60; {CLERKS} client threads",
        "think_seconds": list(think),
    }
