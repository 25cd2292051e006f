"""Verifying the transparency log against the ledger and its signed checkpoints.

What ``verify_log`` recomputes from scratch, naming what it finds missing or changed:

* every leaf hash in the tiles, in index order, 0 to n - 1 with no gap: a gap is a truncated
  or deleted part of the log;
* each leaf's event, by the runs that map events to leaves: mapped (a leaf no run maps was
  deleted from the map), still there (a deleted event, or a whole deleted lot, leaves its leaves
  behind) and with the hash the leaf committed to (an event rewritten along with its chain);
* within a lot, log order follows the chain's order (events reordered);
* every event is in the log once, or still queued for it;
* every checkpoint: its signature, and its root recomputed from the first ``tree_size``
  leaves; so each checkpoint extends the one before, and a log rewritten after a checkpoint
  was signed, or a checkpoint signed over another history, does not verify;
* every tile row against the hashes recomputed from the leaves (proofs read them).
"""

import hashlib
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q

from .. import merkle, notes, tiles
from ..models import CustodyEvent, LogCheckpoint, LogEntry, LogRun, LogTile
from .log_key import verifier_key
from .transparency_log import latest_batch

MAX_NAMED = 20  # a report names at most this many leaves or events of one kind


@dataclass
class LogReport:
    leaves: int = 0
    checkpoints: int = 0
    queued: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Problems:
    """Problems of one kind, the first ``MAX_NAMED`` named and the rest counted."""

    def __init__(self, report: LogReport, summary: str):
        self.report, self.summary, self.count = report, summary, 0

    def add(self, text: str) -> None:
        self.count += 1
        if self.count <= MAX_NAMED:
            self.report.problems.append(text)

    def close(self) -> None:
        if self.count > MAX_NAMED:
            self.report.problems.append(f"... and {self.count - MAX_NAMED} more {self.summary}")


CHUNK = 10_000  # leaves whose events are read in one query


def verify_log() -> LogReport:
    report = LogReport()
    checkpoints = _checked_checkpoints(report)
    by_size = {}
    for checkpoint in checkpoints:
        by_size.setdefault(checkpoint.tree_size, checkpoint)
    rows = _tile_rows()
    frontier, recomputed = _walk_leaves(report, by_size, rows)
    _check_tiles(report, rows, recomputed)
    _check_events_in_log(report)
    latest = max(by_size, default=0)
    if latest > frontier.size:
        report.problems.append(
            f"the latest checkpoint covers {latest} leaves but the log holds {frontier.size}: "
            f"leaves {frontier.size} to {latest - 1} are gone (the log was truncated)"
        )
    return report


def _checked_checkpoints(report: LogReport) -> list[LogCheckpoint]:
    """The checkpoints whose signature verifies and whose note states their row."""
    good, previous, vkey = [], None, None
    for checkpoint in LogCheckpoint.objects.order_by("pk"):
        report.checkpoints += 1
        vkey = vkey or verifier_key()
        where = f"checkpoint {checkpoint.pk} ({checkpoint.tree_size} leaves)"
        try:
            stated = notes.open_note(checkpoint.note, vkey)
        except notes.InvalidNote as exc:
            report.problems.append(f"{where}: {exc}")
            continue
        if (stated.size, stated.root_hash) != (checkpoint.tree_size, bytes(checkpoint.root_hash)):
            report.problems.append(f"{where}: its row does not state what its note signs")
            continue
        if previous is not None and checkpoint.tree_size < previous.tree_size:
            report.problems.append(
                f"{where} is smaller than checkpoint {previous.pk} ({previous.tree_size} "
                "leaves) signed before it: it does not extend it"
            )
        good.append(checkpoint)
        previous = checkpoint
    return good


TileRows = dict[tiles.Position, list[tuple[int, bytes]]]


def _tile_rows() -> TileRows:
    """Every tile row, by position, narrowest first."""
    rows: TileRows = {}
    stored = LogTile.objects.order_by("level", "index", "width")
    for level, index, width, blob in stored.values_list("level", "index", "width", "hashes"):
        rows.setdefault((level, index), []).append((width, bytes(blob)))
    return rows


