"""The ledger transaction every service runs in, and the writes it holds until its end.

A ledger transaction (``ledger_write``) keeps what it locked and appended in a
``PendingWrites``: the lots it holds, with their state as its events leave it, and the events
not yet inserted. They are written together when it ends, just before it commits, so that a
batch of events costs a few statements rather than a few per event.
"""

import functools
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..hashing import hash_event
from ..models import CustodyEvent, Lot, WebhookDelivery
from ..projection import PROJECTED_FIELDS
from .stored_verdicts import reassess_after_commit
from .transparency_log import integrate_after_commit, integrates_after_commit
from .visibility import record_visibility
from .webhooks import publish_after_commit, queue_deliveries

PROJECTED_COLUMNS = [field.removesuffix("_id") for field in PROJECTED_FIELDS]


def ledger_write(service):
    """Run ``service`` in one transaction; nothing it wrote survives a ``DomainError``.

    What the service appends is written when it returns, before the commit. A service called
    from within another (a batch) joins its transaction: the batch writes all or nothing.

    Two concurrent calls with one idempotency key can both pass the replay check before either
    commits; the loser then trips the unique index on the key. Running it once more finds the
    winner's event and returns it, as a replay should.
    """

    @functools.wraps(service)
    def run(*args, **kwargs):
        if pending_writes() is not None:
            return service(*args, **kwargs)
        try:
            return _in_transaction(service, args, kwargs)
        except IntegrityError as exc:
            if not kwargs.get("idempotency_key") or "idempotency" not in str(exc).lower():
                raise
        return _in_transaction(service, args, kwargs)

    return run


def _in_transaction(service, args, kwargs):
    with transaction.atomic(), _collecting_writes() as writes:
        result = service(*args, **kwargs)
        writes.finish()
        return result


class PendingWrites:
    """What one ledger transaction holds and has not written yet."""

    def __init__(self):
        self.locked: dict[int, Lot] = {}
        self.events: list[CustodyEvent] = []
        self.changed_lots: dict[int, Lot] = {}
        self.known_keys: dict[str, CustodyEvent] | None = None
        self.deliveries: list[WebhookDelivery] = []
        self.written_lot_ids: set[int] = set()

    def stage(self, lot: Lot, event: CustodyEvent) -> None:
        self.events.append(event)
        self.changed_lots[lot.pk] = lot

    def events_of(self, lot: Lot) -> list[CustodyEvent]:
        return [event for event in self.events if event.lot_id == lot.pk]

    def flush(self) -> None:
        """Insert the staged events, store their lots' new state, record who may now see
        their lots, write their webhook deliveries to the outbox (whose audiences read that
        record). The partners' feed entries come when the events enter the log."""
        if not self.events:
            return
        events, self.events = self.events, []
        lots, self.changed_lots = list(self.changed_lots.values()), {}
        _seal(events, lots)
        CustodyEvent.objects.bulk_create(events)
        _store_projections(lots)
        self.written_lot_ids.update(lot.pk for lot in lots)
        record_visibility(events)
        self.deliveries += queue_deliveries(events)

    def finish(self) -> None:
        """Write what is pending; once the transaction commits, hand its webhook deliveries to
        the broker, all at once, and the lots it wrote for their stored verdicts' refresh; with
        eager Celery, integrate its events into the transparency log."""
        self.flush()
        if self.written_lot_ids and integrates_after_commit():
            transaction.on_commit(integrate_after_commit)
        if self.deliveries:
            deliveries = self.deliveries
            transaction.on_commit(lambda: publish_after_commit(deliveries))
        if self.written_lot_ids:
            lot_ids = sorted(self.written_lot_ids)
            transaction.on_commit(lambda: reassess_after_commit(lot_ids))


def _seal(events: list[CustodyEvent], lots: list[Lot]) -> None:
    """Stamp the record time as the events are written and chain their hashes."""
    now = timezone.now()
    heads: dict[int, str] = {}
    for event in events:
        event.recorded_at = now
        event.prev_hash = heads.get(event.lot_id, event.prev_hash)
        event.hash = hash_event(event)
        heads[event.lot_id] = event.hash
    for lot in lots:
        lot.head_hash = heads[lot.pk]


def _store_projections(lots: list[Lot]) -> None:
    """Save the projected state of these lots. Several lots take one UPDATE each, sent in one
    ``executemany``: ``bulk_update`` builds a CASE expression per lot and field, which cost a
    millisecond of Python per lot."""
    now = timezone.now()
    for lot in lots:
        lot.updated_at = now
    if len(lots) == 1:
        lots[0].save(update_fields=[*PROJECTED_COLUMNS, "updated_at"])
        return
    fields = [Lot._meta.get_field(name) for name in (*PROJECTED_COLUMNS, "updated_at")]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    table, key = quote(Lot._meta.db_table), quote(Lot._meta.pk.column)
    statement = f"UPDATE {table} SET {assignments} WHERE {key} = %s"
    rows = [
        [field.get_db_prep_save(getattr(lot, field.attname), connection) for field in fields]
        + [lot.pk]
        for lot in lots
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


_pending: ContextVar[PendingWrites | None] = ContextVar("custody_pending_writes", default=None)


def pending_writes() -> PendingWrites | None:
    """The writes of the ledger transaction in progress, if one is."""
    return _pending.get()


@contextmanager
def _collecting_writes():
    token = _pending.set(PendingWrites())
    try:
        yield _pending.get()
    finally:
        _pending.reset(token)
