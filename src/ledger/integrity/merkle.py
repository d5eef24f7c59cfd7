"""RFC 9162 section 2.1 Merkle tree hashing, compact frontiers and proofs.

Hashing (SHA-256, ``HASH_SIZE`` = 32 bytes)::

    leaf hash  = SHA-256(0x00 || leaf bytes)
    node hash  = SHA-256(0x01 || left hash (32) || right hash (32))
    MTH({})    = SHA-256("")                      (EMPTY_ROOT, e3b0c442...)
    MTH({d0})  = leaf hash(d0)
    MTH(D[n])  = node hash(MTH(D[0:k]), MTH(D[k:n]))   k = largest power of two < n

Proofs are lists of 32-byte hashes ordered from the leaf (or old-tree) end up to
the root, exactly as RFC 9162 ``PATH`` (section 2.1.3.1) and ``PROOF``/``SUBPROOF``
(section 2.1.4.1) produce them, so they interoperate with transparency-dev/merkle
and Certificate Transparency.

Everything here is pure computation over bytes.  Proof generation reads leaf
hashes only through the ``NodeSource`` protocol; a database-backed caller may add
a ``SubtreeCache`` of perfect, aligned subtree roots (which never change in an
append-only log) so that a warm proof costs O(log n) cache look-ups plus fewer
than ``2 * CACHE_MIN_WIDTH`` leaf reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256
from typing import Protocol, runtime_checkable

__all__ = [
    "CACHE_MIN_WIDTH",
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "CachingNodeSource",
    "ConsistencyHashSizeError",
    "ConsistencyOrderError",
    "ConsistencyProofError",
    "ConsistencyProofLengthError",
    "ConsistencyRootMismatchError",
    "DictSubtreeCache",
    "Frontier",
    "FrontierFormatError",
    "HashSizeError",
    "InclusionHashSizeError",
    "InclusionIndexError",
    "InclusionProofError",
    "InclusionProofLengthError",
    "ListNodeSource",
    "MerkleError",
    "NodeSource",
    "NodeSourceError",
    "ProofRequestError",
    "RootMismatchError",
    "SubtreeCache",
    "consistency_proof",
    "consistency_proof_length",
    "inclusion_proof",
    "inclusion_proof_length",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()

#: Perfect aligned subtrees at least this wide are looked up in / stored to a
#: ``SubtreeCache``; narrower ones are recomputed from leaf hashes.
CACHE_MIN_WIDTH = 256

_FRONTIER_SIZE_BYTES = 8
_MAX_TREE_SIZE = (1 << 64) - 1


# --------------------------------------------------------------------------- errors


class MerkleError(ValueError):
    """Base class of every error raised by this module."""


class HashSizeError(MerkleError):
    """A value that must be a 32-byte hash has another length."""

    def __init__(self, what: str, actual_size: int) -> None:
        self.what = what
        self.actual_size = actual_size
        super().__init__(f"{what} must be {HASH_SIZE} bytes, got {actual_size}")


class FrontierFormatError(MerkleError):
    """``Frontier.from_bytes`` input does not match the documented layout."""

    def __init__(self, reason: str, *, expected_length: int, actual_length: int) -> None:
        self.reason = reason
        self.expected_length = expected_length
        self.actual_length = actual_length
        super().__init__(
            f"malformed frontier: {reason} (expected {expected_length} bytes, got {actual_length})"
        )


class ProofRequestError(MerkleError):
    """Proof generation was asked for an impossible (index/size) combination."""

    def __init__(self, reason: str, *, first: int, second: int) -> None:
        self.reason = reason
        self.first = first
        self.second = second
        super().__init__(f"{reason} ({first}, {second})")


class NodeSourceError(MerkleError):
    """A ``NodeSource`` returned the wrong number of leaf hashes."""

    def __init__(self, start: int, end: int, returned: int) -> None:
        self.start = start
        self.end = end
        self.returned = returned
        super().__init__(
            f"node source returned {returned} leaf hashes for [{start}, {end}), "
            f"expected {end - start}"
        )


class InclusionProofError(MerkleError):
    """An inclusion proof failed to verify."""


class InclusionIndexError(InclusionProofError):
    """The leaf index is not inside the tree (or a size/index is negative)."""

    def __init__(self, index: int, size: int) -> None:
        self.index = index
        self.size = size
        super().__init__(f"leaf index {index} out of range for tree size {size}")


class InclusionProofLengthError(InclusionProofError):
    """The proof has the wrong number of hashes for (index, size)."""

    def __init__(self, index: int, size: int, expected_length: int, actual_length: int) -> None:
        self.index = index
        self.size = size
        self.expected_length = expected_length
        self.actual_length = actual_length
        super().__init__(
            f"inclusion proof for index {index} in size {size} must have "
            f"{expected_length} hashes, got {actual_length}"
        )


class InclusionHashSizeError(InclusionProofError, HashSizeError):
    """A leaf hash, root or proof element is not 32 bytes."""


class RootMismatchError(InclusionProofError):
    """The root recomputed from the inclusion proof differs from the trusted root."""

    def __init__(self, expected_root: bytes, calculated_root: bytes) -> None:
        self.expected_root = expected_root
        self.calculated_root = calculated_root
        super().__init__(
            f"root mismatch: expected {expected_root.hex()}, calculated {calculated_root.hex()}"
        )


class ConsistencyProofError(MerkleError):
    """A consistency proof failed to verify."""


class ConsistencyOrderError(ConsistencyProofError):
    """``old_size > new_size`` (or a negative size): the log cannot shrink."""

    def __init__(self, old_size: int, new_size: int) -> None:
        self.old_size = old_size
        self.new_size = new_size
        super().__init__(f"old size {old_size} is not within [0, new size {new_size}]")


class ConsistencyProofLengthError(ConsistencyProofError):
    """The proof has the wrong number of hashes for (old_size, new_size)."""

    def __init__(
        self, old_size: int, new_size: int, expected_length: int, actual_length: int
    ) -> None:
        self.old_size = old_size
        self.new_size = new_size
        self.expected_length = expected_length
        self.actual_length = actual_length
        super().__init__(
            f"consistency proof {old_size} -> {new_size} must have "
            f"{expected_length} hashes, got {actual_length}"
        )


class ConsistencyHashSizeError(ConsistencyProofError, HashSizeError):
    """A root or proof element is not 32 bytes."""


class ConsistencyRootMismatchError(ConsistencyProofError):
    """A root recomputed from the proof differs from the supplied one.

    ``which`` is ``"old"`` or ``"new"``: the supplied root that did not match.
    """

    def __init__(self, which: str, expected_root: bytes, calculated_root: bytes) -> None:
        self.which = which
        self.expected_root = expected_root
        self.calculated_root = calculated_root
        super().__init__(
            f"{which} root mismatch: expected {expected_root.hex()}, "
            f"calculated {calculated_root.hex()}"
        )


# --------------------------------------------------------------------------- hashing


def leaf_hash(leaf_bytes: bytes) -> bytes:
    """``SHA-256(0x00 || leaf_bytes)``."""
    return sha256(LEAF_PREFIX + leaf_bytes).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``; both children are 32-byte hashes."""
    return sha256(NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str, error: type[HashSizeError] = HashSizeError) -> None:
    if len(value) != HASH_SIZE:
        raise error(what, len(value))


