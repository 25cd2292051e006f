"""What happens to a lot where it stands: weigh, quarantine, release, dispose, correct."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from ..actors import Actor
from ..errors import DomainError
from ..models import CustodyEvent, EventKind, Lot
from .ledger import (
    append_event,
    event_of,
    has_event_after,
    latest_event,
    lock_lot,
    replay_for_lot,
    require_custodian,
    require_open,
)
from .transactions import ledger_write
from .validation import clean_mass, clean_occurred_at, is_operator, require_text, require_writer

# Kinds whose mass is the lot's mass from then on; a correction of the latest one moves it.
MASS_SETTING_KINDS = {EventKind.REGISTERED, EventKind.RECEIVED, EventKind.WEIGHED}


@ledger_write
def weigh(
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
    if replayed := replay_for_lot(actor, idempotency_key, kind=EventKind.WEIGHED, lot=lot):
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
def quarantine(
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
    if replayed := replay_for_lot(actor, idempotency_key, kind=EventKind.QUARANTINED, lot=lot):
        return replayed
    require_writer(actor)
    if is_operator(actor):
        require_open(lot)
    else:
        require_custodian(lot, actor)
    if lot.quarantined:
        raise DomainError("lot_quarantined", f"{lot.code} is already quarantined.")
    return append_event(
        lot=lot,
        kind=EventKind.QUARANTINED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at, lot=lot),
        facility=lot.custodian,
        details={"reason": require_text(reason, field="reason", code="reason_required")},
        evidence=evidence,
        idempotency_key=idempotency_key,
    )


@ledger_write
def release(
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
    if replayed := replay_for_lot(actor, idempotency_key, kind=EventKind.RELEASED, lot=lot):
        return replayed
    require_writer(actor)
    require_open(lot)
    if not lot.quarantined:
        raise DomainError("lot_not_quarantined", f"{lot.code} is not quarantined.")
    imposed = latest_event(lot, EventKind.QUARANTINED)
    if imposed.actor_organization_id != actor.organization.pk and not is_operator(actor):
        raise DomainError(
            "not_quarantine_author",
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
            "reason": require_text(reason, field="reason", code="reason_required"),
            "quarantine": str(imposed.uuid),
        },
        evidence=evidence,
        idempotency_key=idempotency_key,
    )


@ledger_write
def dispose(
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
    if replayed := replay_for_lot(actor, idempotency_key, kind=EventKind.DISPOSED, lot=lot):
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
            "method": require_text(method, field="method", code="method_required"),
            "reason": reason,
        },
        evidence=evidence,
        idempotency_key=idempotency_key,
    )


@ledger_write
def correct(
    *,
    actor: Actor,
    lot: Lot,
    corrects: CustodyEvent | UUID | str,
    reason: str,
    mass_kg: Decimal | None = None,
    corrections: dict | None = None,
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """Record that an earlier event of the lot was wrong; the wrong event stays as it was.

    ``corrects`` is the wrong event, or its uuid. ``mass_kg`` is the mass the corrected event
    should have had; if no later event measured the lot again, it becomes the lot's mass.
    ``corrections`` holds any other corrected fields.
    """
    lot = lock_lot(lot)
    if replayed := replay_for_lot(actor, idempotency_key, kind=EventKind.CORRECTED, lot=lot):
        return replayed
    require_writer(actor)
    # An event still pending in this transaction is written first: the correction stores its id.
    corrects = _event_of(lot, corrects.uuid if isinstance(corrects, CustodyEvent) else corrects)
    if corrects.actor_organization_id != actor.organization.pk and not is_operator(actor):
        raise DomainError(
            "not_event_author",
            f"Only {corrects.actor_organization} (who recorded it) or the platform operator "
            "can correct that event.",
            field="corrects",
        )
    if mass_kg is None and not corrections:
        raise DomainError(
            "nothing_to_correct",
            "Give the corrected mass or the corrected fields.",
            field="corrections",
        )
    if mass_kg is not None:
        mass_kg = clean_mass(mass_kg)
        if corrects.kind not in MASS_SETTING_KINDS | {EventKind.DISPATCHED, EventKind.DISPOSED}:
            raise DomainError(
                "mass_not_correctable",
                f"A {corrects.kind} event records no mass.",
                field="mass_kg",
            )
    return append_event(
        lot=lot,
        kind=EventKind.CORRECTED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at),
        facility=lot.custodian,
        mass_kg=mass_kg,
        details={
            "reason": require_text(reason, field="reason", code="reason_required"),
            "corrected_kind": corrects.kind,
            "corrected_seq": corrects.seq,
            "corrections": corrections or {},
            "updates_lot_mass": mass_kg is not None and _is_latest_mass(lot, corrects),
        },
        evidence=evidence,
        corrects=corrects,
        idempotency_key=idempotency_key,
    )


def _event_of(lot: Lot, event_uuid: UUID | str) -> CustodyEvent:
    try:
        event_uuid = UUID(str(event_uuid))
    except ValueError:
        event = None
    else:
        event = event_of(lot, event_uuid)
    if event is None:
        raise DomainError(
            "event_not_in_lot", f"{lot.code} has no event {event_uuid}.", field="corrects"
        )
    return event


def _is_latest_mass(lot: Lot, event: CustodyEvent) -> bool:
    if event.kind not in MASS_SETTING_KINDS:
        return False
    return not has_event_after(lot, event.seq, MASS_SETTING_KINDS)
