"""Signed checkpoints outside the database, the stored Merkle tree, and the attacks of issue 15: an
event rewritten with every later hash recomputed, the newest events deleted, a checkpoint file
altered, a checkpoint signed with another key. Each is performed (triggers off, as the tables'
owner can) and shown caught by verify_audit, naming the first checkpoint that disagrees."""

import base64
import http.server
import json
import os
import re
import shutil
import socket
import stat
import threading
from pathlib import Path

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from tests.factories import delivery_of, issue
from workflow import services
from workflow.audit import GENESIS_HASH, audit_record_many, audit_verify, event_hash
from workflow.audit_tree import consistency_proof, inclusion_proof, tree_covered, tree_extend, tree_head
from workflow.checkpoints import Checkpoint, checkpoint_latest, checkpoint_read, key_id, public_key_pem
from workflow.merkle import EMPTY_ROOT, MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from workflow.models import AuditEvent, AuditVerb, MerkleNode
from workflow.tasks import audit_checkpoint_task

NAME = re.compile(r"^checkpoint-(\d{12})-(\d{8}T\d{6}\.\d{6}Z)\.json$")


@pytest.fixture
def key(settings, tmp_path, capsys):
    """A signing key made by audit_keygen; its public key as printed."""
    path = tmp_path / "keys" / "audit-signing.key"
    call_command("audit_keygen", str(path))
    settings.AUDIT_SIGNING_KEY_FILE = str(path)
    printed = capsys.readouterr()
    return {"path": path, "public_pem": printed.out, "stderr": printed.err}


def _checkpoint(capsys) -> Path:
    call_command("audit_checkpoint")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    found = re.fullmatch(r"wrote (\S+) \((\d+) events, root ([0-9a-f]{64})\)", line)
    assert found, line
    return Path(found.group(1))


def _verify(capsys, *args: str) -> tuple[int, str]:
    try:
        call_command("verify_audit", *args)
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().out.strip().splitlines()[-1]


def _more_events(count: int) -> None:
    with transaction.atomic():
        audit_record_many(
            [
                {"actor": None, "verb": AuditVerb.DELIVERY_READ, "object_type": "Delivery", "object_id": n}
                for n in range(count)
            ]
        )


def _leaves() -> list[bytes]:
    return [bytes.fromhex(digest) for digest in AuditEvent.objects.order_by("seq").values_list("hash", flat=True)]


def _as_owner(*statements: tuple[str, list]) -> None:
    """Run statements with the triggers off, as the tables' owner (or a superuser) can."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = origin")


def _rewrite_history(seq: int, payload: dict) -> None:
    """The owner's attack of issue 15: change event `seq`, then recompute its hash and every later
    one with the project's own event_hash, so that the chain links again."""
    previous = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS_HASH
    statements = []
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if event.seq == seq:
            event.payload = payload
        digest = event_hash(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            unit_id=event.unit_id,
            verb=event.verb,
            object_type=event.object_type,
            object_id=event.object_id,
            document_id=event.document_id,
            payload=event.payload,
            prev_hash=previous,
        )
        statements.append(
            (
                "UPDATE workflow_auditevent SET payload = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                [json.dumps(event.payload), previous, digest, event.seq],
            )
        )
        previous = digest
    _as_owner(*statements)


def _describe(path: Path) -> str:
    checkpoint = checkpoint_read(path)
    return f"{path.name}: 检查点（{checkpoint.tree_size} 个事件，{checkpoint.time}）"


# --- keys ---------------------------------------------------------------------------------------


def test_audit_keygen_writes_a_key_only_its_owner_reads_and_prints_the_public_key(key, settings, capsys):
    assert stat.S_IMODE(os.stat(key["path"]).st_mode) == 0o600
    private = serialization.load_pem_private_key(key["path"].read_bytes(), password=None)
    public = private.public_key()
    assert key["public_pem"] == public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    assert key["stderr"].strip() == f"key id {key_id(public)}; private key written to {key['path']}"
    assert public_key_pem() == key["public_pem"]

    before = key["path"].read_bytes()
    with pytest.raises(CommandError, match=r"已存在：不覆盖已有的密钥。"):
        call_command("audit_keygen", str(key["path"]))
    assert key["path"].read_bytes() == before


