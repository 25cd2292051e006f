"""Who may act on a lot, and whether the lot's state allows it now: every guard the services
share. Each raises ``DomainError`` with a stable code."""

from recyclers.models import Facility, Organization, Role

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..models import CLOSED_STATUSES, Lot, LotStatus


def require_writer(actor: Actor) -> None:
    organization = actor.organization
    if not organization.is_active:
        raise DomainError(ErrorCode.ORGANIZATION_INACTIVE, f"{organization} is not active.")
    if organization.role_codes <= {Role.AUDITOR}:
        raise DomainError(
            ErrorCode.READ_ONLY_ORGANIZATION,
            f"{organization} may read the ledger but not write to it.",
        )


def is_operator(actor: Actor) -> bool:
    return actor.organization.has_role(Role.OPERATOR)


def facility_named(value, *, field: str) -> Facility:
    """A facility by its id (a number) or its GLN (13 digits), as requests name them."""
    facilities = Facility.objects.select_related("organization")
    if isinstance(value, str) and len(value) == 13 and value.isdigit():
        facility = facilities.filter(gln=value).first()
    elif isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        facility = facilities.filter(pk=value).first()
    else:
        facility = None
    if facility is None:
        raise DomainError(ErrorCode.UNKNOWN_FACILITY, f"No facility {value!r}.", field=field)
    return facility


def require_active_facility(facility: Facility, *, field: str) -> None:
    if not facility.is_active:
        raise DomainError(ErrorCode.FACILITY_INACTIVE, f"{facility} is not active.", field=field)


def require_own_facility(actor: Actor, facility: Facility) -> None:
    if facility.organization_id != actor.organization.pk:
        raise DomainError(
            ErrorCode.NOT_FACILITY_OWNER,
            f"{facility} belongs to {facility.organization}, not to {actor.organization}.",
            field="facility",
        )


def require_role(organization: Organization, role: Role, *, code: ErrorCode, field: str) -> None:
    if not organization.has_role(role):
        raise DomainError(code, f"{organization} is not a {role.label.lower()}.", field=field)


def require_open(lot: Lot) -> None:
    if lot.status in CLOSED_STATUSES:
        raise DomainError(
            ErrorCode.LOT_CLOSED, f"{lot.code} is {lot.status}; nothing more can happen."
        )


def require_at_facility(lot: Lot) -> None:
    require_open(lot)
    if lot.status == LotStatus.IN_TRANSIT:
        raise DomainError(
            ErrorCode.LOT_IN_TRANSIT,
            f"{lot.code} is in transit to {lot.destination}; receive it first.",
        )


def require_custodian(lot: Lot, actor: Actor) -> None:
    require_at_facility(lot)
    if lot.custodian.organization_id != actor.organization.pk:
        raise DomainError(
            ErrorCode.NOT_CUSTODIAN,
            f"{lot.code} is held by {lot.custodian}, not by {actor.organization}.",
        )


def require_not_quarantined(lot: Lot) -> None:
    if lot.quarantined:
        raise DomainError(
            ErrorCode.LOT_QUARANTINED, f"{lot.code} is quarantined; release it first."
        )
