"""The transparency log's hashes stored in tiles, as C2SP tlog-tiles and Go's sumdb store them.
Pure: standard library and ``merkle`` only (the migration that moved the log into tiles uses it).

* A **tile** ``(level, index)`` holds up to ``TILE_WIDTH`` consecutive hashes of one tree level
  ``level * TILE_HEIGHT``: the complete subtrees ``index * TILE_WIDTH`` onwards. Tile level 0
  holds the leaf hashes; tile level 1 the roots of every 256 leaves; and so on.
* A tile is written whole: the rightmost tile of a level grows by a new row with the same
  position and a larger ``width`` whose hashes start with the narrower row's (append-only).
* Any complete subtree folds from at most ``TILE_WIDTH // 2`` hashes of one tile below it.
"""

from collections.abc import Iterable

from . import merkle

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
HASH = merkle.HASH_SIZE

Position = tuple[int, int]  # (tile level, tile index)


def hashes_of(blob: bytes) -> list[bytes]:
    return [blob[at : at + HASH] for at in range(0, len(blob), HASH)]


def needed(node: merkle.Node) -> tuple[Position, int, int]:
    """Where the hashes a complete subtree folds from are: its tile, and the first and last
    (exclusive) offsets in it."""
    level, index = node
    span = level % TILE_HEIGHT
    first = index << span
    tile_index, offset = divmod(first, TILE_WIDTH)
    return (level // TILE_HEIGHT, tile_index), offset, offset + (1 << span)


def fold_node(node: merkle.Node, blob: bytes) -> bytes:
    """The hash of ``node`` from the tile that holds what it folds from."""
    _, start, end = needed(node)
    if len(blob) < end * HASH:
        raise LookupError(f"the log does not hold the node {node}")
    return merkle.perfect_root(hashes_of(blob[start * HASH : end * HASH]))


def partial_positions(size: int) -> list[Position]:
    """The rightmost, partly filled tile of each level of a tree of ``size`` leaves: what the
    next leaves add to."""
    positions, tile_level = [], 0
    while nodes := size >> (tile_level * TILE_HEIGHT):
        if nodes % TILE_WIDTH:
            positions.append((tile_level, nodes // TILE_WIDTH))
        tile_level += 1
    return positions


def new_tiles(
    first_leaf: int,
    leaf_hashes: bytes,
    nodes: Iterable[tuple[int, int, bytes]],
    partial: dict[Position, bytes],
) -> list[tuple[int, int, int, bytes]]:
    """The tile rows to append after the leaves ``leaf_hashes`` (concatenated) were added from
    index ``first_leaf`` and made ``nodes`` (``(level, index, hash)`` at levels that are multiples
    of ``TILE_HEIGHT``, in index order per level): ``(level, index, width, hashes)``, each tile
    that changed written whole, starting from what ``partial`` holds of it."""
    by_level: dict[int, tuple[int, list[bytes]]] = {0: (first_leaf, [leaf_hashes])}
    for level, index, digest in nodes:
        tile_level = level // TILE_HEIGHT
        if tile_level not in by_level:
            by_level[tile_level] = (index, [])
        by_level[tile_level][1].append(digest)
    rows = []
    for tile_level, (first, parts) in by_level.items():
        blob = b"".join(parts)
        tile_index, offset = divmod(first, TILE_WIDTH)
        if offset:
            blob = partial[tile_level, tile_index][: offset * HASH] + blob
        for at in range(0, len(blob), TILE_WIDTH * HASH):
            chunk = blob[at : at + TILE_WIDTH * HASH]
            rows.append((tile_level, tile_index, len(chunk) // HASH, chunk))
            tile_index += 1
    return rows


def runs(event_ids: list[int], first_index: int) -> list[tuple[int, int, int]]:
    """The events' ids in log order as runs ``(first event id, last event id, first log index)``
    of consecutive ids at consecutive indexes: a batch is one run unless ids were skipped."""
    result = []
    start = 0
    for at in range(1, len(event_ids) + 1):
        if at == len(event_ids) or event_ids[at] != event_ids[at - 1] + 1:
            result.append((event_ids[start], event_ids[at - 1], first_index + start))
            start = at
    return result


def gaps(start: int, end: int, taken: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The ids from ``start`` to ``end`` (inclusive) that no run covers, as ranges."""
    result = []
    for first, last, _ in sorted(taken):
        if first > start:
            result.append((start, min(first - 1, end)))
        start = max(start, last + 1)
    if start <= end:
        result.append((start, end))
    return [(first, last) for first, last in result if first <= last]
