"""公文交换 end to end (issue 17): the seed's chain across three installations, each with its own
database, Redis, key, web server, worker and beat, on networks of their own
(tests/exchange/installations.py): 组织部 on A; 教育工委 and 内蒙古大学党委 on B; 内蒙古工业大学党委 on C.

组织部 sends a 特提 to 教育工委, which signs for it and forwards it to both universities: the cover,
enclosing the original unchanged, crosses to C while the link between B and C is cut, and B's
worker is killed meanwhile. Every unit signs for what it received, and every installation then
sends every message (consignments, receipts) a second time. Files travel ahead in chunks, resumed
after the cut. Then every unit has exactly one
delivery, every receipt arrived back exactly once, the digests are equal on every installation that
holds the document, and each audit chain verifies. Last, 组织部 recalls the original: the recall
goes to B, down B's own chain, and on to C.
"""

import json

import pytest

from tests.exchange.installations import Installation, Link, Wire, namespaces_allowed
from tests.worker import wait_until

pytestmark = [pytest.mark.fault]

REGION, ZZB, JYGW = "内蒙古自治区党委", "内蒙古自治区党委组织部", "自治区教育工委"
IMU, IMUT = "内蒙古大学党委", "内蒙古工业大学党委"
COLLEGE = "内蒙古工业大学计算机学院党委"


class Network:
    """Where each installation reaches each other one, and how the test cuts B–C."""

    def __init__(self, tmp_path) -> None:
        self.links, self.wire, self.made = [], None, []
        try:
            self._make(tmp_path)
        except BaseException:  # what was made before the failure is removed, as remove() would
            for installation in self.made:
                installation.remove()
            for link in self.links:
                link.remove()
            raise

    def _installation(self, *args, **kwargs) -> Installation:
        installation = Installation(*args, **kwargs)
        self.made.append(installation)
        return installation

    def _make(self, tmp_path) -> None:
        if namespaces_allowed():
            link_b, link_c = Link(1), Link(2)
            self.links = [link_b, link_c]
            self.wire = Wire(link_b, link_c, 3)
            self.a = self._installation("A", tmp_path, link=None)
            self.b = self._installation("B", tmp_path, link=link_b, like=self.a)
            self.c = self._installation("C", tmp_path, link=link_c, like=self.a)
            self.address = {
                ("A", "B"): link_b.address,
                ("A", "C"): link_c.address,
                ("B", "A"): link_b.host_address,
                ("C", "A"): link_c.host_address,
                ("B", "C"): self.wire.second_address,
                ("C", "B"): self.wire.first_address,
            }
        else:  # the fallback: loopback addresses of their own; cutting B–C stops C's web server
            self.a = self._installation("A", tmp_path, link=None, bind="127.0.0.2")
            self.b = self._installation("B", tmp_path, link=None, bind="127.0.0.3", like=self.a)
            self.c = self._installation("C", tmp_path, link=None, bind="127.0.0.4", like=self.a)
            bound = {"A": "127.0.0.2", "B": "127.0.0.3", "C": "127.0.0.4"}
            self.address = {(x, y): bound[y] for x in bound for y in bound if x != y}

    def peer(self, of: str, name: str) -> dict:
        """`name` as a peer of installation `of` knows it."""
        installation = {"A": self.a, "B": self.b, "C": self.c}[name]
        return {"name": name, "url": installation.url(self.address[(of, name)]), "key": installation.public_key}

    def cut_b_c(self) -> None:
        if self.wire is not None:
            self.wire.cut()
        else:
            self.c.stop("web")

    def mend_b_c(self) -> None:
        if self.wire is not None:
            self.wire.mend()
        else:
            self.c.start("web")

    def remove(self) -> None:
        for installation in (self.a, self.b, self.c):
            installation.remove()
        for link in self.links:
            link.remove()


