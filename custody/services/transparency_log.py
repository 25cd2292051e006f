"""Integrating committed events into the transparency log, in batches, and signing checkpoints
(DESIGN invariant 10). The design of Trillian's sequencer and Tessera's integrator:

* Writers never touch the log. A trigger copies each event's id and hash in its writer's
  transaction (``LogEntry``), so a writer adds one row to a table nobody locks, and waits for
  nothing.
* One integrator at a time (a PostgreSQL advisory lock; SQLite serializes every writer) takes
  the committed entries past the largest id it took before (and the ids it skipped because
  their transaction had not committed yet), in id order, gives each event the next log index,
  and in one transaction appends: the tiles that changed (``custody.tiles``: 256 hashes a
  row, a few rows per thousand leaves), the runs of consecutive ids that map events to leaves
  (one row per batch unless ids were skipped), the partners' feed entries of the events taken
  (``write_feed``: one per event and partner that may see it, in log order), a batch record
  and a signed checkpoint. The log itself has no row per event, and nothing is deleted. Only
  committed events can be taken, so log indexes follow commit order: an event integrated later
  always gets a larger index, and a feed entry written later a larger id.
* Within one lot the log keeps the chain's order: a writer appends to a lot only after the
  lot's previous writer committed, so its event has a larger id, and is taken with or after it.

Celery beat runs ``integrate_log`` every ``LOG_INTEGRATE_SECONDS``; with eager Celery (``make
run``) each ledger transaction integrates once it commits (``integrate_after_commit``).
"""

import logging
import sys
from array import array
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .. import merkle, notes, tiles
from ..models import CustodyEvent, FeedEntry, LogBatch, LogCheckpoint, LogEntry, LogRun, LogTile
from ..selectors.log_key import key_name, signing_key
from ..selectors.transparency_log import latest_batch, node_source, widest_tiles
from .visibility import feed_entries

logger = logging.getLogger(__name__)

# The advisory lock only one integrator holds (an arbitrary constant: "REE log").
INTEGRATOR_LOCK = 0x5245_454C_4F47


def integrate_log(max_events: int | None = None) -> LogCheckpoint | None:
    """Integrate the committed entries not yet in the log (those of the next ``max_events``
    ids, default ``LOG_BATCH_EVENTS``, and those of ids skipped before that have come since)
    and sign a checkpoint of the grown tree; None when there were none."""
    limit = max_events or settings.LOG_BATCH_EVENTS
    with transaction.atomic():
        _hold_integrator_lock()
        batch = latest_batch()
        size, watermark = batch.tree_size, batch.watermark
        still_open = _still_open(batch.open_gaps)
        frontier = merkle.Frontier(size, node_source(merkle.complete_subtrees(0, size)))
        event_ids, leaves, nodes, horizon = _take(frontier, watermark, still_open, limit)
        if not event_ids:
            return None
        runs = _runs(event_ids, size)
        skipped = tiles.gaps(watermark + 1, event_ids[-1], runs)
        partial = widest_tiles(tiles.partial_positions(size))
        rows = tiles.new_tiles(size, b"".join(leaves), nodes, partial)
        _insert(LogTile, ["level", "index", "width", "hashes"], rows)
        _insert(LogRun, ["first_event_id", "last_event_id", "first_index"], runs)
        write_feed(runs)
        LogBatch.objects.create(
            tree_size=frontier.size,
            watermark=max(watermark, event_ids[-1]),
            open_gaps=_untaken(still_open, runs) + [[*gap, horizon] for gap in skipped],
        )
        return sign_checkpoint(frontier.size, frontier.root())


def _hold_integrator_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INTEGRATOR_LOCK])


def _still_open(gaps: list[list[int]]) -> list[list[int]]:
    """The skipped ids that may still come: a gap closes for good once no event has an id in
    it and every transaction running when it was seen has ended (ids come from a sequence, so
    no later transaction takes one). An event's insert is never its transaction's first write
    (the lot is locked or inserted first), so the transaction that took a skipped id was
    running, with its xid, when the gap was seen."""
    if not gaps:
        return []
    events, horizon = CustodyEvent._meta.db_table, _oldest_running()
    with connection.cursor() as cursor:
        still = []
        for first, last, seen in gaps:
            cursor.execute(
                f"SELECT 1 FROM {events} WHERE id BETWEEN %s AND %s LIMIT 1", [first, last]
            )
            if cursor.fetchone() or horizon < seen:
                still.append([first, last, seen])
        return still


