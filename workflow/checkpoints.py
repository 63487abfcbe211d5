"""Signed checkpoints of the audit log, kept outside the database, and the chain checked against them.

A checkpoint says: the log had `tree_size` events (its last seq), the event of that seq had the hash
`head_hash`, and the Merkle tree head (RFC 9162, workflow/audit_tree.py) of those events was
`root_hash`, at `time`; signed with Ed25519 by the key `key_id`. The private key is a file outside
the database (AUDIT_SIGNING_KEY_FILE; `manage.py audit_keygen PATH` writes one); each checkpoint is a
file of its own under AUDIT_CHECKPOINT_DIR, created once (O_EXCL) and never rewritten, and optionally
POSTed to AUDIT_CHECKPOINT_URL and emailed to AUDIT_CHECKPOINT_EMAILS: copies elsewhere are what
an owner of the database cannot take back.

Byte formats, exactly:

- key id: the SHA-256 (64 lowercase hex digits) of the raw 32-byte Ed25519 public key;
- the public key is published as PEM (SubjectPublicKeyInfo, "-----BEGIN PUBLIC KEY-----");
- the signed message: the UTF-8 bytes of the JSON object {"algorithm": "Ed25519", "format":
  "gongwen-audit-checkpoint/1", "head_hash", "key_id", "root_hash", "time", "tree_size"} with keys
  sorted, no whitespace (separators "," and ":"), ASCII only; tree_size an integer, the hashes 64
  lowercase hex digits (root_hash: the 32 bytes of the tree head; head_hash: the event's stored
  hash, 64 zeros for an empty log), time UTC as "YYYY-MM-DDTHH:MM:SS.ffffffZ";
- `signature`: the 64-byte Ed25519 signature of that message, in standard base64 with padding;
- the file: that object plus "signature", as JSON (keys sorted, indented by 2, a final newline),
  named checkpoint-<tree_size, 12 digits>-<time without "-" and ":">.json.
"""

import base64
import binascii
import dataclasses
import datetime
import hashlib
import json
import logging
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from workflow import audit_tree
from workflow.audit import GENESIS_HASH, ChainBroken, Verification, audit_walk
from workflow.merkle import EMPTY_ROOT, Frontier, verify_consistency
from workflow.models import AuditEvent

logger = logging.getLogger(__name__)

FORMAT = "gongwen-audit-checkpoint/1"
ALGORITHM = "Ed25519"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_FILE = re.compile(r"^checkpoint-(\d{12,})-\d{8}T\d{6}\.\d{6}Z\.json$")


