"""Appending to a lot's chain: the single place that writes ``CustodyEvent`` rows.

A ledger transaction (``transactions.ledger_write``) keeps what it locked and appended in a
``PendingWrites``: the lots it holds, with their state as its events leave it, and the events
not yet inserted. They are written together when it ends, just before it commits, so that a
batch of events costs a few statements rather than a few per event. The reads a service makes
of a lot's events (``latest_event``, ``event_of``, ``has_event_after``) see the pending ones too.
"""

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from recyclers.models import Facility

from ..actors import Actor
from ..errors import DomainError
from ..hashing import NotCanonical, hash_event, ledger_json
from ..models import CLOSED_STATUSES, CustodyEvent, Lot, LotStatus, WebhookDelivery
from ..projection import PROJECTED_FIELDS, apply_event
from .validation import clean_evidence
from .webhooks import queue_deliveries, send_after_commit

PROJECTED_COLUMNS = [field.removesuffix("_id") for field in PROJECTED_FIELDS]


class PendingWrites:
    """What one ledger transaction holds and has not written yet."""

    def __init__(self):
        self.locked: dict[int, Lot] = {}
        self.events: list[CustodyEvent] = []
        self.changed_lots: dict[int, Lot] = {}
        self.known_keys: dict[str, CustodyEvent] | None = None
        self.deliveries: list[WebhookDelivery] = []

    def stage(self, lot: Lot, event: CustodyEvent) -> None:
        self.events.append(event)
        self.changed_lots[lot.pk] = lot

    def events_of(self, lot: Lot) -> list[CustodyEvent]:
        return [event for event in self.events if event.lot_id == lot.pk]

    def flush(self) -> None:
        """Insert the staged events, store their lots' new state, write their webhook
        deliveries to the outbox."""
        if not self.events:
            return
        events, self.events = self.events, []
        lots, self.changed_lots = list(self.changed_lots.values()), {}
        _seal(events, lots)
        CustodyEvent.objects.bulk_create(events)
        _store_projections(lots)
        self.deliveries += queue_deliveries(events)

    def finish(self) -> None:
        """Write what is pending; once the transaction commits, hand its webhook deliveries to
        the broker, all at once."""
        self.flush()
        if self.deliveries:
            deliveries = self.deliveries
            transaction.on_commit(lambda: send_after_commit(deliveries))


def _seal(events: list[CustodyEvent], lots: list[Lot]) -> None:
    """Stamp the record time as the events are written and chain their hashes again over it.
    The event feed holds events back by record time, and a record time older than the moment
    the insert took the event's id would shorten that hold-back by however long a batch ran."""
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
def collecting_writes():
    token = _pending.set(PendingWrites())
    try:
        yield _pending.get()
    finally:
        _pending.reset(token)


def _locking() -> QuerySet:
    """Lots read with their row lock, and the facilities the rules look at."""
    return Lot.objects.select_for_update(of=("self",)).select_related("custodian", "destination")


def lock_lot(lot: Lot) -> Lot:
    """Reload ``lot`` holding its row lock until the transaction ends; a lot this transaction
    already holds is returned as its events so far have left it.

    Writers to one lot queue here; writers to other lots never wait (DESIGN invariant 4).
    """
    writes = pending_writes()
    if writes is not None and lot.pk in writes.locked:
        return writes.locked[lot.pk]
    locked = _locking().get(pk=lot.pk)
    if writes is not None:
        writes.locked[locked.pk] = locked
    return locked


def lock_lots(lots: Sequence[Lot]) -> list[Lot]:
    """Lock several lots in one statement, in id order so that two transactions locking
    overlapping sets cannot deadlock; ``lock_lot`` then returns them without asking again.
    Returns them in id order, as this transaction's events so far have left them (a lot that
    no longer exists is left out)."""
    writes = pending_writes()
    ids = {lot.pk for lot in lots}
    for lot in _locking().filter(pk__in=ids - set(writes.locked)).order_by("pk"):
        writes.locked[lot.pk] = lot
    return [writes.locked[pk] for pk in sorted(ids) if pk in writes.locked]


def recorded_events(lot: Lot) -> QuerySet:
    """The lot's events, those this transaction appended included (written first)."""
    if (writes := pending_writes()) is not None:
        writes.flush()
    return lot.events.all()


def _pending_events_of(lot: Lot) -> list[CustodyEvent]:
    writes = pending_writes()
    return writes.events_of(lot) if writes is not None else []


def latest_event(lot: Lot, kind: str) -> CustodyEvent | None:
    """The lot's latest event of ``kind``, this transaction's included."""
    for event in reversed(_pending_events_of(lot)):
        if event.kind == kind:
            return event
    return lot.events.filter(kind=kind).order_by("-seq").first()


