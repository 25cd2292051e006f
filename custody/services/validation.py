"""Cleaning what a request declares (masses, counts, times, texts, evidence). Each check
raises ``DomainError`` with a stable code and the field, or returns the clean value."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..errors import DomainError, ErrorCode
from ..models import Lot

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# A mass as text: ASCII digits and at most one point, nothing else (no sign but a minus, no
# exponent, no spaces, no "_", no other scripts' digits), though Decimal() would take them all.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# The item_count columns are PositiveIntegerField: a PostgreSQL integer.
MAX_ITEM_COUNT = 2**31 - 1
# How deep objects and lists a request declares (a correction's ``corrections``) may nest.
MAX_DEPTH = 32
# The longest texts an event records, as the API's inputs take them.
NOTE_LENGTH, REFERENCE_LENGTH, METHOD_LENGTH = 2000, 100, 200
SEAL_LENGTH, MAX_SEALS = 100, 100


def max_lot_mass() -> Decimal:
    return Decimal(settings.CUSTODY["MAX_LOT_MASS_KG"])


def clean_mass(value, *, field: str = "mass_kg", allow_zero: bool = False) -> Decimal:
    """A mass in kg: a Decimal (or int, or plain decimal string such as ``"1250.5"``), gram
    precision, within bounds."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise DomainError(
            ErrorCode.INVALID_MASS, "Mass must be a decimal number of kg.", field=field
        )
    if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
        raise DomainError(
            ErrorCode.INVALID_MASS,
            f"{value[:40]!r} is not a plain decimal number of kg (digits and a point: 1250.5).",
            field=field,
        )
    try:
        mass = Decimal(value)
    except InvalidOperation:
        raise DomainError(
            ErrorCode.INVALID_MASS, f"{value!r} is not a decimal number of kg.", field=field
        ) from None
    if not mass.is_finite():
        raise DomainError(
            ErrorCode.INVALID_MASS, "Mass must be a finite number of kg.", field=field
        )
    if mass < 0:
        raise DomainError(
            ErrorCode.NEGATIVE_MASS, f"Mass cannot be negative ({mass} kg).", field=field
        )
    if mass == 0 and not allow_zero:
        raise DomainError(ErrorCode.ZERO_MASS, "Mass must be greater than zero.", field=field)
    if mass > max_lot_mass():
        raise DomainError(
            ErrorCode.MASS_TOO_LARGE,
            f"{mass} kg is more than the {max_lot_mass()} kg any lot may weigh.",
            field=field,
        )
    if mass.as_tuple().exponent < -3:
        raise DomainError(
            ErrorCode.MASS_PRECISION,
            "Mass is recorded to the gram: at most 3 decimals.",
            field=field,
        )
    return mass


def clean_item_count(value, *, minimum: int = 0, field: str = "item_count") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DomainError(
            ErrorCode.INVALID_ITEM_COUNT, f"Item count must be {minimum} or more.", field=field
        )
    if value > MAX_ITEM_COUNT:
        raise DomainError(
            ErrorCode.INVALID_ITEM_COUNT,
            f"Item count must be at most {MAX_ITEM_COUNT}.",
            field=field,
        )
    return value


def clean_time_range(value: datetime, *, field: str) -> datetime:
    """A time the columns can hold: an aware time whose UTC value is within years 1 to 9999
    (``0001-01-01T00:00:00+01:00`` is in year 0 in UTC), returned in UTC."""
    if timezone.is_aware(value):
        try:
            # In UTC: PostgreSQL refuses offsets beyond 15:59 that Python takes (+16:00).
            return value.astimezone(UTC)
        except OverflowError:
            raise DomainError(
                ErrorCode.TIME_OUT_OF_RANGE,
                f"{value.isoformat()} is outside the years 1 to 9999 in UTC.",
                field=field,
            ) from None
    return value


def clean_nesting(value, *, field: str, limit: int = MAX_DEPTH):
    """Objects and lists nested at most ``limit`` levels (``{"a": {}}`` is two). Walked level
    by level, without recursion: a value nested a thousand deep is refused, not a crash."""
    level, depth = [value], 0
    while level := [item for item in level if isinstance(item, dict | list | tuple)]:
        depth += 1
        if depth > limit:
            raise DomainError(
                ErrorCode.TOO_DEEP, f"Nested deeper than {limit} levels.", field=field
            )
        level = [
            child for item in level for child in (item.values() if isinstance(item, dict) else item)
        ]
    return value


