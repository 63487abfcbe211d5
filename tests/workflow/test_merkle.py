"""workflow/merkle.py against RFC 9162 §2.1: the tree head, inclusion and consistency proofs of every
pair of sizes 1..64 equal the RFC's recursive definitions (written out literally below) and verify;
every corrupted proof fails; and the published vectors of transparency-dev/merkle hold."""

import hashlib
import itertools

import pytest

from workflow.merkle import (
    EMPTY_ROOT,
    Frontier,
    MemoryTree,
    consistency_ranges,
    leaf_hash,
    node_hash,
    range_subtrees,
    verify_consistency,
    verify_inclusion,
)

SIZES = range(1, 65)
LEAVES = [hashlib.sha256(str(n).encode()).digest() for n in range(64)]  # 32-byte leaf data, like events
TREE = MemoryTree(LEAVES)


# --- RFC 9162 §2.1, literally (the reference the module is compared with) ------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(data: list[bytes]) -> bytes:
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = _k(len(data))
    return hashlib.sha256(b"\x01" + rfc_mth(data[:k]) + rfc_mth(data[k:])).digest()


def rfc_path(m: int, data: list[bytes]) -> list[bytes]:
    if len(data) == 1:
        return []
    k = _k(len(data))
    if m < k:
        return [*rfc_path(m, data[:k]), rfc_mth(data[k:])]
    return [*rfc_path(m - k, data[k:]), rfc_mth(data[:k])]


def rfc_subproof(m: int, data: list[bytes], whole: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if whole else [rfc_mth(data)]
    k = _k(n)
    if m <= k:
        return [*rfc_subproof(m, data[:k], whole), rfc_mth(data[k:])]
    return [*rfc_subproof(m - k, data[k:], False), rfc_mth(data[:k])]


def rfc_proof(m: int, data: list[bytes]) -> list[bytes]:
    return rfc_subproof(m, data, True)


# --- corruptions ----------------------------------------------------------------------------------


def _flipped(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[position])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:position], bytes(changed), *proof[position + 1 :]]


def corrupted_proofs(proof: list[bytes], extra: bytes) -> list[list[bytes]]:
    """Every single-bit flip (in 3 bits of each hash), each hash left out, a hash added at each end,
    two neighbours swapped."""
    wrong = [_flipped(proof, position, bit) for position in range(len(proof)) for bit in (0, 133, 255)]
    wrong += [proof[:position] + proof[position + 1 :] for position in range(len(proof))]
    wrong += [[extra, *proof], [*proof, extra], [*proof, b""], [b"", *proof]]
    wrong += [
        [*proof[:i], proof[i + 1], proof[i], *proof[i + 2 :]] for i in range(len(proof) - 1) if proof[i] != proof[i + 1]
    ]
    return wrong


# --- the head, the proofs, their verification, for every size 1..64 ----------------------------------


def test_the_tree_head_is_the_rfcs_for_every_size_from_0_to_64():
    assert TREE.head(0) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert [TREE.head(n) for n in SIZES] == [rfc_mth(LEAVES[:n]) for n in SIZES]


def test_leaf_and_node_hashes_are_prefixed_with_0_and_1():
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"l" * 32, b"r" * 32) == hashlib.sha256(b"\x01" + b"l" * 32 + b"r" * 32).digest()
    assert TREE.head(1) == leaf_hash(LEAVES[0])
    assert TREE.head(2) == node_hash(leaf_hash(LEAVES[0]), leaf_hash(LEAVES[1]))


def test_every_inclusion_proof_of_sizes_1_to_64_is_the_rfcs_and_verifies():
    checked = 0
    for size in SIZES:
        root = TREE.head(size)
        for index in range(size):
            proof = TREE.inclusion_proof(index, size)
            assert proof == rfc_path(index, LEAVES[:size])
            assert verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, root)
            checked += 1
    assert checked == 64 * 65 // 2


