"""Reading the ledger back: chain verification (DESIGN invariant 3)."""

import multiprocessing
import queue
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import orjson
from django.db import connection, connections, transaction
from django.db.models import F

from ..hashing import content_hash, format_mass, format_time, formatted_content
from ..models import GENESIS_HASH, CustodyEvent, Lot
from .log_verification import LogReport, verify_log


@dataclass(frozen=True)
class BrokenChain:
    """The first event of a lot whose chain does not verify, and why."""

    lot_code: str
    seq: int
    event_uuid: str | None
    reason: str

    def __str__(self) -> str:
        where = f"event #{self.seq} ({self.event_uuid})" if self.event_uuid else f"#{self.seq}"
        return f"{self.lot_code} {where}: {self.reason}"


@dataclass
class VerificationReport:
    events: int = 0
    lots: int = 0
    broken: list[BrokenChain] | None = None
    log: LogReport | None = None  # the transparency log, when every chain was verified

    @property
    def ok(self) -> bool:
        return not self.broken and (self.log is None or self.log.ok)


class EventRow(NamedTuple):
    """One event as verification streams it (from either source), with its lot's code and head:
    uuids, times and masses already as their canonical text, ``details`` and ``evidence`` parsed.
    The event's fields are named as ``formatted_content`` takes them."""

    lot_id: int
    lot_code: str
    lot_head_seq: int
    lot_head_hash: str
    seq: int
    uuid: str
    kind: str
    occurred_at: str
    recorded_at: str
    actor_organization_id: int
    actor_user_id: int | None
    actor_api_key: str | None
    facility_id: int | None
    counterparty_facility_id: int | None
    mass_kg: str | None
    details: dict
    evidence: list
    corrects_uuid: str | None
    prev_hash: str
    hash: str


DETAILS, EVIDENCE = EventRow._fields.index("details"), EventRow._fields.index("evidence")

# The columns of an EventRow, in order, as the ORM reads them.
ORM_FIELDS = (
    "lot_id",
    "lot__code",
    "lot__head_seq",
    "lot__head_hash",
    "seq",
    "uuid",
    "kind",
    "occurred_at",
    "recorded_at",
    "actor_organization_id",
    "actor_user_id",
    "actor_api_key_prefix",
    "facility_id",
    "counterparty_facility_id",
    "mass_kg",
    "details",
    "evidence",
    "corrects__uuid",
    "prev_hash",
    "hash",
)

POSTGRES_TIME = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
POSTGRES_ROWS = f"""
SELECT e.lot_id, l.code, l.head_seq, l.head_hash, e.seq, e.uuid::text, e.kind,
       {POSTGRES_TIME.format("e.occurred_at")}, {POSTGRES_TIME.format("e.recorded_at")},
       e.actor_organization_id, e.actor_user_id, NULLIF(e.actor_api_key_prefix, ''),
       e.facility_id, e.counterparty_facility_id, e.mass_kg::text, e.details::text,
       e.evidence::text, c.uuid::text, e.prev_hash, e.hash
FROM custody_custodyevent e
JOIN custody_lot l ON l.id = e.lot_id
LEFT JOIN custody_custodyevent c ON c.id = e.corrects_id
{{where}}
ORDER BY e.lot_id, e.seq
"""


def event_rows(
    lot_codes: Iterable[str] | None = None,
    partition: tuple[int, int] = (0, 1),
    chunk_size: int = 10_000,
    lot_ids: Iterable[int] | None = None,
) -> Iterator[EventRow]:
    """Every event (of ``lot_codes`` or ``lot_ids`` if given), by lot and sequence, streamed
    from the database. ``partition=(k, n)`` keeps the lots whose id is k modulo n: every chain
    stays whole within one partition."""
    if connection.vendor == "postgresql":
        return _postgres_rows(lot_codes, lot_ids, partition, chunk_size)
    return _orm_rows(lot_codes, lot_ids, partition, chunk_size)


