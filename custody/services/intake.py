"""Registering material that came from outside the ledger: a supplier off the platform."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django_countries import countries

from recyclers.models import Facility

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..models import EventKind, Lot, Material
from .chain import append_event, new_lot
from .guards import require_active_facility, require_own_facility, require_writer
from .replays import find_replay
from .transaction import ledger_write
from .validation import (
    REFERENCE_LENGTH,
    clean_item_count,
    clean_mass,
    clean_occurred_at,
    clean_text,
    require_text,
)

SUPPLIER_LENGTH = 200


@ledger_write
def register_intake(
    *,
    actor: Actor,
    facility: Facility,
    material: str,
    mass_kg: Decimal,
    supplier: str,
    declared_origin: str = "",
    item_count: int | None = None,
    occurred_at: datetime | None = None,
    external_ref: str = "",
    evidence: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Lot:
    """Record material that came from outside the ledger (a supplier off the platform) at one of
    the actor's facilities. It reaches no pickup: every verdict downstream says so."""
    replayed = find_replay(actor, idempotency_key, kind=EventKind.REGISTERED)
    if replayed is not None:
        return replayed.lot
    require_writer(actor)
    require_active_facility(facility, field="facility")
    require_own_facility(actor, facility)
    if material not in Material.values:
        raise DomainError(
            ErrorCode.INVALID_MATERIAL, f"Unknown material {material!r}.", field="material"
        )
    intake = clean_intake({"supplier": supplier, "declared_origin": declared_origin})
    if item_count is not None:
        item_count = clean_item_count(item_count)
    mass_kg = clean_mass(mass_kg)
    occurred_at = clean_occurred_at(occurred_at)
    external_ref = clean_text(external_ref, field="external_ref", max_length=REFERENCE_LENGTH)
    lot = new_lot(facility, material, mass_kg, occurred_at, external_ref)
    append_event(
        lot=lot,
        kind=EventKind.REGISTERED,
        actor=actor,
        occurred_at=occurred_at,
        facility=facility,
        mass_kg=mass_kg,
        details={
            "material": material,
            "item_count": item_count,
            "external_ref": external_ref,
            "intake": intake,
        },
        evidence=evidence,
        idempotency_key=idempotency_key,
    )
    return lot


def clean_intake(intake, *, prefix: str = "") -> dict:
    """Who supplied the material, and the country it declared (ISO 3166-1 alpha-2, or blank)."""
    if not isinstance(intake, dict) or set(intake) != {"supplier", "declared_origin"}:
        raise DomainError(
            ErrorCode.INVALID_DETAILS,
            "An intake names its supplier and declared_origin.",
            field=prefix.rstrip(".") or None,
        )
    field = f"{prefix}supplier"
    supplier = require_text(intake["supplier"], field=field, code=ErrorCode.SUPPLIER_REQUIRED)
    declared_origin = intake["declared_origin"]
    if not isinstance(declared_origin, str) or (
        declared_origin and declared_origin not in countries
    ):
        raise DomainError(
            ErrorCode.INVALID_COUNTRY,
            f"{declared_origin!r} is not an ISO 3166-1 alpha-2 country code.",
            field=f"{prefix}declared_origin",
        )
    return {
        "supplier": clean_text(supplier, field=field, max_length=SUPPLIER_LENGTH),
        "declared_origin": declared_origin,
    }
