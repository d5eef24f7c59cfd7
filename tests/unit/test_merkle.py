"""RFC 9162 Merkle tree hashing and proofs: known answers, a reference model, properties."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity.merkle import (
    CACHE_MIN_WIDTH,
    EMPTY_ROOT,
    HASH_SIZE,
    ConsistencyOrderError,
    ConsistencyProofError,
    ConsistencyProofLengthError,
    ConsistencyRootMismatchError,
    DictSubtreeCache,
    Frontier,
    FrontierFormatError,
    HashSizeError,
    InclusionIndexError,
    InclusionProofError,
    InclusionProofLengthError,
    ListNodeSource,
    MerkleError,
    NodeSourceError,
    ProofRequestError,
    RootMismatchError,
    consistency_proof,
    consistency_proof_length,
    inclusion_proof,
    inclusion_proof_length,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "vectors" / "rfc6962_merkle.json").read_text()
)
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]
LEAF_HASHES = [leaf_hash(x) for x in LEAVES]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


# --------------------------------------------------------------------------- reference model
# Straight from the recursive definitions in RFC 9162 section 2.1; deliberately slow.


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over raw leaf data."""
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(n)
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]); empty for m == 0 as transparency-dev does."""
    if m == 0:
        return []
    return ref_subproof(m, d, True)


def data(n: int) -> list[bytes]:
    """Distinct leaf data (wrong-index mutations must not verify by coincidence)."""
    return [b"leaf-%d" % i for i in range(n)]


def flip(h: bytes, bit: int) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


# --------------------------------------------------------------------------- known answers


def test_empty_root() -> None:
    assert EMPTY_ROOT.hex() == VECTORS["empty_root"]
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert Frontier().root() == EMPTY_ROOT
    assert ListNodeSource().root() == EMPTY_ROOT
    assert ref_mth([]) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_known_roots(size: int) -> None:
    expected = ROOTS[size - 1]
    assert root_from_leaf_hashes(LEAF_HASHES[:size]) == expected
    assert ref_mth(LEAVES[:size]) == expected
    frontier = Frontier()
    frontier.extend(LEAF_HASHES[:size])
    assert frontier.root() == expected
    assert ListNodeSource(LEAF_HASHES).root(size) == expected
    assert subtree_root(ListNodeSource(LEAF_HASHES), 0, size) == expected


def _inclusion_vectors() -> list[tuple[int, int, list[bytes]]]:
    return [
        (v["index"], v["size"], [bytes.fromhex(h) for h in v["proof"]])
        for v in VECTORS["inclusion_proofs"]
    ]


def _consistency_vectors() -> list[tuple[int, int, list[bytes]]]:
    return [
        (v["old_size"], v["new_size"], [bytes.fromhex(h) for h in v["proof"]])
        for v in VECTORS["consistency_proofs"]
    ]


@pytest.mark.parametrize(("index", "size", "proof"), _inclusion_vectors())
def test_known_inclusion_proofs(index: int, size: int, proof: list[bytes]) -> None:
    source = ListNodeSource(LEAF_HASHES)
    assert inclusion_proof(index, size, source) == proof
    assert ref_path(index, LEAVES[:size]) == proof
    root = ROOTS[size - 1]
    assert root_from_inclusion_proof(LEAF_HASHES[index], index, size, proof) == root
    verify_inclusion(LEAF_HASHES[index], index, size, proof, root)


@pytest.mark.parametrize(("old", "new", "proof"), _consistency_vectors())
def test_known_consistency_proofs(old: int, new: int, proof: list[bytes]) -> None:
    source = ListNodeSource(LEAF_HASHES)
    assert consistency_proof(old, new, source) == proof
    assert ref_proof(old, LEAVES[:new]) == proof
    verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


def _inclusion_probes(
    index: int, size: int, proof: list[bytes], root: bytes, lh: bytes
) -> list[tuple[str, int, int, list[bytes], bytes, bytes]]:
    """Port of transparency-dev corruptInclusionProof (all must fail)."""
    probes = [
        ("index - 1", index - 1, size, proof, root, lh),
        ("index + 1", index + 1, size, proof, root, lh),
        ("index ^ 2", index ^ 2, size, proof, root, lh),
        ("size * 2", index, size * 2, proof, root, lh),
        ("size // 2", index, size // 2, proof, root, lh),
        ("wrong leaf", index, size, proof, root, b"WrongLeaf"),
        ("wrong 32-byte leaf", index, size, proof, root, SOME_HASH),
        ("empty root", index, size, proof, EMPTY_ROOT, lh),
        ("random root", index, size, proof, SOME_HASH, lh),
        ("trailing garbage", index, size, [*proof, b""], root, lh),
        ("trailing root", index, size, [*proof, root], root, lh),
        ("preceding garbage", index, size, [b"", *proof], root, lh),
        ("preceding root", index, size, [root, *proof], root, lh),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 3)
        probes.append((f"modified proof[{i}] bit 3", index, size, wrong, root, lh))
    if proof:
        probes.append(("removed component", index, size, proof[:-1], root, lh))
    if len(proof) > 1:
        probes.append(
            ("inserted component", index, size, [proof[0], SOME_HASH, *proof[1:]], root, lh)
        )
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), _inclusion_vectors())
def test_known_inclusion_proofs_reject_corruption(
    index: int, size: int, proof: list[bytes]
) -> None:
    root = ROOTS[size - 1]
    for desc, i, n, p, r, lh in _inclusion_probes(index, size, proof, root, LEAF_HASHES[index]):
        with pytest.raises(InclusionProofError):
            verify_inclusion(lh, i, n, p, r)
            pytest.fail(f"verified corrupted probe: {desc}")


def _consistency_probes(
    old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """Port of transparency-dev corruptConsistencyProof (all must fail)."""
    probes = [
        ("old - 1", old - 1, new, root1, root2, proof),
        ("old + 1", old + 1, new, root1, root2, proof),
        ("old ^ 2", old ^ 2, new, root1, root2, proof),
        ("new * 2", old, new * 2, root1, root2, proof),
        ("new // 2", old, new // 2, root1, root2, proof),
        ("wrong root1", old, new, b"WrongRoot", root2, proof),
        ("wrong root2", old, new, root1, b"WrongRoot", proof),
        ("wrong 32-byte root1", old, new, SOME_HASH, root2, proof),
        ("swapped roots", old, new, root2, root1, proof),
        ("empty proof", old, new, root1, root2, []),
        ("trailing garbage", old, new, root1, root2, [*proof, b""]),
        ("trailing root1", old, new, root1, root2, [*proof, root1]),
        ("trailing root2", old, new, root1, root2, [*proof, root2]),
        ("preceding garbage", old, new, root1, root2, [b"", *proof]),
        ("preceding root1", old, new, root1, root2, [root1, *proof]),
        ("preceding root2", old, new, root1, root2, [root2, *proof]),
        ("preceding proof[0]", old, new, root1, root2, [proof[0], *proof]),
        ("truncated proof", old, new, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 4)
        probes.append((f"modified proof[{i}] bit 4", old, new, root1, root2, wrong))
    return probes


@pytest.mark.parametrize(("old", "new", "proof"), [v for v in _consistency_vectors() if v[2]])
def test_known_consistency_proofs_reject_corruption(old: int, new: int, proof: list[bytes]) -> None:
    for desc, m, n, r1, r2, p in _consistency_probes(
        old, new, ROOTS[old - 1], ROOTS[new - 1], proof
    ):
        with pytest.raises(ConsistencyProofError):
            verify_consistency(m, n, r1, r2, p)
            pytest.fail(f"verified corrupted probe: {desc}")


# --------------------------------------------------------------------------- edge cases


def test_inclusion_single_entry() -> None:
    h = leaf_hash(b"data")
    verify_inclusion(h, 0, 1, [], h)  # root of a 1-leaf tree is its leaf hash
    with pytest.raises(InclusionProofError):
        verify_inclusion(b"", 0, 1, [], h)
    with pytest.raises(InclusionProofError):
        verify_inclusion(h, 0, 1, [], b"")
    with pytest.raises(RootMismatchError) as err:
        verify_inclusion(h, 0, 1, [], SOME_HASH)
    assert err.value.expected_root == SOME_HASH
    assert err.value.calculated_root == h


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (1, 1), (-1, 4)])
def test_inclusion_index_out_of_range(index: int, size: int) -> None:
    with pytest.raises(InclusionIndexError) as err:
        verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    assert (err.value.index, err.value.size) == (index, size)


def test_inclusion_wrong_length_evidence() -> None:
    index, size, proof = _inclusion_vectors()[1]
    with pytest.raises(InclusionProofLengthError) as err:
        verify_inclusion(LEAF_HASHES[index], index, size, proof[:-1], ROOTS[size - 1])
    assert (err.value.expected_length, err.value.actual_length) == (3, 2)


def test_inclusion_root_mismatch_evidence() -> None:
    index, size, proof = _inclusion_vectors()[2]
    with pytest.raises(RootMismatchError) as err:
        verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[0])
    assert err.value.expected_root == ROOTS[0]
    assert err.value.calculated_root == ROOTS[size - 1]
    assert isinstance(err.value, InclusionProofError)
    assert isinstance(err.value, ValueError)


R1 = hashlib.sha256(b"root one").digest()
R2 = hashlib.sha256(b"root two").digest()


@pytest.mark.parametrize(
    ("old", "new", "root1", "root2", "proof", "ok"),
    [
        # Adapted from transparency-dev TestVerifyConsistency (roots are 32 bytes here).
        (0, 0, R1, R2, [], False),
        (1, 1, R1, R2, [], False),
        (0, 0, R1, R1, [], True),
        (0, 1, R1, R2, [], True),
        (0, 5, EMPTY_ROOT, R2, [], True),
        (1, 1, R2, R2, [], True),
        (1, 0, R1, R2, [], False),
        (2, 1, R1, R2, [], False),
        (1, 2, R1, R2, [], False),
        (0, 0, EMPTY_ROOT, R2, [], False),
        (1, 1, EMPTY_ROOT, R2, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    ],
)
def test_consistency_edge_cases(
    old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes], ok: bool
) -> None:
    if ok:
        verify_consistency(old, new, root1, root2, proof)
    else:
        with pytest.raises(ConsistencyProofError):
            verify_consistency(old, new, root1, root2, proof)


def test_consistency_error_evidence() -> None:
    with pytest.raises(ConsistencyOrderError) as order:
        verify_consistency(5, 4, R1, R2, [])
    assert (order.value.old_size, order.value.new_size) == (5, 4)

    with pytest.raises(ConsistencyRootMismatchError) as same:
        verify_consistency(3, 3, R1, R2, [])
    assert (same.value.expected_root, same.value.calculated_root) == (R2, R1)

    old, new, proof = _consistency_vectors()[2]
    with pytest.raises(ConsistencyProofLengthError) as length:
        verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof[1:])
    assert (length.value.expected_length, length.value.actual_length) == (3, 2)

    with pytest.raises(ConsistencyRootMismatchError) as mismatch:
        verify_consistency(old, new, ROOTS[old - 1], ROOTS[0], proof)
    assert mismatch.value.which == "new"
    assert mismatch.value.calculated_root == ROOTS[new - 1]

    with pytest.raises(ConsistencyRootMismatchError) as mismatch_old:
        verify_consistency(old, new, ROOTS[0], ROOTS[new - 1], proof)
    assert mismatch_old.value.which == "old"
    assert mismatch_old.value.calculated_root == ROOTS[old - 1]


def test_proof_generation_rejects_bad_requests() -> None:
    source = ListNodeSource(LEAF_HASHES)
    with pytest.raises(ProofRequestError):
        inclusion_proof(8, 8, source)
    with pytest.raises(ProofRequestError):
        inclusion_proof(-1, 8, source)
    with pytest.raises(ProofRequestError):
        consistency_proof(5, 4, source)
    with pytest.raises(MerkleError):
        inclusion_proof(0, 9, source)  # source only has 8 leaves
    assert consistency_proof(0, 8, source) == []
    assert consistency_proof(8, 8, source) == []


def test_short_node_source_is_detected() -> None:
    class Short:
        def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
            return LEAF_HASHES[start : end - 1]

    with pytest.raises(NodeSourceError) as err:
        inclusion_proof(0, 4, Short())
    assert err.value.returned == err.value.end - err.value.start - 1


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(left + right) != node_hash(left, right)
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert len(node_hash(left, right)) == HASH_SIZE


def test_hash_size_checks() -> None:
    with pytest.raises(HashSizeError):
        root_from_leaf_hashes([b"short"])
    with pytest.raises(HashSizeError):
        Frontier().append(b"short")
    with pytest.raises(HashSizeError):
        ListNodeSource([b"short"])


# --------------------------------------------------------------------------- frontier


def test_frontier_layout_and_errors() -> None:
    frontier = Frontier()
    frontier.extend(LEAF_HASHES[:7])
    raw = frontier.to_bytes()
    assert raw[:8] == (7).to_bytes(8, "big")
    assert len(raw) == 8 + 3 * HASH_SIZE
    assert len(frontier.hashes) == 3
    assert Frontier.from_bytes(raw).to_bytes() == raw
    assert Frontier().to_bytes() == bytes(8)
    for bad in (b"", raw[:7], raw[:-1], raw + b"\x00", (8).to_bytes(8, "big") + raw[8:]):
        with pytest.raises(FrontierFormatError):
            Frontier.from_bytes(bad)
    with pytest.raises(FrontierFormatError) as err:
        Frontier.from_bytes(raw[:-1])
    assert (err.value.expected_length, err.value.actual_length) == (len(raw), len(raw) - 1)


def test_frontier_copy_is_independent() -> None:
    a = Frontier()
    a.extend(LEAF_HASHES[:3])
    b = a.copy()
    b.append(LEAF_HASHES[3])
    assert (a.size, b.size) == (3, 4)
    assert a.root() == ROOTS[2]
    assert b.root() == ROOTS[3]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), max_size=150))
def test_frontier_matches_root_for_every_prefix(leaves: list[bytes]) -> None:
    hashes = [leaf_hash(x) for x in leaves]
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for n, h in enumerate(hashes, start=1):
        frontier.append(h)
        assert frontier.size == n
        assert len(frontier.hashes) == n.bit_count()
        assert frontier.root() == root_from_leaf_hashes(hashes[:n])
        restored = Frontier.from_bytes(frontier.to_bytes())
        assert restored.size == n
        assert restored.hashes == frontier.hashes
        assert restored.root() == frontier.root()


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=70))
def test_root_matches_reference(n: int) -> None:
    d = data(n)
    assert root_from_leaf_hashes([leaf_hash(x) for x in d]) == ref_mth(d)


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=300))
def test_every_inclusion_proof_verifies(size: int) -> None:
    hashes = [leaf_hash(x) for x in data(size)]
    source = ListNodeSource(hashes)
    root = root_from_leaf_hashes(hashes)
    for index in range(size):
        proof = inclusion_proof(index, size, source)
        assert len(proof) == inclusion_proof_length(index, size)
        verify_inclusion(hashes[index], index, size, proof, root)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=40))
def test_inclusion_proofs_match_reference(size: int) -> None:
    d = data(size)
    source = ListNodeSource(leaf_hash(x) for x in d)
    for index in range(size):
        assert inclusion_proof(index, size, source) == ref_path(index, d)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=40))
def test_consistency_proofs_match_reference(new: int) -> None:
    d = data(new)
    source = ListNodeSource(leaf_hash(x) for x in d)
    for old in range(new + 1):
        proof = consistency_proof(old, new, source)
        assert proof == ref_proof(old, d)
        assert len(proof) == consistency_proof_length(old, new)


@st.composite
def size_pairs(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(min_value=0, max_value=300))
    old = draw(st.integers(min_value=0, max_value=new))
    return old, new


@settings(max_examples=150, deadline=None)
@given(size_pairs())
def test_random_consistency_proofs_verify(sizes: tuple[int, int]) -> None:
    old, new = sizes
    hashes = [leaf_hash(x) for x in data(new)]
    source = ListNodeSource(hashes)
    proof = consistency_proof(old, new, source)
    verify_consistency(old, new, source.root(old), source.root(new), proof)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_inclusion_proofs_fail(draw: st.DataObject) -> None:
    size = draw.draw(st.integers(min_value=1, max_value=300))
    index = draw.draw(st.integers(min_value=0, max_value=size - 1))
    d = data(size)
    hashes = [leaf_hash(x) for x in d]
    source = ListNodeSource(hashes)
    root = source.root()
    proof = inclusion_proof(index, size, source)
    lh = hashes[index]

    if proof:
        i = draw.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bit = draw.draw(st.integers(min_value=0, max_value=7))
        byte = draw.draw(st.integers(min_value=0, max_value=HASH_SIZE - 1))
        flipped = list(proof)
        flipped[i] = (
            flipped[i][:byte] + bytes([flipped[i][byte] ^ (1 << bit)]) + flipped[i][byte + 1 :]
        )
        with pytest.raises(RootMismatchError):
            verify_inclusion(lh, index, size, flipped, root)
        with pytest.raises(InclusionProofLengthError):
            verify_inclusion(lh, index, size, proof[:-1], root)
    extra_at = draw.draw(st.integers(min_value=0, max_value=len(proof)))
    extra = [*proof[:extra_at], SOME_HASH, *proof[extra_at:]]
    with pytest.raises(InclusionProofLengthError):
        verify_inclusion(lh, index, size, extra, root)

    # Wrong index (distinct leaves, same tree): never verifies.
    other = draw.draw(st.integers(min_value=-2, max_value=size + 2))
    if other != index:
        with pytest.raises(InclusionProofError):
            verify_inclusion(lh, other, size, proof, root)

    # Wrong size: must fail whenever the proof shape differs.  (Sizes with the same
    # shape recompute the very same root by construction, e.g. (0, 3) and (0, 4).)
    wrong_size = draw.draw(st.integers(min_value=0, max_value=2 * size + 2))
    if wrong_size != size and (
        index >= wrong_size or inclusion_proof_length(index, wrong_size) != len(proof)
    ):
        with pytest.raises(InclusionProofError):
            verify_inclusion(lh, index, wrong_size, proof, root)
    # ... and the wrong leaf / wrong root never verify.
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaf_hash(b"not a leaf"), index, size, proof, root)
    with pytest.raises(RootMismatchError):
        verify_inclusion(lh, index, size, proof, SOME_HASH)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_consistency_proofs_fail(draw: st.DataObject) -> None:
    new = draw.draw(st.integers(min_value=2, max_value=300))
    old = draw.draw(st.integers(min_value=1, max_value=new - 1))
    source = ListNodeSource(leaf_hash(x) for x in data(new))
    r1, r2 = source.root(old), source.root(new)
    proof = consistency_proof(old, new, source)
    assert proof

    i = draw.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = draw.draw(st.integers(min_value=0, max_value=7))
    byte = draw.draw(st.integers(min_value=0, max_value=HASH_SIZE - 1))
    flipped = list(proof)
    flipped[i] = flipped[i][:byte] + bytes([flipped[i][byte] ^ (1 << bit)]) + flipped[i][byte + 1 :]
    with pytest.raises(ConsistencyRootMismatchError):
        verify_consistency(old, new, r1, r2, flipped)
    with pytest.raises(ConsistencyProofLengthError):
        verify_consistency(old, new, r1, r2, proof[:-1])
    extra_at = draw.draw(st.integers(min_value=0, max_value=len(proof)))
    with pytest.raises(ConsistencyProofLengthError):
        verify_consistency(old, new, r1, r2, [*proof[:extra_at], SOME_HASH, *proof[extra_at:]])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, r2, r1, proof)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, r1, SOME_HASH, proof)

    # Wrong sizes: must fail whenever the proof shape differs (see inclusion test).
    old2 = draw.draw(st.integers(min_value=-1, max_value=new + 1))
    new2 = draw.draw(st.integers(min_value=0, max_value=2 * new))
    if (old2, new2) != (old, new) and (
        not 0 <= old2 <= new2 or consistency_proof_length(old2, new2) != len(proof)
    ):
        with pytest.raises(ConsistencyProofError):
            verify_consistency(old2, new2, r1, r2, proof)


# --------------------------------------------------------------------------- caching


class CountingSource:
    """Synthetic append-only source: leaf i hashes ``i``; counts every read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls = 0
        self.leaves_read = 0

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        assert 0 <= start <= end <= self.size
        self.calls += 1
        self.leaves_read += end - start
        return [leaf_hash(i.to_bytes(8, "big")) for i in range(start, end)]


