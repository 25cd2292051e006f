"""Whether a facility held the certifications its organization's roles require on a day, as
recorded by the time an event was; and, where it did not, whether a certification recorded
later would cover it (retroactive: missing evidence until accepted) or not (uncertified)."""

from datetime import date
from typing import NamedTuple

from ...findings import FindingCode
from .reference import Acceptance, CertificationState, FacilityState, ReferenceData


class Standing(NamedTuple):
    finding: FindingCode | None  # uncertified_custodian, retroactive_certification or None
    missing: frozenset[str]  # the schemes of the first role not covered on the record
    retroactive: CertificationState | None  # the later certification that would cover it
    accepted: tuple[Acceptance, ...]  # accepted retroactive certifications relied on


CERTIFIED = Standing(None, frozenset(), None, ())


def standing(
    reference: ReferenceData,
    required: dict[str, set[str]],
    facility: FacilityState,
    day: date,
    at: str,
) -> Standing:
    """The facility's standing on ``day`` for an event recorded at ``at``: an uncovered role
    outweighs one covered only by a later certification."""
    accepted, retroactive = [], None
    for role in sorted(reference.roles(facility, at)):
        schemes = required.get(role)
        if not schemes or _covered_on_record(reference, facility.id, schemes, day, at):
            continue
        acceptance = _accepted(reference, facility.id, schemes, day, at)
        if acceptance is not None:
            accepted.append(acceptance)
            continue
        later = _recorded_later(reference, facility.id, schemes, day, at)
        if later is None:
            return Standing(FindingCode.UNCERTIFIED_CUSTODIAN, frozenset(schemes), None, ())
        retroactive = retroactive or Standing(
            FindingCode.RETROACTIVE_CERTIFICATION, frozenset(schemes), later, ()
        )
    if retroactive is not None:
        return retroactive._replace(accepted=tuple(accepted))
    return CERTIFIED._replace(accepted=tuple(accepted)) if accepted else CERTIFIED


def _covered_on_record(reference, facility_id, schemes, day, at) -> bool:
    return any(
        certification.covers(facility_id, schemes, day)
        for certification in reference.certifications(facility_id, at)
    )


def _accepted(reference, facility_id, schemes, day, at) -> Acceptance | None:
    """An accepted version, recorded after the event, that covers the day."""
    for acceptance in reference.acceptances(facility_id):
        version = acceptance.version
        if version.recorded_at > at and version.covers(facility_id, schemes, day):
            return acceptance
    return None


def _recorded_later(reference, facility_id, schemes, day, at) -> CertificationState | None:
    for certification in reference.recorded_later(facility_id, at):
        if certification.covers(facility_id, schemes, day):
            return certification
    return None
