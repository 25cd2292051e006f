"""Appending to a lot's chain: the single place that makes ``CustodyEvent`` rows and new lots,
and the reads a service makes of a lot's events within its ledger transaction (they see the
events it appended and has not written yet)."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import QuerySet

from recyclers.models import Facility

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..hashing import NotCanonical, ledger_json
from ..models import GENESIS_HASH, CustodyEvent, Lot, LotStatus
from ..projection import apply_event
from .transaction import pending_writes
from .validation import clean_evidence


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
    """Append the next event of ``lot`` (locked by the caller) and project it onto the lot. The
    event is written, with its record time and hash, when the ledger transaction flushes."""
    writes = pending_writes()
    if writes is None:
        raise RuntimeError("append_event runs inside a ledger transaction (@ledger_write).")
    try:
        details = ledger_json(details or {})
    except NotCanonical as exc:
        raise DomainError(ErrorCode.INVALID_DETAILS, f"Cannot record this: {exc}.") from None
    event = CustodyEvent(
        lot=lot,
        seq=lot.head_seq + 1,
        kind=kind,
        occurred_at=occurred_at,
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
    apply_event(lot, event)
    writes.stage(lot, event)
    return event


def new_lot(facility, material, mass_kg, occurred_at, external_ref, *, source=False) -> Lot:
    """A lot row before its first event: the caller appends that event in the same transaction.
    ``source`` marks a pickup, whose facility is the lot's data center of origin."""
    # The readable code needs the row id, so the row goes in first under a provisional code.
    lot = Lot.objects.create(
        code=f"new-{uuid.uuid4().hex[:24]}",
        material=material,
        source_facility=facility if source else None,
        external_ref=external_ref,
        status=LotStatus.REGISTERED,
        custodian=facility,
        mass_kg=mass_kg,
        head_hash=GENESIS_HASH,
    )
    lot.code = f"LOT-{occurred_at.year}-{lot.pk:06d}"
    lot.save(update_fields=["code"])
    return lot


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


def event_of(lot: Lot, event_uuid: UUID | str) -> CustodyEvent:
    """The lot's event with this uuid (or its text), this transaction's included: such an
    event is written first, since the event that refers to it stores its id."""
    try:
        event_uuid = UUID(str(event_uuid))
    except ValueError:
        event = None
    else:
        if any(event.uuid == event_uuid for event in _pending_events_of(lot)):
            pending_writes().flush()
        event = lot.events.filter(uuid=event_uuid).first()
    if event is None:
        raise DomainError(
            ErrorCode.EVENT_NOT_IN_LOT, f"{lot.code} has no event {event_uuid}.", field="corrects"
        )
    return event