def test_without_a_key_no_checkpoint_is_written_and_the_task_says_why(world, settings):
    with pytest.raises(CommandError) as refused:
        call_command("audit_checkpoint")
    assert str(refused.value) == "未配置审计签名密钥（AUDIT_SIGNING_KEY_FILE）：不写检查点。"
    assert audit_checkpoint_task.apply().get() == {
        "written": None,
        "problem": "未配置审计签名密钥（AUDIT_SIGNING_KEY_FILE）：不写检查点。",
    }
    assert not Path(settings.AUDIT_CHECKPOINT_DIR).exists()


# --- a checkpoint -------------------------------------------------------------------------------------


def test_a_checkpoint_signs_the_size_head_and_merkle_root_of_the_log_in_a_file_written_once(world, key, capsys):
    path = _checkpoint(capsys)
    events = list(AuditEvent.objects.order_by("seq"))
    data = json.loads(path.read_bytes())
    assert NAME.match(path.name).group(1) == f"{len(events):012d}"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert set(data) == {"algorithm", "format", "head_hash", "key_id", "root_hash", "signature", "time", "tree_size"}
    assert (data["format"], data["algorithm"]) == ("gongwen-audit-checkpoint/1", "Ed25519")
    assert (data["tree_size"], data["head_hash"]) == (len(events), events[-1].hash)
    assert data["root_hash"] == MemoryTree(_leaves()).head(len(events)).hex() == tree_head(len(events)).hex()
    assert path.name == f"checkpoint-{len(events):012d}-{data['time'].replace('-', '').replace(':', '')}.json"

    # The signature, checked with nothing but the printed public key and the documented message.
    public = serialization.load_pem_public_key(key["public_pem"].encode())
    assert data["key_id"] == key_id(public)
    signed = {name: value for name, value in data.items() if name != "signature"}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    public.verify(base64.b64decode(data["signature"]), message)

    assert checkpoint_latest() == {**data, "name": path.name}
    assert _verify(capsys) == (0, f"ok {len(events)} events, 1 checkpoints")


def test_a_checkpoint_file_is_never_overwritten(world, key, capsys):
    with time_machine.travel("2026-12-01 08:00:00+08:00", tick=False):
        first = _checkpoint(capsys)
        before = first.read_bytes()
        with pytest.raises(CommandError) as refused:
            call_command("audit_checkpoint")
    assert str(refused.value) == f"检查点文件 {first} 已存在：不覆盖。"
    assert first.read_bytes() == before
    assert [path.name for path in first.parent.iterdir()] == [first.name]


def test_the_beat_task_writes_a_checkpoint(world, key, settings):
    result = audit_checkpoint_task.apply().get()
    assert result == {"written": result["written"], "sent": [], "failures": []}
    assert NAME.match(result["written"])
    assert (Path(settings.AUDIT_CHECKPOINT_DIR) / result["written"]).is_file()


