"""Appending to a lot's chain: the single place that writes ``CustodyEvent`` rows.

A ledger transaction (``transactions.ledger_write``) keeps what it locked and appended in a
``PendingWrites``: the lots it holds, with their state as its events leave it, and the events
not yet inserted. They are written together when it flushes, before it commits, so that a batch
of events costs a few statements rather than a few per event.
"""

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from recyclers.models import Facility

from ..actors import Actor
from ..errors import DomainError
from ..hashing import NotCanonical, hash_event, ledger_json
from ..models import CLOSED_STATUSES, CustodyEvent, Lot, LotStatus
from ..projection import PROJECTED_FIELDS, apply_event
from .validation import clean_evidence
from .webhooks import queue_deliveries

PROJECTED_COLUMNS = [field.removesuffix("_id") for field in PROJECTED_FIELDS]


class PendingWrites:
    """What one ledger transaction holds and has not written yet."""

    def __init__(self):
        self.locked: dict[int, Lot] = {}
        self.events: list[CustodyEvent] = []
        self.changed_lots: dict[int, Lot] = {}
        self.known_keys: dict[str, CustodyEvent] | None = None

    def stage(self, lot: Lot, event: CustodyEvent) -> None:
        self.events.append(event)
        self.changed_lots[lot.pk] = lot

    def flush(self) -> None:
        """Insert the staged events, store their lots' new state, queue their webhooks."""
        if not self.events:
            return
        events, self.events = self.events, []
        lots, self.changed_lots = list(self.changed_lots.values()), {}
        CustodyEvent.objects.bulk_create(events)
        _store_projections(lots)
        queue_deliveries(events)


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


def lock_lot(lot: Lot) -> Lot:
    """Reload ``lot`` holding its row lock until the transaction ends; a lot this transaction
    already holds is returned as its events so far have left it.

    Writers to one lot queue here; writers to other lots never wait (DESIGN invariant 4).
    """
    writes = pending_writes()
    if writes is not None and lot.pk in writes.locked:
        return writes.locked[lot.pk]
    locked = Lot.objects.select_for_update(of=("self",)).select_related("custodian", "destination")
    locked = locked.get(pk=lot.pk)
    if writes is not None:
        writes.locked[locked.pk] = locked
    return locked


def lock_lots(lots: Sequence[Lot]) -> None:
    """Lock several lots in one statement, in id order so that two transactions locking
    overlapping sets cannot deadlock; ``lock_lot`` then returns them without asking again."""
    writes = pending_writes()
    wanted = {lot.pk for lot in lots} - set(writes.locked)
    locked = Lot.objects.select_for_update(of=("self",)).select_related("custodian", "destination")
    for lot in locked.filter(pk__in=wanted).order_by("pk"):
        writes.locked[lot.pk] = lot


def recorded_events(lot: Lot) -> QuerySet:
    """The lot's events, those this transaction appended included."""
    if (writes := pending_writes()) is not None:
        writes.flush()
    return lot.events.all()


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
