"""公文交换 in the evidence bundle (issue 17): a chain that crossed installations carries every
message its peers sent that its events took in, as signed, with the peers' keys, and verify.py holds
each to its peer's signature and to the event that took it in."""

import json
import re

import pytest

from exchange.models import ReceivedReport
from tests.exchange.test_receipts import _post as _post_receipt
from tests.exchange.test_receipts import _receipt
from tests.exchange.test_reports import _post, _report, _tree, sent_to_b  # noqa: F401 (a fixture)
from tests.workflow.test_evidence import (  # noqa: F401 (key is a fixture)
    _entries,
    _export,
    _failure,
    _flips,
    _positions,
    _verify,
    _with_manifest,
    _write,
    key,
)
from workflow.checkpoints import key_id


@pytest.fixture
def crossed(client, world, key, sent_to_b):  # noqa: F811
    """A's document to education (on B) and the university (here): B's receipt of education's
    sign-for, then B's report of the tree it forwarded on."""
    _peer, b_key, document, outgoing = sent_to_b
    signed = _receipt(outgoing, document, world.education, "signed")
    assert _post_receipt(client, b_key, signed).status_code == 201
    report = _report(outgoing, world.education, _tree(document))
    assert _post(client, b_key, report).status_code == 201
    return document, b_key, signed, report


def test_the_bundle_holds_each_message_as_its_peer_signed_it_and_verifies(crossed, tmp_path):
    document, b_key, signed, report = crossed
    bundle = _export(document, tmp_path / "evidence.zip")
    entries = _entries(bundle)
    lines = [json.loads(line) for line in entries["exchange.jsonl"].splitlines()]
    assert [(line["type"], line["id"], line["peer"]) for line in lines] == [
        ("receipt", signed["id"], "B"),
        ("report", report["id"], "B"),
    ]
    assert lines[1]["envelope"].encode() == bytes(ReceivedReport.objects.get().envelope)
    [peer] = [json.loads(line) for line in entries["peers.jsonl"].splitlines()]
    assert (peer["name"], peer["key_id"]) == ("B", key_id(b_key.public_key()))
    assert json.loads(entries["manifest.json"])["counts"]["messages"] == 2
    code, out = _verify(bundle)
    assert code == 0, out
    assert (
        "公文交换：对端系统的 2 件消息（回执 1，转发情况报告 1），每件都用对端公钥核验了签名，并与接收它的审计事件对上"
        in out
    )
    assert f"  对端系统 B 的公钥指纹：{key_id(b_key.public_key())}（请与该系统公布的核对）" in out


def test_a_message_changed_in_the_table_after_it_came_fails_verification(crossed, tmp_path):
    document, *_rest = crossed
    kept = ReceivedReport.objects.get()
    changed = bytes(kept.envelope).replace(b'"signed"', b'"pending"')
    assert changed != bytes(kept.envelope)
    ReceivedReport.objects.filter(pk=kept.pk).update(envelope=changed)
    failure = _failure(_export(document, tmp_path / "evidence.zip"))
    assert (failure.where, failure.problem) == (
        "exchange.jsonl 第 2 行",
        "signature：不是对端系统 B 的公钥签的（消息被改动过，或不是它发的）",
    )


@pytest.mark.parametrize("name", ["exchange.jsonl", "peers.jsonl"])
def test_any_byte_of_the_exchange_records_changed_fails_naming_them(crossed, tmp_path, name):
    document, *_rest = crossed
    entries = _entries(_export(document, tmp_path / "evidence.zip"))
    data = entries[name]
    for position in _positions(len(data), 40):
        for changed in _flips(data, position):
            failure = _failure(_write(tmp_path / "tampered.zip", _with_manifest({**entries, name: changed})))
            assert failure is not None, (name, position)
            assert re.match(rf"^{re.escape(name)}( 第 \d+ 行)?$", failure.where), (name, position, str(failure))
            assert "与清单" not in failure.problem


def test_a_message_taken_away_fails_naming_the_event_that_took_it_in(crossed, tmp_path):
    document, *_rest = crossed
    entries = _entries(_export(document, tmp_path / "evidence.zip"))
    first, second = entries["exchange.jsonl"].splitlines(keepends=True)
    failure = _failure(_write(tmp_path / "tampered.zip", _with_manifest({**entries, "exchange.jsonl": first})))
    seq = json.loads(second)["seq"]
    assert (failure.where, failure.problem) == (
        f"审计事件 #{seq}",
        "接收了对端系统的消息，exchange.jsonl 中却没有这条消息",
    )
    manifest = json.loads(entries["manifest.json"])
    manifest["files"] = [f for f in manifest["files"] if f["name"] not in ("exchange.jsonl", "peers.jsonl")]
    without = {k: v for k, v in entries.items() if k not in ("exchange.jsonl", "peers.jsonl")}
    without["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()
    failure = _failure(_write(tmp_path / "without.zip", without))
    assert failure.problem == "接收了对端系统的消息，包中却没有 exchange.jsonl"


@pytest.mark.usefixtures("key")
def test_a_chain_that_crossed_no_installation_has_no_exchange_records(world, tmp_path):
    from tests.factories import issue

    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    entries = _entries(_export(document, tmp_path / "evidence.zip"))
    assert "exchange.jsonl" not in entries
    assert "peers.jsonl" not in entries
    assert "messages" not in json.loads(entries["manifest.json"])["counts"]


@pytest.mark.parametrize("reports", [1, 6])
def test_the_export_reads_the_messages_in_the_same_queries_however_many(
    client,
    world,
    key,  # noqa: F811 (the fixture imported above)
    sent_to_b,  # noqa: F811
    tmp_path,
    reports,
    django_assert_num_queries,
):
    _peer, b_key, document, outgoing = sent_to_b
    assert _post_receipt(client, b_key, _receipt(outgoing, document, world.education, "signed")).status_code == 201
    for version in range(1, reports + 1):
        report = _report(outgoing, world.education, _tree(document, deliveries=version), version=version)
        assert _post(client, b_key, report).status_code == 201
    _export(document, tmp_path / "first.zip")  # signs the checkpoint that covers the chain
    # The command's lookup of the document, the chain's pieces, snapshot, frontier and cursors (as
    # tests/workflow/test_evidence.py counts them for the download), then the events that took
    # messages in, one query per kind of message (receipts, reports) and the peers: 26, at 2
    # messages as at 7.
    with django_assert_num_queries(26):
        bundle = _export(document, tmp_path / "evidence.zip")
    assert json.loads(_entries(bundle)["manifest.json"])["counts"]["messages"] == 1 + reports
    assert _verify(bundle)[0] == 0
