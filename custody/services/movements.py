"""Moving a lot between custodians: dispatch, receive, deliver."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from recyclers.models import Facility, Organization, Role

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..models import CustodyEvent, EventKind, Lot
from .chain import append_event, latest_event, lock_lot
from .guards import (
    require_active_facility,
    require_custodian,
    require_not_quarantined,
    require_open,
    require_role,
    require_writer,
)
from .replays import find_replay
from .transaction import ledger_write
from .validation import clean_mass, clean_occurred_at, clean_seal_numbers, clean_seals_intact


@ledger_write
def dispatch_lot(
    *,
    actor: Actor,
    lot: Lot,
    destination: Facility,
    carrier: Organization | None = None,
    seal_numbers: Sequence[str] = (),
    declared_mass_kg: Decimal | None = None,
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    note: str = "",
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """The custodian hands the lot to a carrier for one named destination facility."""
    lot = lock_lot(lot)
    if replayed := find_replay(actor, idempotency_key, kind=EventKind.DISPATCHED, lot=lot):
        return replayed
    require_writer(actor)
    require_custodian(lot, actor)
    require_not_quarantined(lot)
    require_active_facility(destination, field="destination")
    if destination.pk == lot.custodian_id:
        raise DomainError(
            ErrorCode.SAME_FACILITY, f"{lot.code} is already at {destination}.", field="destination"
        )
    if carrier is not None:
        require_role(carrier, Role.CARRIER, code=ErrorCode.NOT_A_CARRIER, field="carrier")
    declared = (
        lot.mass_kg
        if declared_mass_kg is None
        else clean_mass(declared_mass_kg, field="declared_mass_kg")
    )
    return append_event(
        lot=lot,
        kind=EventKind.DISPATCHED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at, lot=lot),
        facility=lot.custodian,
        counterparty_facility=destination,
        mass_kg=declared,
        details={
            # By slug, as a request names it (events before this stored the organization's id;
            # readers take both).
            "carrier": carrier.slug if carrier else None,
            "seal_numbers": clean_seal_numbers(seal_numbers),
            "note": note,
        },
        evidence=evidence,
        idempotency_key=idempotency_key,
    )


@ledger_write
def receive_lot(
    *,
    actor: Actor,
    lot: Lot,
    measured_mass_kg: Decimal,
    seals_intact: bool,
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    note: str = "",
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """The destination's organization takes the lot in, with the mass it measured."""
    lot = lock_lot(lot)
    if replayed := find_replay(actor, idempotency_key, kind=EventKind.RECEIVED, lot=lot):
        return replayed
    require_writer(actor)
    require_open(lot)
    if lot.destination_id is None:
        raise DomainError(
            ErrorCode.LOT_NOT_IN_TRANSIT, f"{lot.code} has no open dispatch to receive."
        )
    if lot.destination.organization_id != actor.organization.pk:
        raise DomainError(
            ErrorCode.NOT_DESTINATION,
            f"{lot.code} was dispatched to {lot.destination}; only "
            f"{lot.destination.organization} can receive it.",
        )
    clean_seals_intact(seals_intact)
    measured = clean_mass(measured_mass_kg, field="measured_mass_kg")
    dispatched = latest_event(lot, EventKind.DISPATCHED)
    return append_event(
        lot=lot,
        kind=EventKind.RECEIVED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at, lot=lot),
        facility=lot.destination,
        counterparty_facility=dispatched.facility,
        mass_kg=measured,
        details={
            "seals_intact": seals_intact,
            "dispatched_mass_kg": dispatched.mass_kg,
            "difference_kg": measured - dispatched.mass_kg,
            "dispatch": str(dispatched.uuid),
            "note": note,
        },
        evidence=evidence,
        idempotency_key=idempotency_key,
    )


@ledger_write
def deliver_lot(
    *,
    actor: Actor,
    lot: Lot,
    buyer_facility: Facility,
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    invoice_ref: str = "",
    note: str = "",
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """The custodian hands the lot over to a buyer: the end of its life in the ledger."""
    lot = lock_lot(lot)
    if replayed := find_replay(actor, idempotency_key, kind=EventKind.DELIVERED, lot=lot):
        return replayed
    require_writer(actor)
    require_custodian(lot, actor)
    require_not_quarantined(lot)
    require_active_facility(buyer_facility, field="buyer_facility")
    require_role(
        buyer_facility.organization, Role.BUYER, code=ErrorCode.NOT_A_BUYER, field="buyer_facility"
    )
    return append_event(
        lot=lot,
        kind=EventKind.DELIVERED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at, lot=lot),
        facility=lot.custodian,
        counterparty_facility=buyer_facility,
        mass_kg=lot.mass_kg,
        details={"invoice_ref": invoice_ref, "note": note},
        evidence=evidence,
        idempotency_key=idempotency_key,
    )