@pytest.fixture
def network(tmp_path):
    network = Network(tmp_path)
    try:
        clerk = ["clerk", "signer", "drafter"]
        network.a.call(
            "setup",
            units=[
                {"name": REGION},
                {"name": ZZB, "parent": REGION, "prefixes": ["内组电明字"]},
                {"name": JYGW, "parent": REGION, "prefixes": ["内教工委函"], "peer": "B"},
            ],
            peers=[network.peer("A", "B")],
            people=[
                {"username": "zzb", "unit": ZZB, "roles": clerk},
                {"username": "zzb2", "unit": ZZB, "roles": ["signer"]},
            ],
        )
        network.b.call(
            "setup",
            units=[
                {"name": REGION},
                {"name": ZZB, "parent": REGION, "prefixes": ["内组电明字"], "peer": "A"},
                {"name": JYGW, "parent": REGION, "prefixes": ["内教工委函"]},
                {"name": IMU, "parent": JYGW, "prefixes": ["内大党发"]},
                {"name": IMUT, "parent": JYGW, "prefixes": ["内工大党发"], "peer": "C"},
            ],
            peers=[network.peer("B", "A"), network.peer("B", "C")],
            people=[
                {"username": "jygw", "unit": JYGW, "roles": clerk},
                {"username": "jygw2", "unit": JYGW, "roles": ["signer"]},
                {"username": "imu", "unit": IMU, "roles": ["clerk"]},
            ],
        )
        network.c.call(
            "setup",
            units=[
                {"name": REGION},
                # The original's issuer, known at C through B (the cover's issuer hosts it there).
                {"name": ZZB, "parent": REGION, "prefixes": ["内组电明字"], "peer": "B"},
                {"name": JYGW, "parent": REGION, "prefixes": ["内教工委函"], "peer": "B"},
                {"name": IMUT, "parent": JYGW, "prefixes": ["内工大党发"]},
                {"name": COLLEGE, "parent": IMUT, "prefixes": ["工大计院党发"]},
            ],
            peers=[network.peer("C", "B")],
            people=[
                {"username": "imut", "unit": IMUT, "roles": clerk},
                {"username": "imut2", "unit": IMUT, "roles": ["signer"]},
                {"username": "cs", "unit": COLLEGE, "roles": ["clerk"]},
            ],
        )
        for installation in (network.a, network.b, network.c):
            installation.start()
        yield network
    finally:
        network.remove()


def _deliveries(installation: Installation) -> dict[tuple[str, str], str]:
    return {(row["digest"], row["unit"]): row["state"] for row in installation.call("state")["deliveries"]}


def _until(check, *installations) -> None:
    assert wait_until(check, timeout=90, interval=1), [i.call("state") for i in installations]


