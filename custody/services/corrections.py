"""Corrections: an earlier event of a lot was wrong. The wrong event stays as it was; a
``corrected`` event that references it records what it should have said."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from recyclers.models import Facility

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..models import CustodyEvent, EventKind, Lot
from .chain import append_event, event_of, has_event_after, lock_lot
from .correctable import clean_corrections
from .guards import is_operator, require_writer
from .replays import find_replay
from .transaction import ledger_write
from .validation import clean_mass, clean_occurred_at, require_text

# Kinds whose mass is the lot's mass from then on; a correction of the latest one moves it.
MASS_SETTING_KINDS = {EventKind.REGISTERED, EventKind.RECEIVED, EventKind.WEIGHED}


@ledger_write
def correct_event(
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
    ``corrections`` holds any other corrected fields: only those the corrected kind of event
    has and a correction may change (``kinds.CORRECTABLE_FIELDS``), each checked as the service
    that wrote the event checks it; a manifest changes only through ``amend_manifest``.
    """
    lot = lock_lot(lot)
    if replayed := find_replay(actor, idempotency_key, kind=EventKind.CORRECTED, lot=lot):
        return replayed
    require_writer(actor)
    # An event still pending in this transaction is written first: the correction stores its id.
    corrects = event_of(lot, corrects.uuid if isinstance(corrects, CustodyEvent) else corrects)
    if corrects.actor_organization_id != actor.organization.pk and not is_operator(actor):
        raise DomainError(
            ErrorCode.NOT_EVENT_AUTHOR,
            f"Only {corrects.actor_organization} (who recorded it) or the platform operator "
            "can correct that event.",
            field="corrects",
        )
    corrections = clean_corrections(corrections, lot=lot, event=corrects)
    if mass_kg is None and not corrections:
        raise DomainError(
            ErrorCode.NOTHING_TO_CORRECT,
            "Give the corrected mass or the corrected fields.",
            field="corrections",
        )
    if mass_kg is not None:
        mass_kg = clean_mass(mass_kg)
        if corrects.kind not in MASS_SETTING_KINDS | {EventKind.DISPATCHED, EventKind.DISPOSED}:
            raise DomainError(
                ErrorCode.MASS_NOT_CORRECTABLE,
                f"A {corrects.kind} event records no mass.",
                field="mass_kg",
            )
    return append_event(
        lot=lot,
        kind=EventKind.CORRECTED,
        actor=actor,
        occurred_at=clean_occurred_at(occurred_at, not_before=corrects.occurred_at),
        facility=lot.custodian,
        # A corrected destination or buyer facility: the lot heads, or is, there (projection).
        counterparty_facility=_facility(
            corrections.get("destination") or corrections.get("buyer_facility")
        ),
        mass_kg=mass_kg,
        details={
            "reason": require_text(reason, field="reason", code=ErrorCode.REASON_REQUIRED),
            "corrected_kind": corrects.kind,
            "corrected_seq": corrects.seq,
            "corrections": corrections,
            "updates_lot_mass": mass_kg is not None and _is_latest_mass(lot, corrects),
        },
        evidence=evidence,
        corrects=corrects,
        idempotency_key=idempotency_key,
    )


def _is_latest_mass(lot: Lot, event: CustodyEvent) -> bool:
    if event.kind not in MASS_SETTING_KINDS:
        return False
    return not has_event_after(lot, event.seq, MASS_SETTING_KINDS)


def _facility(pk: int | None) -> Facility | None:
    return Facility.objects.get(pk=pk) if pk is not None else None