def test_a_checkpoint_is_posted_and_emailed_when_addresses_are_configured(world, key, settings, capsys):
    received = []

    class Archive(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.headers["Content-Type"], self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Archive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/checkpoints"
    settings.AUDIT_CHECKPOINT_URL = url
    settings.AUDIT_CHECKPOINT_EMAILS = ["archive@example.gov.cn"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    try:
        call_command("audit_checkpoint")
    finally:
        server.shutdown()
        server.server_close()
    lines = capsys.readouterr().out.strip().splitlines()
    path = Path(re.fullmatch(r"wrote (\S+) .*", lines[0]).group(1))
    assert lines[1:] == [f"sent to {url}", "sent to archive@example.gov.cn"]
    assert received == [("application/json", path.read_bytes())]
    (email,) = mail.outbox
    assert (email.to, email.body.encode()) == (["archive@example.gov.cn"], path.read_bytes())
    checkpoint = checkpoint_read(path)
    assert email.subject == f"审计检查点：{checkpoint.tree_size} 个事件，{checkpoint.time}"


def test_a_copy_that_cannot_be_posted_is_reported_and_the_file_stays(world, key, settings, capsys):
    port = _closed_port()
    settings.AUDIT_CHECKPOINT_URL = f"http://127.0.0.1:{port}/"
    with pytest.raises(CommandError) as failed:
        call_command("audit_checkpoint")
    assert str(failed.value).startswith(f"发送到 http://127.0.0.1:{port}/ 失败：")
    (path,) = Path(settings.AUDIT_CHECKPOINT_DIR).iterdir()
    assert capsys.readouterr().out.startswith(f"wrote {path} (")


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the attacks of issue 15 ----------------------------------------------------------------------


def test_an_event_rewritten_with_recomputed_hashes_before_a_checkpoint_is_caught(world, key, settings, capsys):
    checkpoint = _checkpoint(capsys)
    size = checkpoint_read(checkpoint).tree_size
    _more_events(3)
    _rewrite_history(5, {"forged": True})

    # The chain alone cannot tell: every hash was recomputed with the project's own event_hash.
    directory = settings.AUDIT_CHECKPOINT_DIR
    settings.AUDIT_CHECKPOINT_DIR = str(Path(directory).parent / "none")
    assert _verify(capsys) == (0, f"ok {size + 3} events, 0 checkpoints")
    settings.AUDIT_CHECKPOINT_DIR = directory

    assert _verify(capsys) == (
        1,
        f"{_describe(checkpoint)}：第 {size} 个审计事件的哈希与检查点记下的不同：此前的事件被改动过",
    )
    # Nor will the key sign the rewritten log.
    with pytest.raises(CommandError) as refused:
        call_command("audit_checkpoint")
    assert str(refused.value) == (
        f"拒绝签署检查点：{_describe(checkpoint)}：第 {size} 个审计事件的哈希与检查点记下的不同：此前的事件被改动过"
    )
    assert [path.name for path in Path(directory).iterdir()] == [checkpoint.name]


def test_the_first_checkpoint_that_disagrees_is_named(world, key, settings, capsys):
    first = _checkpoint(capsys)
    _more_events(4)
    second = _checkpoint(capsys)
    _more_events(2)
    second_size = checkpoint_read(second).tree_size
    # Rewritten after the first checkpoint: the first still holds, the second does not.
    _rewrite_history(second_size - 1, {"forged": "later"})
    assert _verify(capsys) == (
        1,
        f"{_describe(second)}：第 {second_size} 个审计事件的哈希与检查点记下的不同：此前的事件被改动过",
    )
    # Rewritten before both: the first is named.
    _rewrite_history(2, {"forged": "earlier"})
    size = checkpoint_read(first).tree_size
    assert _verify(capsys) == (
        1,
        f"{_describe(first)}：第 {size} 个审计事件的哈希与检查点记下的不同：此前的事件被改动过",
    )


def test_a_rewritten_merkle_root_alone_is_caught_too(world, key, settings, capsys):
    # A checkpoint whose head still matches but whose root does not (the tree of the first events
    # differs): made by signing a wrong root with the real key, as a broken signer would.
    checkpoint_path = _checkpoint(capsys)
    checkpoint = checkpoint_read(checkpoint_path)
    private = serialization.load_pem_private_key(key["path"].read_bytes(), password=None)
    forged = Checkpoint(
        checkpoint.tree_size, checkpoint.head_hash, "ab" * 32, "2026-12-01T00:00:00.000000Z", checkpoint.key_id
    )
    forged = Checkpoint(
        **{**forged.__dict__, "signature": base64.b64encode(private.sign(forged.signed_bytes())).decode()}
    )
    path = checkpoint_path.parent / forged.file_name()
    path.write_text(json.dumps(forged.as_dict()), encoding="ascii")
    assert _verify(capsys) == (
        1,
        f"{_describe(path)}：前 {checkpoint.tree_size} 个审计事件的默克尔树根与检查点记下的不同",
    )


def test_the_newest_five_events_deleted_are_caught(world, key, capsys):
    _more_events(5)
    checkpoint = _checkpoint(capsys)
    size = checkpoint_read(checkpoint).tree_size
    _as_owner(("DELETE FROM workflow_auditevent WHERE seq > %s", [size - 5]))
    assert AuditEvent.objects.count() == size - 5
    assert _verify(capsys) == (
        1,
        f"{_describe(checkpoint)}：审计日志只有 {size - 5} 个事件，检查点记下了 {size} 个：其后的事件被删除了",
    )


def test_an_altered_checkpoint_file_is_caught(world, key, capsys):
    checkpoint = _checkpoint(capsys)
    data = json.loads(checkpoint.read_bytes())
    _more_events(1)
    # Moved forward to cover an event it never saw, with that event's hash: the signature breaks.
    data["tree_size"] += 1
    data["head_hash"] = AuditEvent.objects.get(seq=data["tree_size"]).hash
    data["root_hash"] = tree_head(data["tree_size"]).hex()
    os.chmod(checkpoint, 0o644)
    checkpoint.write_text(json.dumps(data), encoding="ascii")
    assert _verify(capsys) == (1, f"{_describe(checkpoint)}：签名不符：检查点文件被改动过")


def test_a_checkpoint_signed_with_another_key_is_caught(world, key, settings, tmp_path, capsys):
    genuine = _checkpoint(capsys)
    _more_events(2)
    # Whoever holds the database but not the key signs one with a key of their own, and plants it.
    directory = settings.AUDIT_CHECKPOINT_DIR
    call_command("audit_keygen", str(tmp_path / "other.key"))
    capsys.readouterr()
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "other.key")
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "elsewhere")
    planted = _checkpoint(capsys)
    settings.AUDIT_SIGNING_KEY_FILE, settings.AUDIT_CHECKPOINT_DIR = str(key["path"]), directory
    shutil.copy(planted, directory)
    other_id = checkpoint_read(planted).key_id
    assert other_id != checkpoint_read(genuine).key_id
    assert _verify(capsys) == (
        1,
        f"{_describe(planted)}：由另一把密钥签署（密钥标识 {other_id} 不在公布的公钥中）",
    )