def clean_occurred_at(
    value: datetime | None,
    *,
    lot: Lot | None = None,
    not_before: datetime | None = None,
    field: str = "occurred_at",
) -> datetime:
    """Business time: timezone-aware, not before the floor (``OCCURRED_AT_FLOOR``), not in the
    future, not before the lot's last event (or ``not_before``)."""
    now = timezone.now()
    if value is None:
        return now
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise DomainError(ErrorCode.NAIVE_TIME, "Times need a UTC offset (ISO 8601).", field=field)
    value = clean_time_range(value, field=field)
    floor = settings.CUSTODY["OCCURRED_AT_FLOOR"]
    if value < floor:
        raise DomainError(
            ErrorCode.TIME_OUT_OF_RANGE,
            f"{value.isoformat()} is before {floor.isoformat()}, the earliest time the ledger "
            "records.",
            field=field,
        )
    if value > now + settings.CUSTODY["CLOCK_SKEW"]:
        raise DomainError(
            ErrorCode.TIME_IN_FUTURE, f"{value.isoformat()} is in the future.", field=field
        )
    if not_before is None and lot is not None:
        not_before = lot.last_occurred_at
    if not_before is not None and value < not_before:
        raise DomainError(
            ErrorCode.TIME_BEFORE_PREVIOUS_EVENT,
            f"{value.isoformat()} is before the lot's previous event ({not_before.isoformat()}).",
            field=field,
        )
    return value


def parse_time(value, *, field: str) -> datetime:
    """A time as a request's JSON gives it (ISO 8601 text), or as Python does."""
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    if isinstance(value, datetime):
        return value
    raise DomainError(
        ErrorCode.INVALID_TIME,
        f"{str(value)[:40]!r} is not an ISO 8601 time (2026-11-27T16:55:02Z).",
        field=field,
    )


def clean_seals_intact(value, *, field: str = "seals_intact") -> bool:
    if not isinstance(value, bool):
        raise DomainError(
            ErrorCode.INVALID_SEALS_INTACT, "Say whether the seals were intact.", field=field
        )
    return value


def clean_seal_numbers(seal_numbers, *, field: str = "seal_numbers") -> list[str]:
    if isinstance(seal_numbers, str):
        seal_numbers = [seal_numbers]
    if not isinstance(seal_numbers, list | tuple) or len(seal_numbers) > MAX_SEALS:
        raise DomainError(
            ErrorCode.INVALID_SEAL_NUMBERS,
            f"Seal numbers are a list of at most {MAX_SEALS} texts.",
            field=field,
        )
    cleaned = []
    for seal in seal_numbers:
        if not isinstance(seal, str) or not seal.strip():
            raise DomainError(
                ErrorCode.INVALID_SEAL_NUMBERS, "Seal numbers are non-empty texts.", field=field
            )
        seal = clean_text(seal.strip(), field=field, max_length=SEAL_LENGTH)
        if seal in cleaned:
            raise DomainError(
                ErrorCode.INVALID_SEAL_NUMBERS, f"Seal {seal} is listed twice.", field=field
            )
        cleaned.append(seal)
    return cleaned


def clean_evidence(digests: Iterable[str]) -> list[str]:
    cleaned = []
    for digest in digests:
        if not isinstance(digest, str) or not SHA256_HEX.match(digest):
            raise DomainError(
                ErrorCode.INVALID_EVIDENCE,
                "Evidence is a list of SHA-256 digests, 64 lower-case hex characters each.",
                field="evidence",
            )
        if digest not in cleaned:
            cleaned.append(digest)
    return cleaned


def clean_text(value: str, *, field: str, max_length: int | None = None) -> str:
    """Free text bound for a column: a string, no NUL character, within the column's length."""
    if not isinstance(value, str):
        raise DomainError(ErrorCode.INVALID_TEXT, "Expected text.", field=field)
    if "\x00" in value:
        raise DomainError(
            ErrorCode.INVALID_TEXT, "Text cannot contain a NUL character.", field=field
        )
    if max_length is not None and len(value) > max_length:
        raise DomainError(
            ErrorCode.TEXT_TOO_LONG,
            f"At most {max_length} characters ({len(value)} given).",
            field=field,
        )
    return value


def require_text(value: str, *, field: str, code: ErrorCode) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(code, f"{field.replace('_', ' ').capitalize()} is required.", field=field)
    return text
