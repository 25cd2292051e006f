"""What happens to a lot where it stands: weigh, quarantine, release, dispose."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..models import CustodyEvent, EventKind, Lot
from .chain import append_event, latest_event, lock_lot
from .guards import is_operator, require_custodian, require_open, require_writer
from .replays import find_replay
from .transaction import ledger_write
from .validation import clean_mass, clean_occurred_at, require_text


@ledger_write
def weigh_lot(
    *,
    actor: Actor,
    lot: Lot,
    mass_kg: Decimal,
    scale_ref: str = "",
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    note: str = "",
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """The custodian records a new measured mass."""
    lot = lock_lot(lot)
    if replayed := find_replay(actor, idempotency_key, kind=EventKind.WEIGHED, lot=lot):
        return replayed
    require_writer(actor)
    require_custodian(lot, actor)
    mass_kg = clean_mass(mass_kg)
    return append_event(
        lot=lot,
        kind=EventKind.WEIGHED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at, lot=lot),
        facility=lot.custodian,
        mass_kg=mass_kg,
        details={"previous_mass_kg": lot.mass_kg, "scale_ref": scale_ref, "note": note},
        evidence=evidence,
        idempotency_key=idempotency_key,
    )


@ledger_write
def quarantine_lot(
    *,
    actor: Actor,
    lot: Lot,
    reason: str,
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """Hold a lot: it cannot be dispatched or delivered until released.

    The custodian may quarantine what it holds; the platform operator may quarantine any open lot.
    """
    lot = lock_lot(lot)
    if replayed := find_replay(actor, idempotency_key, kind=EventKind.QUARANTINED, lot=lot):
        return replayed
    require_writer(actor)
    if is_operator(actor):
        require_open(lot)
    else:
        require_custodian(lot, actor)
    if lot.quarantined:
        raise DomainError(ErrorCode.LOT_QUARANTINED, f"{lot.code} is already quarantined.")
    return append_event(
        lot=lot,
        kind=EventKind.QUARANTINED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at, lot=lot),
        facility=lot.custodian,
        details={"reason": require_text(reason, field="reason", code=ErrorCode.REASON_REQUIRED)},
        evidence=evidence,
        idempotency_key=idempotency_key,
    )


@ledger_write
def release_lot(
    *,
    actor: Actor,
    lot: Lot,
    reason: str,
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """Lift a quarantine: the organization that imposed it, or the platform operator."""
    lot = lock_lot(lot)
    if replayed := find_replay(actor, idempotency_key, kind=EventKind.RELEASED, lot=lot):
        return replayed
    require_writer(actor)
    require_open(lot)
    if not lot.quarantined:
        raise DomainError(ErrorCode.LOT_NOT_QUARANTINED, f"{lot.code} is not quarantined.")
    imposed = latest_event(lot, EventKind.QUARANTINED)
    if imposed.actor_organization_id != actor.organization.pk and not is_operator(actor):
        raise DomainError(
            ErrorCode.NOT_QUARANTINE_AUTHOR,
            f"{lot.code} was quarantined by {imposed.actor_organization}; only they or the "
            "platform operator can release it.",
        )
    return append_event(
        lot=lot,
        kind=EventKind.RELEASED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at, lot=lot),
        facility=lot.custodian,
        details={
            "reason": require_text(reason, field="reason", code=ErrorCode.REASON_REQUIRED),
            "quarantine": str(imposed.uuid),
        },
        evidence=evidence,
        idempotency_key=idempotency_key,
    )


@ledger_write
def dispose_lot(
    *,
    actor: Actor,
    lot: Lot,
    method: str,
    reason: str = "",
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """The custodian disposes of the lot (landfill, incineration, non-REE recycling...)."""
    lot = lock_lot(lot)
    if replayed := find_replay(actor, idempotency_key, kind=EventKind.DISPOSED, lot=lot):
        return replayed
    require_writer(actor)
    require_custodian(lot, actor)
    return append_event(
        lot=lot,
        kind=EventKind.DISPOSED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at, lot=lot),
        facility=lot.custodian,
        mass_kg=lot.mass_kg,
        details={
            "method": require_text(method, field="method", code=ErrorCode.METHOD_REQUIRED),
            "reason": reason,
        },
        evidence=evidence,
        idempotency_key=idempotency_key,
    )
