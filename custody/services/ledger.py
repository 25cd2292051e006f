"""Appending to a lot's chain: the single place that writes ``CustodyEvent`` rows."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from recyclers.models import Facility

from ..actors import Actor
from ..errors import DomainError
from ..hashing import NotCanonical, hash_event, ledger_json
from ..models import CLOSED_STATUSES, CustodyEvent, Lot, LotStatus
from ..projection import PROJECTED_FIELDS, apply_event
from .validation import clean_evidence
from .webhooks import queue_deliveries


def lock_lot(lot: Lot) -> Lot:
    """Reload ``lot`` holding its row lock until the transaction ends.

    Writers to one lot queue here; writers to other lots never wait (DESIGN invariant 4).
    """
    locked = Lot.objects.select_for_update(of=("self",)).select_related("custodian", "destination")
    return locked.get(pk=lot.pk)


def find_replay(actor: Actor, idempotency_key: str | None, *, kind: str) -> CustodyEvent | None:
    """The event an earlier call with this idempotency key wrote, if any."""
    if not idempotency_key:
        return None
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
    """Write the next event of ``lot`` (locked by the caller) and project it onto the lot."""
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
    event.save(force_insert=True)
    apply_event(lot, event)
    projected = [field.removesuffix("_id") for field in PROJECTED_FIELDS]
    lot.save(update_fields=[*projected, "updated_at"])
    queue_deliveries(event)
    return event