def test_every_corrupted_inclusion_proof_fails():
    extra = hashlib.sha256(b"extra").digest()
    for size in SIZES:
        root = TREE.head(size)
        for index in range(size):
            proof, leaf = TREE.inclusion_proof(index, size), leaf_hash(LEAVES[index])
            for wrong in corrupted_proofs(proof, extra):
                assert not verify_inclusion(leaf, index, size, wrong, root), (index, size)
            # Another position or a tree of another height. (A neighbouring size whose path has the
            # same shape recomputes the same hashes: a root is trusted with its size, both signed.)
            for other_index, other_size in [(index - 1, size), (index + 1, size), (index ^ 2, size)]:
                if other_index != index:
                    assert not verify_inclusion(leaf, other_index, other_size, proof, root), (index, size)
            assert not verify_inclusion(leaf, index, size * 2, proof, root)
            assert not verify_inclusion(leaf, index, size // 2, proof, root)
            assert not verify_inclusion(leaf_hash(b"other"), index, size, proof, root)
            assert not verify_inclusion(leaf, index, size, proof, extra)
            assert not verify_inclusion(LEAVES[index], index, size, proof, root)  # the data, not its hash


def test_every_consistency_proof_of_sizes_1_to_64_is_the_rfcs_and_verifies():
    checked = 0
    for old, new in itertools.combinations_with_replacement(SIZES, 2):
        proof = TREE.consistency_proof(old, new)
        assert proof == rfc_proof(old, LEAVES[:new])
        assert verify_consistency(old, new, TREE.head(old), TREE.head(new), proof)
        checked += 1
    assert checked == 64 * 65 // 2


def test_every_corrupted_consistency_proof_fails():
    extra = hashlib.sha256(b"extra").digest()
    for old, new in itertools.combinations(SIZES, 2):
        proof, old_root, new_root = TREE.consistency_proof(old, new), TREE.head(old), TREE.head(new)
        for wrong in corrupted_proofs(proof, extra):
            assert not verify_consistency(old, new, old_root, new_root, wrong), (old, new)
        assert not verify_consistency(old, new, new_root, old_root, proof)
        assert not verify_consistency(old, new, extra, new_root, proof)
        assert not verify_consistency(old, new, old_root, extra, proof)
        assert not verify_consistency(old, new, old_root, new_root, [])
        assert not verify_consistency(new, old, new_root, old_root, proof)
        # Another old size, or a new tree of another height (see the inclusion proofs for a
        # neighbouring new size).
        for other_old, other_new in [(old - 1, new), (old + 1, new), (old ^ 2, new), (old, new * 2), (old, new // 2)]:
            if (other_old, other_new) != (old, new):
                assert not verify_consistency(other_old, other_new, old_root, new_root, proof), (old, new)


def test_a_tree_follows_from_no_tree_and_from_itself_only_with_an_empty_proof():
    root = TREE.head(5)
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, root, [root])
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, TREE.head(4), [])
    assert not verify_consistency(5, 5, root, root, [root])
    assert consistency_ranges(0, 5) == consistency_ranges(5, 5) == []


def test_the_frontier_gives_every_head_and_completes_every_subtree_once():
    completed: list = []
    frontier = Frontier(completed=completed)
    assert frontier.head() == EMPTY_ROOT
    for n, data in enumerate(LEAVES, start=1):
        frontier.append(leaf_hash(data))
        assert frontier.head() == TREE.head(n)
    expected = [(level, index) for level in range(1, 7) for index in range(64 >> level)]
    assert sorted((level, index) for level, index, _hash in completed) == expected
    assert all(found == TREE.subtree_hash(level, index) for level, index, found in completed)


def test_a_frontier_resumes_from_the_subtrees_of_its_size():
    for size in SIZES:
        hashes = [TREE.subtree_hash(level, index) for level, index in range_subtrees(0, size)]
        frontier = Frontier(size, hashes)
        for data in LEAVES[size:]:
            frontier.append(leaf_hash(data))
        assert frontier.head() == TREE.head(64)
    with pytest.raises(ValueError, match="a tree of 5 leaves has 2 complete subtrees, not 1"):
        Frontier(5, [EMPTY_ROOT])


# --- published vectors ---------------------------------------------------------------------------
# From github.com/transparency-dev/merkle (Apache-2.0), the successor of Trillian's and
# certificate-transparency-go's Merkle code: the leaf inputs and the roots of sizes 0..8 are
# testonly/constants.go's (LeafInputs, RootHashes); the proofs are proof/verify_test.go's
# (inclusionProofs, with the leaf numbered from 1 there; consistencyProofs). Data only.

VECTOR_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")]
VECTOR_LEAVES.append(bytes.fromhex("606162636465666768696a6b6c6d6e6f"))
VECTOR_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
VECTOR_INCLUSION = [  # (leaf index from 0, tree size, proof)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
VECTOR_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
VECTOR_TREE = MemoryTree(VECTOR_LEAVES)


def test_the_published_roots_of_sizes_0_to_8():
    assert [VECTOR_TREE.head(n).hex() for n in range(9)] == VECTOR_ROOTS


@pytest.mark.parametrize(("index", "size", "proof"), VECTOR_INCLUSION)
def test_the_published_inclusion_proofs(index, size, proof):
    assert [item.hex() for item in VECTOR_TREE.inclusion_proof(index, size)] == proof
    root = bytes.fromhex(VECTOR_ROOTS[size])
    assert verify_inclusion(leaf_hash(VECTOR_LEAVES[index]), index, size, [bytes.fromhex(h) for h in proof], root)


@pytest.mark.parametrize(("old", "new", "proof"), VECTOR_CONSISTENCY)
def test_the_published_consistency_proofs(old, new, proof):
    assert [item.hex() for item in VECTOR_TREE.consistency_proof(old, new)] == proof
    old_root, new_root = bytes.fromhex(VECTOR_ROOTS[old]), bytes.fromhex(VECTOR_ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, [bytes.fromhex(h) for h in proof])