class CountingCache(DictSubtreeCache):
    def __init__(self) -> None:
        super().__init__()
        self.gets = 0
        self.puts = 0

    def get(self, start: int, end: int) -> bytes | None:
        self.gets += 1
        return super().get(start, end)

    def put(self, start: int, end: int, root: bytes) -> None:
        self.puts += 1
        super().put(start, end, root)


def _assert_warm_proofs_are_cheap(size: int, seed: int) -> None:
    source = CountingSource(size)
    cache = CountingCache()
    root = subtree_root(source, 0, size, cache=cache)  # warms every wide aligned subtree
    log_n = size.bit_length()
    rng = random.Random(seed)
    for _ in range(20):
        source.calls = source.leaves_read = 0
        cache.gets = cache.puts = 0
        index = rng.randrange(size)
        proof = inclusion_proof(index, size, source, cache=cache)
        assert cache.puts == 0
        assert source.leaves_read < 2 * CACHE_MIN_WIDTH
        assert source.calls <= 2 * log_n
        assert cache.gets <= 2 * log_n  # one non-perfect sibling at most, O(log n) look-ups
        lh = leaf_hash(index.to_bytes(8, "big"))
        verify_inclusion(lh, index, size, proof, root)

        source.calls = source.leaves_read = 0
        cache.gets = cache.puts = 0
        old = rng.randrange(1, size)
        cproof = consistency_proof(old, size, source, cache=cache)
        assert cache.puts == 0
        assert cache.gets <= 2 * log_n
        assert source.leaves_read < 2 * CACHE_MIN_WIDTH
        assert source.calls <= 2 * log_n
        old_root = subtree_root(source, 0, old, cache=cache)
        verify_consistency(old, size, old_root, root, cproof)


def test_warm_cache_proofs_are_cheap() -> None:
    _assert_warm_proofs_are_cheap(100_003, seed=1)


@pytest.mark.slow
def test_warm_cache_proofs_are_cheap_million() -> None:
    _assert_warm_proofs_are_cheap(1_000_000, seed=2)


def test_list_node_source_cache_fills_and_stays_valid_on_append() -> None:
    hashes = [leaf_hash(i.to_bytes(8, "big")) for i in range(3 * CACHE_MIN_WIDTH + 5)]
    source = ListNodeSource(hashes[: 2 * CACHE_MIN_WIDTH + 1])
    inclusion_proof(0, source.size, source)
    assert len(source._cache) > 0
    source.extend(hashes[source.size :])
    for index in (0, CACHE_MIN_WIDTH, len(hashes) - 1):
        proof = inclusion_proof(index, len(hashes), source)
        verify_inclusion(hashes[index], index, len(hashes), proof, root_from_leaf_hashes(hashes))
