"""Verifying the transparency log against the ledger and its signed checkpoints.

What ``verify_log`` recomputes from scratch, naming what it finds missing or changed:

* every leaf, in index order, 0 to n - 1 with no gap: a gap is a truncated or deleted part of
  the log;
* each leaf's event: still there (a deleted event, or a whole deleted lot, leaves its leaves
  behind) and with the hash the leaf committed to (an event rewritten along with its chain);
* within a lot, log order follows the chain's order (events reordered);
* every event is in the log once, or still queued for it;
* every checkpoint: its signature, and its root recomputed from the first ``tree_size``
  leaves; so each checkpoint extends the one before, and a log rewritten after a checkpoint
  was signed, or a checkpoint signed over another history, does not verify;
* every stored node against the node recomputed from the leaves (proofs read them).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection

from .. import merkle, notes
from ..models import NODE_STRIDE, CustodyEvent, LogCheckpoint, LogLeaf, LogNode, LogQueue
from .log_key import verifier_key

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


LEAF_ROWS = f"""
SELECT l.id, l.hash, l.event_id, e.hash, e.lot_id, e.seq, lot.code
FROM {LogLeaf._meta.db_table} l
LEFT JOIN {CustodyEvent._meta.db_table} e ON e.id = l.event_id
LEFT JOIN custody_lot lot ON lot.id = e.lot_id
ORDER BY l.id
"""


def _leaf_rows(chunk_size: int = 10_000) -> Iterator[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(LEAF_ROWS)
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


def verify_log() -> LogReport:
    report = LogReport()
    checkpoints = _checked_checkpoints(report)
    by_size = {}
    for checkpoint in checkpoints:
        by_size.setdefault(checkpoint.tree_size, checkpoint)
    frontier, recomputed = _walk_leaves(report, by_size)
    _check_nodes(report, recomputed)
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


def _walk_leaves(report: LogReport, by_size: dict[int, LogCheckpoint]):
    """Every leaf in index order: its event, and the tree's root at each checkpoint's size."""
    frontier = merkle.Frontier()
    recomputed: dict[tuple[int, int], bytes] = {}
    last_in_lot: dict[int, tuple[int, int]] = {}
    gone = _Problems(report, "leaves whose event is gone")
    changed = _Problems(report, "events whose hash is not their leaf's")
    reordered = _Problems(report, "events out of their chain's order")

    def keep(level: int, index: int, digest: bytes) -> None:
        if level % NODE_STRIDE == 0:
            recomputed[level, index] = digest

    for index, digest, event_id, event_hash, lot_id, seq, code in _leaf_rows():
        digest = bytes(digest)
        if index != frontier.size:
            report.problems.append(
                f"log leaves {frontier.size} to {index - 1} are missing (deleted from the log)"
            )
            break
        if event_hash is None:
            gone.add(
                f"log leaf {index}: event {event_id} is gone from the ledger "
                f"(its leaf hash {digest.hex()}; a deleted event or lot)"
            )
        elif merkle.leaf_hash(merkle.event_leaf(event_hash)) != digest:
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
            last_in_lot[lot_id] = (max(seq, last_in_lot.get(lot_id, (0, 0))[0]), index)
        frontier.append(digest, keep)
        report.leaves += 1
        _check_root(report, frontier, by_size)
    for problems in (gone, changed, reordered):
        problems.close()
    return frontier, recomputed


def _check_root(report: LogReport, frontier: merkle.Frontier, by_size) -> None:
    checkpoint = by_size.get(frontier.size)
    if checkpoint is not None and frontier.root() != bytes(checkpoint.root_hash):
        report.problems.append(
            f"checkpoint {checkpoint.pk} ({checkpoint.tree_size} leaves) does not match the "
            "log's leaves: the log was rewritten after it was signed, or it does not extend "
            "the checkpoints before it"
        )


def _check_nodes(report: LogReport, recomputed: dict[tuple[int, int], bytes]) -> None:
    stored = {
        (level, index): bytes(digest)
        for level, index, digest in LogNode.objects.values_list("level", "index", "hash")
    }
    wrong = sorted(
        key for key in stored.keys() & recomputed.keys() if stored[key] != recomputed[key]
    )
    missing = sorted(recomputed.keys() - stored.keys())
    extra = sorted(stored.keys() - recomputed.keys())
    for label, keys in (("differs from", wrong), ("is missing for", missing), ("has no", extra)):
        if keys:
            report.problems.append(
                f"{len(keys)} stored log node(s) {label} the leaves, e.g. level/index "
                + ", ".join(f"{level}/{index}" for level, index in keys[:5])
            )


def _check_events_in_log(report: LogReport) -> None:
    """Every event has a leaf, or is still queued for one."""
    report.queued = LogQueue.objects.count()
    outside = (
        CustodyEvent.objects.filter(log_leaf__isnull=True)
        .exclude(pk__in=LogQueue.objects.values("event_id"))
        .select_related("lot")
        .order_by("pk")
    )
    absent = _Problems(report, "events missing from the log")
    for event in outside.iterator():
        absent.add(f"{event.lot.code} event #{event.seq} ({event.uuid}) is not in the log")
    absent.close()
