"""Writing an evidence bundle: the chain at one document, as a zip streamed entry by entry.

The layout is the package's docstring (workflow/evidence/__init__.py) and verify.py's. Everything is
read in one snapshot of the database (REPEATABLE READ on PostgreSQL; SQLite's transaction is one
already), from server-side cursors: a constant number of queries, and memory that does not grow
with the chain. Only the small sets are lists: the documents the chain's top encloses, the upstream
delivery, the recalls made above the chain that reached into it.

Every event of the chain must be covered by the newest signed checkpoint (workflow.checkpoints):
when it is not, `prepare` signs a fresh one if it may (checkpoint_write extends the tree, and
refuses to sign a log that does not verify from the newest checkpoint on) or says a checkpoint is
needed. The snapshot is taken after the checkpoint is read, so it holds every event the checkpoint
covers; if the chain moved meanwhile, the export signs again (or stops, saying why).
"""

import contextlib
import datetime
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.digest import CONTENT_FIELDS, canonical_bytes
from documents.models import Attachment, Document, Enclosure
from documents.numbering import format_number, parse_number
from units.errors import Conflict, DomainError
from units.models import Unit
from workflow import audit_tree, sql
from workflow.checkpoints import CheckpointError, checkpoint_latest, checkpoint_write, public_key_pem
from workflow.evidence.proofs import FETCH, ProofStream, among, block_events, sibling_nodes
from workflow.merkle import fold
from workflow.models import AuditEvent, AuditVerb, CompletionAttachment, Delivery, Forward, Recall

FORMAT = "gongwen-evidence/1"
VERIFIER = Path(__file__).with_name("verify.py")
# The zip is handed on whenever this much of it is ready.
CHUNK = 1 << 16
# How many times the export signs a checkpoint and takes its snapshot again when the chain moved
# in between (events after the checkpoint, seen in the snapshot).
ATTEMPTS = 3
# Canonical JSON (documents/digest.py, workflow/audit.py): keys sorted, no spaces, non-ASCII kept.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class EvidenceError(Conflict):
    """The bundle cannot be made (now); the message says why, for a person (in Chinese)."""


def evidence_document(number: str) -> Document:
    """The issued document with this number as printed (内组电明字〔2022〕11号); EvidenceError
    naming the number when there is none."""
    try:
        parsed = parse_number(number)
    except DomainError as error:
        raise EvidenceError(error.message) from None
    document = (
        Document.objects.filter(
            number_prefix=parsed.prefix,
            number_year=parsed.year,
            number_serial=parsed.serial,
            state=Document.State.ISSUED,
        )
        .select_related("issuing_unit")
        .first()
    )
    if document is None:
        raise EvidenceError(_("没有发文字号为 %(number)s 的已印发公文。") % {"number": parsed})
    return document


def canonical_line(value: object) -> bytes:
    """One record of a .jsonl file: canonical JSON and a newline."""
    return (_CANONICAL.encode(value) + "\n").encode("utf-8")


def event_bytes(
    seq: int,
    occurred_at: str,
    actor_id: int | None,
    unit_id: int | None,
    verb: str,
    object_type: str,
    object_id: str,
    document_id: int | None,
    payload: object,
    prev_hash: str,
) -> bytes:
    """The bytes workflow.audit.event_hash hashes (its docstring): the event's hash is their SHA-256."""
    body = [seq, occurred_at, actor_id, unit_id, verb, object_type, object_id, document_id, payload, prev_hash]
    return _CANONICAL.encode(body).encode("utf-8")


