"""Integrating committed events into the transparency log, in batches, and signing checkpoints
(DESIGN invariant 10). The design of Trillian's sequencer and Tessera's integrator:

* Writers never touch the log. A trigger queues each event in its writer's transaction
  (``LogQueue``), so a writer adds one row to a table nobody locks, and waits for nothing.
* One integrator at a time (a PostgreSQL advisory lock; SQLite serializes every writer) takes
  the queue's committed rows in queue order, gives each event the next log index, appends the
  leaves and the complete subtrees the proofs read, signs a checkpoint, and deletes what it
  took, in one transaction. Only committed events can be taken, so log indexes follow commit
  order: an event integrated later always gets a larger index.
* Within one lot the log keeps the chain's order: a writer appends to a lot only after the
  lot's previous writer committed, and so after its queue rows were taken.

Celery beat runs ``integrate_log`` every ``LOG_INTEGRATE_SECONDS``; with eager Celery (``make
run``) each ledger transaction integrates once it commits (``integrate_after_commit``).
"""

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .. import merkle, notes
from ..models import NODE_STRIDE, LogCheckpoint, LogLeaf, LogNode, LogQueue
from ..selectors.log_key import key_name, signing_key
from ..selectors.transparency_log import log_size, node_source

logger = logging.getLogger(__name__)

# The advisory lock only one integrator holds (an arbitrary constant: "REE log").
INTEGRATOR_LOCK = 0x5245_454C_4F47


def integrate_log(max_events: int | None = None) -> LogCheckpoint | None:
    """Integrate what is queued (at most ``max_events``, default ``LOG_BATCH_EVENTS``) and sign
    a checkpoint of the grown tree; None when nothing was queued."""
    limit = max_events or settings.LOG_BATCH_EVENTS
    with transaction.atomic():
        _hold_integrator_lock()
        events = _take_queued(limit)
        if not events:
            return None
        size = log_size()
        frontier = merkle.Frontier(size, node_source(merkle.complete_subtrees(0, size)))
        leaves, nodes = _grow(frontier, events)
        _insert(LogLeaf._meta.db_table, "id, event_id, hash", leaves)
        _insert(LogNode._meta.db_table, "level, index, hash", nodes)
        return sign_checkpoint(frontier.size, frontier.root())


def _hold_integrator_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INTEGRATOR_LOCK])


def _take_queued(limit: int) -> list[tuple[int, str]]:
    """The oldest ``limit`` committed queue rows, in queue order, removed from the queue: each
    event's id and hash, as the trigger copied them when the event was inserted."""
    queue = LogQueue._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH taken AS (DELETE FROM {queue} WHERE id IN "
                f"(SELECT id FROM {queue} ORDER BY id LIMIT %s) RETURNING id, event_id, hash) "
                f"SELECT event_id, hash FROM taken ORDER BY id",
                [limit],
            )
            return cursor.fetchall()
        cursor.execute(f"SELECT id, event_id, hash FROM {queue} ORDER BY id LIMIT %s", [limit])
        taken = cursor.fetchall()
        if taken:
            cursor.execute(f"DELETE FROM {queue} WHERE id <= %s", [taken[-1][0]])
        return [(event_id, digest) for _, event_id, digest in taken]


def _grow(frontier: merkle.Frontier, events: list[tuple[int, str]]):
    """Append the events' leaves to the tree: the leaf rows and the stored nodes it makes."""
    sha256, start = hashlib.sha256, frontier.size
    digests = [sha256(b"\x00" + bytes.fromhex(event_hash)).digest() for _, event_hash in events]
    nodes = frontier.extend(digests, NODE_STRIDE)
    leaves = [
        (start + offset, event_id, digest)
        for offset, ((event_id, _), digest) in enumerate(zip(events, digests, strict=True))
    ]
    return leaves, nodes


def _insert(table: str, names: str, rows: list[tuple]) -> None:
    columns = ", ".join(connection.ops.quote_name(name.strip()) for name in names.split(","))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: a third of the time of the INSERTs for a large batch.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as stream:
                for row in rows:
                    stream.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns.split(",")))
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