def _leaf_hashes(report: LogReport, rows: TileRows) -> list[bytes]:
    """The leaf hashes of the widest tiles of level 0, up to the first one missing."""
    leaves: list[bytes] = []
    indexes = sorted(index for level, index in rows if level == 0)
    for expected, index in enumerate(indexes):
        if index != expected or len(leaves) != expected * tiles.TILE_WIDTH:
            report.problems.append(
                f"log leaves {len(leaves)} to {index * tiles.TILE_WIDTH - 1} are missing "
                "(deleted from the log)"
            )
            break
        leaves += tiles.hashes_of(rows[0, index][-1][1])
    return leaves


def _events_at(size: int) -> list[int | None]:
    """The event id of each leaf, from the runs (None where no run maps it)."""
    events: list[int | None] = [None] * size
    for first_event, last_event, first_index in LogRun.objects.values_list(
        "first_event_id", "last_event_id", "first_index"
    ):
        count = min(last_event - first_event + 1, size - first_index)
        events[first_index : first_index + count] = range(first_event, first_event + count)
    return events


def _event_rows(event_ids: list[int]) -> dict[int, tuple]:
    """Each of these events' row (id, hash, lot, seq, lot code), read by range when they are
    close."""
    if not event_ids:
        return {}
    low, high = min(event_ids), max(event_ids)
    query = (
        f"SELECT e.id, e.hash, e.lot_id, e.seq, lot.code FROM {CustodyEvent._meta.db_table} e "
        "LEFT JOIN custody_lot lot ON lot.id = e.lot_id WHERE "
    )
    with connection.cursor() as cursor:
        if high - low < 2 * len(event_ids):
            cursor.execute(query + "e.id BETWEEN %s AND %s", [low, high])
        else:
            cursor.execute(query + f"e.id IN ({', '.join(['%s'] * len(event_ids))})", event_ids)
        return {row[0]: row for row in cursor.fetchall()}


def _walk_leaves(report: LogReport, by_size: dict[int, LogCheckpoint], rows: TileRows):
    """Every leaf in index order against its event, then the tree recomputed from the leaves,
    with its root at each checkpoint's size."""
    leaves = _leaf_hashes(report, rows)
    _check_leaf_events(report, leaves)
    frontier = merkle.Frontier()
    recomputed: dict[tuple[int, int], bytes] = {}
    for size in sorted({*(size for size in by_size if size <= len(leaves)), len(leaves)}):
        nodes = frontier.extend(leaves[frontier.size : size], tiles.TILE_HEIGHT)
        recomputed.update(((level, index), digest) for level, index, digest in nodes)
        _check_root(report, frontier, by_size)
    report.leaves = frontier.size
    return frontier, recomputed


def _check_leaf_events(report: LogReport, leaves: list[bytes]) -> None:
    """Each leaf's event: mapped, still there, with the hash its leaf committed to, in its
    chain's order."""
    last_in_lot: dict[int, tuple[int, int]] = {}
    unmapped = _Problems(report, "leaves no event maps to")
    gone = _Problems(report, "leaves whose event is gone")
    changed = _Problems(report, "events whose hash is not their leaf's")
    reordered = _Problems(report, "events out of their chain's order")
    sha256, absent = hashlib.sha256, (None, None, None, None, None)
    events_at = _events_at(len(leaves))
    for start in range(0, len(leaves), CHUNK):
        chunk = events_at[start : start + CHUNK]
        events = _event_rows([event_id for event_id in chunk if event_id is not None])
        for index, event_id in enumerate(chunk, start):
            digest = leaves[index]
            _, event_hash, lot_id, seq, code = events.get(event_id, absent)
            if event_id is None:
                unmapped.add(
                    f"log leaves {index} to {index} are missing from the log's map of events "
                    f"(deleted from the log; its leaf hash {digest.hex()})"
                )
            elif event_hash is None:
                gone.add(
                    f"log leaf {index}: event {event_id} is gone from the ledger "
                    f"(its leaf hash {digest.hex()}; a deleted event or lot)"
                )
            elif sha256(b"\x00" + bytes.fromhex(event_hash)).digest() != digest:
                changed.add(
                    f"{code} event #{seq}: its hash is not the one log leaf {index} "
                    "committed to (the event was rewritten)"
                )
            elif lot_id in last_in_lot and last_in_lot[lot_id][0] > seq:
                reordered.add(
                    f"{code} event #{seq} is log leaf {index}, after event "
                    f"#{last_in_lot[lot_id][0]} (leaf {last_in_lot[lot_id][1]})"
                )
            if lot_id is not None:
                latest = last_in_lot.get(lot_id)
                if latest is None or seq > latest[0]:
                    last_in_lot[lot_id] = (seq, index)
    for problems in (unmapped, gone, changed, reordered):
        problems.close()