def test_old_keys_listed_in_the_public_key_file_still_verify_their_checkpoints(world, key, settings, tmp_path, capsys):
    old = _checkpoint(capsys)
    call_command("audit_keygen", str(tmp_path / "new.key"))
    new_public = capsys.readouterr().out
    published = tmp_path / "audit-public-keys.pem"
    published.write_text(key["public_pem"] + new_public, encoding="ascii")
    settings.AUDIT_PUBLIC_KEY_FILE = str(published)
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "new.key")
    _more_events(1)
    new = _checkpoint(capsys)
    assert checkpoint_read(old).key_id != checkpoint_read(new).key_id
    assert _verify(capsys) == (0, f"ok {AuditEvent.objects.count()} events, 2 checkpoints")
    assert public_key_pem() == key["public_pem"] + new_public


# --- verify_audit --since ---------------------------------------------------------------------------


def test_since_a_checkpoint_only_the_events_after_it_are_walked(world, key, capsys):
    checkpoint = _checkpoint(capsys)
    size = checkpoint_read(checkpoint).tree_size
    _more_events(7)
    total = size + 7
    assert _verify(capsys, "--since", checkpoint.name) == (
        0,
        f"ok {total} events, 1 checkpoints, 7 since {checkpoint.name}",
    )
    assert _verify(capsys, "--since", str(checkpoint)) == (
        0,
        f"ok {total} events, 1 checkpoints, 7 since {checkpoint.name}",
    )
    # An event before the checkpoint altered without recomputing anything: the full walk finds it;
    # --since trusts the signed checkpoint for what precedes it, and so never reads that event.
    _as_owner(("UPDATE workflow_auditevent SET payload = '{\"x\": 1}' WHERE seq = 3", []))
    assert _verify(capsys)[1].startswith("broken at event 3: ")
    assert _verify(capsys, "--since", checkpoint.name) == (
        0,
        f"ok {total} events, 1 checkpoints, 7 since {checkpoint.name}",
    )


