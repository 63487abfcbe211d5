"""The audit log as a Merkle tree (RFC 9162, workflow/merkle.py), with the hashes of its complete
subtrees kept in MerkleNode, so that a tree head or a proof reads O(log n) stored hashes, plus the
events not yet in the table, instead of rehashing the log.

Leaves are the events in seq order: the event of seq s is leaf s - 1, its leaf data the 32 bytes of
its stored hash, its leaf hash SHA-256(0x00 || those bytes). Subtrees of STORED_LEVEL and up are
stored (one row per 8 events in all); below that a subtree is hashed from its at most 16 events,
so a proof reads O(log n) stored hashes and at most a few blocks of 16 events.

`tree_extend` appends to the table off the hot path (the checkpoint runs it, workflow.checkpoints),
under a lock of its own: writers of events never wait for it, and a sign-for pays nothing for it.
Three queries answer any head or proof: the table's extent, the stored subtrees it needs, the
events it needs.
"""

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from workflow import sql
from workflow.merkle import (
    Frontier,
    Range,
    consistency_ranges,
    fold,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    range_subtrees,
)
from workflow.models import AuditEvent, MerkleNode

# An arbitrary constant naming the tree's advisory lock on PostgreSQL (not the chain's).
_TREE_LOCK_KEY = 0x6D65726B6C65  # "merkle"
# The lowest level stored: blocks of 2**4 = 16 events. Storing every level from 1 up took a row per
# event, and inserting them was most of the extension's time (make bench).
STORED_LEVEL = 4


class TreeError(Exception):
    """The log lacks an event or the table a subtree that a head or proof needs."""


def tree_covered() -> int:
    """The number of leaves (events) whose complete subtrees of STORED_LEVEL and up are all stored:
    each transaction of tree_extend stores every one its leaves complete, so this is the end of the
    last block of the lowest stored level."""
    top = MerkleNode.objects.filter(level=STORED_LEVEL).aggregate(top=Max("index"))["top"]
    return 0 if top is None else (top + 1) << STORED_LEVEL


def tree_extend(*, chunk: int = 50_000) -> int:
    """Store the complete subtrees of the events not yet in the table, `chunk` events a
    transaction, under the tree's lock; stop at the log's end or at a gap in seq (verify_audit
    names it). Returns tree_covered() after."""
    block = 1 << STORED_LEVEL
    chunk = -(-max(chunk, block) // block) * block  # whole blocks: each transaction stores at least one
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(sql.audit_lock(), {"key": _TREE_LOCK_KEY})
            # On SQLite the IMMEDIATE transaction holds the database's single write lock already.
            covered = tree_covered()
            frontier_subtrees = range_subtrees(0, covered)
            stored = _stored(frontier_subtrees)
            completed: list = []
            frontier = Frontier(covered, [stored[subtree] for subtree in frontier_subtrees], completed)
            events = AuditEvent.objects.filter(seq__gt=covered).order_by("seq").values_list("seq", "hash")
            for seq, digest in events[:chunk]:
                if seq != frontier.size + 1:
                    break
                frontier.append(leaf_hash(bytes.fromhex(digest)))
            MerkleNode.objects.bulk_create(
                [
                    MerkleNode(level=level, index=index, hash=digest)
                    for level, index, digest in completed
                    if level >= STORED_LEVEL
                ],
                batch_size=5000,
            )
            appended = frontier.size - covered
        if appended < chunk:
            return frontier.size >> STORED_LEVEL << STORED_LEVEL


def _stored(subtrees: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    if not subtrees:
        return {}
    found = {
        (level, index): bytes(digest)
        for level, index, digest in MerkleNode.objects.filter(pk__in=subtrees).values_list("level", "index", "hash")
    }
    missing = [subtree for subtree in subtrees if subtree not in found]
    if missing:
        level, index = missing[0]
        raise TreeError(_("默克尔树表缺少子树（第 %(level)s 层第 %(index)s 个）") % {"level": level, "index": index})
    return found


def _heads(ranges: list[Range], size: int) -> list[bytes]:
    """The heads of `ranges` of the first `size` leaves: stored subtrees where the table has them,
    the rest from the events (those past the table's extent, and single leaves)."""
    covered = min(tree_covered(), size >> STORED_LEVEL << STORED_LEVEL)
    wanted: set[tuple[int, int]] = set()
    leaves: set[int] = set()

    def collect(level: int, index: int) -> None:
        if level < STORED_LEVEL:
            leaves.update(range(index << level, (index + 1) << level))
        elif (index + 1) << level <= covered:
            wanted.add((level, index))
        else:
            collect(level - 1, 2 * index)
            collect(level - 1, 2 * index + 1)

    for span in ranges:
        for level, index in range_subtrees(*span):
            collect(level, index)
    stored = _stored(sorted(wanted))
    above = [index for index in leaves if index >= covered]
    condition = Q(seq__in=[index + 1 for index in leaves if index < covered])
    if above:
        condition |= Q(seq__gt=covered, seq__lte=max(above) + 1)
    found = dict(AuditEvent.objects.filter(condition).values_list("seq", "hash")) if leaves else {}
    missing = [index + 1 for index in sorted(leaves) if index + 1 not in found]
    if missing:
        raise TreeError(_("审计日志缺少第 %(seq)s 个事件") % {"seq": missing[0]})
    memo: dict[tuple[int, int], bytes] = {}

    def subtree_hash(level: int, index: int) -> bytes:
        if level == 0:
            return leaf_hash(bytes.fromhex(found[index + 1]))
        digest = stored.get((level, index)) or memo.get((level, index))
        if digest is None:
            digest = node_hash(subtree_hash(level - 1, 2 * index), subtree_hash(level - 1, 2 * index + 1))
            memo[level, index] = digest
        return digest

    return [fold([subtree_hash(*subtree) for subtree in range_subtrees(*span)]) for span in ranges]


def tree_head(size: int) -> bytes:
    """The Merkle tree head (RFC 9162 MTH) of the first `size` events: 32 raw bytes; SHA-256 of
    nothing for size 0. Raises TreeError if the log has fewer events."""
    if size == 0:
        return fold([])
    (head,) = _heads([(0, size)], size)
    return head


def inclusion_proof(seq: int, size: int) -> list[bytes]:
    """The inclusion proof (RFC 9162 §2.1.3.1 audit path) of the event `seq` (leaf seq - 1) in the
    tree of the first `size` events: a list of 32-byte hashes, from the leaf's sibling upwards.
    Verify with workflow.merkle.verify_inclusion(leaf_hash(bytes.fromhex(event.hash)), seq - 1,
    size, proof, tree_head(size))."""
    return _heads(inclusion_ranges(seq - 1, size), size)


def consistency_proof(old: int, new: int) -> list[bytes]:
    """The consistency proof (RFC 9162 §2.1.4.1) from the tree of the first `old` events to that
    of the first `new`: a list of 32-byte hashes (empty when old is 0 or old == new). Verify with
    workflow.merkle.verify_consistency(old, new, tree_head(old), tree_head(new), proof)."""
    return _heads(consistency_ranges(old, new), new)


def tree_frontier(size: int) -> list[bytes]:
    """The heads of the complete subtrees of the first `size` events (workflow.merkle.Frontier's
    state at that size), largest first."""
    spans = [(index << level, (index + 1) << level) for level, index in range_subtrees(0, size)]
    return _heads(spans, size) if spans else []
