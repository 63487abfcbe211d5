"""make bench-scale, lists: the inbox (each tab), the outbox, the chains list and the notifications
at 10^3, 10^4 and 10^5 rows (issue 18: p95 ≤ 150 ms at 10^5).

The data (bench/scale_data.py) grows by COPY from one size to the next; at each size every page is
opened many times through Django's test client, in this process, as the person it is for (the
middleware, the session, the template: everything but the socket), and its p95 is taken. The size
is what the page stands on: the inbox unit's deliveries, the auditor's documents, the clerk's
notifications, and the outbox's dispatches with three national notices to that many units each.
"""

import os
import statistics
import time
from pathlib import Path

from django.test import Client
from django.urls import reverse

from bench.scale_data import ListsData

SIZES = [1_000, 10_000, 100_000]
QUICK_SIZES = [100, 1_000]
RUNS, QUICK_RUNS = 60, 10
SECONDS_PER_PAGE = 40  # a slow page stops earlier (but after at least 10 runs)
TARGET_MS = 150
TABS = ("pending", "signed", "completed", "recalled", "all")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def _client(user) -> Client:
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    return client


def pages(data: ListsData) -> dict[str, tuple[Client, str]]:
    """Each measured page: the client of the person it is for, and its URL."""
    clerk, issuer, auditor = (
        _client(data.people.inbox_clerk),
        _client(data.people.issuer_clerk),
        _client(data.people.auditor),
    )
    return {
        **{f"inbox {tab}": (clerk, reverse("inbox", query={"tab": tab})) for tab in TABS},
        "outbox": (issuer, reverse("outbox")),
        "chains list": (auditor, reverse("chains")),
        "notifications": (clerk, reverse("notifications")),
    }


def measure(client: Client, url: str, *, runs: int) -> list[float]:
    """Milliseconds of each opening (after one warm-up), `runs` of them or as many as fit."""
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code}")
    timings: list[float] = []
    deadline = time.monotonic() + SECONDS_PER_PAGE
    while len(timings) < runs and (len(timings) < 10 or time.monotonic() < deadline):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return timings


def run(*, quick: bool, workdir: Path) -> dict:
    sizes, runs = (QUICK_SIZES, QUICK_RUNS) if quick else (SIZES, RUNS)
    if os.environ.get("SCALE_LISTS_SIZES"):  # one size alone, to look at its plans (with --keep)
        sizes = [int(size) for size in os.environ["SCALE_LISTS_SIZES"].split(",")]
    print(f"lists: inbox, outbox, chains list, notifications at {', '.join(f'{s:,}' for s in sizes)}", flush=True)
    data = ListsData(label="lists", largest=max(sizes))
    measured: dict[str, list[dict]] = {}
    for size in sizes:
        seconds = data.grow(size)
        print(f"  grown to {size:,} in {seconds:.0f} s", flush=True)
        for name, (client, url) in pages(data).items():
            timings = measure(client, url, runs=runs)
            point = {"size": size, "p95_ms": round(p95(timings), 1), "median_ms": round(statistics.median(timings), 1)}
            measured.setdefault(name, []).append({**point, "runs": len(timings)})
            verdict = "" if size != max(sizes) else ("ok" if point["p95_ms"] <= TARGET_MS else "OVER")
            figures = f"p95 {point['p95_ms']:7.1f} ms  median {point['median_ms']:7.1f} ms"
            print(f"  {name:<18} {size:>8,}  {figures}  {verdict}")
    # The inbox's curve is its slowest tab at each size; every tab is in "pages".
    inbox = [
        max((measured[f"inbox {tab}"][index] for tab in TABS), key=lambda point: point["p95_ms"])
        for index in range(len(sizes))
    ]
    curves = {
        "inbox": [{"size": p["size"], "p95_ms": p["p95_ms"]} for p in inbox],
        **{
            name: [{"size": p["size"], "p95_ms": p["p95_ms"]} for p in measured[name]]
            for name in ("outbox", "chains list", "notifications")
        },
    }
    return {
        "curves": curves,
        "pages": measured,
        "target_ms": TARGET_MS,
        "how": "Django test client in the bench process, one person per page, p95 of up to "
        f"{runs} openings after a warm-up; sizes: deliveries in the inbox, documents in the chains "
        "list, notifications, dispatches in the outbox (plus three national notices to that many units)",
    }
