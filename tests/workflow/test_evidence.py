"""The evidence bundle of a chain (workflow/evidence): exported by `export_evidence` and the chain
page, checked by verify.py alone in a clean virtualenv with only `cryptography`, and every kind of
record shown to fail verification when any single byte of it changes — sampled systematically over
every file of the bundle, with the manifest left as it was and with the manifest rewritten to match
(an attacker who rewrites the whole bundle)."""

import datetime
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import delivery_of, forward, issue
from tests.web.conftest import issue_with_attachments, sign_in
from workflow import services
from workflow.audit import audit_record_many, event_hash
from workflow.audit_tree import inclusion_proof, tree_extend, tree_frontier, tree_head
from workflow.demo.history import TELEGRAM_ISSUED, TELEGRAM_TITLE
from workflow.evidence import verify as verifier
from workflow.evidence.export import event_bytes
from workflow.evidence.proofs import ProofStream, block_events, sibling_nodes
from workflow.merkle import leaf_hash, verify_inclusion
from workflow.models import AuditEvent, AuditVerb, Delivery, ReturnReason

ROOT = Path(__file__).resolve().parent.parent.parent
VERIFY = ROOT / "workflow" / "evidence" / "verify.py"
FEEDBACK_FILE = "学院党委落实情况\n".encode()


# --- building a chain through the services ------------------------------------------------------


@pytest.fixture
def key(settings, tmp_path, capsys):
    """A signing key (audit_keygen) the exports may sign fresh checkpoints with."""
    path = tmp_path / "keys" / "audit-signing.key"
    call_command("audit_keygen", str(path))
    capsys.readouterr()
    settings.AUDIT_SIGNING_KEY_FILE = str(path)
    return path