def has_event_after(lot: Lot, seq: int, kinds: Iterable[str]) -> bool:
    """Whether the lot has an event of one of ``kinds`` after ``seq``, this transaction's
    included."""
    kinds = set(kinds)
    if any(event.seq > seq and event.kind in kinds for event in _pending_events_of(lot)):
        return True
    return lot.events.filter(seq__gt=seq, kind__in=kinds).exists()


def event_of(lot: Lot, event_uuid: UUID) -> CustodyEvent | None:
    """The lot's event with this uuid, this transaction's included: such an event is written
    first, since the event that refers to it stores its id."""
    if any(event.uuid == event_uuid for event in _pending_events_of(lot)):
        pending_writes().flush()
    return lot.events.filter(uuid=event_uuid).first()


def prefetch_replays(actor: Actor, idempotency_keys: Iterable[str]) -> set[str]:
    """Read the events written earlier under any of these keys in one query; ``find_replay``
    then answers for them without asking again. Returns the keys that were used."""
    writes = pending_writes()
    keys = [key for key in idempotency_keys if key]
    earlier = CustodyEvent.objects.filter(
        actor_organization=actor.organization, idempotency_key__in=keys
    )
    writes.known_keys = {event.idempotency_key: event for event in earlier}
    return set(writes.known_keys)


def find_replay(actor: Actor, idempotency_key: str | None, *, kind: str) -> CustodyEvent | None:
    """The event an earlier call with this idempotency key wrote, if any."""
    if not idempotency_key:
        return None
    writes = pending_writes()
    if writes is not None and writes.known_keys is not None:
        event = writes.known_keys.get(idempotency_key)
    else:
        event = CustodyEvent.objects.filter(
            actor_organization=actor.organization, idempotency_key=idempotency_key
        ).first()
    if event is not None and event.kind != kind:
        raise DomainError(
            "idempotency_key_reused",
            f"Idempotency key {idempotency_key!r} was already used for a {event.kind} event "
            f"on {event.lot.code}.",
            field="idempotency_key",
        )
    return event


def replay_for_lot(
    actor: Actor, idempotency_key: str | None, *, kind: str, lot: Lot
) -> CustodyEvent | None:
    event = find_replay(actor, idempotency_key, kind=kind)
    if event is not None and event.lot_id != lot.pk:
        raise DomainError(
            "idempotency_key_reused",
            f"Idempotency key {idempotency_key!r} was already used on {event.lot.code}.",
            field="idempotency_key",
        )
    return event


def require_open(lot: Lot) -> None:
    if lot.status in CLOSED_STATUSES:
        raise DomainError("lot_closed", f"{lot.code} is {lot.status}; nothing more can happen.")


def require_at_facility(lot: Lot) -> None:
    require_open(lot)
    if lot.status == LotStatus.IN_TRANSIT:
        raise DomainError(
            "lot_in_transit", f"{lot.code} is in transit to {lot.destination}; receive it first."
        )


def require_custodian(lot: Lot, actor: Actor) -> None:
    require_at_facility(lot)
    if lot.custodian.organization_id != actor.organization.pk:
        raise DomainError(
            "not_custodian", f"{lot.code} is held by {lot.custodian}, not by {actor.organization}."
        )


def require_not_quarantined(lot: Lot) -> None:
    if lot.quarantined:
        raise DomainError("lot_quarantined", f"{lot.code} is quarantined; release it first.")


def append_event(
    *,
    lot: Lot,
    kind: str,
    actor: Actor,
    occurred_at: datetime,
    facility: Facility | None = None,
    counterparty_facility: Facility | None = None,
    mass_kg: Decimal | None = None,
    details: dict | None = None,
    evidence: Iterable[str] = (),
    corrects: CustodyEvent | None = None,
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """Append the next event of ``lot`` (locked by the caller) and project it onto the lot; the
    event is written when the ledger transaction flushes."""
    try:
        details = ledger_json(details or {})
    except NotCanonical as exc:
        raise DomainError("invalid_details", f"Cannot record this: {exc}.") from None
    event = CustodyEvent(
        lot=lot,
        seq=lot.head_seq + 1,
        kind=kind,
        occurred_at=occurred_at,
        recorded_at=timezone.now(),
        actor_organization=actor.organization,
        actor_user=actor.user,
        actor_api_key_prefix=actor.api_key_prefix,
        facility=facility,
        counterparty_facility=counterparty_facility,
        mass_kg=mass_kg,
        details=details,
        evidence=clean_evidence(evidence),
        corrects=corrects,
        idempotency_key=idempotency_key or "",
        prev_hash=lot.head_hash,
    )
    event.hash = hash_event(event)
    apply_event(lot, event)
    writes = pending_writes()
    if writes is None:
        raise RuntimeError("append_event runs inside a ledger transaction (@ledger_write).")
    writes.stage(lot, event)
    return event
