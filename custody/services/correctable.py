"""What a ``corrected`` event may change, per kind of event, and how each corrected value is
checked: with the very function the service that wrote the event checks it with. The field
names per kind are ``kinds.CORRECTABLE_FIELDS`` (the verdict merges those alone); the tables
here hold the checks, and a test holds the two equal."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Min, Q

from recyclers.models import Organization, Role

from ..errors import DomainError, ErrorCode
from ..models import CustodyEvent, EventKind, Lot, LotStatus
from .chain import latest_event, recorded_events
from .guards import facility_named, require_active_facility, require_role
from .intake import clean_intake
from .validation import (
    METHOD_LENGTH,
    NOTE_LENGTH,
    REFERENCE_LENGTH,
    clean_item_count,
    clean_nesting,
    clean_occurred_at,
    clean_seal_numbers,
    clean_seals_intact,
    clean_text,
    parse_time,
    require_text,
)

PREFIX = "corrections"
# What every event records apart from its details: fixed once written.
EVENT_COLUMNS = frozenset(
    {"occurred_at", "recorded_at", "facility", "counterparty_facility", "evidence"}
    | {"lot", "seq", "kind", "actor_organization"}
)


@dataclass(frozen=True)
class Corrected:
    """The event a correction corrects, with the times of its neighbours on the lot's chain."""

    lot: Lot
    event: CustodyEvent
    not_before: datetime | None  # the latest time of the lot's events before it
    not_after: datetime | None  # the earliest time of the lot's events after it

    @classmethod
    def of(cls, lot: Lot, event: CustodyEvent) -> "Corrected":
        others = recorded_events(lot).exclude(kind=EventKind.CORRECTED)
        times = others.aggregate(
            before=Max("occurred_at", filter=Q(seq__lt=event.seq)),
            after=Min("occurred_at", filter=Q(seq__gt=event.seq)),
        )
        return cls(lot, event, times["before"], times["after"])


Check = Callable[[object, Corrected, str], object]


def _time(value, corrected: Corrected, field: str) -> datetime:
    """The bounds of the event's own time when it was written: the floor, the clock, the lot's
    previous event; and the next event's time, which was bounded by it."""
    moment = clean_occurred_at(
        parse_time(value, field=field), not_before=corrected.not_before, field=field
    )
    if corrected.not_after is not None and moment > corrected.not_after:
        raise DomainError(
            ErrorCode.TIME_AFTER_NEXT_EVENT,
            f"{moment.isoformat()} is after the lot's next event "
            f"({corrected.not_after.isoformat()}).",
            field=field,
        )
    return moment


def _pickup_time(value, corrected: Corrected, field: str) -> datetime:
    moment = _time(value, corrected, field)
    sanitized = corrected.event.details.get("manifest", {}).get("last_sanitized_at")
    if sanitized and moment < parse_time(sanitized, field=field):
        raise DomainError(
            ErrorCode.SANITIZED_AFTER_PICKUP,
            f"The manifest's drives were sanitized after {moment.isoformat()}.",
            field=field,
        )
    return moment


def _text(max_length: int) -> Check:
    return lambda value, corrected, field: clean_text(value, field=field, max_length=max_length)


def _required_text(code: ErrorCode, max_length: int) -> Check:
    def check(value, corrected, field):
        text = clean_text(value, field=field, max_length=max_length)
        return require_text(text, field=field, code=code)

    return check


def _item_count(minimum: int, *, optional: bool = False) -> Check:
    def check(value, corrected, field):
        if value is None and optional:
            return None
        return clean_item_count(value, minimum=minimum, field=field)

    return check


def _carrier(value, corrected: Corrected, field: str) -> str | None:
    if value is None:
        return None
    carrier = Organization.objects.filter(slug=value).first() if isinstance(value, str) else None
    if carrier is None:
        raise DomainError(ErrorCode.NOT_A_CARRIER, f"No organization {value!r}.", field=field)
    require_role(carrier, Role.CARRIER, code=ErrorCode.NOT_A_CARRIER, field=field)
    return carrier.slug


def _destination(value, corrected: Corrected, field: str) -> int:
    """As the dispatch checks it (an active facility other than the one the lot left), while
    the lot is still on the road under this dispatch."""
    facility = facility_named(value, field=field)
    require_active_facility(facility, field=field)
    dispatch, lot = corrected.event, corrected.lot
    if facility.pk == dispatch.facility_id:
        raise DomainError(
            ErrorCode.SAME_FACILITY, f"{lot.code} was dispatched from {facility}.", field=field
        )
    open_dispatch = latest_event(lot, EventKind.DISPATCHED)
    if lot.status != LotStatus.IN_TRANSIT or open_dispatch.pk != dispatch.pk:
        raise DomainError(
            ErrorCode.LOT_NOT_IN_TRANSIT,
            f"{lot.code} was received after this dispatch: the receipt records where it arrived.",
            field=field,
        )
    return facility.pk