def test_since_a_checkpoint_an_edit_or_a_deletion_after_it_is_caught(world, key, capsys):
    checkpoint = _checkpoint(capsys)
    size = checkpoint_read(checkpoint).tree_size
    _more_events(4)
    _as_owner(("UPDATE workflow_auditevent SET payload = '{\"x\": 1}' WHERE seq = %s", [size + 2]))
    assert _verify(capsys, "--since", checkpoint.name) == (
        1,
        f"broken at event {size + 2}: event {size + 2} was altered (its hash does not match its content)",
    )
    _as_owner(("DELETE FROM workflow_auditevent WHERE seq = %s", [size]))
    assert _verify(capsys, "--since", checkpoint.name) == (
        1,
        f"broken at event {size}: event {size} is missing (next is {size + 1})",
    )
    _as_owner(("DELETE FROM workflow_auditevent WHERE seq > %s", [size]))
    assert _verify(capsys, "--since", checkpoint.name) == (
        1,
        f"{_describe(checkpoint)}：审计日志只有 {size - 1} 个事件，检查点记下了 {size} 个：其后的事件被删除了",
    )


def test_since_a_checkpoint_its_own_event_rewritten_is_caught(world, key, capsys):
    checkpoint = _checkpoint(capsys)
    size = checkpoint_read(checkpoint).tree_size
    _more_events(2)
    _rewrite_history(size, {"forged": True})
    assert _verify(capsys, "--since", checkpoint.name) == (
        1,
        f"{_describe(checkpoint)}：第 {size} 个审计事件的哈希与检查点记下的不同：此前的事件被改动过",
    )


def test_since_a_checkpoint_newer_checkpoints_are_checked_on_the_way(world, key, capsys):
    first = _checkpoint(capsys)
    _more_events(3)
    second = _checkpoint(capsys)
    _more_events(1)
    size = checkpoint_read(second).tree_size
    assert _verify(capsys, "--since", first.name) == (
        0,
        f"ok {size + 1} events, 2 checkpoints, 4 since {first.name}",
    )
    _as_owner(("DELETE FROM workflow_auditevent WHERE seq >= %s", [size]))
    assert _verify(capsys, "--since", first.name) == (
        1,
        f"{_describe(second)}：审计日志只有 {size - 1} 个事件，检查点记下了 {size} 个：其后的事件被删除了",
    )


def test_since_a_checkpoint_a_stored_tree_that_disagrees_is_caught(world, key, capsys):
    checkpoint = _checkpoint(capsys)
    size = checkpoint_read(checkpoint).tree_size
    level, index = max(MerkleNode.objects.values_list("level", "index"))
    _as_owner(
        ("UPDATE workflow_merklenode SET hash = %s WHERE level = %s AND index = %s", [b"\x00" * 32, level, index])
    )
    assert _verify(capsys, "--since", checkpoint.name) == (
        1,
        f"{_describe(checkpoint)}：由树表算出的前 {size} 个事件的默克尔树根与检查点的不同：树表或此前的事件被改动过",
    )


def test_since_an_altered_or_missing_checkpoint_is_refused(world, key, capsys):
    checkpoint = _checkpoint(capsys)
    data = json.loads(checkpoint.read_bytes())
    data["time"] = "2020-01-01T00:00:00.000000Z"
    os.chmod(checkpoint, 0o644)
    checkpoint.write_text(json.dumps(data), encoding="ascii")
    assert _verify(capsys, "--since", checkpoint.name) == (
        1,
        f"{_describe(checkpoint)}：签名不符：检查点文件被改动过",
    )
    assert _verify(capsys, "--since", "checkpoint-nothing.json") == (
        1,
        "checkpoint-nothing.json: 找不到检查点 checkpoint-nothing.json。",
    )


