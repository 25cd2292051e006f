"""Checks shared by the services. Each raises ``DomainError`` with a stable code."""

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone

from recyclers.models import Facility, Organization, Role

from ..actors import Actor
from ..errors import DomainError
from ..models import Lot

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def max_lot_mass() -> Decimal:
    return Decimal(settings.CUSTODY["MAX_LOT_MASS_KG"])


def clean_mass(value, *, field: str = "mass_kg", allow_zero: bool = False) -> Decimal:
    """A mass in kg: a Decimal (or int, or decimal string), gram precision, within bounds."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise DomainError("invalid_mass", "Mass must be a decimal number of kg.", field=field)
    try:
        mass = Decimal(value)
    except InvalidOperation:
        raise DomainError(
            "invalid_mass", f"{value!r} is not a decimal number of kg.", field=field
        ) from None
    if not mass.is_finite():
        raise DomainError("invalid_mass", "Mass must be a finite number of kg.", field=field)
    if mass < 0:
        raise DomainError("negative_mass", f"Mass cannot be negative ({mass} kg).", field=field)
    if mass == 0 and not allow_zero:
        raise DomainError("zero_mass", "Mass must be greater than zero.", field=field)
    if mass > max_lot_mass():
        raise DomainError(
            "mass_too_large",
            f"{mass} kg is more than the {max_lot_mass()} kg any lot may weigh.",
            field=field,
        )
    if mass.as_tuple().exponent < -3:
        raise DomainError(
            "mass_precision", "Mass is recorded to the gram: at most 3 decimals.", field=field
        )
    return mass


def clean_item_count(value, *, minimum: int = 0, field: str = "item_count") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DomainError(
            "invalid_item_count", f"Item count must be {minimum} or more.", field=field
        )
    return value


def clean_occurred_at(value: datetime | None, *, lot: Lot | None = None) -> datetime:
    """Business time: timezone-aware, not in the future, not before the lot's last event."""
    now = timezone.now()
    if value is None:
        return now
    if timezone.is_naive(value):
        raise DomainError("naive_time", "Times need a UTC offset (ISO 8601).", field="occurred_at")
    if value > now + settings.CUSTODY["CLOCK_SKEW"]:
        raise DomainError(
            "time_in_future", f"{value.isoformat()} is in the future.", field="occurred_at"
        )
    if lot is not None and lot.last_occurred_at and value < lot.last_occurred_at:
        raise DomainError(
            "time_before_previous_event",
            f"{value.isoformat()} is before the lot's previous event "
            f"({lot.last_occurred_at.isoformat()}).",
            field="occurred_at",
        )
    return value


def clean_evidence(digests: Iterable[str]) -> list[str]:
    cleaned = []
    for digest in digests:
        if not isinstance(digest, str) or not SHA256_HEX.match(digest):
            raise DomainError(
                "invalid_evidence",
                "Evidence is a list of SHA-256 digests, 64 lower-case hex characters each.",
                field="evidence",
            )
        if digest not in cleaned:
            cleaned.append(digest)
    return cleaned


def clean_text(value: str, *, field: str, max_length: int | None = None) -> str:
    """Free text bound for a column: a string, no NUL character, within the column's length."""
    if not isinstance(value, str):
        raise DomainError("invalid_text", "Expected text.", field=field)
    if "\x00" in value:
        raise DomainError("invalid_text", "Text cannot contain a NUL character.", field=field)
    if max_length is not None and len(value) > max_length:
        raise DomainError(
            "text_too_long", f"At most {max_length} characters ({len(value)} given).", field=field
        )
    return value


def require_text(value: str, *, field: str, code: str) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(code, f"{field.replace('_', ' ').capitalize()} is required.", field=field)
    return text


def require_writer(actor: Actor) -> None:
    organization = actor.organization
    if not organization.is_active:
        raise DomainError("organization_inactive", f"{organization} is not active.")
    if organization.role_codes <= {Role.AUDITOR}:
        raise DomainError(
            "read_only_organization", f"{organization} may read the ledger but not write to it."
        )


def is_operator(actor: Actor) -> bool:
    return actor.organization.has_role(Role.OPERATOR)


def require_active_facility(facility: Facility, *, field: str) -> None:
    if not facility.is_active:
        raise DomainError("facility_inactive", f"{facility} is not active.", field=field)


def require_role(organization: Organization, role: Role, *, code: str, field: str) -> None:
    if not organization.has_role(role):
        raise DomainError(code, f"{organization} is not a {role.label.lower()}.", field=field)
