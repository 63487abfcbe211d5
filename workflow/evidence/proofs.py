"""Inclusion proofs (RFC 9162 §2.1.3.1) of many events of the audit log at once, in seq order, read
from the stored tree (workflow/audit_tree.py) as streams: three queries whatever their number,
memory independent of it.

`audit_tree.inclusion_proof` reads its hashes one proof at a time (three queries a proof, 3 × 10^5
for a national notice's chain). Here the proofs of a set of events (the chain's, given as
querysets of AuditEvent) against the tree of the first `size` events come from

- the frontier of that tree: the heads of its complete subtrees P_1 … P_k, largest first
  (`audit_tree.tree_frontier`): the top of every proof;
- the events of the blocks of 16 (2**STORED_LEVEL) events that hold one of the set, in seq order:
  the four lowest levels of a proof, hashed here (the table stores no subtree below a block);
- the stored subtrees (MerkleNode) that are a sibling on the path of one of the set, from level
  STORED_LEVEL up, in the order of the leaf that first needs them.

A leaf in P_m (of 2**L leaves) has the audit path: its siblings inside P_m, level 0 up to L - 1;
then, if P_m is not the last, the head of P_(m+1) … P_k; then P_(m-1), …, P_1. tests compare every
proof with `audit_tree.inclusion_proof`.
"""

import bisect
from collections.abc import Iterable

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.utils.translation import gettext as _

from workflow.audit_tree import STORED_LEVEL, TreeError
from workflow.merkle import fold, leaf_hash, node_hash, range_subtrees
from workflow.models import AuditEvent, MerkleNode

BLOCK = 1 << STORED_LEVEL
# Rows a fetch from each server-side cursor.
FETCH = 2000


def _union(querysets: list[QuerySet]) -> QuerySet:
    first, *rest = querysets
    return first.union(*rest, all=True) if rest else first


class _AnyOf(Func):
    """PostgreSQL: `expression = ANY(ARRAY(subquery))`. The array is made once, then each of its
    values is looked up in the index, whatever the planner believes about the subquery: planned as a
    semi-join on statistics not yet gathered (a table just filled), `IN (subquery)` nested every
    stored subtree against every event of the chain (make bench, evidence: 20 s instead of 1.6)."""

    template = "(%(expressions)s))"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def among(field: str, values: QuerySet) -> Q | Func:
    """A condition: `field` is one of the values of the one-column queryset `values`."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery  # PostgreSQL only

        return _AnyOf(F(field), ArraySubquery(values))
    return Q(**{f"{field}__in": values})


def block_events(events: list[QuerySet[AuditEvent]], size: int) -> QuerySet:
    """(seq, hash) of every event, among the first `size`, of a block of 16 that holds one of
    `events` (querysets of AuditEvent, each filtered to seq ≤ size), in seq order: one query, each
    block's events found by their primary key."""
    starts = [
        branch.order_by().annotate(member=(F("seq") - 1).bitrightshift(STORED_LEVEL).bitleftshift(STORED_LEVEL) + k)
        for branch in events
        for k in range(1, BLOCK + 1)
    ]
    members = _union([branch.values("member") for branch in starts])
    return AuditEvent.objects.filter(among("seq", members), seq__lte=size).order_by("seq").values_list("seq", "hash")


def sibling_nodes(events: list[QuerySet[AuditEvent]], size: int) -> QuerySet | None:
    """(level, index, hash, start) of every stored subtree that is a sibling on the audit path of
    one of `events` in the tree of `size` leaves, and of the block of 16 of each, `start` the first
    leaf of its parent, in that order: one query (None when the tree is too small to have one). A
    sibling of level l is on a path when its parent, of level l + 1, is a complete subtree of the
    tree (inside a P_m)."""
    levels = range(STORED_LEVEL, size.bit_length() - 1)
    if not levels:
        return None
    branches = []
    leaf = F("seq") - 1
    for level in levels:
        wanted = [
            branch.order_by()
            .annotate(
                sibling=leaf.bitrightshift(level).bitxor(1),
                parent_end=(leaf.bitrightshift(level + 1) + 1).bitleftshift(level + 1),
            )
            .filter(parent_end__lte=size)
            .values("sibling")
            for branch in events
        ]
        if level == STORED_LEVEL:
            # And each event's own block, to check the events read against it (ProofStream).
            wanted += [
                branch.order_by()
                .annotate(
                    block=leaf.bitrightshift(level), block_end=(leaf.bitrightshift(level) + 1).bitleftshift(level)
                )
                .filter(block_end__lte=size)
                .values("block")
                for branch in events
            ]
        siblings = _union(wanted)
        branches.append(
            MerkleNode.objects.filter(among("index", siblings), level=level)
            .order_by()
            .annotate(start=F("index").bitrightshift(1).bitleftshift(level + 1))
            .values_list("level", "index", "hash", "start")
        )
    return _union(branches).order_by("start", "level")