# --- the stored Merkle tree -----------------------------------------------------------------------


def test_every_event_has_an_inclusion_proof_against_the_tree_head(world):
    _more_events(90)
    leaves = _leaves()
    memory = MemoryTree(leaves)
    size = len(leaves)
    tree_extend(chunk=20)  # 32 events a transaction: the table grows across their boundaries
    assert tree_covered() == size >> 4 << 4
    root = tree_head(size)
    assert root == memory.head(size)
    for seq in range(1, size + 1):
        proof = inclusion_proof(seq, size)
        assert proof == memory.inclusion_proof(seq - 1, size)
        assert verify_inclusion(leaf_hash(leaves[seq - 1]), seq - 1, size, proof, root)
    stored = {(level, index): bytes(digest) for level, index, digest in MerkleNode.objects.values_list()}
    assert stored == {
        (level, index): memory.subtree_hash(level, index)
        for level in range(4, size.bit_length())
        for index in range(size >> level)
    }


def test_proofs_from_a_partly_extended_tree_read_the_events_past_it(world):
    leaves = _leaves()
    tree_extend()
    _more_events(11)
    leaves = _leaves()
    memory = MemoryTree(leaves)
    size = len(leaves)
    assert tree_covered() < size - 10
    for old in range(1, size + 1):
        proof = consistency_proof(old, size)
        assert proof == memory.consistency_proof(old, size)
        assert verify_consistency(old, size, tree_head(old), tree_head(size), proof)
    assert [tree_head(n) for n in range(size + 1)] == [memory.head(n) for n in range(size + 1)]


def test_a_head_and_proofs_cost_three_queries_whatever_the_size(world, count_queries):
    def costs() -> list[int]:
        tree_extend()
        size = AuditEvent.objects.count()
        return [
            count_queries(tree_head, size)[0],
            count_queries(inclusion_proof, size // 3, size)[0],
            count_queries(consistency_proof, size // 2 + 1, size)[0],
        ]

    small = costs()
    _more_events(3000)
    assert costs() == small == [3, 3, 3]


def test_the_tree_table_refuses_changes_like_the_log(world):
    tree_extend()
    assert MerkleNode.objects.count() > 0
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        MerkleNode.objects.update(hash=b"\x00" * 32)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        MerkleNode.objects.all().delete()


def test_signing_for_a_delivery_writes_nothing_to_the_tree(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    nodes = MerkleNode.objects.count()
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    assert MerkleNode.objects.count() == nodes == 0
    assert audit_verify().is_intact


def test_an_empty_log_has_a_checkpoint_too_and_the_log_grows_from_it(db, key, capsys):
    assert AuditEvent.objects.count() == 0
    path = _checkpoint(capsys)
    data = json.loads(path.read_bytes())
    assert (data["tree_size"], data["head_hash"], data["root_hash"]) == (0, GENESIS_HASH, EMPTY_ROOT.hex())
    assert _verify(capsys) == (0, "ok 0 events, 1 checkpoints")
    _more_events(3)
    assert _verify(capsys, "--since", path.name) == (0, f"ok 3 events, 1 checkpoints, 3 since {path.name}")


def test_an_unreadable_checkpoint_file_is_named(world, key, settings, capsys):
    _checkpoint(capsys)
    junk = Path(settings.AUDIT_CHECKPOINT_DIR) / "checkpoint-000000000001-20261201T000000.000000Z.json"
    junk.write_text('{"tree_size": 1}', encoding="ascii")
    assert _verify(capsys) == (1, f"{junk.name}: 无法读取：字段不对")
    with pytest.raises(CommandError) as refused:
        call_command("audit_checkpoint")
    assert str(refused.value) == f"拒绝签署检查点：{junk.name}: 无法读取：字段不对"
