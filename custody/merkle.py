"""The Merkle tree of the transparency log (RFC 6962 / RFC 9162, section 2.1). Pure: standard
library only, so that the offline verifier (``python -m custody.verify``) uses it as is.

* A **leaf** is an event's hash: its 32 raw bytes (the 64 hex digits of ``CustodyEvent.hash``,
  decoded). Its leaf hash is ``SHA-256(0x00 || leaf)``; an interior node's hash is
  ``SHA-256(0x01 || left || right)``.
* A **complete subtree** ``(level, index)`` covers the leaves ``index * 2**level`` up to
  ``(index + 1) * 2**level - 1``; level 0 is one leaf. Every hash a proof or a root needs is
  the hash of an RFC 9162 subtree ``D[a:b]``, which folds from complete subtrees. Proofs are
  built from a *node source*: a callable that takes a list of complete subtrees and returns
  their hashes, in order (the store answers it in one query; a list of leaves answers it here).
* Verification follows RFC 9162 sections 2.1.3.2 (inclusion) and 2.1.4.2 (consistency).
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
Node = tuple[int, int]  # (level, index) of a complete subtree
NodeSource = Callable[[list[Node]], list[bytes]]

_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def event_leaf(event_hash: str) -> bytes:
    """The leaf of an event: its hash's 32 bytes."""
    return bytes.fromhex(event_hash)


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def complete_subtrees(start: int, end: int) -> list[Node]:
    """``D[start:end]`` as complete subtrees, largest first. Holds for every range a proof or a
    root asks for: ``start`` is a multiple of a power of two at least ``end - start``."""
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The RFC 9162 hash of a range from its complete subtrees' hashes, largest first."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a complete subtree from its 2**k nodes at some level below it."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def _range_hashes(ranges: list[tuple[int, int]], source: NodeSource) -> list[bytes]:
    """The hash of each range, from one call to the node source."""
    decomposed = [complete_subtrees(start, end) for start, end in ranges]
    hashes = source([node for nodes in decomposed for node in nodes])
    result, at = [], 0
    for nodes in decomposed:
        result.append(fold(hashes[at : at + len(nodes)]))
        at += len(nodes)
    return result


def root(size: int, source: NodeSource) -> bytes:
    """The tree head of the first ``size`` leaves; the empty tree's is SHA-256 of nothing."""
    if size == 0:
        return _sha256(b"").digest()
    return _range_hashes([(0, size)], source)[0]


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees of RFC 9162's PATH(index, D[0:size]), from the leaf up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges, start, end = [], 0, size
    while end - start > 1:
        split = start + _split(end - start)
        if index < split:
            ranges.append((split, end))
            end = split
        else:
            ranges.append((start, split))
            start = split
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The subtrees of RFC 9162's PROOF(first, D[0:second]), in proof order."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    if first in (0, second):
        return []
    ranges, start, end, whole = [], 0, second, True
    while first != end:
        split = start + _split(end - start)
        if first <= split:
            ranges.append((split, end))
            end = split
        else:
            ranges.append((start, split))
            start, whole = split, False
    if not whole:
        ranges.append((start, end))
    return ranges[::-1]


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    return _range_hashes(inclusion_ranges(index, size), source)


def consistency_proof(first: int, second: int, source: NodeSource) -> list[bytes]:
    return _range_hashes(consistency_ranges(first, second), source)


def verify_inclusion(
    leaf_hash_: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, leaf_hash_
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and result == root_hash


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    """RFC 9162 section 2.1.4.2 (and the trivial cases: an empty first tree, equal sizes)."""
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_result = second_result = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first_result = node_hash(node, first_result)
            second_result = node_hash(node, second_result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second_result = node_hash(second_result, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first_result == first_root and second_result == second_root


def leaf_source(leaf_hashes: Sequence[bytes]) -> NodeSource:
    """A node source over leaf hashes held in memory (tests, the offline verifier)."""

    def source(nodes: list[Node]) -> list[bytes]:
        return [
            perfect_root(leaf_hashes[index << level : (index + 1) << level])
            for level, index in nodes
        ]

    return source


class Frontier:
    """The right edge of a growing tree: the complete subtrees that make up ``D[0:size]``,
    largest first. Appending a leaf merges equal subtrees as a binary counter carries; each
    merge is a complete subtree that ``on_node(level, index, hash)`` is told of."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        self.size = size
        self.stack = [
            (level, digest)
            for (level, _), digest in zip(complete_subtrees(0, size), hashes, strict=True)
        ]

    def append(self, leaf_hash_: bytes, on_node: Callable[[int, int, bytes], None]) -> None:
        stack, position = self.stack, self.size
        level, digest = 0, leaf_hash_
        while stack and stack[-1][0] == level:
            digest = node_hash(stack.pop()[1], digest)
            level += 1
            on_node(level, position >> level, digest)
        stack.append((level, digest))
        self.size = position + 1

    def extend(self, leaf_hashes: Iterable[bytes], stride: int) -> list[tuple[int, int, bytes]]:
        """``append`` for many leaves, keeping the complete subtrees made at levels that are
        multiples of ``stride``: the integrator's loop, inlined (a call per node cost it a
        third of its time)."""
        stack, position, sha256, kept = self.stack, self.size, _sha256, []
        for digest in leaf_hashes:
            level = 0
            while stack and stack[-1][0] == level:
                digest = sha256(b"\x01" + stack.pop()[1] + digest).digest()
                level += 1
                if level % stride == 0:
                    kept.append((level, position >> level, digest))
            stack.append((level, digest))
            position += 1
        self.size = position
        return kept

    def extend_events(self, prefixed: bytes, stride: int) -> tuple[list[bytes], list]:
        """``extend`` from the events' hashes end to end, each after its leaf prefix (0x00 ||
        event hash: 33 bytes): their leaf hashes and the kept subtrees, hashed in one loop."""
        stack, position, sha256, leaves, kept = self.stack, self.size, _sha256, [], []
        # Methods bound once: a lookup per leaf showed in the integrator's time.
        push, pop, keep_leaf, record = stack.append, stack.pop, leaves.append, HASH_SIZE + 1
        for at in range(0, len(prefixed), record):
            digest = sha256(prefixed[at : at + record]).digest()
            keep_leaf(digest)
            level = 0
            while stack and stack[-1][0] == level:
                digest = sha256(b"\x01" + pop()[1] + digest).digest()
                level += 1
                if level % stride == 0:
                    kept.append((level, position >> level, digest))
            push((level, digest))
            position += 1
        self.size = position
        return leaves, kept

    def root(self) -> bytes:
        if not self.stack:
            return _sha256(b"").digest()
        return fold([digest for _, digest in self.stack])
