"""The ledger export (``ledger-<LOT>.csv``) as the auditor holds it: parsed strictly (a NUL, a
wrong header or a malformed hash is a finding about a row, never a traceback) and checked
against itself: log-index order, each lot's hash chain, the Merkle root over its events."""

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

from .. import merkle

HEADER = [
    "log_index",
    "lot",
    "seq",
    "kind",
    "occurred_at",
    "recorded_at",
    "facility",
    "facility_gln",
    "country",
    "counterparty_country",
    "mass_kg",
    "event_hash",
    "prev_hash",
    "evidence_sha256",
]
PICKUP_KIND = "registered"  # a source lot's first event: its pickup at the data center
GENESIS = "0" * 64
NUL = b"\x00"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
MAX_PROBLEMS = 10  # a broken file is named by its first rows, not by all of them


@dataclass(frozen=True)
class Row:
    number: int  # 1 for the first row after the header
    log_index: int
    lot: str
    seq: int
    kind: str
    country: str
    event_hash: str
    prev_hash: str
    evidence: tuple[str, ...]

    def where(self) -> str:
        return f"row {self.number} (lot {self.lot} seq {self.seq}, log index {self.log_index})"


def capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more like these"]


def parse(data: bytes) -> tuple[list[Row], list[str]]:
    """The rows, or what makes the file unreadable (and then no rows)."""
    if NUL in data:
        return [], [f"byte {data.index(NUL)} is a NUL: not a text file"]
    try:
        lines = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        return [], [f"not a UTF-8 CSV file: {exc}"]
    if not lines or lines[0] != HEADER:
        return [], [f"the header is not {','.join(HEADER)}"]
    rows, problems = [], []
    for number, fields in enumerate(lines[1:], start=1):
        try:
            rows.append(_row(number, fields))
        except ValueError as exc:
            problems.append(f"row {number}: {exc}")
    return ([], capped(problems)) if problems else (rows, [])


def _row(number: int, fields: list[str]) -> Row:
    if len(fields) != len(HEADER):
        raise ValueError(f"{len(fields)} fields, not {len(HEADER)}")
    values = dict(zip(HEADER, fields, strict=True))
    for name in ("log_index", "seq"):
        if not _DECIMAL.fullmatch(values[name]):
            raise ValueError(f"{name} {values[name]!r} is not a decimal number")
    if not _HEX64.fullmatch(values["event_hash"]):
        raise ValueError(f"event_hash {values['event_hash']!r} is not 64 hex digits")
    if values["prev_hash"] and not _HEX64.fullmatch(values["prev_hash"]):
        raise ValueError(f"prev_hash {values['prev_hash']!r} is not 64 hex digits")
    evidence = tuple(values["evidence_sha256"].split(";")) if values["evidence_sha256"] else ()
    if bad := [digest for digest in evidence if not _HEX64.fullmatch(digest)]:
        raise ValueError(f"evidence_sha256 {bad[0]!r} is not 64 hex digits")
    if not values["lot"]:
        raise ValueError("no lot")
    return Row(
        number=number,
        log_index=int(values["log_index"]),
        lot=values["lot"],
        seq=int(values["seq"]),
        kind=values["kind"],
        country=values["country"],
        event_hash=values["event_hash"],
        prev_hash=values["prev_hash"],
        evidence=evidence,
    )


def order_problems(rows: list[Row]) -> list[str]:
    """Each row's log index above the one before: the log-index order, with no event twice."""
    return capped(
        [
            f"{row.where()} comes after log index {before.log_index}"
            for before, row in pairwise(rows)
            if row.log_index <= before.log_index
        ]
    )


def upstream_root(rows: list[Row]) -> str:
    """RFC 6962's root over the event hashes in log-index order (hex), as the credential's
    ``upstreamMerkleRoot`` states it."""
    ordered = sorted(rows, key=lambda row: row.log_index)
    leaves = [merkle.leaf_hash(merkle.event_leaf(row.event_hash)) for row in ordered]
    return merkle.root(len(leaves), merkle.leaf_source(leaves)).hex()


def chain_problems(rows: list[Row]) -> list[str]:
    """Each lot's events numbered 1, 2, ... with no gap, each naming the one before it."""
    by_lot = defaultdict(list)
    for row in rows:
        by_lot[row.lot].append(row)
    problems = []
    for lot, events in by_lot.items():
        problems += _lot_problems(lot, sorted(events, key=lambda row: row.seq))
    return capped(problems)


def _lot_problems(lot: str, events: list[Row]) -> list[str]:
    seqs = [row.seq for row in events]
    if seqs != list(range(1, len(events) + 1)):
        return [f"lot {lot}'s rows have seq {_ranges(seqs)}, not 1 to {len(events)}"]
    problems = []
    if events[0].prev_hash not in ("", GENESIS):
        problems.append(f"{events[0].where()}: seq 1 names a previous event {events[0].prev_hash}")
    for before, row in pairwise(events):
        if row.prev_hash != before.event_hash:
            problems.append(
                f"{row.where()}: prev_hash {row.prev_hash or '(empty)'} is not the event_hash "
                f"{before.event_hash} of seq {before.seq}: the chain is broken"
            )
    return problems


def _ranges(seqs: list[int]) -> str:
    text = ", ".join(map(str, seqs[:8]))
    return text + (", ..." if len(seqs) > 8 else "")


def pickup_countries(rows: list[Row]) -> set[str]:
    return {row.country for row in rows if row.kind == PICKUP_KIND and row.country}