def _oldest_running() -> int:
    """PostgreSQL's oldest transaction still running (in the whole cluster: a long transaction
    elsewhere keeps gaps open longer, which costs a check each); 0 on SQLite."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


# Entries read per statement: the hashing of one overlaps the reading of the next.
READ_CHUNK = 20_000


def _take(
    frontier: merkle.Frontier, watermark: int, gaps: list[list[int]], limit: int
) -> tuple[list[int], list[bytes], list, int]:
    """Take the committed entries in ``gaps`` or past ``watermark`` (ids up to ``watermark +
    limit``), in id order, into the tree: their event ids, leaf hashes and the kept subtrees,
    and (PostgreSQL) the horizon past which every transaction running when they were read has
    an xid."""
    ids, hashed = [], []
    # One thread hashes the chunks in order while this one waits for the next from the
    # database (the wait releases the GIL): reading costs the integrator little of its time.
    with ThreadPoolExecutor(max_workers=1) as hasher:
        for chunk_ids, prefixed in _read(_statements(watermark, gaps, limit)):
            ids += chunk_ids
            hashed.append(hasher.submit(frontier.extend_events, prefixed, tiles.TILE_HEIGHT))
    leaves, nodes = [], []
    for chunk in hashed:
        chunk_leaves, chunk_nodes = chunk.result()
        leaves += chunk_leaves
        nodes += chunk_nodes
    return ids, leaves, nodes, _horizon()


def _statements(watermark: int, gaps: list[list[int]], limit: int) -> list[tuple[str, list]]:
    """The conditions that read the entries to take, in id order: the open gaps, then the ids
    past the watermark in chunks (to the largest id committed now, at most ``limit``)."""
    statements = []
    if gaps:
        where = " OR ".join(["id BETWEEN %s AND %s"] * len(gaps))
        statements.append((where, [bound for first, last, _ in gaps for bound in (first, last)]))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {LogEntry._meta.db_table}")
        top = min(cursor.fetchone()[0] or 0, watermark + limit)
    for first in range(watermark + 1, top + 1, READ_CHUNK):
        statements.append(("id BETWEEN %s AND %s", [first, min(first + READ_CHUNK - 1, top)]))
    return statements


def _read(statements: list[tuple[str, list]]):
    """Each statement's entries: their ids, and their hashes' bytes end to end each after the
    leaf prefix 0x00."""
    table = LogEntry._meta.db_table
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            for where, params in statements:
                cursor.execute(f"SELECT id, hash FROM {table} WHERE {where} ORDER BY id", params)
                rows = cursor.fetchall()
                yield [row[0] for row in rows], bytes.fromhex("".join("00" + r[1] for r in rows))
        return
    with connection.cursor() as cursor:
        for where, params in statements:
            cursor.execute(
                "SELECT string_agg(int8send(id), ''::bytea), string_agg('00' || hash, '') "
                f"FROM (SELECT id, hash FROM {table} WHERE {where} ORDER BY id) taken",
                params,
            )
            ids, hashes = _in_id_order(*cursor.fetchone())
            yield ids, bytes.fromhex(hashes)


def _in_id_order(packed: bytes | None, hashes: str | None) -> tuple[list[int], str]:
    """The entries' ids and hashes, from the two strings one aggregation fed (so they list the
    entries in the same order: id order, but for a plan that changes). A row per entry would
    cost the integrator more than hashing them."""
    ids = array("q", bytes(packed or b""))
    if sys.byteorder == "little":
        ids.byteswap()  # int8send is big-endian
    ids, hashes = ids.tolist(), hashes or ""
    if ids != sorted(ids):
        order = sorted(range(len(ids)), key=ids.__getitem__)
        ids, hashes = (
            [ids[at] for at in order],
            "".join(hashes[at * 66 : at * 66 + 66] for at in order),
        )
    return ids, hashes


def _horizon() -> int:
    """PostgreSQL's next transaction id to be given (0 on SQLite), read after the entries."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


def _runs(event_ids: list[int], first_index: int) -> list[tuple[int, int, int]]:
    if event_ids[-1] - event_ids[0] == len(event_ids) - 1:  # sorted, unique: no id skipped
        return [(event_ids[0], event_ids[-1], first_index)]
    return tiles.runs(event_ids, first_index)


def _untaken(gaps: list[list[int]], runs: list[tuple[int, int, int]]) -> list[list[int]]:
    """What of the open gaps the runs taken now do not cover."""
    result = []
    for first, last, seen in gaps:
        result += [[a, b, seen] for a, b in tiles.gaps(first, last, runs)]
    return result


def write_feed(runs: list[tuple[int, int, int]]) -> None:
    """Append the partners' feed entries of the events of these runs (``feed_entries``), in
    their order, in one statement (a binary COPY on PostgreSQL). An entry's id is its place in
    its feed: only the integrator writes entries, one integration at a time, each committing
    before the next takes an id, so an entry written later has a larger id and commits after
    every smaller one."""
    _insert(FeedEntry, ["organization_id", "event_id"], feed_entries(runs))


def _insert(model, names: list[str], rows: list[tuple]) -> None:
    table = model._meta.db_table
    columns = ", ".join(connection.ops.quote_name(name) for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Binary COPY: the tiles' bytes go as they are, not escaped as text.
            types = [model._meta.get_field(name).db_type(connection) for name in names]
            statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
            with cursor.cursor.copy(statement) as stream:
                stream.set_types(types)
                for row in rows:
                    stream.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(names))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def sign_checkpoint(size: int, root_hash: bytes) -> LogCheckpoint:
    now = timezone.now().replace(microsecond=0)
    checkpoint = notes.Checkpoint(settings.LOG_ORIGIN, size, root_hash, now)
    return LogCheckpoint.objects.create(
        tree_size=size,
        root_hash=root_hash,
        note=notes.sign(checkpoint, key_name(), signing_key()),
        signed_at=now,
    )


_integrator: Callable[[], object] | None = None


def set_integrator(integrator: Callable[[], object] | None) -> None:
    """How a committed ledger transaction gets its events into the log (``custody.tasks`` sets
    it with eager Celery; with a worker, beat integrates and writes set nothing)."""
    global _integrator
    _integrator = integrator


def integrate_after_commit() -> None:
    """After a ledger transaction commits: its write has succeeded whatever happens here, and
    what is not integrated now stays queued for the next integration."""
    if _integrator is None:
        return
    try:
        _integrator()
    except Exception:
        logger.exception("Integrating the transparency log failed; the events stay queued")


def integrates_after_commit() -> bool:
    return _integrator is not None