class _Ahead:
    """An iterator one can look at the next item of."""

    __slots__ = ("_items", "next")

    def __init__(self, items: Iterable):
        self._items = iter(items)
        self.next = next(self._items, None)

    def take(self):
        item, self.next = self.next, next(self._items, None)
        return item


class ProofStream:
    """The audit paths of leaves asked for in increasing order, against the tree of `size` leaves
    whose frontier is `frontier` (audit_tree.tree_frontier(size)), read from the streams of
    `block_events` and `sibling_nodes`."""

    def __init__(self, size: int, frontier: list[bytes], blocks: Iterable, nodes: Iterable | None):
        subtrees = range_subtrees(0, size)
        if len(frontier) != len(subtrees):
            raise ValueError(f"a tree of {size} leaves has {len(subtrees)} frontier subtrees, not {len(frontier)}")
        self.size = size
        self._levels = [level for level, _index in subtrees]
        self._starts = [index << level for level, index in subtrees]
        # What every path in P_m ends with: the head of the subtrees after it, then those before it.
        self._tails = []
        for m in range(len(frontier)):
            tail = [fold(frontier[m + 1 :])] if m + 1 < len(frontier) else []
            self._tails.append(tail + frontier[:m][::-1])
        self._blocks = _Ahead(blocks)
        self._nodes = _Ahead(nodes or ())
        self._block = -1
        self._leaves: dict[int, bytes] = {}
        self._memo: dict[tuple[int, int], bytes] = {}
        self._pairs: dict[int, tuple[int, dict[int, bytes]]] = {}  # level -> (parent's start, {index: hash})
        self._last = -1

    def path(self, index: int) -> list[bytes]:
        """The audit path of leaf `index` (seq - 1): 32-byte hashes, from the leaf's sibling up."""
        if not self._last < index < self.size:
            raise ValueError(f"leaf {index} asked after leaf {self._last}, or outside {self.size} leaves")
        self._last = index
        m = bisect.bisect_right(self._starts, index) - 1
        self._load_nodes(index)
        self._load_block(index >> STORED_LEVEL)
        path = []
        for level in range(self._levels[m]):
            sibling = (index >> level) ^ 1
            path.append(self._in_block(level, sibling) if level < STORED_LEVEL else self._stored(level, sibling))
        path.extend(self._tails[m])
        return path

    def _load_block(self, block: int) -> None:
        if block == self._block:
            return
        self._block, self._leaves, self._memo = block, {}, {}
        end = (block + 1) << STORED_LEVEL
        while self._blocks.next is not None and self._blocks.next[0] <= end:
            seq, digest = self._blocks.take()
            if (seq - 1) >> STORED_LEVEL == block:
                self._leaves[seq - 1] = leaf_hash(bytes.fromhex(digest))
        self._check_block(block)

    def _check_block(self, block: int) -> None:
        """The events read must be those the stored tree (and so the signed root) was made of: a
        proof built from events changed since would fail at an event next to the changed one."""
        stored = self._pairs.get(STORED_LEVEL)
        parent = (block >> 1) << (STORED_LEVEL + 1)
        if stored is None or stored[0] != parent or block not in stored[1] or len(self._leaves) != BLOCK:
            return
        if self._in_block(STORED_LEVEL, block) == stored[1][block]:
            return
        first = (block << STORED_LEVEL) + 1
        raise TreeError(
            _("审计日志第 %(first)s–%(last)s 个事件与默克尔树表不符：其中有事件在树表写入后被改动过")
            % {"first": first, "last": first + BLOCK - 1}
        )

    def _in_block(self, level: int, index: int) -> bytes:
        if level == 0:
            found = self._leaves.get(index)
            if found is None:
                raise TreeError(_("审计日志缺少第 %(seq)s 个事件") % {"seq": index + 1})
            return found
        found = self._memo.get((level, index))
        if found is None:
            found = node_hash(self._in_block(level - 1, 2 * index), self._in_block(level - 1, 2 * index + 1))
            self._memo[level, index] = found
        return found

    def _load_nodes(self, index: int) -> None:
        while self._nodes.next is not None and self._nodes.next[3] <= index:
            level, node, digest, start = self._nodes.take()
            current = self._pairs.get(level)
            if current is None or current[0] != start:
                current = (start, {})
                self._pairs[level] = current
            current[1][node] = bytes(digest)

    def _stored(self, level: int, index: int) -> bytes:
        current = self._pairs.get(level)
        start = (index >> 1) << (level + 1)
        found = current[1].get(index) if current is not None and current[0] == start else None
        if found is None:
            missing = {"level": level, "index": index}
            raise TreeError(_("默克尔树表缺少子树（第 %(level)s 层第 %(index)s 个）") % missing)
        return found