def _utc(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- what the chain is ----------------------------------------------------------------------------


class _Chain:
    """The queries of a chain: the document, every issued cover letter below it, what they enclose."""

    def __init__(self, document: Document):
        self.document = document
        # (D, D, 0) is in the closure: the document itself, then every issued cover enclosing it.
        self.tree = Enclosure.objects.filter(enclosed=document, cover__state=Document.State.ISSUED).values("cover_id")
        # What the top encloses (the covers below enclose nothing else): above the chain.
        self.enclosed = list(
            Enclosure.objects.filter(cover=document, depth__gt=0)
            .order_by("enclosed_id")
            .values_list("enclosed_id", flat=True)
        )
        # The delivery the top was forwarded from, if it is a forward: its unit signed for what it encloses.
        self.upstream = Forward.objects.filter(cover=document).values_list("source_delivery_id", flat=True).first()
        # Recalls of a document above that withdrew deliveries of the chain with them.
        self.recalls_above = (
            list(
                Recall.objects.filter(
                    pk__in=Delivery.objects.filter(document__in=self.tree).values("recall_id"),
                    dispatch__document__in=self.enclosed,
                ).values_list("dispatch_id", "delivery_id")
            )
            if self.enclosed
            else []
        )

    def document_ids(self) -> QuerySet:
        above = Enclosure.objects.filter(cover=self.document, depth__gt=0).order_by().values("enclosed_id")
        return self.tree.order_by().union(above)

    def events(self, size: int | None = None) -> list[QuerySet[AuditEvent]]:
        """The chain's events, as querysets each found by an index (their union is the set): every
        event of the documents of the chain; of the documents above, the event that fixed each one's
        digest, those of the upstream delivery, and the recalls that reached into the chain."""
        # Each branch by an index, whatever the statistics say (proofs.among).
        branches = [AuditEvent.objects.filter(among("document_id", self.tree))]
        if self.enclosed:
            above = Q(verb__in=[AuditVerb.DOCUMENT_ISSUED, AuditVerb.DOCUMENT_REGISTERED], object_type="Document")
            if self.upstream is not None:
                above |= Q(object_type="Delivery", object_id=str(self.upstream))
            for dispatch_id, delivery_id in self.recalls_above:
                if delivery_id is None:
                    above |= Q(verb=AuditVerb.DISPATCH_RECALLED, object_type="Dispatch", object_id=str(dispatch_id))
                else:
                    above |= Q(verb=AuditVerb.DELIVERY_RECALLED, object_type="Delivery", object_id=str(delivery_id))
            branches.append(AuditEvent.objects.filter(above, document_id__in=self.enclosed))
        if size is not None:
            branches = [branch.filter(seq__lte=size) for branch in branches]
        return [branch.order_by() for branch in branches]

    def newest_event(self) -> int:
        newest = [branch.aggregate(newest=Max("seq"))["newest"] or 0 for branch in self.events()]
        return max(newest)

    def deliveries(self) -> list[QuerySet[Delivery]]:
        branches = [Delivery.objects.filter(among("document_id", self.tree))]
        if self.upstream is not None:
            branches.append(Delivery.objects.filter(pk=self.upstream))
        return [branch.order_by() for branch in branches]


def _union(querysets: list[QuerySet]) -> QuerySet:
    first, *rest = querysets
    return first.union(*rest, all=True) if rest else first


@contextlib.contextmanager
def _snapshot():
    """One snapshot for every read of the export: REPEATABLE READ on PostgreSQL (the connection's
    level is put back afterwards); inside a caller's transaction, that transaction's."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    from psycopg import IsolationLevel  # PostgreSQL only

    connection.ensure_connection()
    raw = connection.connection
    previous = raw.isolation_level
    raw.isolation_level = IsolationLevel.REPEATABLE_READ
    try:
        with transaction.atomic():
            yield
    finally:
        if connection.connection is raw and not raw.closed:
            raw.isolation_level = previous


# --- the zip, streamed ----------------------------------------------------------------------------


class _Sink:
    """Where zipfile writes: kept until taken. No seek(): zipfile then writes each entry's sizes
    after its data (a data descriptor), so nothing already handed on is written again."""

    def __init__(self):
        self.data = bytearray()
        self.offset = 0

    def write(self, data) -> int:
        self.data += data
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self.data)
        self.data.clear()
        return data


class _Bundle:
    def __init__(self, moment: datetime.datetime):
        self.sink = _Sink()
        self.zip = zipfile.ZipFile(self.sink, "w", compression=zipfile.ZIP_DEFLATED)
        local = timezone.localtime(moment)
        self.date_time = (local.year, local.month, local.day, local.hour, local.minute, local.second)
        self.files: list[dict] = []

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def add(self, name: str, data: bytes) -> None:
        self.zip.writestr(self._info(name), data)
        self.files.append({"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})

    @contextlib.contextmanager
    def entry(self, name: str) -> Iterator[Callable[[bytes], None]]:
        """A large entry, written piece by piece (zip64: it may pass 4 GiB)."""
        digest, size = hashlib.sha256(), 0

        with self.zip.open(self._info(name), "w", force_zip64=True) as stream:

            def write(data: bytes) -> None:
                nonlocal size
                stream.write(data)
                digest.update(data)
                size += len(data)

            yield write
        self.files.append({"name": name, "sha256": digest.hexdigest(), "size": size})

    def ready(self) -> Iterator[bytes]:
        if len(self.sink.data) >= CHUNK:
            yield self.sink.take()

    def close(self) -> bytes:
        self.zip.close()
        return self.sink.take()


class _Cursors:
    """The server-side cursors of one export, each read in batches (FETCH rows a trip), all closed
    before its snapshot ends, whether it ends well or not: a cursor left to the garbage collector
    would be closed in whatever transaction runs then."""

    def __init__(self):
        self._open: list = []

    def rows(self, queryset: QuerySet) -> Iterator[tuple]:
        rows = queryset.iterator(chunk_size=FETCH)
        self._open.append(rows)
        return rows

    def close(self) -> None:
        for rows in self._open:
            rows.close()
        self._open.clear()


# --- the export -----------------------------------------------------------------------------------


# 公文交换: the events that took in a peer's message, and the message's type (its id is in the
# payload under that type's name).
ACCEPTED_VERBS = {
    AuditVerb.CONSIGNMENT_ACCEPTED: "consignment",
    AuditVerb.RECEIPT_ACCEPTED: "receipt",
    AuditVerb.RECALL_ACCEPTED: "recall",
    AuditVerb.REPORT_ACCEPTED: "report",
}


class EvidenceExport:
    """The evidence bundle of the chain at `document`: `prepare()`, then the zip from `chunks()`.

    `may_sign`: sign a fresh checkpoint when the chain's newest events are not covered yet; by
    default, when a signing key is configured (AUDIT_SIGNING_KEY_FILE).
    After the export, `checkpoint` is the checkpoint the proofs lead to, `signed` the checkpoints
    signed for it (workflow.checkpoints.Written), `counts` what the bundle holds and `files` its
    entries (name, SHA-256, size; the manifest's list).
    """

    def __init__(self, document: Document, *, may_sign: bool | None = None):
        self.document = document
        self.may_sign = bool(settings.AUDIT_SIGNING_KEY_FILE) if may_sign is None else may_sign
        self.checkpoint: dict | None = None
        self.signed: list = []
        self.counts = {"documents": 0, "files": 0, "deliveries": 0, "receipts": 0, "events": 0}
        self.files: list[dict] = []
        self.cursors = _Cursors()

    def prepare(self) -> None:
        """Make sure a signed checkpoint covers the chain's events (signing one if it may); raise
        EvidenceError saying why not. Outside any snapshot: the pages call it before answering."""
        checkpoint, newest = checkpoint_latest_or_none(), _Chain(self.document).newest_event()
        if not _covers(checkpoint, newest):
            self._sign(checkpoint, newest)

    def _sign(self, checkpoint: dict | None, newest: int) -> None:
        if not self.may_sign:
            if checkpoint is None:
                raise EvidenceError(
                    _(
                        "还没有签名的审计检查点：证据包的包含证明需要一个检查点。"
                        "请先运行 python manage.py audit_checkpoint（或等待定时检查点）再导出。"
                    )
                )
            raise EvidenceError(
                _(
                    "本链最新的审计事件（第 %(seq)s 号）晚于最新的签名检查点（覆盖到第 %(size)s 号）："
                    "请先运行 python manage.py audit_checkpoint（或等待定时检查点）再导出。"
                )
                % {"seq": newest, "size": checkpoint["tree_size"]}
            )
        try:
            self.signed.append(checkpoint_write())
        except CheckpointError as error:
            raise EvidenceError(_("无法签署新的检查点：%(problem)s") % {"problem": error}) from None

    def chunks(self) -> Iterator[bytes]:
        """The zip, piece by piece, read in one snapshot (see the module's docstring)."""
        for _attempt in range(ATTEMPTS):
            checkpoint = checkpoint_latest_or_none()
            with _snapshot():
                chain = _Chain(self.document)
                newest = chain.newest_event()
                if _covers(checkpoint, newest):
                    self.checkpoint = checkpoint
                    try:
                        yield from self._write(chain, checkpoint)
                    except audit_tree.TreeError as error:
                        problem = {"size": checkpoint["tree_size"], "problem": error}
                        raise EvidenceError(
                            _("审计日志与签名检查点不符（检查点覆盖 %(size)s 个事件）：%(problem)s") % problem
                        ) from None
                    finally:
                        self.cursors.close()
                    return
            self._sign(checkpoint, newest)
        raise EvidenceError(_("本链的审计事件在签署检查点期间不断增加，未能导出证据包，请稍后再试。"))

    # --- the entries ---

    def _write(self, chain: _Chain, checkpoint: dict) -> Iterator[bytes]:
        size = checkpoint["tree_size"]
        checkpoint_bytes = _checkpoint_file(checkpoint)
        frontier = audit_tree.tree_frontier(size)
        if fold(frontier).hex() != checkpoint["root_hash"]:
            raise EvidenceError(
                _("默克尔树表给出的前 %(size)s 个事件的树根与签名检查点的不同：树表或审计事件被改动过。")
                % {"size": size}
            )
        now = timezone.now()
        bundle = _Bundle(now)
        bundle.add("README.txt", _readme(self.document, checkpoint, now).encode("utf-8"))
        bundle.add("verify.py", VERIFIER.read_bytes())
        bundle.add("checkpoint.json", checkpoint_bytes)
        bundle.add("public_key.pem", public_key_pem().encode("ascii"))
        yield from self._documents(bundle, chain)
        yield from self._files(bundle, chain)
        yield from self._deliveries(bundle, chain)
        yield from self._events(bundle, chain, size, frontier)
        yield from self._exchange(bundle, chain, size)
        yield from self._directory(bundle, chain, size)
        self.files = list(bundle.files)
        manifest = {
            "checkpoint": {"name": checkpoint["name"], "root_hash": checkpoint["root_hash"], "tree_size": size},
            "counts": self.counts,
            "document": {"id": self.document.pk, "number": self.document.number, "title": self.document.title},
            "files": bundle.files,
            "format": FORMAT,
        }
        text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
        bundle.zip.writestr(bundle._info("manifest.json"), text.encode("utf-8"))
        yield bundle.close()

    def _documents(self, bundle: _Bundle, chain: _Chain) -> Iterator[bytes]:
        ids = chain.document_ids()
        documents = (
            Document.objects.filter(pk__in=ids)
            .annotate(
                depth=Subquery(Enclosure.objects.filter(cover=OuterRef("pk"), enclosed=chain.document).values("depth")),
                forwarded_from=Subquery(Forward.objects.filter(cover=OuterRef("pk")).values("source_delivery_id")),
            )
            .order_by("id")
            .values_list(
                "id",
                "number_prefix",
                "number_year",
                "number_serial",
                "digest",
                "issuing_unit_id",
                "depth",
                "forwarded_from",
                *CONTENT_FIELDS,
            )
        )
        attachments = _Merge(
            self.cursors.rows(
                Attachment.objects.filter(document__in=ids)
                .order_by("document_id", "position")
                .values_list("document_id", "name", "size", "sha256")
            )
        )
        enclosures = _Merge(
            self.cursors.rows(
                Enclosure.objects.filter(cover__in=ids, depth=1)
                .order_by("cover_id", "position")
                .values_list("cover_id", "enclosed_id", "enclosed__digest")
            )
        )
        with tempfile.SpooledTemporaryFile(max_size=1 << 22) as index:
            for pk, prefix, year, serial, digest, issuer, depth, forwarded_from, *elements in self.cursors.rows(
                documents
            ):
                number = format_number(prefix, year, serial)
                enclosed = [(enclosed_id, inner) for _cover, enclosed_id, inner in enclosures.of(pk)]
                data = canonical_bytes(
                    number=number,
                    elements=dict(zip(CONTENT_FIELDS, elements, strict=True)),
                    attachments=[(name, size, sha256) for _document, name, size, sha256 in attachments.of(pk)],
                    enclosure_digests=[enclosed_digest for _id, enclosed_digest in enclosed],
                )
                # Named by the digest the database holds: if the document was changed behind the
                # services' back, its bytes no longer hash to it, and verify.py says so.
                bundle.add(f"documents/{digest}.json", data)
                index.write(
                    canonical_line(
                        {
                            "depth": depth,
                            "digest": digest,
                            "enclosures": [enclosed_id for enclosed_id, _digest in enclosed],
                            "forwarded_from": forwarded_from,
                            "id": pk,
                            "issuing_unit_id": issuer,
                            "number": number,
                        }
                    )
                )
                self.counts["documents"] += 1
                yield from bundle.ready()
            index.seek(0)
            with bundle.entry("documents.jsonl") as write:
                while piece := index.read(CHUNK):
                    write(piece)
                    yield from bundle.ready()

    def _files(self, bundle: _Bundle, chain: _Chain) -> Iterator[bytes]:
        """The attachments of the documents and the files of the chain's 办结 feedback, once each."""
        branches = [
            Attachment.objects.filter(document__in=chain.document_ids()).values_list("sha256", "file"),
            *(
                CompletionAttachment.objects.filter(completion__delivery__in=branch.values("pk")).values_list(
                    "sha256", "file"
                )
                for branch in chain.deliveries()
            ),
        ]
        previous = None
        for sha256, name in self.cursors.rows(_union([branch.order_by() for branch in branches]).order_by("sha256")):
            if sha256 == previous:
                continue
            previous = sha256
            try:
                stream = default_storage.open(name, "rb")
            except OSError:
                raise EvidenceError(_("附件文件 %(name)s 缺失，无法导出证据包。") % {"name": name}) from None
            with stream, bundle.entry(f"files/{sha256}") as write:
                while piece := stream.read(CHUNK):
                    write(piece)
                    yield from bundle.ready()
            self.counts["files"] += 1

    def _deliveries(self, bundle: _Bundle, chain: _Chain) -> Iterator[bytes]:
        fields = (
            "id",
            "dispatch_id",
            "document_id",
            "unit_id",
            "role",
            "state",
            "created_at",
            "read_at",
            "signed_at",
            "returned_at",
            "completed_at",
            "deadline_sign_for",
            "deadline_complete",
            "reminder_count",
            "recall_id",
            "receipt__id",
            "receipt__unit_id",
            "receipt__signed_by_id",
            "receipt__signed_at",
            "receipt__content_digest",
        )
        deliveries = _union([branch.values_list(*fields) for branch in chain.deliveries()]).order_by("id")
        with bundle.entry("deliveries.jsonl") as write:
            for row in self.cursors.rows(deliveries):
                (pk, dispatch, document, unit, role, state, created, read, signed, returned, completed) = row[:11]
                sign_for, complete, reminders, recall, receipt_id, *receipt = row[11:]
                record = {
                    "completed_at": _utc(completed),
                    "created_at": _utc(created),
                    "deadline_complete": _utc(complete),
                    "deadline_sign_for": _utc(sign_for),
                    "dispatch_id": dispatch,
                    "document_id": document,
                    "id": pk,
                    "read_at": _utc(read),
                    "recall_id": recall,
                    "receipt": None,
                    "reminders": reminders,
                    "returned_at": _utc(returned),
                    "role": role,
                    "signed_at": _utc(signed),
                    "state": state,
                    "unit_id": unit,
                }
                if receipt_id is not None:
                    receipt_unit, signed_by, receipt_signed_at, content_digest = receipt
                    record["receipt"] = {
                        "content_digest": content_digest,
                        "id": receipt_id,
                        "signed_at": _utc(receipt_signed_at),
                        "signed_by_id": signed_by,
                        "unit_id": receipt_unit,
                    }
                    self.counts["receipts"] += 1
                write(canonical_line(record))
                self.counts["deliveries"] += 1
                yield from bundle.ready()

    def _events(self, bundle: _Bundle, chain: _Chain, size: int, frontier: list[bytes]) -> Iterator[bytes]:
        branches = chain.events(size)
        columns = ["seq", "occurred_at", "actor_id", "unit_id", "verb", "object_type", "object_id", "document_id"]
        columns += ["payload", "prev_hash"]
        if connection.vendor == "postgresql":
            # The moment as the hash prints it and the payload as text (workflow.audit does the same).
            branches = [
                branch.annotate(occurred_text=sql.audit_occurred_text(), payload_text=Cast("payload", TextField()))
                for branch in branches
            ]
            columns[1], columns[8] = "occurred_text", "payload_text"
        events = _union([branch.values_list(*columns) for branch in branches]).order_by("seq")
        nodes = sibling_nodes(chain.events(size), size)
        proofs = ProofStream(
            size,
            frontier,
            self.cursors.rows(block_events(chain.events(size), size)),
            self.cursors.rows(nodes) if nodes is not None else None,
        )
        with tempfile.TemporaryFile() as paths:
            with bundle.entry("events.jsonl") as write:
                for (
                    seq,
                    occurred_at,
                    actor,
                    unit,
                    verb,
                    object_type,
                    object_id,
                    document,
                    payload,
                    prev,
                ) in self.cursors.rows(events):
                    if isinstance(occurred_at, datetime.datetime):
                        occurred_at = _utc(occurred_at)
                    if isinstance(payload, str):
                        payload = json.loads(payload)
                    fields = (seq, occurred_at, actor, unit, verb, object_type, object_id, document, payload, prev)
                    write(event_bytes(*fields) + b"\n")
                    paths.write(b"".join(proofs.path(seq - 1)))
                    self.counts["events"] += 1
                    yield from bundle.ready()
            paths.seek(0)
            with bundle.entry("proofs.bin") as write:
                while piece := paths.read(CHUNK):
                    write(piece)
                    yield from bundle.ready()

    def _exchange(self, bundle: _Bundle, chain: _Chain, size: int) -> Iterator[bytes]:
        """公文交换: each message a peer sent that an event of the chain took in (a consignment,
        receipt, recall or report), as the peer signed it, and the peers' public keys; nothing when
        the chain crossed no installation."""
        from exchange.evidence import EXCHANGE_ENTRY, PEERS_ENTRY, kept_messages, peer_lines

        taken_in = [branch.filter(verb__in=list(ACCEPTED_VERBS)) for branch in chain.events(size)]
        accepted = _union([branch.values_list("seq", "verb", "payload") for branch in taken_in]).order_by("seq")
        events = [
            (seq, ACCEPTED_VERBS[verb], json.loads(payload) if isinstance(payload, str) else payload)
            for seq, verb, payload in self.cursors.rows(accepted)
        ]
        if not events:
            return
        peers = set()
        with bundle.entry(EXCHANGE_ENTRY) as write:
            for line, peer in kept_messages(events):
                write(canonical_line(line))
                peers.add(peer)
                self.counts["messages"] = self.counts.get("messages", 0) + 1
                yield from bundle.ready()
        with bundle.entry(PEERS_ENTRY) as write:
            for line in peer_lines(peers):
                write(canonical_line(line))
        yield from bundle.ready()

    def _directory(self, bundle: _Bundle, chain: _Chain, size: int) -> Iterator[bytes]:
        """The names of the units and people the records name by id (labels: no hash covers them)."""
        deliveries, events = chain.deliveries(), chain.events(size)
        units = _union(
            [
                *(branch.values("unit_id") for branch in deliveries),
                Document.objects.filter(pk__in=chain.document_ids()).order_by().values("issuing_unit_id"),
                *(branch.values("unit_id") for branch in events),
            ]
        )
        people = _union(
            [
                *(branch.values("actor_id") for branch in events),
                *(branch.values("receipt__signed_by_id") for branch in deliveries),
            ]
        )
        with bundle.entry("directory.jsonl") as write:
            for pk, name in self.cursors.rows(
                Unit.objects.filter(among("id", units)).order_by("id").values_list("id", "name")
            ):
                write(canonical_line({"id": pk, "kind": "unit", "name": name}))
                yield from bundle.ready()
            people = get_user_model().objects.filter(among("id", people)).order_by("id")
            for pk, username, first, last in self.cursors.rows(
                people.values_list("id", "username", "first_name", "last_name")
            ):
                name = f"{first} {last}".strip() or username
                write(canonical_line({"id": pk, "kind": "person", "name": name, "username": username}))
                yield from bundle.ready()


class _Merge:
    """Rows of a stream ordered by their first column, taken in order of that column."""

    def __init__(self, rows: Iterator[tuple]):
        self._rows = rows
        self._next = next(self._rows, None)

    def of(self, key) -> list[tuple]:
        found = []
        while self._next is not None and self._next[0] <= key:
            if self._next[0] == key:
                found.append(self._next)
            self._next = next(self._rows, None)
        return found


def checkpoint_latest_or_none() -> dict | None:
    try:
        return checkpoint_latest()
    except CheckpointError as error:
        raise EvidenceError(_("无法读取审计检查点：%(problem)s") % {"problem": error}) from None


def _covers(checkpoint: dict | None, newest: int) -> bool:
    return checkpoint is not None and checkpoint["tree_size"] >= newest


def _checkpoint_file(checkpoint: dict) -> bytes:
    """The checkpoint's file, byte for byte (written once, read-only: workflow.checkpoints)."""
    path = Path(settings.AUDIT_CHECKPOINT_DIR) / checkpoint["name"]
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EvidenceError(_("无法读取审计检查点：%(problem)s") % {"problem": error}) from None
    stored = json.loads(data)
    if stored != {key: value for key, value in checkpoint.items() if key != "name"}:
        raise EvidenceError(_("检查点文件 %(name)s 在读取期间变了。") % {"name": checkpoint["name"]})
    return data


def _readme(document: Document, checkpoint: dict, now: datetime.datetime) -> str:
    return (
        f"公文流转 审计证据包（{FORMAT}）\n"
        f"流转链：{document.number}《{document.title}》\n"
        f"导出时间：{timezone.localtime(now):%Y-%m-%d %H:%M:%S}\n"
        f"检查点：{checkpoint['name']}（覆盖审计日志前 {checkpoint['tree_size']} 个事件）\n"
        f"签名密钥标识（公钥指纹）：{checkpoint['key_id']}\n"
        "\n"
        "离线核验（只需 Python 3.11 和 cryptography 包，无需联网、无需服务器）：\n"
        "    python -m pip install cryptography\n"
        "    python verify.py 本证据包.zip\n"
        "\n"
        "verify.py 重算每份公文的内容摘要、每个附件的 SHA-256、每个审计事件的哈希及其对签名检查点的包含证明，\n"
        "核对每份回执与其签收事件、检查点的 Ed25519 签名，然后打印谁收到了什么、谁在何时签收了哪个摘要、\n"
        "谁转发给了谁、谁被撤回、谁从未签收；任何一项不成立即以非零状态退出，并指出文件、记录和字段。\n"
        "本链经公文交换跨越其他系统时，包中另有对端系统发来的消息（exchange.jsonl）及其公钥（peers.jsonl）：\n"
        "verify.py 逐件用对端公钥核验签名；请把打印出的对端公钥指纹与各该系统公布的核对。\n"
        "请把上面的密钥标识与发文机关公布的公钥指纹核对；verify.py 最好使用从公开渠道取得的副本，\n"
        "本包中的副本可与之比对（清单 manifest.json 中有它的 SHA-256）。\n"
        "文件格式见 verify.py 开头的说明。\n"
    )