class CheckpointError(Exception):
    """A checkpoint cannot be written or read; the message says why, for a person (in Chinese)."""


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    head_hash: str
    root_hash: str
    time: str
    key_id: str
    signature: str = ""
    name: str = ""  # its file's name, once written or read

    def body(self) -> dict:
        return {
            "algorithm": ALGORITHM,
            "format": FORMAT,
            "head_hash": self.head_hash,
            "key_id": self.key_id,
            "root_hash": self.root_hash,
            "time": self.time,
            "tree_size": self.tree_size,
        }

    def signed_bytes(self) -> bytes:
        """The message the signature covers (see the module's docstring)."""
        return json.dumps(self.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")

    def as_dict(self) -> dict:
        """The checkpoint as its file holds it: the signed fields and `signature`."""
        return {**self.body(), "signature": self.signature}

    def file_name(self) -> str:
        return f"checkpoint-{self.tree_size:012d}-{self.time.replace('-', '').replace(':', '')}.json"

    def describe(self) -> str:
        return _("检查点（%(size)s 个事件，%(time)s）") % {"size": self.tree_size, "time": self.time}


# --- keys -------------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_pem_of(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def key_generate(path: str | Path) -> Ed25519PrivateKey:
    """Write a new Ed25519 private key (PKCS#8 PEM, unencrypted) to `path`, mode 600, refusing a path
    that exists. The caller publishes its public key."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CheckpointError(_("%(path)s 已存在：不覆盖已有的密钥。") % {"path": path}) from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
    return key


def signing_key() -> Ed25519PrivateKey:
    """The key of AUDIT_SIGNING_KEY_FILE; CheckpointError when none is configured or it is unusable."""
    path = settings.AUDIT_SIGNING_KEY_FILE
    if not path:
        raise CheckpointError(_("未配置审计签名密钥（AUDIT_SIGNING_KEY_FILE）：不写检查点。"))
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise CheckpointError(_("无法读取审计签名密钥 %(path)s：%(error)s") % {"path": path, "error": error}) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(_("审计签名密钥 %(path)s 不是 Ed25519 密钥。") % {"path": path})
    return key


def public_keys() -> dict[str, Ed25519PublicKey]:
    """The published public keys by key id: every PEM block of AUDIT_PUBLIC_KEY_FILE (old keys stay
    listed there after a new one signs), else the signing key's own; empty if neither is set."""
    path = settings.AUDIT_PUBLIC_KEY_FILE
    if not path:
        if not settings.AUDIT_SIGNING_KEY_FILE:
            return {}
        public = signing_key().public_key()
        return {key_id(public): public}
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointError(_("无法读取审计公钥 %(path)s：%(error)s") % {"path": path, "error": error}) from None
    found = {}
    for block in re.findall(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", text, re.S):
        try:
            public = serialization.load_pem_public_key(block.encode("ascii"))
        except ValueError as error:
            raise CheckpointError(_("无法读取审计公钥 %(path)s：%(error)s") % {"path": path, "error": error}) from None
        if isinstance(public, Ed25519PublicKey):
            found[key_id(public)] = public
    if not found:
        raise CheckpointError(_("审计公钥文件 %(path)s 中没有 Ed25519 公钥。") % {"path": path})
    return found


def public_key_pem() -> str:
    """The published public key(s) as PEM text (SubjectPublicKeyInfo blocks, one after another):
    what an auditor needs to check a checkpoint's signature. Empty if none is configured."""
    return "".join(public_key_pem_of(public) for public in public_keys().values())


# --- files ------------------------------------------------------------------------------------


def _directory() -> Path | None:
    return Path(settings.AUDIT_CHECKPOINT_DIR) if settings.AUDIT_CHECKPOINT_DIR else None


def checkpoint_read(path: Path) -> Checkpoint:
    """Parse one checkpoint file (its signature is not checked here); CheckpointError if malformed."""

    def bad(problem: str) -> CheckpointError:
        return CheckpointError(_("无法读取：%(problem)s") % {"problem": problem})

    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise bad(str(error)) from None
    if not isinstance(data, dict) or set(data) != {*Checkpoint(0, "", "", "", "").body(), "signature"}:
        raise bad(_("字段不对"))
    if (data["format"], data["algorithm"]) != (FORMAT, ALGORITHM):
        raise bad(_("格式或算法不对"))
    size = data["tree_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise bad(_("tree_size 不是非负整数"))
    texts = [data[field] for field in ("head_hash", "root_hash", "key_id", "time", "signature")]
    if not all(isinstance(text, str) for text in texts):
        raise bad(_("字段类型不对"))
    if not all(_HEX64.match(data[field]) for field in ("head_hash", "root_hash", "key_id")):
        raise bad(_("哈希或密钥标识不是 64 位十六进制数"))
    if not _TIME.match(data["time"]):
        raise bad(_("时间格式不对"))
    return Checkpoint(
        tree_size=size,
        head_hash=data["head_hash"],
        root_hash=data["root_hash"],
        time=data["time"],
        key_id=data["key_id"],
        signature=data["signature"],
        name=path.name,
    )


def signature_problem(checkpoint: Checkpoint, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """Why the checkpoint's signature does not hold with the published keys, or None."""
    public = keys.get(checkpoint.key_id)
    if public is None:
        return _("由另一把密钥签署（密钥标识 %(key_id)s 不在公布的公钥中）") % {"key_id": checkpoint.key_id}
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public.verify(signature, checkpoint.signed_bytes())
    except (InvalidSignature, binascii.Error, ValueError):
        return _("签名不符：检查点文件被改动过")
    return None


def _files(min_size: int = 0) -> list[Path]:
    """The checkpoint files of the directory; with min_size, only those whose name says at least
    that size (verify_audit --since reads no older file)."""
    directory = _directory()
    if directory is None or not directory.is_dir():
        return []
    found = []
    for path in directory.glob("checkpoint-*.json"):
        named = _FILE.match(path.name)
        if named is None or int(named.group(1)) >= min_size:
            found.append(path)
    return sorted(found)


def _resolve(name: str) -> Path:
    path = Path(name)
    directory = _directory()
    if not path.exists() and directory is not None and (directory / name).exists():
        path = directory / name
    if not path.is_file():
        raise CheckpointError(_("找不到检查点 %(name)s。") % {"name": name})
    return path


# --- the chain against the checkpoints ----------------------------------------------------------


@dataclass(frozen=True)
class ChainState:
    """What a verification walked to: the log's length, its last event's hash and its tree head."""

    verification: Verification
    size: int = 0
    head_hash: str = GENESIS_HASH
    root: bytes = EMPTY_ROOT


def _failure(checkpoint: Checkpoint, problem: str, events: int, checked: int, since: str = "") -> ChainState:
    reason = _("%(checkpoint)s：%(problem)s") % {"checkpoint": checkpoint.describe(), "problem": problem}
    return ChainState(Verification(False, events, None, reason, checked, checkpoint.name or "-", since))


def _head_problem(size: int) -> str:
    return _("第 %(size)s 个审计事件的哈希与检查点记下的不同：此前的事件被改动过") % {"size": size}


def _agreement(checkpoint: Checkpoint, head_hash: str, root: bytes) -> str | None:
    if head_hash != checkpoint.head_hash:
        return _head_problem(checkpoint.tree_size)
    if root.hex() != checkpoint.root_hash:
        return _("前 %(size)s 个审计事件的默克尔树根与检查点记下的不同") % {"size": checkpoint.tree_size}
    return None


def _shorter(count: int, size: int) -> str:
    return _("审计日志只有 %(count)s 个事件，检查点记下了 %(size)s 个：其后的事件被删除了") % {
        "count": count,
        "size": size,
    }


def _trusted_tree(trusted: Checkpoint, frontier: Frontier) -> str | None:
    """Load into the (empty) frontier the subtrees of the trusted checkpoint's events, from the
    stored tree, and check them against its root."""
    size = trusted.tree_size
    try:
        frontier.size, frontier.hashes = size, audit_tree.tree_frontier(size)
    except audit_tree.TreeError as error:
        return str(error)
    if frontier.head().hex() != trusted.root_hash:
        return _("由树表算出的前 %(size)s 个事件的默克尔树根与检查点的不同：树表或此前的事件被改动过") % {"size": size}
    return None


def chain_verify(*, batch_size: int = 5000, since: str | None = None) -> ChainState:
    """Walk the chain (workflow.audit.audit_walk) and check every checkpoint file against it: its
    signature with the published keys, the event at its size has its head hash, the tree head of
    the events up to its size is its root, and the log is at least as long. The first checkpoint
    that disagrees is named (file, size, time).

    With `since` (a checkpoint's file name in AUDIT_CHECKPOINT_DIR, or a path), that checkpoint is
    trusted once its signature holds: the walk starts at its size, from the tree's stored subtrees
    up to it (checked against its root), so the time is proportional to the events after it; the
    checkpoints after it are checked on the way, and at the end a consistency proof from the stored
    tree (audit_tree.consistency_proof) must lead from its root to the walk's.
    """
    trusted: Checkpoint | None = None
    if since is not None:
        try:
            trusted = checkpoint_read(_resolve(since))
        except CheckpointError as error:
            name = Path(since).name
            return ChainState(Verification(False, 0, None, str(error), 0, name, name))
    since_name = trusted.name if trusted else ""
    start = trusted.tree_size if trusted else 0
    checkpoints: list[Checkpoint] = []
    for path in _files(min_size=start):
        try:
            checkpoints.append(checkpoint_read(path))
        except CheckpointError as error:
            return ChainState(Verification(False, 0, None, str(error), len(checkpoints), path.name, since_name))
    if trusted is not None and all(checkpoint.name != trusted.name for checkpoint in checkpoints):
        checkpoints.append(trusted)  # a file from elsewhere (an auditor's copy)
    checkpoints = [checkpoint for checkpoint in checkpoints if checkpoint.tree_size >= start]
    checkpoints.sort(key=lambda checkpoint: (checkpoint.tree_size, checkpoint.time, checkpoint.name))
    if checkpoints:
        try:
            keys = public_keys()
        except CheckpointError as error:
            return _failure(checkpoints[0], str(error), 0, 0, since_name)
        if not keys:
            problem = _("未配置公钥（AUDIT_PUBLIC_KEY_FILE 或 AUDIT_SIGNING_KEY_FILE），无法核对签名")
            return _failure(checkpoints[0], problem, 0, 0, since_name)
        for checked, checkpoint in enumerate(checkpoints):
            problem = signature_problem(checkpoint, keys)
            if problem is not None:
                return _failure(checkpoint, problem, 0, checked, since_name)
    frontier = Frontier()
    # The empty log's checkpoints, and those of the trusted one's size, are checked before the walk.
    pending = [checkpoint for checkpoint in checkpoints if checkpoint.tree_size > start]
    checked = len(checkpoints) - len(pending)
    for checkpoint in checkpoints[:checked]:
        if checkpoint.tree_size == 0:
            problem = _agreement(checkpoint, GENESIS_HASH, EMPTY_ROOT)
        else:
            problem = _agreement(checkpoint, trusted.head_hash, bytes.fromhex(trusted.root_hash))
        if problem is not None:
            return _failure(checkpoint, problem, 0, checked, since_name)
    position, next_size = 0, pending[0].tree_size if pending else -1
    count, head_hash = 0, GENESIS_HASH
    append, sha256 = frontier.append, hashlib.sha256
    walk = audit_walk(batch_size=batch_size, first_seq=max(start, 1), prev_hash=GENESIS_HASH if start == 0 else None)
    try:
        for seq, digest in walk:
            if seq == start:  # the trusted checkpoint's own event: rehashed by the walk, in the tree already
                if digest != trusted.head_hash:
                    return _failure(trusted, _head_problem(start), 0, checked, since_name)
                problem = _trusted_tree(trusted, frontier)
                if problem is not None:
                    return _failure(trusted, problem, 0, checked, since_name)
                count, head_hash = seq, digest
                continue
            append(sha256(b"\x00" + bytes.fromhex(digest)).digest())
            count, head_hash = seq, digest
            if seq == next_size:
                root = frontier.head()
                while position < len(pending) and pending[position].tree_size == seq:
                    problem = _agreement(pending[position], digest, root)
                    if problem is not None:
                        return _failure(pending[position], problem, count, checked, since_name)
                    position, checked = position + 1, checked + 1
                next_size = pending[position].tree_size if position < len(pending) else -1
    except ChainBroken as broken:
        return ChainState(dataclasses.replace(broken.verification, events=count, checkpoints=checked, since=since_name))
    if count < start:
        last = AuditEvent.objects.aggregate(last=Max("seq"))["last"] or 0
        return _failure(trusted, _shorter(last, start), last, checked, since_name)
    if position < len(pending):
        return _failure(pending[position], _shorter(count, pending[position].tree_size), count, checked, since_name)
    root = frontier.head()
    if start > 0:
        try:
            proof = audit_tree.consistency_proof(start, count)
        except audit_tree.TreeError as error:
            return _failure(trusted, str(error), count, checked, since_name)
        if not verify_consistency(start, count, bytes.fromhex(trusted.root_hash), root, proof):
            problem = _("默克尔树表给出的一致性证明（%(old)s → %(new)s 个事件）不成立") % {"old": start, "new": count}
            return _failure(trusted, problem, count, checked, since_name)
    verification = Verification(True, count, checkpoints=checked, since=since_name, trusted=start)
    return ChainState(verification, count, head_hash, root)


# --- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    checkpoint: Checkpoint
    path: Path
    sent: list[str]  # where copies went: the URL, the addresses
    failures: list[str]  # copies that did not go, each saying why (in Chinese)


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _newest() -> Checkpoint | None:
    newest = None
    for path in _files():
        try:
            checkpoint = checkpoint_read(path)
        except CheckpointError:
            return Checkpoint(-1, "", "", "", "", name=path.name)  # chain_verify names its problem
        if newest is None or (checkpoint.tree_size, checkpoint.time) > (newest.tree_size, newest.time):
            newest = checkpoint
    return newest


def checkpoint_write() -> Written:
    """Sign and write a checkpoint of the log as it is now, then send its copies.

    Extends the stored tree first (audit_tree.tree_extend), and signs only a log that verifies from
    the newest checkpoint on (chain_verify since it: the events after it, and a consistency proof
    from it): a rewritten past is refused, never blessed. Raises CheckpointError saying why
    nothing was written. A copy that fails to go is reported in `failures`, the file stays.
    """
    key = signing_key()
    directory = _directory()
    if directory is None:
        raise CheckpointError(_("未配置检查点目录（AUDIT_CHECKPOINT_DIR）：不写检查点。"))
    audit_tree.tree_extend()
    newest = _newest()
    state = chain_verify(since=str(directory / newest.name) if newest else None)
    verification = state.verification
    if not verification.is_intact:
        line = f"{verification.checkpoint}: {verification.reason}" if verification.checkpoint else verification.reason
        raise CheckpointError(_("拒绝签署检查点：%(problem)s") % {"problem": line})
    if audit_tree.tree_head(state.size) != state.root:
        raise CheckpointError(_("拒绝签署检查点：默克尔树表的树根与审计事件算出的不同（树表被改动过）。"))
    public = key.public_key()
    unsigned = Checkpoint(
        tree_size=state.size,
        head_hash=state.head_hash,
        root_hash=state.root.hex(),
        time=_utc(timezone.now()),
        key_id=key_id(public),
    )
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode("ascii")
    checkpoint = dataclasses.replace(unsigned, signature=signature, name=unsigned.file_name())
    text = json.dumps(checkpoint.as_dict(), sort_keys=True, indent=2, ensure_ascii=True) + "\n"
    try:
        path = _write_once(directory, checkpoint.name, text.encode("ascii"))
    except FileExistsError:
        raise CheckpointError(
            _("检查点文件 %(path)s 已存在：不覆盖。") % {"path": directory / checkpoint.name}
        ) from None
    sent, failures = _send_copies(checkpoint, text)
    return Written(checkpoint, path, sent, failures)


def _write_once(directory: Path, name: str, data: bytes) -> Path:
    """Create the file, never overwrite one (O_EXCL), read-only, synced to disk with its directory."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    folder = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return path


def _send_copies(checkpoint: Checkpoint, text: str) -> tuple[list[str], list[str]]:
    sent, failures = [], []
    url = settings.AUDIT_CHECKPOINT_URL
    if url:
        try:
            if not url.startswith(("http://", "https://")):
                raise ValueError(_("只支持 http:// 和 https:// 地址"))
            request = urllib.request.Request(  # noqa: S310 (the scheme is checked just above)
                url, data=text.encode("ascii"), headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (likewise)
                answer.read()
            sent.append(url)
        except (OSError, ValueError, urllib.error.URLError) as error:
            failures.append(_("发送到 %(url)s 失败：%(error)s") % {"url": url, "error": error})
    if settings.AUDIT_CHECKPOINT_EMAILS:
        # Django's mail directly, not the outbox: the outbox's rows are notices to people about
        # deliveries, retried by its sweep; a checkpoint is a copy for an archive, and the next one
        # carries everything a lost one did (its log, its head).
        subject = _("审计检查点：%(size)s 个事件，%(time)s") % {"size": checkpoint.tree_size, "time": checkpoint.time}
        try:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, settings.AUDIT_CHECKPOINT_EMAILS)
            sent.extend(settings.AUDIT_CHECKPOINT_EMAILS)
        except OSError as error:
            failures.append(
                _("邮寄到 %(to)s 失败：%(error)s") % {"to": ", ".join(settings.AUDIT_CHECKPOINT_EMAILS), "error": error}
            )
    for failure in failures:
        logger.error("checkpoint %s: %s", checkpoint.name, failure)
    return sent, failures


def checkpoint_latest() -> dict | None:
    """The newest checkpoint whose signature holds with the published keys, as its file holds it
    (Checkpoint.as_dict: the signed fields and `signature`, see the module's docstring), with its
    file's name under "name"; None if there is none."""
    keys = public_keys()
    found = None
    for path in _files():
        try:
            checkpoint = checkpoint_read(path)
        except CheckpointError:
            continue
        if signature_problem(checkpoint, keys) is None and (
            found is None or (checkpoint.tree_size, checkpoint.time) > (found.tree_size, found.time)
        ):
            found = checkpoint
    return None if found is None else {**found.as_dict(), "name": found.name}