def _postgres_rows(lot_codes, lot_ids, partition, chunk_size) -> Iterator[EventRow]:
    # PostgreSQL formats uuids, times and masses itself: several times faster than converting
    # each value to a Python object and formatting it again.
    index, count = partition
    where, params = "WHERE mod(e.lot_id, %s) = %s", [count, index]
    if lot_codes is not None:
        where, params = f"{where} AND l.code = ANY(%s)", [*params, list(lot_codes)]
    if lot_ids is not None:
        where, params = f"{where} AND e.lot_id = ANY(%s)", [*params, list(lot_ids)]
    loads, new = orjson.loads, tuple.__new__
    with transaction.atomic():
        connection.ensure_connection()
        # psycopg's own server-side cursor: Django's wrapper costs a fifth of the rate here.
        with connection.connection.cursor(name="verify_ledger") as cursor:
            cursor.execute(POSTGRES_ROWS.format(where=where), params)
            while rows := cursor.fetchmany(chunk_size):
                for row in rows:
                    # The cheapest way measured to an EventRow: a list, its two JSON columns
                    # parsed in place, handed to tuple.__new__. EventRow's own constructor
                    # costs verify_ledger 4 % more instructions per event, slices 2 %.
                    values = list(row)
                    values[DETAILS] = loads(values[DETAILS])
                    values[EVIDENCE] = loads(values[EVIDENCE])
                    yield new(EventRow, values)


def _orm_rows(lot_codes, lot_ids, partition, chunk_size) -> Iterator[EventRow]:
    index, count = partition
    events = CustodyEvent.objects.all()
    if count > 1:
        events = events.alias(part=F("lot_id") % count).filter(part=index)
    if lot_codes is not None:
        events = events.filter(lot__code__in=list(lot_codes))
    if lot_ids is not None:
        events = events.filter(lot_id__in=list(lot_ids))
    rows = events.order_by("lot_id", "seq").values_list(*ORM_FIELDS).iterator(chunk_size)
    for row in rows:
        yield EventRow(
            *row[:5],
            str(row[5]),
            row[6],
            format_time(row[7]),
            format_time(row[8]),
            *row[9:11],
            row[11] or None,
            *row[12:14],
            format_mass(row[14]),
            *row[15:17],
            str(row[17]) if row[17] else None,
            *row[18:],
        )


PROGRESS_EVERY = 10_000


def verify_rows(
    rows: Iterable[EventRow], progress: Callable[[int], object] | None = None
) -> VerificationReport:
    """Recompute every chain from scratch; report the first broken event of each broken lot."""
    report = VerificationReport(broken=[])
    current_lot = None
    expected_seq, expected_prev, lot_broken = 1, GENESIS_HASH, False
    head = (0, GENESIS_HASH, "")
    events = 0
    for row in rows:
        # The one positional read of an EventRow, into names that are its fields in order (a
        # test holds them equal): seventeen reads by name cost verify_ledger 2 % more
        # instructions per event (valgrind, 300,000 events).
        (
            lot_id,
            lot_code,
            lot_head_seq,
            lot_head_hash,
            seq,
            uuid,
            kind,
            occurred_at,
            recorded_at,
            actor_organization_id,
            actor_user_id,
            actor_api_key,
            facility_id,
            counterparty_facility_id,
            mass_kg,
            details,
            evidence,
            corrects_uuid,
            prev_hash,
            stored_hash,
        ) = row
        events += 1
        if progress is not None and events % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
        if lot_id != current_lot:
            if current_lot is not None and not lot_broken:
                _check_head(report, expected_seq - 1, expected_prev, head)
            current_lot, expected_seq, expected_prev, lot_broken = lot_id, 1, GENESIS_HASH, False
            head = (lot_head_seq, lot_head_hash, lot_code)
            report.lots += 1
        if lot_broken:
            continue
        reason = None
        if seq != expected_seq:
            reason = f"expected event #{expected_seq}; the chain skips to #{seq}"
        elif prev_hash != expected_prev:
            reason = "prev_hash does not match the hash of the previous event"
        else:
            content = formatted_content(
                uuid=uuid,
                lot_code=lot_code,
                seq=seq,
                kind=kind,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                actor_organization_id=actor_organization_id,
                actor_user_id=actor_user_id,
                actor_api_key=actor_api_key,
                facility_id=facility_id,
                counterparty_facility_id=counterparty_facility_id,
                mass_kg=mass_kg,
                details=details,
                evidence=evidence,
                corrects_uuid=corrects_uuid,
                prev_hash=prev_hash,
            )
            if content_hash(content) != stored_hash:
                reason = "content does not match its hash (the row was altered)"
        if reason:
            report.broken.append(BrokenChain(lot_code, seq, uuid, reason))
            lot_broken = True
        else:
            expected_seq, expected_prev = seq + 1, stored_hash
    if current_lot is not None and not lot_broken:
        _check_head(report, expected_seq - 1, expected_prev, head)
    report.events = events
    if progress is not None:
        progress(events % PROGRESS_EVERY)
    return report