def _buyer_facility(value, corrected: Corrected, field: str) -> int:
    """As the delivery checks it: an active facility of a buyer."""
    facility = facility_named(value, field=field)
    require_active_facility(facility, field=field)
    require_role(facility.organization, Role.BUYER, code=ErrorCode.NOT_A_BUYER, field=field)
    return facility.pk


def _intake(value, corrected: Corrected, field: str) -> dict:
    return clean_intake(value, prefix=f"{field}.")


NOTE = {"note": _text(NOTE_LENGTH)}
REASON = {"reason": _required_text(ErrorCode.REASON_REQUIRED, NOTE_LENGTH)}
TIME = {"occurred_at": _time}

# The checks of each kind of event, as the service that writes it makes them. A registered
# event is a pickup's (on a source lot) or an intake's.
CHECKS: dict[str, dict[str, Check]] = {
    "pickup": {
        "occurred_at": _pickup_time,
        "item_count": _item_count(1),
        "external_ref": _text(REFERENCE_LENGTH),
    },
    "intake": {
        **TIME,
        "item_count": _item_count(0, optional=True),
        "external_ref": _text(REFERENCE_LENGTH),
        "intake": _intake,
    },
    EventKind.DISPATCHED: {
        **TIME,
        **NOTE,
        "destination": _destination,
        "carrier": _carrier,
        "seal_numbers": lambda value, corrected, field: clean_seal_numbers(value, field=field),
    },
    EventKind.RECEIVED: {
        **TIME,
        **NOTE,
        "seals_intact": lambda value, corrected, field: clean_seals_intact(value, field=field),
    },
    EventKind.WEIGHED: {**TIME, **NOTE, "scale_ref": _text(REFERENCE_LENGTH)},
    EventKind.QUARANTINED: {**TIME, **REASON},
    EventKind.RELEASED: {**TIME, **REASON},
    EventKind.DELIVERED: {
        **TIME,
        **NOTE,
        "buyer_facility": _buyer_facility,
        "invoice_ref": _text(REFERENCE_LENGTH),
    },
    EventKind.DISPOSED: {
        **TIME,
        "method": _required_text(ErrorCode.METHOD_REQUIRED, METHOD_LENGTH),
        "reason": _text(NOTE_LENGTH),
    },
}


def checks_for(lot: Lot, event: CustodyEvent) -> dict[str, Check]:
    if event.kind == EventKind.REGISTERED:
        return CHECKS["pickup" if lot.source_facility_id else "intake"]
    return CHECKS.get(event.kind, {})


def clean_corrections(corrections, *, lot: Lot, event: CustodyEvent) -> dict:
    """The corrected fields, each checked as the service that wrote ``event`` checks it."""
    if corrections is None:
        return {}
    if not isinstance(corrections, dict):
        raise DomainError(
            ErrorCode.INVALID_DETAILS, "Corrections are an object of fields.", field=PREFIX
        )
    clean_nesting(corrections, field=PREFIX)
    checks = checks_for(lot, event)
    for name in corrections:
        if name not in checks:
            _refuse(name, lot, event)
    corrected = Corrected.of(lot, event) if corrections else None
    return {
        name: check(corrections[name], corrected, f"{PREFIX}.{name}")
        for name, check in checks.items()
        if name in corrections
    }


def _refuse(name, lot: Lot, event: CustodyEvent):
    field = f"{PREFIX}.{str(name)[:100]}"
    if name == "manifest" and event.kind == EventKind.REGISTERED:
        raise DomainError(
            ErrorCode.MANIFEST_AMENDMENT_ONLY,
            f"A manifest changes only by an amendment (POST /api/v1/lots/{lot.code}/manifest/), "
            "while the lot is still at its data center.",
            field=field,
        )
    if name == "mass_kg":
        raise DomainError(
            ErrorCode.UNKNOWN_CORRECTION_FIELD,
            "Give the corrected mass as the correction's mass_kg.",
            field=field,
        )
    if name in event.details or name in EVENT_COLUMNS:
        raise DomainError(
            ErrorCode.FIELD_NOT_CORRECTABLE,
            f"A correction cannot change a {event.kind} event's {name}: "
            f"it may change {_listed(checks_for(lot, event))}.",
            field=field,
        )
    raise DomainError(
        ErrorCode.UNKNOWN_CORRECTION_FIELD,
        f"A {event.kind} event has no field {str(name)[:100]!r}: a correction may change "
        f"{_listed(checks_for(lot, event))}.",
        field=field,
    )


def _listed(checks: dict) -> str:
    return ", ".join(sorted(checks)) or "none of its fields"