def _check_root(report: LogReport, frontier: merkle.Frontier, by_size) -> None:
    checkpoint = by_size.get(frontier.size)
    if checkpoint is not None and frontier.root() != bytes(checkpoint.root_hash):
        report.problems.append(
            f"checkpoint {checkpoint.pk} ({checkpoint.tree_size} leaves) does not match the "
            "log's leaves: the log was rewritten after it was signed, or it does not extend "
            "the checkpoints before it"
        )


def _check_tiles(report: LogReport, rows: TileRows, recomputed: dict) -> None:
    """Every tile row against the hashes recomputed from the leaves (proofs read them); a
    narrower row of a tile is a prefix of its widest."""
    expected: dict[tiles.Position, list[bytes]] = {}
    for (level, index), digest in sorted(recomputed.items()):
        position = (level // tiles.TILE_HEIGHT, index // tiles.TILE_WIDTH)
        expected.setdefault(position, []).append(digest)
    wrong, missing, extra = [], [], []
    for position, versions in rows.items():
        widest = versions[-1][1]
        should = widest if position[0] == 0 else b"".join(expected.get(position, []))
        if any(not should.startswith(blob) for _, blob in versions):
            (extra if len(should) < len(widest) else wrong).append(position)
        elif len(widest) < len(should):
            missing.append(position)
    missing += [position for position in expected if position not in rows]
    for label, keys in (("differs from", wrong), ("is missing for", missing), ("has no", extra)):
        if keys:
            report.problems.append(
                f"{len(keys)} stored log tile(s) {label} the leaves, e.g. level/index "
                + ", ".join(f"{level}/{index}" for level, index in sorted(keys)[:5])
            )


def queued_entries() -> list[int]:
    """The events committed and not yet in the log: their entries past what the integrator
    took, or in the gaps it still waits for."""
    batch = latest_batch()
    ranges = [(batch.watermark + 1, None), *((first, last) for first, last, _ in batch.open_gaps)]
    found = []
    for first, last in ranges:
        entries = LogEntry.objects.filter(id__gte=first)
        if last is not None:
            entries = entries.filter(id__lte=last)
        found += entries.values_list("id", flat=True)
    return found


def _check_events_in_log(report: LogReport) -> None:
    """Every event has a leaf, or is still queued for one."""
    queued = set(queued_entries())
    report.queued = len(queued)
    runs = list(LogRun.objects.values_list("first_event_id", "last_event_id", "first_index"))
    last = CustodyEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    uncovered = tiles.gaps(1, last, runs)
    # Ids alone: outside the runs are mostly queued events (a backlog of a million, when the
    # integrator was down); only the missing ones are read whole, to be named.
    missing = []
    for at in range(0, len(uncovered), 200):
        condition = Q()
        for first, end in uncovered[at : at + 200]:
            condition |= Q(pk__range=(first, end))
        outside = CustodyEvent.objects.filter(condition).values_list("pk", flat=True)
        missing += [pk for pk in outside.iterator(chunk_size=CHUNK) if pk not in queued]
    absent = _Problems(report, "events missing from the log")
    named = CustodyEvent.objects.filter(pk__in=sorted(missing)[:MAX_NAMED]).select_related("lot")
    for event in named.order_by("pk"):
        absent.add(f"{event.lot.code} event #{event.seq} ({event.uuid}) is not in the log")
    absent.count = len(missing)
    absent.close()