def _split_point(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves; ``EMPTY_ROOT`` for an empty sequence.

    Level by level, carrying an unpaired last node up unchanged; this is the
    same tree as RFC 9162's "split at the largest power of two < n".
    """
    for i, h in enumerate(hashes):
        _check_hash(h, f"leaf hash {i}")
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine subtree roots of a compact range, largest (leftmost) first.

    ``node_hash`` inlined: the recorder and the verifier call this once per event.
    """
    root = hashes[-1]
    for i in range(len(hashes) - 2, -1, -1):
        root = sha256(NODE_PREFIX + hashes[i] + root).digest()
    return root


# --------------------------------------------------------------------------- frontier


class Frontier:
    """Compact range ``[0, size)``: one perfect-subtree root per set bit of ``size``.

    Roots are held largest (leftmost) first.  Serialised layout (``to_bytes``)::

        offset  length        field
        0       8             size, unsigned big-endian
        8       32 * popcount(size)
                              subtree roots, largest first
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The perfect-subtree roots, largest first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (amortised O(1) node hashes)."""
        _check_hash(leaf_hash, "leaf hash")
        if self._size >= _MAX_TREE_SIZE:
            raise OverflowError("frontier size would exceed 2**64 - 1")
        merged = leaf_hash
        bits = self._size
        while bits & 1:
            merged = node_hash(self._hashes.pop(), merged)
            bits >>= 1
        self._hashes.append(merged)
        self._size += 1

    def extend(self, hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order."""
        for h in hashes:
            self.append(h)

    def root(self) -> bytes:
        """MTH of the leaves appended so far (``EMPTY_ROOT`` when empty)."""
        if not self._hashes:
            return EMPTY_ROOT
        return _fold_right(self._hashes)

    def to_bytes(self) -> bytes:
        """Serialise as documented in the class docstring."""
        return self._size.to_bytes(_FRONTIER_SIZE_BYTES, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> Frontier:
        """Parse ``to_bytes`` output; raise ``FrontierFormatError`` on any mismatch."""
        if len(data) < _FRONTIER_SIZE_BYTES:
            raise FrontierFormatError(
                "truncated size field",
                expected_length=_FRONTIER_SIZE_BYTES,
                actual_length=len(data),
            )
        size = int.from_bytes(data[:_FRONTIER_SIZE_BYTES], "big")
        expected = _FRONTIER_SIZE_BYTES + HASH_SIZE * size.bit_count()
        if len(data) != expected:
            raise FrontierFormatError(
                f"size {size} needs {size.bit_count()} hashes",
                expected_length=expected,
                actual_length=len(data),
            )
        frontier = cls()
        frontier._size = size
        frontier._hashes = [
            bytes(data[off : off + HASH_SIZE])
            for off in range(_FRONTIER_SIZE_BYTES, expected, HASH_SIZE)
        ]
        return frontier

    def copy(self) -> Frontier:
        """Independent copy."""
        clone = Frontier()
        clone._size = self._size
        clone._hashes = list(self._hashes)
        return clone

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()})"


# --------------------------------------------------------------------------- sources


class NodeSource(Protocol):
    """Where proof generation reads leaf hashes from."""

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        """Return exactly the leaf hashes with indices in ``[start, end)``."""
        ...


class SubtreeCache(Protocol):
    """Optional store of perfect, aligned subtree roots.

    Keys are ``(start, end)`` with ``end - start`` a power of two and ``start`` a
    multiple of it; such a root never changes once ``end <= tree size``.
    Implementations may drop any ``put`` (e.g. keep only wide subtrees).
    """

    def get(self, start: int, end: int) -> bytes | None:
        """Cached root of leaves ``[start, end)`` or ``None``."""
        ...

    def put(self, start: int, end: int, root: bytes) -> None:
        """Remember the root of leaves ``[start, end)``."""
        ...


@runtime_checkable
class CachingNodeSource(NodeSource, Protocol):
    """A ``NodeSource`` that carries its own ``SubtreeCache``."""

    @property
    def subtree_cache(self) -> SubtreeCache:
        """The cache proof generation should use by default."""
        ...


class DictSubtreeCache:
    """In-memory ``SubtreeCache`` keeping subtrees at least ``min_width`` wide."""

    __slots__ = ("_roots", "min_width")

    def __init__(self, min_width: int = CACHE_MIN_WIDTH) -> None:
        self.min_width = min_width
        self._roots: dict[tuple[int, int], bytes] = {}

    def get(self, start: int, end: int) -> bytes | None:
        """Cached root or ``None``."""
        return self._roots.get((start, end))

    def put(self, start: int, end: int, root: bytes) -> None:
        """Store the root if the subtree is wide enough."""
        if end - start >= self.min_width:
            self._roots[(start, end)] = root

    def __len__(self) -> int:
        return len(self._roots)


class ListNodeSource:
    """Append-only in-memory list of leaf hashes with a built-in subtree cache."""

    __slots__ = ("_cache", "_hashes")

    def __init__(self, hashes: Iterable[bytes] = ()) -> None:
        self._hashes: list[bytes] = []
        self._cache = DictSubtreeCache()
        self.extend(hashes)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._hashes)

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def subtree_cache(self) -> SubtreeCache:
        """Cache of perfect aligned subtree roots, filled while proving."""
        return self._cache

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (append-only: cached roots stay valid)."""
        _check_hash(leaf_hash, "leaf hash")
        self._hashes.append(leaf_hash)

    def extend(self, hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes."""
        for h in hashes:
            self.append(h)

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        """Leaf hashes ``[start, end)``; ``ProofRequestError`` if out of range."""
        if not 0 <= start <= end <= len(self._hashes):
            raise ProofRequestError("leaf range outside source", first=start, second=end)
        return self._hashes[start:end]

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all leaves by default)."""
        return subtree_root(self, 0, len(self._hashes) if size is None else size)


def _resolve_cache(source: NodeSource, cache: SubtreeCache | None) -> SubtreeCache | None:
    if cache is not None:
        return cache
    if isinstance(source, CachingNodeSource):
        return source.subtree_cache
    return None


def _read_leaves(source: NodeSource, start: int, end: int) -> Sequence[bytes]:
    hashes = source.leaf_hashes(start, end)
    if len(hashes) != end - start:
        raise NodeSourceError(start, end, len(hashes))
    return hashes


def _perfect_root(source: NodeSource, start: int, width: int, cache: SubtreeCache | None) -> bytes:
    """Root of the perfect subtree ``[start, start + width)`` (``width`` a power of 2)."""
    aligned = start % width == 0
    if cache is None or not aligned or width < CACHE_MIN_WIDTH:
        return root_from_leaf_hashes(_read_leaves(source, start, start + width))
    cached = cache.get(start, start + width)
    if cached is not None:
        return cached
    if width == CACHE_MIN_WIDTH:
        root = root_from_leaf_hashes(_read_leaves(source, start, start + width))
    else:
        half = width // 2
        root = node_hash(
            _perfect_root(source, start, half, cache),
            _perfect_root(source, start + half, half, cache),
        )
    cache.put(start, start + width, root)
    return root


def subtree_root(
    source: NodeSource, start: int, end: int, *, cache: SubtreeCache | None = None
) -> bytes:
    """MTH of leaves ``[start, end)`` taken as a tree of their own.

    The range is split into perfect subtrees of widths given by the bits of
    ``end - start`` (largest first) and folded right to left.  Perfect subtrees
    that are aligned and at least ``CACHE_MIN_WIDTH`` wide go through ``cache``
    (default: the source's own cache when it is a ``CachingNodeSource``).
    """
    if not 0 <= start <= end:
        raise ProofRequestError("invalid leaf range", first=start, second=end)
    if start == end:
        return EMPTY_ROOT
    cache = _resolve_cache(source, cache)
    parts: list[bytes] = []
    offset = start
    remaining = end - start
    while remaining:
        width = 1 << (remaining.bit_length() - 1)
        parts.append(_perfect_root(source, offset, width, cache))
        offset += width
        remaining -= width
    return _fold_right(parts)


# --------------------------------------------------------------------------- proof generation


def inclusion_proof(
    index: int, size: int, source: NodeSource, *, cache: SubtreeCache | None = None
) -> list[bytes]:
    """RFC 9162 section 2.1.3.1 ``PATH(index, D[0:size])``, leaf end first."""
    if not 0 <= index < size:
        raise ProofRequestError("leaf index outside tree", first=index, second=size)
    cache = _resolve_cache(source, cache)
    top_down: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split_point(end - start)
        if index < start + k:
            top_down.append(subtree_root(source, start + k, end, cache=cache))
            end = start + k
        else:
            top_down.append(subtree_root(source, start, start + k, cache=cache))
            start += k
    top_down.reverse()
    return top_down


def consistency_proof(
    old_size: int, new_size: int, source: NodeSource, *, cache: SubtreeCache | None = None
) -> list[bytes]:
    """RFC 9162 section 2.1.4.1 ``PROOF(old_size, D[0:new_size])``.

    Empty when ``old_size`` is 0 or equal to ``new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise ProofRequestError("sizes out of order", first=old_size, second=new_size)
    if old_size in (0, new_size):
        return []
    cache = _resolve_cache(source, cache)
    top_down: list[bytes] = []
    start, end = 0, new_size
    complete = True  # SUBPROOF's boolean: still on the old tree's left edge
    while True:
        width = end - start
        local_m = old_size - start
        if local_m == width:
            if not complete:
                top_down.append(subtree_root(source, start, end, cache=cache))
            break
        k = _split_point(width)
        if local_m <= k:
            top_down.append(subtree_root(source, start + k, end, cache=cache))
            end = start + k
        else:
            top_down.append(subtree_root(source, start, start + k, cache=cache))
            start += k
            complete = False
    top_down.reverse()
    return top_down


# --------------------------------------------------------------------------- verification


def inclusion_proof_length(index: int, size: int) -> int:
    """Number of hashes in the inclusion proof of ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise InclusionIndexError(index, size)
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def consistency_proof_length(old_size: int, new_size: int) -> int:
    """Number of hashes in the consistency proof ``old_size -> new_size``."""
    if not 0 <= old_size <= new_size:
        raise ConsistencyOrderError(old_size, new_size)
    if old_size in (0, new_size):
        return 0
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits
    index = old_size - 1
    inner = (index ^ (new_size - 1)).bit_length()
    border = (index >> inner).bit_count()
    seeded_by_old_root = old_size == 1 << shift
    return (0 if seeded_by_old_root else 1) + inner - shift + border


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Recompute the root per RFC 9162 section 2.1.3.2 (without comparing it)."""
    if not 0 <= index < size:
        raise InclusionIndexError(index, size)
    _check_hash(leaf_hash, "leaf hash", InclusionHashSizeError)
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]", InclusionHashSizeError)
    expected = inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise InclusionProofLengthError(index, size, expected, len(proof))
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:  # unreachable once the length is checked; kept from the RFC
            raise InclusionProofLengthError(index, size, expected, len(proof))
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InclusionProofLengthError(index, size, expected, len(proof))
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree ``(size, root)``.

    Raises an ``InclusionProofError`` subclass carrying the evidence.
    """
    _check_hash(root, "root", InclusionHashSizeError)
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if calculated != root:
        raise RootMismatchError(root, calculated)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that tree ``(old_size, old_root)`` is a prefix of ``(new_size, new_root)``.

    RFC 9162 section 2.1.4.2 with the transparency-dev edge cases:
    ``old_size > new_size`` fails; equal sizes need an empty proof and equal
    roots; ``old_size == 0`` needs an empty proof and is consistent with any
    tree.  Raises a ``ConsistencyProofError`` subclass carrying the evidence.
    """
    if not 0 <= old_size <= new_size:
        raise ConsistencyOrderError(old_size, new_size)
    _check_hash(old_root, "old root", ConsistencyHashSizeError)
    _check_hash(new_root, "new root", ConsistencyHashSizeError)
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]", ConsistencyHashSizeError)
    expected = consistency_proof_length(old_size, new_size)
    if len(proof) != expected:
        raise ConsistencyProofLengthError(old_size, new_size, expected, len(proof))
    if old_size == new_size:
        if old_root != new_root:
            raise ConsistencyRootMismatchError("new", new_root, old_root)
        return
    if old_size == 0:
        return
    fr, sr = _consistency_roots(old_size, new_size, old_root, proof)
    if fr != old_root:
        raise ConsistencyRootMismatchError("old", old_root, fr)
    if sr != new_root:
        raise ConsistencyRootMismatchError("new", new_root, sr)


def _consistency_roots(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """RFC 9162 section 2.1.4.2 steps 2-6 for ``0 < old_size < new_size``.

    ``proof`` must already have the length ``consistency_proof_length`` gives.
    Returns the recomputed (old root, new root).
    """
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # exact power of two: old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # unreachable once the length is checked; kept from the RFC
            raise ConsistencyProofLengthError(old_size, new_size, len(path) - 1, len(proof))
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # likewise unreachable
        raise ConsistencyProofLengthError(old_size, new_size, len(path), len(proof))
    return fr, sr
