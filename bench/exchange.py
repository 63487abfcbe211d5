"""make bench, section "exchange" (issue 17): two installations (tests/exchange/installations.py:
each its own database, Redis, key, gunicorn, worker and beat; B in a network namespace of its own
where the machine allows) and the consignments between them.

- consignments per second: A issues COUNT routine documents to a unit of B's, one after another; from
  the first issue to the last one B accepted (B's ReceivedConsignment.received_at), and the same
  over the sends alone (from the first send's attempt).
- a 特提 across a peer: from its issue at A (Document.issued_at) to its delivery at B routed by B's
  worker (Delivery.created_at), idle, and right behind the routine backlog (issued as the backlog's
  last consignments are still being sent). Both clocks are the machine's.
"""

import statistics
import time
from pathlib import Path

import psycopg

from tests.exchange.installations import SOCKET_DIR, Installation, Link, namespaces_allowed
from tests.worker import wait_until

ZZB, JYGW, REGION = "内蒙古自治区党委组织部", "自治区教育工委", "内蒙古自治区党委"
FULL = {"count": 300, "flash": 10}
QUICK = {"count": 20, "flash": 3}


def _query(installation: Installation, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(f"host={SOCKET_DIR} user=postgres dbname={installation.database}") as conn:
        return conn.execute(sql, params).fetchall()


def _pair(workdir: Path):
    links = [Link(7)] if namespaces_allowed() else []
    try:
        return _installations(workdir, links)
    except BaseException:
        for link in links:
            link.remove()
        raise


def _installations(workdir: Path, links: list):
    if links:
        a = Installation("A", workdir, link=None)
        b = Installation("B", workdir, link=links[0], like=a)
        a_url, b_url = a.url(links[0].host_address), b.url(links[0].address)
    else:  # loopback addresses of their own
        a = Installation("A", workdir, link=None, bind="127.0.0.2")
        b = Installation("B", workdir, link=None, bind="127.0.0.3", like=a)
        a_url, b_url = a.url("127.0.0.2"), b.url("127.0.0.3")
    a.call(
        "setup",
        units=[
            {"name": REGION},
            {"name": ZZB, "parent": REGION, "prefixes": ["内组电明字"]},
            {"name": JYGW, "parent": REGION, "peer": "B"},
        ],
        peers=[{"name": "B", "url": b_url, "key": b.public_key}],
        people=[
            {"username": "zzb", "unit": ZZB, "roles": ["clerk", "signer", "drafter"]},
            {"username": "zzb_leader", "unit": ZZB, "roles": ["signer"]},
        ],
    )
    b.call(
        "setup",
        units=[
            {"name": REGION},
            {"name": ZZB, "parent": REGION, "prefixes": ["内组电明字"], "peer": "A"},
            {"name": JYGW, "parent": REGION},
        ],
        peers=[{"name": "A", "url": a_url, "key": a.public_key}],
        people=[{"username": "jygw", "unit": JYGW, "roles": ["clerk"]}],
    )
    for installation in (a, b):
        installation.start()
    return a, b, links


def _received(b: Installation) -> int:
    return _query(b, "SELECT count(*) FROM exchange_receivedconsignment")[0][0]


def _flash_latency(a: Installation, b: Installation, digests: list[str]) -> list[float]:
    """Seconds from each document's issue at A to its delivery at B, once all are there."""
    wait_until(
        lambda: (
            _query(
                b,
                "SELECT count(*) FROM workflow_delivery d JOIN documents_document x ON x.id = d.document_id "
                "WHERE x.digest = ANY(%s)",
                (digests,),
            )[0][0]
            == len(digests)
        ),
        timeout=120,
        interval=0.5,
    )
    issued = dict(_query(a, "SELECT digest, issued_at FROM documents_document WHERE digest = ANY(%s)", (digests,)))
    delivered = dict(
        _query(
            b,
            "SELECT x.digest, d.created_at FROM workflow_delivery d JOIN documents_document x ON x.id = d.document_id "
            "WHERE x.digest = ANY(%s)",
            (digests,),
        )
    )
    return [(delivered[d] - issued[d]).total_seconds() for d in digests]


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(0.95 * len(values)))], 3)


def run(*, quick: bool, workdir: Path) -> dict:
    sizes = QUICK if quick else FULL
    a, b, links = _pair(workdir)
    try:
        idle = []
        for n in range(sizes["flash"]):
            idle.append(
                a.call(
                    "issue", clerk="zzb", unit=ZZB, main=[JYGW], title=f"关于防汛的紧急电报（空闲{n}）", urgency="特提"
                )["digest"]
            )
        idle_latency = _flash_latency(a, b, idle)
        before = _received(b)
        started = time.monotonic()
        a.call(
            "issue_many",
            clerk="zzb",
            unit=ZZB,
            main=[JYGW],
            count=sizes["count"],
            urgency="普通",
            title="关于报送材料的通知",
        )
        issued_in = time.monotonic() - started
        behind = [
            a.call("issue", clerk="zzb", unit=ZZB, main=[JYGW], title=f"关于防汛的紧急电报（积压{n}）", urgency="特提")[
                "digest"
            ]
            for n in range(sizes["flash"])
        ]
        wait_until(lambda: _received(b) - before >= sizes["count"] + sizes["flash"], timeout=600, interval=0.5)
        elapsed = time.monotonic() - started
        behind_latency = _flash_latency(a, b, behind)
        first_attempt, last_accept = _query(
            a,
            "SELECT min(last_attempt_at), max(answered_at) FROM exchange_outgoingconsignment o "
            "JOIN workflow_dispatch d ON d.id = o.dispatch_id JOIN documents_document x ON x.id = d.document_id "
            "WHERE x.urgency = '普通'",
        )[0]
        sending = (last_accept - first_attempt).total_seconds()
        figures = {
            "consignments": sizes["count"],
            "consignments_per_second": round(sizes["count"] / elapsed, 1),
            "consignments_per_second_sending": round(sizes["count"] / sending, 1) if sending > 0 else None,
            "issue_seconds": round(issued_in, 1),
            "flash_idle_p95_seconds": _p95(idle_latency),
            "flash_idle_median_seconds": round(statistics.median(idle_latency), 3),
            "flash_behind_backlog_p95_seconds": _p95(behind_latency),
            "flash_behind_backlog_median_seconds": round(statistics.median(behind_latency), 3),
            "network_namespaces": bool(links),
        }
        rate, sending_rate = figures["consignments_per_second"], figures["consignments_per_second_sending"]
        idle_p95, behind_p95 = figures["flash_idle_p95_seconds"], figures["flash_behind_backlog_p95_seconds"]
        print(
            f"  exchange: {sizes['count']} consignments A→B in {elapsed:.1f} s ({rate}/s; sending alone "
            f"{sending_rate}/s); 特提 across: idle p95 {idle_p95} s, behind the backlog p95 {behind_p95} s",
            flush=True,
        )
        return figures
    finally:
        for installation in (a, b):
            installation.remove()
        for link in links:
            link.remove()
