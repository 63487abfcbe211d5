"""公文交换 end to end (issue 17): two installations, each with its own database, Redis, key, web
server, worker and beat, on networks of their own (tests/exchange/installations.py). 组织部 on A
issues to 教育工委 and 内蒙古大学党委 on B. While it runs, the test cuts the link between them, kills
A's worker, and has A send every consignment a second time; then every unit has exactly one
delivery, each document the same digest on both, and each installation's audit chain verifies.

Then B's clerks sign for one delivery and return another: the receipts travel back, and A's record
of those deliveries moves as if the units were its own. Last, A recalls the second document, and
the recall withdraws it at B. (The third installation of the seed's chain, forwarding onward, comes
with the rest of issue 17.)"""

import pytest

from tests.exchange.installations import Installation, Link, namespaces_allowed
from tests.worker import wait_until

pytestmark = [pytest.mark.fault]

REGION, ZZB, JYGW, IMU = "内蒙古自治区党委", "内蒙古自治区党委组织部", "自治区教育工委", "内蒙古大学党委"


@pytest.fixture
def installations(tmp_path):
    made, links = [], []
    try:
        if namespaces_allowed():
            links = [Link(1)]
            a = Installation("A", tmp_path, link=None, address=links[0].host_address)
            b = Installation("B", tmp_path, link=links[0], address=links[0].address)
        else:  # the fallback: loopback addresses of their own
            a = Installation("A", tmp_path, link=None, address="127.0.0.2")
            b = Installation("B", tmp_path, link=None, address="127.0.0.3")
        made = [a, b]
        a.call(
            "setup",
            units=[
                {"name": REGION},
                {"name": ZZB, "parent": REGION, "prefixes": ["内组电明字"]},
                {"name": JYGW, "parent": REGION, "prefixes": ["内教工委函"], "peer": "B"},
                {"name": IMU, "parent": JYGW, "peer": "B"},
            ],
            peers=[{"name": "B", "url": b.url, "key": b.public_key}],
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
                {"name": JYGW, "parent": REGION, "prefixes": ["内教工委函"]},
                {"name": IMU, "parent": JYGW, "prefixes": ["内大党发"]},
            ],
            peers=[{"name": "A", "url": a.url, "key": a.public_key}],
            people=[
                {"username": "jygw", "unit": JYGW, "roles": ["clerk", "signer", "drafter"]},
                {"username": "imu", "unit": IMU, "roles": ["clerk"]},
            ],
        )
        for installation in made:
            installation.start()
        yield a, b, (links[0] if links else None)
    finally:
        for installation in made:
            installation.remove()
        for link in links:
            link.remove()


def _settled(a: Installation, b: Installation, sent: int) -> tuple[dict, dict]:
    states = {}

    def done() -> bool:
        states["a"], states["b"] = a.call("state"), b.call("state")
        return len(states["a"]["sent"]) == sent and all(row[1] == "accepted" for row in states["a"]["sent"])

    assert wait_until(done, timeout=90, interval=1), states
    return states["a"], states["b"]


def test_consignments_cross_a_cut_link_a_killed_worker_and_a_second_sending_exactly_once(installations):
    a, b, link = installations
    first = a.call("issue", clerk="zzb", unit=ZZB, main=[JYGW, IMU], title="关于做好防汛工作的紧急通知", urgency="特提")
    _settled(a, b, sent=1)
    # The link is cut before the second is issued: its sends fail and are retried.
    if link is not None:
        link.cut()
    else:
        b.stop("web")
    second = a.call("issue", clerk="zzb", unit=ZZB, main=[JYGW], title="关于报送统计数据的通知", urgency="普通")
    assert wait_until(lambda: any(row[2] >= 2 for row in a.call("state")["sent"]), timeout=60, interval=1)
    # A's worker dies mid-way; a new one (and the beat's sweep) takes over once the link is back.
    a.kill("worker")
    if link is not None:
        link.mend()
    else:
        b.start("web")
    a.start("worker")
    state_a, state_b = _settled(a, b, sent=2)
    attempts = {row[0]: row[2] for row in state_a["sent"]}
    assert sorted(attempts.values())[0] == 1  # the first, before the cut
    assert sorted(attempts.values())[1] >= 3  # the second: refused by the cut link at least twice
    assert {row[3] for row in state_a["sent"]} == {"accepted"}
    # Every consignment sent a second time: B answers duplicate and creates nothing.
    assert a.call("send_again") == 2
    assert wait_until(lambda: {row[3] for row in a.call("state")["sent"]} == {"duplicate"}, timeout=60, interval=1), (
        a.call("state")
    )

    state_a, state_b = a.call("state"), b.call("state")
    assert {row[0]: row[2] for row in state_a["sent"]} == {c: n + 1 for c, n in attempts.items()}
    for issued in (first, second):
        # The same document, byte for byte: the digest B recomputed is A's.
        assert state_b["documents"][issued["digest"]] == {"number": issued["number"], "issuer": ZZB}
    assert sorted(state_b["received"]) == sorted(row[0] for row in state_a["sent"])
    # Exactly one delivery per unit and document on B, routed by B's worker; A keeps its own record
    # of each external unit's delivery.
    on_b = sorted((row["digest"], row["unit"]) for row in state_b["deliveries"])
    assert on_b == sorted([(first["digest"], JYGW), (first["digest"], IMU), (second["digest"], JYGW)])
    on_a = sorted((row["digest"], row["unit"]) for row in state_a["deliveries"])
    assert on_a == on_b
    assert {row["state"] for row in state_b["deliveries"]} == {"pending"}
    for state in (state_a, state_b):
        assert state["audit_intact"], state

    # Receipts back: 教育工委 signs for the telegram, 内蒙古大学党委 returns it.
    assert b.call("act", username="jygw", digest=first["digest"], action="sign") == "signed"
    assert b.call("act", username="imu", digest=first["digest"], action="return") == "returned"

    def moved() -> bool:
        states = {(row["digest"], row["unit"]): row["state"] for row in a.call("state")["deliveries"]}
        return states[(first["digest"], JYGW)] == "signed" and states[(first["digest"], IMU)] == "returned"

    assert wait_until(moved, timeout=60, interval=1), (a.call("state"), b.call("state"))
    state_a, state_b = a.call("state"), b.call("state")
    assert {row["digest"]: row["state"] for row in state_a["deliveries"] if row["unit"] == JYGW} == {
        first["digest"]: "signed",
        second["digest"]: "pending",
    }
    # A recall travels the other way and withdraws at B.
    assert a.call("recall", username="zzb", digest=second["digest"], reason="内容有误")["withdrawn"] == 1

    def withdrawn() -> bool:
        return {(r["digest"], r["unit"]): r["state"] for r in b.call("state")["deliveries"]}[
            (second["digest"], JYGW)
        ] == "recalled"

    assert wait_until(withdrawn, timeout=60, interval=1), (a.call("state"), b.call("state"))
    state_a, state_b = a.call("state"), b.call("state")
    for state in (state_a, state_b):
        assert state["audit_intact"], state
