"""The Merkle tree of RFC 9162 (Certificate Transparency v2) §2.1, as pure functions (no Django).

Byte formats, exactly:

- a hash is 32 raw bytes of SHA-256;
- the hash of a leaf is SHA-256(0x00 || leaf data); of a node, SHA-256(0x01 || left || right);
- the tree head (MTH) of no leaves is SHA-256 of nothing; of one leaf, its leaf hash; of n > 1
  leaves, the node hash of the heads of the first k leaves and of the rest, k the largest power of
  two below n (RFC 9162 §2.1.1);
- an inclusion proof (audit path, §2.1.3.1) and a consistency proof (§2.1.4.1) are lists of 32-byte
  hashes, in the RFC's order (the inclusion proof from the leaf's sibling up to the root's child).

The audit log's leaves are its events, in seq order: leaf index = seq - 1, and a leaf's data is the
32 bytes of the event's stored hash (bytes.fromhex(AuditEvent.hash)), which already covers every
field of the event and the hash before it.

Proofs are built from complete subtrees: `(level, index)` names the 2**level leaves from
index * 2**level on. Every range a proof or a head needs is a run of complete subtrees
(`range_subtrees`), so a store that keeps the hashes of complete subtrees answers any of them with
O(log n) stored hashes (workflow/audit_tree.py). `Frontier` appends leaves one at a time and gives
the head at any size: the streaming verifier and the store's extension both use it.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Subtree = tuple[int, int]  # (level, index): leaves [index << level, (index + 1) << level)
Range = tuple[int, int]  # leaves [start, end)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(size: int) -> int:
    """k of RFC 9162: the largest power of two smaller than size (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def range_subtrees(start: int, end: int) -> list[Subtree]:
    """The complete subtrees of the range [start, end), left to right, largest first, as the RFC's
    recursion splits it: start must be a multiple of the largest of them (every range a head or a
    proof asks for is)."""
    subtrees, position, width = [], start, end - start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            if position % (1 << level):
                raise ValueError(f"[{start}, {end}) is not a range of the tree")
            subtrees.append((level, position >> level))
            position += 1 << level
    return subtrees


def fold(hashes: Sequence[bytes]) -> bytes:
    """The head of a range from the hashes of its complete subtrees, left to right (largest
    first): each is the left child of the head of those after it."""
    if not hashes:
        return EMPTY_ROOT
    head = hashes[-1]
    for left in reversed(hashes[:-1]):
        head = node_hash(left, head)
    return head


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose heads form the inclusion proof of leaf `index` in a tree of `size` leaves,
    in the proof's order (RFC 9162 §2.1.3.1: PATH(m, D[n]))."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index - start < k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    path.reverse()
    return path


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The ranges whose heads form the consistency proof from a tree of `old` leaves to one of
    `new` (RFC 9162 §2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true)); empty when old is 0 or
    old == new."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} leaves to {new}")
    if old in (0, new):
        return []
    path: list[Range] = []
    start, end, whole = 0, new, True
    while True:
        if old - start == end - start:
            if not whole:
                path.append((start, end))
            break
        k = split(end - start)
        if old - start <= k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start, whole = start + k, False
    path.reverse()
    return path


def range_heads(ranges: Iterable[Range], subtree_hash: Callable[[int, int], bytes]) -> list[bytes]:
    """The head of each range, from `subtree_hash(level, index)`, the hash of a complete subtree."""
    return [fold([subtree_hash(level, index) for level, index in range_subtrees(*span)]) for span in ranges]


class MemoryTree:
    """A tree over leaf data held in memory: the reference the store and the tests compare with."""

    def __init__(self, leaves: Sequence[bytes]):
        self.leaf_hashes = [leaf_hash(data) for data in leaves]
        self._cache: dict[Subtree, bytes] = {}

    def subtree_hash(self, level: int, index: int) -> bytes:
        if level == 0:
            return self.leaf_hashes[index]
        found = self._cache.get((level, index))
        if found is None:
            found = node_hash(self.subtree_hash(level - 1, 2 * index), self.subtree_hash(level - 1, 2 * index + 1))
            self._cache[level, index] = found
        return found

    def head(self, size: int) -> bytes:
        (head,) = range_heads([(0, size)], self.subtree_hash)
        return head

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return range_heads(inclusion_ranges(index, size), self.subtree_hash)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return range_heads(consistency_ranges(old, new), self.subtree_hash)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Does `proof` show the leaf hash `leaf` at `index` in the tree of `size` leaves whose head is
    `root`? RFC 9162 §2.1.3.2, step by step."""
    if not 0 <= index < size or any(len(item) != HASH_SIZE for item in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Does `proof` show that the tree of `old` leaves with head `old_root` is a prefix of the tree
    of `new` leaves with head `new_root`? RFC 9162 §2.1.4.2; the sizes the RFC leaves to the caller:
    from no leaves, any tree follows (empty proof); from a size to itself, the heads are equal (empty
    proof)."""
    if not 0 <= old <= new or any(len(item) != HASH_SIZE for item in proof):
        return False
    if old == 0:
        return not proof
    if old == new:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # an exact power of two: the old head is the first subtree
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


class Frontier:
    """The heads of the complete subtrees of the leaves appended so far (one per bit of the size,
    largest first): enough to append the next leaf and to give the tree's head at this size.

    `completed`, if a list, receives (level, index, hash) of every subtree of level ≥ 1 the appends
    complete, in order: what a store keeps.
    """

    __slots__ = ("completed", "hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = (), completed: list | None = None):
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} complete subtrees, not {len(hashes)}")
        self.size, self.hashes, self.completed = size, list(hashes), completed

    def append(self, leaf: bytes) -> None:
        """Append a leaf hash (leaf_hash(data), not the data)."""
        size, hashes, head, level = self.size, self.hashes, leaf, 0
        while size >> level & 1:
            head = node_hash(hashes.pop(), head)
            level += 1
            if self.completed is not None:
                self.completed.append((level, ((size + 1) >> level) - 1, head))
        hashes.append(head)
        self.size = size + 1

    def head(self) -> bytes:
        return fold(self.hashes)