def test_the_seed_chain_across_three_installations_exactly_once_through_cuts_kills_and_repeats(network):
    a, b, c = network.a, network.b, network.c
    attachments = {"名单.txt": "各高校联络员名单\n" * 40, "说明.txt": "填报说明\n" * 30}
    original = a.call(
        "issue",
        clerk="zzb",
        unit=ZZB,
        main=[JYGW],
        title="关于做好疫情防控工作的紧急通知",
        urgency="特提",
        attachments=attachments,
    )
    _until(lambda: _deliveries(b).get((original["digest"], JYGW)) == "pending", a, b)
    assert b.call("act", username="jygw", digest=original["digest"], action="sign") == "signed"
    _until(lambda: _deliveries(a).get((original["digest"], JYGW)) == "signed", a, b)

    # The forward crosses to C while B–C is cut, and B's worker dies meanwhile.
    network.cut_b_c()
    cover = b.call("forward", username="jygw", signer="jygw2", digest=original["digest"], main=[IMU, IMUT])
    _until(lambda: any(row[2] >= 2 for row in b.call("state")["sent"]), b)
    b.kill("worker")
    network.mend_b_c()
    b.start("worker")
    _until(lambda: _deliveries(c).get((cover["digest"], IMUT)) == "pending", b, c)

    # The cover encloses the original byte for byte: C holds both, with B's and A's digests, and the
    # original's files (sent in chunks of 64 bytes, across the cut).
    files_a = a.call("state")["files"][original["digest"]]
    assert sorted(name for name, _sha in files_a) == sorted(attachments)
    assert b.call("state")["files"][original["digest"]] == files_a
    assert c.call("state")["files"][original["digest"]] == files_a
    documents_c = c.call("state")["documents"]
    assert documents_c[cover["digest"]]["issuer"] == JYGW
    assert documents_c[original["digest"]] == {"number": original["number"], "issuer": ZZB}
    assert b.call("state")["documents"][original["digest"]] == {"number": original["number"], "issuer": ZZB}

    assert b.call("act", username="imu", digest=cover["digest"], action="sign") == "signed"
    assert c.call("act", username="imut", digest=cover["digest"], action="sign") == "signed"
    _until(lambda: _deliveries(b).get((cover["digest"], IMUT)) == "signed", b, c)
    # The university on C forwards to its college on C, which signs: the tree grows two
    # installations away from A.
    deeper = c.call("forward", username="imut", signer="imut2", digest=cover["digest"], main=[COLLEGE])
    assert c.call("act", username="cs", digest=deeper["digest"], action="sign") == "signed"

    # An auditor on A sees the whole tree, as C reported it to B and B to A, each forward
    # enclosing what it forwards (the digests equal at every hop).
    def tree_at_a() -> list:
        return _shape(a.call("chain", digest=original["digest"]))

    whole = [
        original["number"],
        None,
        original["digest"],
        [
            (
                JYGW,
                "B",
                "signed",
                [
                    [
                        cover["number"],
                        "B",
                        original["digest"],
                        [
                            (IMU, "B", "signed", []),
                            (
                                IMUT,
                                "C",
                                "signed",
                                [[deeper["number"], "C", cover["digest"], [(COLLEGE, "C", "signed", [])]]],
                            ),
                        ],
                    ]
                ],
            )
        ],
    ]
    _until(lambda: tree_at_a() == whole, a, b, c)

    # Every installation sends every message again: each answer is duplicate, nothing changes.
    before = {name: _deliveries(i) for name, i in (("A", a), ("B", b), ("C", c))}
    again = {name: i.call("send_again") for name, i in (("A", a), ("B", b), ("C", c))}
    # A: the consignment to B. B: the consignment to C, the receipt of 教育工委's sign-for to A, and
    # its reports to A (as many as were sent before a newer one replaced them). C: the receipt of
    # 内蒙古工业大学党委's sign-for to B, and its reports to B.
    assert again["A"] == {"consignment": 1, "receipt": 0, "recall": 0, "report": 0}
    assert (again["B"]["consignment"], again["B"]["receipt"], again["B"]["recall"]) == (1, 1, 0)
    assert (again["C"]["consignment"], again["C"]["receipt"], again["C"]["recall"]) == (0, 1, 0)
    assert again["B"]["report"] >= 1
    assert again["C"]["report"] >= 1
    reported = {name: i.call("state")["reports_received"] for name, i in (("A", a), ("B", b))}

    def all_duplicate() -> bool:
        return all(
            {row[3] for row in i.call("state")["sent"]} <= {"duplicate"}
            and {code for _kind, _state, code in i.call("state")["outgoing"]} <= {"duplicate"}
            for i in (a, b, c)
        )

    _until(all_duplicate, a, b, c)
    after = {name: _deliveries(i) for name, i in (("A", a), ("B", b), ("C", c))}
    assert after == before
    # A repeated report is a duplicate: nothing kept twice, and the tree on A is as it was.
    assert {name: i.call("state")["reports_received"] for name, i in (("A", a), ("B", b))} == reported
    assert tree_at_a() == whole
    # Exactly one delivery per unit and document on each installation, A's record of B's unit too.
    assert after["A"] == {(original["digest"], JYGW): "signed"}
    assert after["B"] == {
        (original["digest"], JYGW): "signed",
        (cover["digest"], IMU): "signed",
        (cover["digest"], IMUT): "signed",
    }
    assert after["C"] == {(cover["digest"], IMUT): "signed", (deeper["digest"], COLLEGE): "signed"}
    # Every receipt arrived back exactly once.
    assert a.call("state")["receipt_pairs"] == [[original["digest"], JYGW, "signed"]]
    assert b.call("state")["receipt_pairs"] == [[cover["digest"], IMUT, "signed"]]
    for installation in (a, b, c):
        assert installation.call("state")["audit_intact"]

    # 组织部 recalls: B withdraws its delivery and what its own chain forwarded, and tells C.
    assert a.call("recall", username="zzb", digest=original["digest"], reason="内容有误")["held"] == 1
    _until(lambda: _deliveries(c).get((cover["digest"], IMUT)) == "recalled_signed", a, b, c)
    assert _deliveries(b) == {
        (original["digest"], JYGW): "recalled_signed",
        (cover["digest"], IMU): "recalled_signed",
        (cover["digest"], IMUT): "recalled_signed",
    }
    # C withdrew what its own chain forwarded too, and the tree on A says so, as reported.
    _until(lambda: _deliveries(c).get((deeper["digest"], COLLEGE)) == "recalled_signed", b, c)
    withdrawn = json.loads(json.dumps(whole).replace('"signed"', '"recalled_signed"'))
    _until(lambda: json.loads(json.dumps(tree_at_a())) == withdrawn, a, b, c)
    for installation in (a, b, c):
        assert installation.call("state")["audit_intact"]


def _shape(node: dict) -> list:
    """A chain's JSON as [number, installation, the digest it encloses first or its own, [(unit,
    installation, state, [forwards…])…]]."""
    enclosed = node["encloses"][0]["digest"] if node["encloses"] else node["digest"]
    return [
        node["number"],
        node["installation"],
        enclosed,
        [(d["unit"], d["installation"], d["state"], [_shape(f) for f in d["forwards"]]) for d in node["deliveries"]],
    ]