@pytest.fixture
def chain(world, settings, tmp_path):
    """The department's telegram (two attachments) to education and other; education forwards it to
    its universities; the university opens it, signs for it and forwards it to its college, which
    signs and completes it with a file; the other university returns it; the department recalls its
    unsigned delivery to other."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    telegram = issue_with_attachments(world, attachments=2, main=[world.groups["各直属党委"]])
    cover, _ = forward(world.jygw, delivery_of(telegram, world.education), main=[world.groups["各高校党委"]])
    received = delivery_of(cover, world.university)
    services.delivery_open(actor=world.imu, delivery=received)
    college_cover, _ = forward(world.imu, received, main=[world.groups["各学院党委"]])
    at_college = delivery_of(college_cover, world.college)
    services.delivery_sign_for(actor=world.college_clerk, delivery_id=at_college.pk)
    services.delivery_complete(
        actor=world.college_clerk,
        delivery_id=at_college.pk,
        feedback="已传达学习，落实到各党支部。",
        attachments=[("落实情况.txt", io.BytesIO(FEEDBACK_FILE))],
    )
    services.delivery_return(
        actor=world.univ_b_clerk,
        delivery_id=delivery_of(cover, world.university_b).pk,
        reason=ReturnReason.NOT_COMPETENT,
    )
    services.delivery_recall(actor=world.zzb, delivery_id=delivery_of(telegram, world.other).pk, reason="发错单位")
    return {"telegram": telegram, "cover": cover, "college_cover": college_cover}


def _export(document, path: Path, capsys=None) -> Path:
    call_command("export_evidence", document.number, str(path))
    return path


def _verify(path: Path, *args: str) -> tuple[int, str]:
    """verify.py in this process (the tampering tests run it hundreds of times)."""
    out = io.StringIO()
    stdout, sys.stdout = sys.stdout, out
    try:
        code = verifier.main([str(path), *args])
    finally:
        sys.stdout = stdout
    return code, out.getvalue()


def _failure(path: Path) -> verifier.Failure | None:
    try:
        verifier.Verifier(str(path)).run()
    except verifier.Failure as failure:
        return failure
    return None


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def _write(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return path


def _with_manifest(entries: dict[str, bytes]) -> dict[str, bytes]:
    """The bundle as an attacker would leave it: the manifest rewritten to match every file."""
    manifest = json.loads(entries["manifest.json"])
    for listed in manifest["files"]:
        data = entries[listed["name"]]
        listed["sha256"], listed["size"] = hashlib.sha256(data).hexdigest(), len(data)
    text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    return {**entries, "manifest.json": text.encode("utf-8")}


# --- the bundle of a real chain ------------------------------------------------------------------


def _beijing(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone(datetime.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")


def _event(verb: str, target) -> AuditEvent:
    """The one event of `verb` about a document, a delivery or a dispatch."""
    return AuditEvent.objects.get(verb=verb, object_type=type(target).__name__, object_id=str(target.pk))


def _at(verb: str, target) -> str:
    return _beijing(_event(verb, target).occurred_at)


def _issued(document) -> str:
    issued = _event(AuditVerb.DOCUMENT_ISSUED, document)
    return f"{_beijing(issued.occurred_at)} 印发（事件 #{issued.seq}），内容摘要 {document.digest}"


def _forwarded(cover) -> str:
    return _at(AuditVerb.DOCUMENT_FORWARDED, cover)


def _signed(delivery, who: str) -> str:
    receipt = delivery.receipt
    return f"{who} 于 {_beijing(receipt.signed_at)} 签收，摘要 {receipt.content_digest[:16]}…"


def _header(entries: dict, **counts) -> list[str]:
    checkpoint = json.loads(entries["checkpoint.json"])
    manifest = json.loads(entries["manifest.json"])
    at = datetime.datetime.strptime(checkpoint["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC)
    return [
        f"核验通过 ok：{counts['documents']} 份公文，{counts['files']} 个文件，{counts['deliveries']} 条送达，"
        f"{counts['receipts']} 份回执，{counts['events']} 个审计事件",
        f"流转链：{manifest['document']['number']}《{manifest['document']['title']}》",
        f"检查点：{manifest['checkpoint']['name']}，审计日志前 {checkpoint['tree_size']} 个事件，"
        f"树根 {checkpoint['root_hash']}，签署于 {_beijing(at)}（北京时间）",
        f"签名密钥标识（公钥指纹，SHA-256）：{checkpoint['key_id']}",
        "  请与发文机关公布的公钥指纹核对；检查点文件 SHA-256："
        f"{hashlib.sha256(entries['checkpoint.json']).hexdigest()}"
        "（可与当时邮寄或存档的副本比对）",
        "",
    ]


def test_the_bundle_holds_the_chain_and_verifies(world, chain, key, tmp_path, capsys):
    telegram, cover, college_cover = chain["telegram"], chain["cover"], chain["college_cover"]
    call_command("export_evidence", telegram.number, str(tmp_path / "chain.zip"))
    printed = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"signed \S+checkpoint-\d{12}-\S+\.json \(\d+ events\)", printed[0])
    written = re.fullmatch(
        r"wrote (\S+): 3 documents, 3 files, 5 deliveries, 3 receipts, (\d+) events, "
        r"checkpoint (\S+) \((\d+) events\), "
        r"(\d+) bytes, sha256 ([0-9a-f]{64})",
        printed[1],
    )
    assert written, printed
    path = Path(written.group(1))
    assert written.group(6) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert int(written.group(5)) == path.stat().st_size
    assert not path.with_name("chain.zip.partial").exists()

    entries = _entries(path)
    attachments = telegram.attachments.order_by("position")
    assert set(entries) == {
        "README.txt",
        "verify.py",
        "checkpoint.json",
        "public_key.pem",
        *(f"documents/{document.digest}.json" for document in (telegram, cover, college_cover)),
        "documents.jsonl",
        *(f"files/{attachment.sha256}" for attachment in attachments),
        f"files/{hashlib.sha256(FEEDBACK_FILE).hexdigest()}",
        "deliveries.jsonl",
        "events.jsonl",
        "proofs.bin",
        "directory.jsonl",
        "manifest.json",
    }
    assert entries["verify.py"] == VERIFY.read_bytes()
    # Each document's serialisation is what documents/digest.py digested at issue.
    for document in (telegram, cover, college_cover):
        assert hashlib.sha256(entries[f"documents/{document.digest}.json"]).hexdigest() == document.digest
    for attachment in attachments:
        assert entries[f"files/{attachment.sha256}"] == attachment.file.open("rb").read()
    # Every event of the three documents, each line the bytes its stored hash covers.
    lines = entries["events.jsonl"].decode().splitlines()
    stored = dict(AuditEvent.objects.filter(document__in=[telegram, cover, college_cover]).values_list("seq", "hash"))
    assert [json.loads(line)[0] for line in lines] == sorted(stored)
    assert [hashlib.sha256(line.encode()).hexdigest() for line in lines] == [stored[seq] for seq in sorted(stored)]
    deliveries = [json.loads(line) for line in entries["deliveries.jsonl"].decode().splitlines()]
    assert [(d["document_id"], d["unit_id"], d["state"]) for d in deliveries] == [
        (telegram.pk, world.education.pk, "signed"),
        (telegram.pk, world.other.pk, "recalled"),
        (cover.pk, world.university.pk, "signed"),
        (cover.pk, world.university_b.pk, "returned"),
        (college_cover.pk, world.college.pk, "completed"),
    ]
    receipt = next(d["receipt"] for d in deliveries if d["unit_id"] == world.college.pk)
    stored_receipt = delivery_of(college_cover, world.college).receipt
    assert receipt == {
        "content_digest": college_cover.digest,
        "id": stored_receipt.pk,
        "signed_at": stored_receipt.signed_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "signed_by_id": world.college_clerk.pk,
        "unit_id": world.college.pk,
    }

    # Who received what, who signed which digest and when, who forwarded to whom, who returned it,
    # who completed it, who was recalled and by whom: every time from the events and receipts.
    code, output = _verify(path)
    assert code == 0, output
    education, other = delivery_of(telegram, world.education), delivery_of(telegram, world.other)
    university, university_b = delivery_of(cover, world.university), delivery_of(cover, world.university_b)
    college = delivery_of(college_cover, world.college)
    assert output.splitlines() == [
        *_header(entries, documents=3, files=3, deliveries=5, receipts=3, events=len(lines)),
        f"【{telegram.number}】《关于做好测试工作的紧急通知》 发文机关 自治区党委组织部，zzb 于 {_issued(telegram)}",
        "  送达 2 个单位（主送 2）：已签收 1，已撤回 1",
        "  已签收（1）：",
        f"    自治区教育工委（主送，送达 {education.pk}）：{_signed(education, 'jygw')}",
        "  未签收即被撤回（1）：",
        f"    自治区直属机关工委（主送，送达 {other.pk}）：zzb 于 {_at(AuditVerb.DELIVERY_RECALLED, other)} 撤回",
        f"  撤回：zzb 于 {_at(AuditVerb.DELIVERY_RECALLED, other)} 撤回{telegram.number}的一个送达（原因：发错单位；"
        f"事件 #{_event(AuditVerb.DELIVERY_RECALLED, other).seq}）",
        f"  【{cover.number}】《{cover.title}》 发文机关 自治区教育工委，jygw 于 {_issued(cover)}",
        f"    转发：自治区教育工委 将收到的 {telegram.number}（送达 {education.pk}）"
        f"由 jygw 于 {_forwarded(cover)} 转发",
        "    送达 2 个单位（主送 2）：已签收 1，已退文 1",
        "    已签收（1）：",
        f"      内蒙古大学党委（主送，送达 {university.pk}）：{_signed(university, 'imu')}",
        "    退文（1）：",
        f"      内蒙古工业大学党委（主送，送达 {university_b.pk}）：univ_b_clerk 于 "
        f"{_at(AuditVerb.DELIVERY_RETURNED, university_b)} 退文，理由：不应由本机关办理",
        f"    【{college_cover.number}】《{college_cover.title}》 发文机关 内蒙古大学党委，"
        f"imu 于 {_issued(college_cover)}",
        f"      转发：内蒙古大学党委 将收到的 {cover.number}（送达 {university.pk}）"
        f"由 imu 于 {_forwarded(college_cover)} 转发",
        "      送达 1 个单位（主送 1）：已办结 1",
        "      已办结（1）：",
        f"        计算机学院党委（主送，送达 {college.pk}）：{_signed(college, 'college_clerk')}；college_clerk 于 "
        f"{_at(AuditVerb.DELIVERY_COMPLETED, college)} 办结，落实情况：已传达学习，落实到各党支部。",
    ]


def test_a_cover_letters_bundle_holds_what_it_encloses_and_where_it_came_from(world, chain, key, tmp_path):
    cover = chain["cover"]
    path = _export(cover, tmp_path / "cover.zip")
    entries = _entries(path)
    documents = {d["id"]: d for d in map(json.loads, entries["documents.jsonl"].decode().splitlines())}
    assert {pk: d["depth"] for pk, d in documents.items()} == {
        chain["telegram"].pk: None,
        cover.pk: 0,
        chain["college_cover"].pk: 1,
    }
    assert documents[cover.pk]["forwarded_from"] == delivery_of(chain["telegram"], world.education).pk
    # Above the chain: the telegram's serialisation and issue, the delivery it came by; not the
    # telegram's other deliveries.
    deliveries = [json.loads(line) for line in entries["deliveries.jsonl"].decode().splitlines()]
    assert {d["unit_id"] for d in deliveries if d["document_id"] == chain["telegram"].pk} == {world.education.pk}
    code, output = _verify(path)
    assert code == 0, output
    telegram, education = chain["telegram"], delivery_of(chain["telegram"], world.education)
    assert output.splitlines()[-3:] == [
        "本链所附的上级公文（核对了其内容摘要与印发事件）：",
        f"  {telegram.number}《{telegram.title}》 发文机关 自治区党委组织部，zzb 于 "
        f"{_beijing(_event(AuditVerb.DOCUMENT_ISSUED, telegram).occurred_at)} 印发，内容摘要 {telegram.digest}",
        f"本链转发自送达 {education.pk}（{telegram.number}）：自治区教育工委（主送，送达 {education.pk}）："
        f"{_signed(education, 'jygw')}",
    ]


def test_a_recalled_chain_still_holds_everything_and_says_what_was_withdrawn(world, chain, key, tmp_path):
    telegram = chain["telegram"]
    services.dispatch_recall(actor=world.zzb_leader, dispatch_id=telegram.dispatches.get().pk, reason="内容有误")
    path = _export(telegram, tmp_path / "recalled.zip")
    entries = _entries(path)
    states = {
        (d["document_id"], d["unit_id"]): d["state"]
        for d in map(json.loads, entries["deliveries.jsonl"].decode().splitlines())
    }
    assert states == {
        (telegram.pk, world.education.pk): "recalled_signed",
        (telegram.pk, world.other.pk): "recalled",
        (chain["cover"].pk, world.university.pk): "recalled_signed",
        (chain["cover"].pk, world.university_b.pk): "returned",
        (chain["college_cover"].pk, world.college.pk): "recalled_signed",
    }
    # The auditor's view: the documents and files are all there.
    assert len([name for name in entries if name.startswith("documents/")]) == 3
    code, output = _verify(path)
    assert code == 0, output
    recalled = _event(AuditVerb.DISPATCH_RECALLED, telegram.dispatches.get())
    at = _beijing(recalled.occurred_at)
    education, other = delivery_of(telegram, world.education), delivery_of(telegram, world.other)
    lines = output.splitlines()
    assert lines[lines.index("  送达 2 个单位（主送 2）：已撤回 1，签收后撤回 1") :][:7] == [
        "  送达 2 个单位（主送 2）：已撤回 1，签收后撤回 1",
        "  签收后被撤回（1）：",
        f"    自治区教育工委（主送，送达 {education.pk}）：{_signed(education, 'jygw')}；zzb_leader 于 {at} 撤回",
        "  未签收即被撤回（1）：",
        f"    自治区直属机关工委（主送，送达 {other.pk}）：zzb 于 {_at(AuditVerb.DELIVERY_RECALLED, other)} 撤回",
        f"  撤回：zzb 于 {_at(AuditVerb.DELIVERY_RECALLED, other)} 撤回"
        f"{telegram.number}的一个送达（原因：发错单位；事件 #{_event(AuditVerb.DELIVERY_RECALLED, other).seq}）",
        f"  撤回：zzb_leader 于 {at} 撤回{telegram.number}的整个分发（原因：内容有误；事件 #{recalled.seq}）",
    ]
    # Withdrawn below too: the cover letters' deliveries signed for went with it.
    assert f"      内蒙古大学党委（主送，送达 {delivery_of(chain['cover'], world.university).pk}）：" in output


# --- verify.py in a clean virtualenv --------------------------------------------------------------


@pytest.fixture(scope="session")
def clean_python(tmp_path_factory) -> Path:
    """A virtualenv with nothing but the pinned `cryptography` (and what it needs), made once per run."""
    venv = tmp_path_factory.mktemp("clean-venv")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    pin = re.search(r"^cryptography==\S+$", (ROOT / "requirements.txt").read_text(), re.M).group(0)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", pin],
        check=True,
        timeout=600,
    )
    return python


def _run_clean(python: Path, bundle: Path, cwd: Path) -> subprocess.CompletedProcess:
    """verify.py as an auditor runs it: taken out of the bundle, in a folder of its own, isolated
    (-I: no PYTHONPATH, no user site), with the clean virtualenv's Python."""
    script = cwd / "verify.py"
    script.write_bytes(_entries(bundle)["verify.py"])
    return subprocess.run(
        [python, "-I", str(script), str(bundle)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_verify_py_runs_in_a_clean_virtualenv_with_only_cryptography(chain, key, tmp_path, clean_python):
    installed = subprocess.run(
        [clean_python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {package["name"].lower() for package in json.loads(installed.stdout)}
    assert names - {"pip", "setuptools", "wheel"} == {"cryptography", "cffi", "pycparser"}
    assert subprocess.run([clean_python, "-I", "-c", "import django"], capture_output=True).returncode == 1

    path = _export(chain["telegram"], tmp_path / "chain.zip")
    folder = tmp_path / "auditor"
    folder.mkdir()
    done = _run_clean(clean_python, path, folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("核验通过 ok：3 份公文，3 个文件，5 条送达，3 份回执，")
    assert "撤回：zzb 于" in done.stdout

    # One changed byte of each kind of record, in the clean virtualenv too.
    entries = _entries(path)
    events = bytearray(entries["events.jsonl"])
    events[events.index(b'"DELIVERY_SIGNED"') + 3] ^= 0x01
    first = json.loads(entries["events.jsonl"].split(b"\n")[0])[0]
    for name, data, named in [
        ("events.jsonl", bytes(events), "events.jsonl 第"),
        (
            "proofs.bin",
            bytes([entries["proofs.bin"][0] ^ 1]) + entries["proofs.bin"][1:],
            f"events.jsonl 第 1 行（事件 #{first}）或",
        ),
        (
            f"documents/{chain['cover'].digest}.json",
            entries[f"documents/{chain['cover'].digest}.json"] + b" ",
            "documents/",
        ),
    ]:
        tampered = _write(tmp_path / f"tampered-{len(named)}.zip", _with_manifest({**entries, name: data}))
        done = _run_clean(clean_python, tampered, folder)
        assert done.returncode == 1, done.stdout
        assert done.stdout.startswith(f"核验失败：{named}"), done.stdout


# --- any single byte ----------------------------------------------------------------------------


def _positions(size: int, count: int = 12) -> list[int]:
    step = max(1, size // count)
    return sorted({0, size - 1, *range(step // 2, size, step)})


def _flips(data: bytes, position: int) -> list[bytes]:
    """The byte at `position` changed two ways: its lowest bit, and its case bit (a hex digit's
    case is the change a lax parser would not see)."""
    out = []
    for mask in (0x01, 0x20):
        changed = bytearray(data)
        changed[position] ^= mask
        out.append(bytes(changed))
    return out


@pytest.fixture
def bundle(world, chain, key, tmp_path) -> Path:
    return _export(chain["telegram"], tmp_path / "chain.zip")


def test_any_byte_of_any_file_changed_fails_naming_the_file(bundle, tmp_path):
    """The manifest left as it was: every file of the bundle, twelve positions or more each."""
    entries = _entries(bundle)
    tried = 0
    for name, data in entries.items():
        for position in _positions(len(data)):
            for changed in _flips(data, position):
                path = _write(tmp_path / "tampered.zip", {**entries, name: changed})
                failure = _failure(path)
                assert failure is not None, (name, position)
                assert name in str(failure), (name, position, str(failure))
                tried += 1
    assert tried > 300


@pytest.mark.parametrize(
    "reencode",
    [
        lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True),  # with spaces
        lambda value: json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":")),  # \\u escapes
        lambda value: json.dumps(  # the payload's keys in reverse order
            [*value[:8], dict(reversed(value[8].items())), value[9]], ensure_ascii=False, separators=(",", ":")
        ),
    ],
    ids=["spaces", "escapes", "unsorted"],
)
def test_an_event_written_in_another_json_form_fails_at_that_event(bundle, tmp_path, reencode):
    """The same values in other bytes: the log hashed the canonical bytes, so the line's hash has no
    proof (verify.py holds a line to its bytes by its hash, not by re-encoding it)."""
    entries = _entries(bundle)
    lines = entries["events.jsonl"].split(b"\n")
    # An event with non-ASCII text and payload keys, so that every form differs; not the newest
    # (lines[-1] is the empty rest after the last newline), whose hash is also the checkpoint's head.
    number = next(n for n, line in enumerate(lines[:-2]) if not line.isascii() and len(json.loads(line)[8]) >= 2)
    value = json.loads(lines[number])
    changed = reencode(value).encode()
    assert changed != lines[number]
    lines[number] = changed
    tampered = _with_manifest({**entries, "events.jsonl": b"\n".join(lines)})
    failure = _failure(_write(tmp_path / "tampered.zip", tampered))
    assert failure is not None
    assert failure.where.startswith(f"events.jsonl 第 {number + 1} 行（事件 #{value[0]}）"), str(failure)
    assert failure.problem.startswith("包含证明不成立"), str(failure)


def _proof_flipped(entries: dict[str, bytes], position: int) -> dict[str, bytes]:
    proofs = bytearray(entries["proofs.bin"])
    proofs[position] ^= 0x01
    return _with_manifest({**entries, "proofs.bin": bytes(proofs)})


def test_the_proofs_checked_by_the_second_process_are_the_ones_named(bundle, tmp_path):
    """proofs_checked, which verify.py runs in a second process: for the untouched bundle, the
    manifest's digest of proofs.bin; for a flipped bit, the event whose proof it is."""
    entries = _entries(bundle)
    checkpoint = json.loads(entries["checkpoint.json"])
    args = (checkpoint["tree_size"], bytes.fromhex(checkpoint["root_hash"]))
    listed = {entry["name"]: entry for entry in json.loads(entries["manifest.json"])["files"]}

    assert verifier.proofs_checked(str(bundle), *args) == (
        "ok",
        listed["proofs.bin"]["sha256"],
        listed["proofs.bin"]["size"],
    )
    first = json.loads(entries["events.jsonl"].split(b"\n")[0])[0]
    tampered = _write(tmp_path / "tampered.zip", _proof_flipped(entries, 0))
    assert verifier.proofs_checked(str(tampered), *args) == (
        "failure",
        1,
        f"events.jsonl 第 1 行（事件 #{first}）或它在 proofs.bin 中的包含证明",
        "包含证明不成立：该事件不在检查点签名的审计日志中，或证明被改动过",
    )


def test_without_a_second_process_the_proofs_are_checked_here_with_the_same_answer(bundle, tmp_path, monkeypatch):
    tampered = _write(tmp_path / "tampered.zip", _proof_flipped(_entries(bundle), 0))
    expected = str(_failure(tampered))

    def refused(*args, **kwargs):
        raise OSError("no process may be started here")

    monkeypatch.setattr(verifier.multiprocessing, "Process", refused)
    assert str(_failure(tampered)) == expected
    assert _failure(bundle) is None


# Each kind of record, and what the failure names: the file and its record.
RECORDS = [
    ("events.jsonl", r"^events\.jsonl 第 \d+ 行"),
    ("proofs.bin", r"^events\.jsonl 第 \d+ 行（事件 #\d+）(或它)?在 proofs\.bin 中的包含证明$|^proofs\.bin$"),
    ("checkpoint.json", r"^checkpoint\.json"),
    ("public_key.pem", r"public_key\.pem$"),
    ("documents.jsonl", r"^documents\.jsonl 第 \d+ 行"),
]


@pytest.mark.parametrize(("name", "names"), RECORDS, ids=[name for name, _names in RECORDS])
def test_any_byte_of_a_record_changed_fails_naming_it_even_with_the_manifest_rewritten(bundle, tmp_path, name, names):
    entries = _entries(bundle)
    data = entries[name]
    positions = range(len(data)) if len(data) < 700 else _positions(len(data), 160)
    for position in positions:
        for changed in _flips(data, position):
            failure = _failure(_write(tmp_path / "tampered.zip", _with_manifest({**entries, name: changed})))
            assert failure is not None, (name, position)
            assert re.search(names, failure.where), (name, position, str(failure))
            assert "与清单" not in failure.problem


def test_any_byte_of_a_document_or_a_file_changed_fails_naming_it(bundle, tmp_path):
    entries = _entries(bundle)
    for name in [name for name in entries if name.startswith(("documents/", "files/"))]:
        data = entries[name]
        for position in _positions(len(data), 40):
            for changed in _flips(data, position):
                failure = _failure(_write(tmp_path / "tampered.zip", _with_manifest({**entries, name: changed})))
                assert failure is not None, (name, position)
                assert failure.where.startswith(f"{name}（"), (name, position, str(failure))


def test_any_byte_of_a_receipt_changed_fails_naming_its_delivery(bundle, tmp_path):
    entries = _entries(bundle)
    data = entries["deliveries.jsonl"]
    spans, offset = [], 0
    for line in data.split(b"\n")[:-1]:
        start = line.find(b'"receipt":{')
        if start >= 0:
            spans.append((offset + start, offset + line.index(b"}", start) + 1))
        offset += len(line) + 1
    assert len(spans) == 3
    for start, end in spans:
        for position in range(start, end, 3):
            for changed in _flips(data, position):
                tampered = _write(tmp_path / "tampered.zip", _with_manifest({**entries, "deliveries.jsonl": changed}))
                failure = _failure(tampered)
                assert failure is not None, position
                assert re.match(r"deliveries\.jsonl 第 \d+ 行", failure.where), (position, str(failure))


def test_any_byte_of_the_manifest_changed_fails_naming_it(bundle, tmp_path):
    entries = _entries(bundle)
    data = entries["manifest.json"]
    for position in _positions(len(data), 60):
        for changed in _flips(data, position):
            failure = _failure(_write(tmp_path / "tampered.zip", {**entries, "manifest.json": changed}))
            assert failure is not None, position
            assert "manifest.json" in str(failure), (position, str(failure))


def test_a_byte_of_an_entrys_compressed_data_changed_is_refused_naming_the_entry(bundle, tmp_path):
    raw = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as opened:
        infos = opened.infolist()
    for info in infos:
        # The entry's data starts after its local header (30 bytes, its name, its extra field).
        header = raw[info.header_offset : info.header_offset + 30]
        start = (
            info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
        )
        for position in _positions(info.compress_size, 6):
            changed = bytearray(raw)
            changed[start + position] ^= 0x01
            path = tmp_path / "raw.zip"
            path.write_bytes(bytes(changed))
            failure = _failure(path)
            if failure is None:  # a change of the deflate stream that inflates to the same bytes
                assert _entries(path)[info.filename] == _entries(bundle)[info.filename], (info.filename, position)
                continue
            assert info.filename in str(failure), (info.filename, position, str(failure))


def test_a_file_added_or_taken_away_is_named(bundle, tmp_path):
    entries = _entries(bundle)
    extra = _write(tmp_path / "extra.zip", _with_manifest({**entries, "files/extra": b"x"}))
    assert str(_failure(extra)) == "files/extra：不在清单 manifest.json 中"
    name = next(name for name in entries if name.startswith("files/"))
    missing = _write(tmp_path / "missing.zip", {n: d for n, d in entries.items() if n != name})
    assert str(_failure(missing)) == f"{name}：清单 manifest.json 列出了它，包中却没有"


# --- the attacks of issue 15, against the bundle --------------------------------------------------


def _as_owner(*statements: tuple[str, list]) -> None:
    """Statements with the triggers off, as the tables' owner (or a superuser) can."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        for statement, params in statements:
            cursor.execute(statement, params)
        cursor.execute("SET session_replication_role = origin")


def _rewrite_event(seq: int, payload: dict) -> None:
    """Change event `seq` and recompute every later hash with the project's event_hash."""
    previous = AuditEvent.objects.get(seq=seq - 1).hash
    statements = []
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if event.seq == seq:
            event.payload = payload
        fields = {name: getattr(event, name) for name in ("seq", "occurred_at", "actor_id", "unit_id", "verb")}
        fields.update(object_type=event.object_type, object_id=event.object_id, document_id=event.document_id)
        digest = event_hash(**fields, payload=event.payload, prev_hash=previous)
        statements.append(
            (
                "UPDATE workflow_auditevent SET payload = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                [json.dumps(event.payload), previous, digest, event.seq],
            )
        )
        previous = digest
    _as_owner(*statements)


def _fill_to_a_block(world) -> None:
    """Events up to a multiple of 16: the checkpoint's tree is then stored subtrees only."""
    missing = -AuditEvent.objects.count() % 16
    with transaction.atomic():
        audit_record_many(
            [
                {"actor": None, "verb": AuditVerb.MEMBER_ADDED, "object_type": "User", "object_id": n}
                for n in range(missing)
            ]
        )


def test_an_event_rewritten_with_every_later_hash_recomputed_is_refused_by_the_export(world, chain, key, tmp_path):
    """The attack of issue 15 on a log whose checkpoint is all stored subtrees: the export reads the
    events against the stored tree and refuses, naming the block of 16 the changed event is in,
    instead of writing proofs that would fail at its innocent neighbours."""
    _fill_to_a_block(world)
    call_command("audit_checkpoint")
    size = AuditEvent.objects.count()
    assert size % 16 == 0
    college = delivery_of(chain["college_cover"], world.college)
    signed = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_SIGNED, object_id=str(college.pk))
    _rewrite_event(signed.seq, {**signed.payload, "content_digest": "0" * 64})
    first = (signed.seq - 1) // 16 * 16 + 1
    with pytest.raises(CommandError) as refused:
        call_command("export_evidence", chain["telegram"].number, str(tmp_path / "rewritten.zip"))
    assert str(refused.value) == (
        f"审计日志与签名检查点不符（检查点覆盖 {size} 个事件）："
        f"审计日志第 {first}–{first + 15} 个事件与默克尔树表不符："
        "其中有事件在树表写入后被改动过"
    )
    assert list(tmp_path.glob("rewritten.zip*")) == []


def test_an_event_rewritten_into_the_newest_events_is_refused_by_the_export(world, chain, key, tmp_path):
    """The newest events (past the last block of 16) are hashed from the log: their head is not the
    signed root, and the export says so instead of writing proofs that lead nowhere."""
    call_command("audit_checkpoint")
    size = AuditEvent.objects.count()
    assert size % 16
    signed = AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED).order_by("-seq").first()
    _rewrite_event(signed.seq, {**signed.payload, "content_digest": "0" * 64})
    out = tmp_path / "refused.zip"
    with pytest.raises(CommandError) as refused:
        call_command("export_evidence", chain["telegram"].number, str(out))
    assert str(refused.value) == (f"默克尔树表给出的前 {size} 个事件的树根与签名检查点的不同：树表或审计事件被改动过。")
    assert list(tmp_path.glob("refused.zip*")) == []


def test_the_newest_events_deleted_are_refused_by_the_export(world, chain, key, tmp_path):
    call_command("audit_checkpoint")
    size = AuditEvent.objects.count()
    _as_owner(("DELETE FROM workflow_auditevent WHERE seq > %s", [size - 5]))
    with pytest.raises(CommandError) as refused:
        call_command("export_evidence", chain["telegram"].number, str(tmp_path / "deleted.zip"))
    # The tree's head reads the newest events from the log (past the last stored block of 16).
    missing = max(size - 4, size // 16 * 16 + 1)
    assert (
        str(refused.value) == f"审计日志与签名检查点不符（检查点覆盖 {size} 个事件）：审计日志缺少第 {missing} 个事件"
    )


def test_a_receipt_changed_behind_the_services_back_fails_the_bundle_at_that_receipt(world, chain, key, tmp_path):
    college = delivery_of(chain["college_cover"], world.college)
    _as_owner(("UPDATE workflow_receipt SET content_digest = %s WHERE delivery_id = %s", ["0" * 64, college.pk]))
    path = _export(chain["telegram"], tmp_path / "receipt.zip")
    failure = _failure(path)
    assert re.fullmatch(rf"deliveries\.jsonl 第 \d+ 行（送达 {college.pk}）的回执 {college.receipt.pk}", failure.where)
    assert failure.problem.startswith("content_digest：")


def test_a_deleted_receipt_fails_the_bundle_at_its_delivery(world, chain, key, tmp_path):
    college = delivery_of(chain["college_cover"], world.college)
    _as_owner(("DELETE FROM workflow_receipt WHERE delivery_id = %s", [college.pk]))
    failure = _failure(_export(chain["telegram"], tmp_path / "deleted.zip"))
    assert re.fullmatch(rf"deliveries\.jsonl 第 \d+ 行（送达 {college.pk}）", failure.where)
    assert re.fullmatch(r"receipt：签收事件 #\d+ 的回执不在包中", failure.problem)


def test_a_document_changed_behind_the_services_back_fails_the_bundle_at_that_document(world, chain, key, tmp_path):
    cover = chain["cover"]
    _as_owner(("UPDATE documents_document SET body = %s WHERE id = %s", ["改过的正文。", cover.pk]))
    failure = _failure(_export(chain["telegram"], tmp_path / "document.zip"))
    assert failure.where == f"documents/{cover.digest}.json（公文 {cover.number}）"
    assert failure.problem == "内容的 SHA-256 与其内容摘要不符：公文被改动过"


def test_a_delivery_state_changed_behind_the_services_back_is_named(world, chain, key, tmp_path):
    returned = delivery_of(chain["cover"], world.university_b)
    _as_owner(("UPDATE workflow_delivery SET state = 'pending' WHERE id = %s", [returned.pk]))
    failure = _failure(_export(chain["telegram"], tmp_path / "state.zip"))
    assert re.fullmatch(rf"deliveries\.jsonl 第 \d+ 行（送达 {returned.pk}）", failure.where)
    assert failure.problem == "state：记录为 pending，审计事件表明应为 returned"


def test_the_key_refuses_to_sign_a_rewritten_log_and_the_export_says_so(world, chain, key, tmp_path):
    call_command("audit_checkpoint")
    signed = AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED).first()
    _rewrite_event(signed.seq, {**signed.payload, "content_digest": "0" * 64})
    # A newer event of the chain: the export must sign a fresh checkpoint, and the key refuses.
    services.document_share(actor=world.zzb, document=chain["telegram"], user=world.other_auditor)
    out = tmp_path / "refused.zip"
    refusal = (
        r"^无法签署新的检查点：拒绝签署检查点：checkpoint-\d{12}-\S+\.json: 检查点（(\d+) 个事件，\S+）："
        r"第 \1 个审计事件的哈希与检查点记下的不同：此前的事件被改动过$"
    )
    with pytest.raises(CommandError, match=refusal):
        call_command("export_evidence", chain["telegram"].number, str(out))
    assert list(tmp_path.glob("refused.zip*")) == []


# --- refusals -------------------------------------------------------------------------------------


def test_an_unknown_number_is_named_and_nothing_is_written(world, tmp_path):
    out = tmp_path / "none.zip"
    with pytest.raises(CommandError, match=r"^没有发文字号为 内组电明字〔2022〕999号 的已印发公文。$"):
        call_command("export_evidence", "内组电明字〔2022〕999号", str(out))
    with pytest.raises(CommandError, match=r"^发文字号“999号”格式不正确"):
        call_command("export_evidence", "999号", str(out))
    assert list(tmp_path.iterdir()) == []


def test_without_a_checkpoint_or_a_key_the_export_says_a_checkpoint_is_needed(world, chain, tmp_path):
    out = tmp_path / "none.zip"
    with pytest.raises(CommandError, match=r"^还没有签名的审计检查点：证据包的包含证明需要一个检查点。"):
        call_command("export_evidence", chain["telegram"].number, str(out))
    assert not out.exists()


def test_with_an_old_checkpoint_and_no_key_the_export_names_the_events_not_covered(
    world, chain, key, settings, tmp_path, capsys
):
    call_command("audit_checkpoint")
    covered = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    services.document_share(actor=world.jygw, document=chain["cover"], user=world.other_auditor)
    newest = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    # The web server's configuration: the published key, not the signing key.
    (tmp_path / "public.pem").write_text(_public_pem(key))
    settings.AUDIT_SIGNING_KEY_FILE, settings.AUDIT_PUBLIC_KEY_FILE = "", str(tmp_path / "public.pem")
    with pytest.raises(CommandError) as refused:
        call_command("export_evidence", chain["telegram"].number, str(tmp_path / "old.zip"))
    assert str(refused.value) == (
        f"本链最新的审计事件（第 {newest} 号）晚于最新的签名检查点（覆盖到第 {covered} 号）："
        "请先运行 python manage.py audit_checkpoint（或等待定时检查点）再导出。"
    )
    assert not (tmp_path / "old.zip").exists()


def _public_pem(key: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


# --- the pieces, against the project's own ----------------------------------------------------------


def _filler(count: int) -> None:
    with transaction.atomic():
        audit_record_many(
            [
                {"actor": None, "verb": AuditVerb.DELIVERY_READ, "object_type": "Delivery", "object_id": n}
                for n in range(count)
            ]
        )


@pytest.mark.parametrize("size", [1, 2, 15, 16, 17, 31, 32, 33, 100, 255, 256, 300])
def test_the_streamed_proofs_are_the_stored_trees_proofs(world, size):
    _filler(320 - AuditEvent.objects.count())
    tree_extend()
    seqs = [seq for seq in range(1, size + 1) if seq % 3 != 1 or seq == size]
    branches = [
        AuditEvent.objects.filter(seq__in=seqs[::2], seq__lte=size),
        AuditEvent.objects.filter(seq__in=seqs[1::2], seq__lte=size),
    ]
    nodes = sibling_nodes(branches, size)
    proofs = ProofStream(
        size,
        tree_frontier(size),
        block_events(branches, size).iterator(),
        nodes.iterator() if nodes is not None else None,
    )
    for seq in seqs:
        assert proofs.path(seq - 1) == inclusion_proof(seq, size), seq


def test_verify_py_hashes_events_as_the_audit_log_does(world, chain):
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) > 60
    for event in events:
        fields = {
            "seq": event.seq,
            "actor_id": event.actor_id,
            "unit_id": event.unit_id,
            "verb": event.verb,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "document_id": event.document_id,
            "payload": event.payload,
            "prev_hash": event.prev_hash,
        }
        text = event.occurred_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert verifier.event_hash(occurred_at=text, **fields) == event_hash(occurred_at=event.occurred_at, **fields)
        assert verifier.event_hash(occurred_at=text, **fields) == event.hash
        assert hashlib.sha256(event_bytes(occurred_at=text, **fields)).hexdigest() == event.hash


def test_verify_py_checks_inclusion_as_rfc_9162_says(world):
    _filler(100 - AuditEvent.objects.count())
    tree_extend()
    size = AuditEvent.objects.count()
    leaves = {seq: leaf_hash(bytes.fromhex(h)) for seq, h in AuditEvent.objects.values_list("seq", "hash")}
    root = bytes.fromhex(checkpoint_root(size))
    for seq in range(1, size + 1):
        proof = inclusion_proof(seq, size)
        assert verifier.verify_inclusion(leaves[seq], seq - 1, size, proof, root) is True
        assert verify_inclusion(leaves[seq], seq - 1, size, proof, root) is True
        for position in range(len(proof)):
            wrong = [*proof]
            wrong[position] = bytes([wrong[position][0] ^ 1]) + wrong[position][1:]
            assert verifier.verify_inclusion(leaves[seq], seq - 1, size, wrong, root) is False
        assert verifier.verify_inclusion(leaves[seq], seq % size, size, proof, root) is False
        assert verifier.verify_inclusion(leaves[seq], seq - 1, size, [*proof, root], root) is False


def test_verify_py_s_shortcut_for_neighbouring_proofs_still_checks_every_byte(world):
    """_Paths reuses the upper part of the previous proof: a changed byte anywhere in a proof, after
    proofs that held, must still fail, as RFC 9162's steps would."""
    _filler(200 - AuditEvent.objects.count())
    tree_extend()
    size = AuditEvent.objects.count()
    leaves = {seq: leaf_hash(bytes.fromhex(h)) for seq, h in AuditEvent.objects.values_list("seq", "hash")}
    root = bytes.fromhex(checkpoint_root(size))
    seqs = [1, 2, 3, 5, 8, 9, 16, 17, 31, 64, 65, 66, 100, 127, 128, 129, 190, size - 1, size]
    proofs = {seq: b"".join(inclusion_proof(seq, size)) for seq in seqs}
    paths = verifier._Paths(size, root)
    for seq in seqs:
        assert paths.length(seq - 1) == len(proofs[seq]) // 32
        assert paths.check(leaves[seq], seq - 1, proofs[seq]), seq
    for index, seq in enumerate(seqs):
        for position in range(0, len(proofs[seq]), 7):
            paths = verifier._Paths(size, root)
            for before in seqs[:index]:
                assert paths.check(leaves[before], before - 1, proofs[before])
            wrong = bytearray(proofs[seq])
            wrong[position] ^= 0x01
            assert not paths.check(leaves[seq], seq - 1, bytes(wrong)), (seq, position)
            assert paths.check(leaves[seq], seq - 1, proofs[seq])  # and it recovers


def checkpoint_root(size: int) -> str:
    return tree_head(size).hex()


# --- the chain page's offer ------------------------------------------------------------------------


def _download(client, document) -> tuple[object, bytes]:
    response = client.get(reverse("chain-evidence", args=[document.pk]))
    # Read to its end: the test client's wrapper then closes it (and its snapshot and cursors).
    data = b"".join(response.streaming_content) if response.streaming else response.content
    return response, data


def test_the_chain_page_offers_the_bundle_to_those_who_may_see_the_chain(client, world, chain, key, tmp_path):
    telegram = chain["telegram"]
    for who in (world.zzb, world.auditor):
        sign_in(client, who)
        page = client.get(reverse("chain", args=[telegram.pk]))
        assert f'href="{reverse("chain-evidence", args=[telegram.pk])}"' in page.content.decode()
        response, data = _download(client, telegram)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert response["Content-Disposition"] == f'attachment; filename="evidence-{telegram.pk}.zip"'
        assert response["Cache-Control"] == "private, no-store"
        path = tmp_path / f"{who.username}.zip"
        path.write_bytes(data)
        code, output = _verify(path)
        assert code == 0, output
        assert output.startswith("核验通过 ok：3 份公文，3 个文件，5 条送达，3 份回执，")


def test_the_page_says_a_checkpoint_is_needed_and_writes_nothing(client, world, chain, nothing_written):
    sign_in(client, world.auditor)
    with nothing_written():
        response, data = _download(client, chain["telegram"])
    assert response.status_code == 409
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert data.decode() == (
        "还没有签名的审计检查点：证据包的包含证明需要一个检查点。"
        "请先运行 python manage.py audit_checkpoint（或等待定时检查点）再导出。"
    )


def test_the_bundle_download_is_a_constant_number_of_queries(client, world, key, settings, tmp_path):
    """Counted while the streamed answer is read: the same at one delivery and at a chain of three
    levels with attachments, returns, completions and a recall."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    sign_in(client, world.auditor)
    small, _ = issue(world.zzb, world.department, main=[world.education], title="关于小的通知")
    call_command("audit_checkpoint")
    client.get(reverse("chain", args=[small.pk]))
    with CaptureQueriesContext(connection) as small_queries:
        response, data = _download(client, small)
    assert response.status_code == 200

    # Another chain, a bigger one.
    large = issue_with_attachments(world, attachments=3, main=[world.groups["各直属党委"]], title="关于大的通知")
    cover, _ = forward(world.jygw, delivery_of(large, world.education), main=[world.groups["各高校党委"]])
    college_cover, _ = forward(world.imu, delivery_of(cover, world.university), main=[world.groups["各学院党委"]])
    at_college = delivery_of(college_cover, world.college)
    services.delivery_sign_for(actor=world.college_clerk, delivery_id=at_college.pk)
    services.delivery_complete(
        actor=world.college_clerk,
        delivery_id=at_college.pk,
        feedback="已办结。",
        attachments=[("落实.txt", io.BytesIO(b"1")), ("照片.txt", io.BytesIO(b"2"))],
    )
    services.delivery_return(
        actor=world.univ_b_clerk,
        delivery_id=delivery_of(cover, world.university_b).pk,
        reason=ReturnReason.NOT_COMPETENT,
    )
    services.delivery_recall(actor=world.zzb, delivery_id=delivery_of(large, world.other).pk, reason="发错")
    call_command("audit_checkpoint")
    with CaptureQueriesContext(connection) as large_queries:
        response, data = _download(client, large)
    assert response.status_code == 200
    path = tmp_path / "large.zip"
    path.write_bytes(data)
    assert _verify(path)[0] == 0
    # The session and the person (2), the door (1), the chain's pieces (2: what its top encloses,
    # where it came from) and its newest event (1): before answering, and again in the snapshot, a
    # transaction (here a savepoint: 2); the tree's frontier (3); then one statement for each
    # server-side cursor, read in batches: documents, attachments, enclosures, files, deliveries,
    # blocks of events, subtrees, events, units, people (10); the events that took in a peer's
    # message (1, 公文交换: none here, so no more).
    assert len(small_queries) == len(large_queries) == 25, "\n".join(q["sql"][:150] for q in large_queries)


# --- make run's database ----------------------------------------------------------------------------


def test_the_demo_chain_exports_and_verifies_on_the_embedded_sqlite_database(tmp_path):
    """`make run`'s database is SQLite: the export's queries (unions, bit shifts for the tree) run
    there too. The demo's chain, its history of October 2022 replayed through the services, as an
    operator exports it (a checkpoint signed first) and an auditor verifies it."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "SECRET_KEY": "embedded-test",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit.key"),
        "AUDIT_PUBLIC_KEY_FILE": "",
        "AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    manage = (sys.executable, "manage.py")
    run(*manage, "migrate", "-v0")
    run(*manage, "demo")
    run(*manage, "audit_keygen", env["AUDIT_SIGNING_KEY_FILE"])
    printed = run(*manage, "export_evidence", "内组电明字〔2022〕11号", str(tmp_path / "demo.zip")).splitlines()
    assert re.fullmatch(r"signed \S+ \(\d+ events\)", printed[0])
    assert re.fullmatch(r"wrote \S+demo\.zip: 3 documents, \d+ files, \d+ deliveries, .*", printed[1])
    verified = run(sys.executable, str(VERIFY), str(tmp_path / "demo.zip")).splitlines()
    assert re.fullmatch(r"核验通过 ok：3 份公文，0 个文件，\d+ 条送达，\d+ 份回执，\d+ 个审计事件", verified[0])
    assert verified[1] == f"流转链：内组电明字〔2022〕11号《{TELEGRAM_TITLE}》"
    # The history of the demo, as the summary tells it, at its own dates: the telegram issued by the
    # 组织部, forwarded by the 教育工委, then by 内蒙古大学党委; units that never signed, withdrawn.
    issued = _beijing(TELEGRAM_ISSUED)
    assert re.fullmatch(
        rf"【内组电明字〔2022〕11号】《{TELEGRAM_TITLE}》 发文机关 中共内蒙古自治区委员会组织部，zzb 于 {issued} 印发"
        r"（事件 #\d+），内容摘要 [0-9a-f]{64}",
        verified[6],
    )
    lines = set(verified)
    assert any(
        re.fullmatch(
            r"    转发：中共内蒙古自治区教育工作委员会 将收到的 内组电明字〔2022〕11号（送达 \d+）"
            r"由 jygw 于 \S+ \S+ 转发",
            line,
        )
        for line in lines
    )
    assert any(
        re.fullmatch(r"      转发：中共内蒙古大学委员会 将收到的 内教工委函〔2022〕90号（送达 \d+）.*", line)
        for line in lines
    )
    assert "  未签收即被撤回（1）：" in lines


def test_a_bundle_that_cannot_be_written_is_named_and_leaves_nothing(world, chain, key, tmp_path):
    out = tmp_path / "missing" / "chain.zip"
    with pytest.raises(CommandError) as refused:
        call_command("export_evidence", chain["telegram"].number, str(out))
    assert str(refused.value) == f"无法写入 {out}：No such file or directory"
    assert not (tmp_path / "missing").exists()
    assert not (tmp_path / "checkpoints").exists()  # named before anything was signed


def test_deliveries_routed_after_their_dispatch_was_recalled_verify_as_withdrawn(world, key, settings, tmp_path):
    """A cover letter still being routed when the delivery it forwards is recalled: its remaining
    deliveries are created withdrawn (their DELIVERIES_CREATED event names the recall)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    telegram, _ = issue(world.zzb, world.department, main=[world.education])
    received = delivery_of(telegram, world.education)
    cover, dispatch = forward(world.jygw, received, main=[world.groups["各高校党委"]], route=False)
    services.delivery_recall(actor=world.zzb, delivery_id=received.pk, reason="发错")
    services.dispatch_route(dispatch_id=dispatch.pk)
    assert set(Delivery.objects.filter(document=cover).values_list("state", flat=True)) == {"recalled"}
    path = _export(telegram, tmp_path / "routed-late.zip")
    code, output = _verify(path)
    assert code == 0, output
    lines = output.splitlines()
    assert "    送达 2 个单位（主送 2）：已撤回 2" in lines


def test_a_chain_whose_deliveries_were_handled_inside_their_unit_exports_and_verifies(world, chain, key, tmp_path):
    """Issue 14: the handling record's events (登记, 批办, 承办, 传阅) are in the chain's audit trail
    (they name the delivered document), and the bundle still verifies."""
    from tests.factories import build_inner_unit

    inner = build_inner_unit(world)
    at_university = delivery_of(chain["cover"], world.university)
    record = services.delivery_register(inner.office_clerk, at_university.pk)
    services.handling_propose(inner.office_clerk, record.pk, text="请组织部办理。")
    services.handling_instruct(
        inner.secretary,
        record.pk,
        text="同意。",
        lead_department_ids=[inner.organization.pk],
        reader_ids=[inner.reader_a.pk],
    )
    lead = record.assignments.get()
    services.assignment_report(inner.org_handler, lead.pk, text="已落实。", finish=True)
    services.reading_done(inner.reader_a, record.reading_slips.get().pk, remark="同意。")
    path = _export(chain["telegram"], tmp_path / "handled.zip")
    events = [json.loads(line) for line in _entries(path)["events.jsonl"].decode().splitlines()]
    verbs = {event[4] if isinstance(event, list) else event["verb"] for event in events}
    assert {"DELIVERY_LOGGED", "HANDLING_INSTRUCTED", "ASSIGNMENT_FINISHED", "READING_DONE"} <= verbs
    code, output = _verify(path)
    assert code == 0, output