def _check_head(report: VerificationReport, last_seq: int, last_hash: str, head) -> None:
    head_seq, head_hash, code = head
    if (last_seq, last_hash) != (head_seq, head_hash):
        report.broken.append(
            BrokenChain(
                code,
                last_seq + 1,
                None,
                f"the chain ends at event #{last_seq} but the lot's head is event #{head_seq}",
            )
        )


def verify_ledger(
    lot_codes: Iterable[str] | None = None,
    progress: Callable[[int], object] | None = None,
    workers: int = 1,
) -> VerificationReport:
    """Verify every chain (or those of ``lot_codes``), and with every chain the transparency
    log against the ledger and its checkpoints (``verify_log``). With ``workers`` > 1 on
    PostgreSQL, as many processes each verify a share of the lots, in parallel; not inside a
    transaction, whose uncommitted events other processes could not see."""
    check_log = verify_log if lot_codes is None else None
    if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        report = _verify_in_processes(lot_codes, progress, workers, meanwhile=check_log)
    else:
        report = verify_rows(event_rows(lot_codes), progress=progress)
        report.log = check_log() if check_log else None
    headless = Lot.objects.filter(head_seq__gt=0).exclude(events__seq=1)
    if lot_codes is not None:
        headless = headless.filter(code__in=list(lot_codes))
    for code in headless.values_list("code", flat=True):
        report.broken.append(BrokenChain(code, 1, None, "the lot has lost its first event"))
    report.broken.sort(key=lambda broken: broken.lot_code)
    return report


def _verify_in_processes(
    lot_codes, progress, workers: int, meanwhile: Callable[[], LogReport] | None
) -> VerificationReport:
    """The chains in ``workers`` processes; this one checks the log (``meanwhile``) while they
    work, and then gathers their reports."""
    context = multiprocessing.get_context("fork")
    connections.close_all()  # each child opens its own connection
    progress_queue, results = context.Queue(), context.Queue()
    children = [
        context.Process(
            target=_verify_partition,
            args=(lot_codes, (index, workers), progress_queue, results),
            daemon=True,
        )
        for index in range(workers)
    ]
    for child in children:
        child.start()
    log = meanwhile() if meanwhile else None
    reports = []
    while len(reports) < workers:
        while not progress_queue.empty():
            if progress is not None:
                progress(progress_queue.get())
            else:
                progress_queue.get()
        try:
            reports.append(results.get(timeout=0.2))
        except queue.Empty:
            if any(child.exitcode not in (None, 0) for child in children):
                raise RuntimeError("a ledger verification process died") from None
    for child in children:
        child.join()
    while not progress_queue.empty() and progress is not None:
        progress(progress_queue.get())
    return VerificationReport(
        events=sum(report.events for report in reports),
        lots=sum(report.lots for report in reports),
        broken=[broken for report in reports for broken in report.broken],
        log=log,
    )


def _verify_partition(lot_codes, partition, progress_queue, results) -> None:
    try:
        results.put(verify_rows(event_rows(lot_codes, partition), progress=progress_queue.put))
    finally:
        connections.close_all()
