"""Reference data as a verdict reads it: each facility, its organization's roles and its
certifications as they were when an event was recorded (DESIGN invariant 9).

They come from the append-only history of ``recyclers`` (django-simple-history), never from the
live rows: an operator who edits a facility's country, an organization's roles or a
certification afterwards changes no past event's verdict. Three queries load the whole history
of the facilities a verdict names; each event then picks its version by its record time.
Times are compared as canonical text (``2026-11-27T16:55:02.000000Z``, fixed width), the form in
which events are read, so no event's time is parsed.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from django.db.models import Subquery
from django_countries import countries

from recyclers.models import Certification, CertificationStatus, Facility, Organization

from ...hashing import format_time
from ...models import CertificationAcceptance
from .types import AcceptedCertification

DELETED = "-"


class FacilityState(NamedTuple):
    id: int
    name: str
    country: str  # ISO 3166-1 alpha-2
    country_name: str
    organization_id: int
    gln: str
    is_active: bool
    label: str  # "Name (CC)", as ``Facility.__str__``

    def __str__(self) -> str:
        return self.label


class CertificationState(NamedTuple):
    """One recorded version of a certification."""

    id: int
    version: int  # the history record's id
    recorded_at: str  # when this version was recorded, canonical text
    facility_id: int | None
    scheme: str
    number: str
    valid_from: date
    valid_until: date
    status: str
    deleted: bool

    def covers(self, facility_id: int, schemes: set[str], day: date) -> bool:
        return (
            not self.deleted
            and self.facility_id == facility_id
            and self.scheme in schemes
            and self.status == CertificationStatus.ACTIVE
            and self.valid_from <= day <= self.valid_until
        )

    @property
    def label(self) -> str:
        scheme = Certification(scheme=self.scheme).get_scheme_display()
        return f"{scheme} {self.number}"


class Acceptance(NamedTuple):
    """An operator's or auditor's acceptance of one recorded version of a certification."""

    id: int
    version: CertificationState
    accepted_by: str
    accepted_at: str
    reason: str


class Timeline:
    """The versions of one thing, oldest first, each in force from its record time on."""

    __slots__ = ("states", "times")

    def __init__(self):
        self.times: list[str] = []
        self.states: list = []

    def add(self, moment: str, state) -> None:
        self.times.append(moment)
        self.states.append(state)

    def at(self, moment: str):
        """The version in force at ``moment``. Before the first one: the first one (a facility
        or an organization existed before any event named it; a history that began later, at
        ``recyclers.0004``, starts with the rows as they stood then)."""
        if len(self.times) == 1:
            return self.states[0]
        return self.states[max(bisect_right(self.times, moment) - 1, 0)]

    def recorded_by(self, moment: str) -> bool:
        return bool(self.times) and self.times[0] <= moment

    @property
    def latest(self):
        return self.states[-1]


class ReferenceData:
    """The history of the facilities a verdict names, their organizations and certifications."""

    def __init__(self, facilities, roles, certifications, certifications_at_facility):
        self._facilities: dict[int, Timeline] = facilities
        self._roles: dict[int, Timeline] = roles
        self._certifications: dict[int, Timeline] = certifications
        self._certifications_at: dict[int, set[int]] = certifications_at_facility
        self._change_times: dict[int, list[str]] = {}
        self._acceptances: dict[int, list[Acceptance]] | None = None
        # Most facilities never change: the hot loops read their one version from here.
        self.unchanged: dict[int, FacilityState] = {
            pk: timeline.states[0]
            for pk, timeline in facilities.items()
            if len(timeline.times) == 1
        }

    @classmethod
    def load(cls, facility_ids: Iterable[int]) -> "ReferenceData":
        facilities = _facility_timelines(set(facility_ids))
        organization_ids = {
            state.organization_id for timeline in facilities.values() for state in timeline.states
        }
        certifications, at_facility = _certification_timelines(set(facilities))
        return cls(facilities, _role_timelines(organization_ids), certifications, at_facility)

    def facility(self, facility_id: int, at: str) -> FacilityState:
        return self._facilities[facility_id].at(at)

    def roles(self, facility: FacilityState, at: str) -> frozenset[str]:
        timeline = self._roles.get(facility.organization_id)
        return timeline.at(at) if timeline else frozenset()

    def certifications(self, facility_id: int, at: str) -> list[CertificationState]:
        """The facility's certifications as recorded by ``at``."""
        held = []
        for certification_id in self._certifications_at.get(facility_id, ()):
            timeline = self._certifications[certification_id]
            if timeline.recorded_by(at):
                held.append(timeline.at(at))
        return held

    def recorded_later(self, facility_id: int, at: str) -> list[CertificationState]:
        """The latest version of each of the facility's certifications, where it was recorded
        after ``at``: what an operator entered or changed after the event."""
        return [
            self._certifications[certification_id].latest
            for certification_id in sorted(self._certifications_at.get(facility_id, ()))
            if self._certifications[certification_id].latest.recorded_at > at
        ]

    def acceptances(self, facility_id: int) -> list[Acceptance]:
        """The acceptances of the facility's certifications (read on first need: one query,
        and none for a verdict whose certifications were all on record in time)."""
        if self._acceptances is None:
            self._acceptances = self._load_acceptances()
        return self._acceptances.get(facility_id, [])

    def _load_acceptances(self) -> dict[int, list[Acceptance]]:
        versions = {
            state.version: state
            for timeline in self._certifications.values()
            for state in timeline.states
        }
        rows = (
            CertificationAcceptance.objects.filter(certification_id__in=list(self._certifications))
            .select_related("accepted_by_organization", "accepted_by_user")
            .order_by("accepted_at", "pk")
        )
        by_facility: dict[int, list[Acceptance]] = defaultdict(list)
        for row in rows:
            version = versions[row.certification_version_id]
            by_facility[version.facility_id].append(
                Acceptance(
                    row.pk,
                    version,
                    _acceptor(row),
                    format_time(row.accepted_at),
                    row.reason,
                )
            )
        return by_facility

    def cited(self, acceptance: Acceptance) -> AcceptedCertification:
        """An acceptance as a verdict cites it, its facility as it was when accepted."""
        version = acceptance.version
        facility = self.facility(version.facility_id, acceptance.accepted_at)
        return AcceptedCertification(
            facility=facility.label,
            country=facility.country,
            certification=version.label,
            valid_from=version.valid_from.isoformat(),
            valid_until=version.valid_until.isoformat(),
            recorded_at=version.recorded_at,
            accepted_by=acceptance.accepted_by,
            accepted_at=acceptance.accepted_at,
            reason=acceptance.reason,
        )

    def epoch(self, facility_id: int, at: str) -> int:
        """How many changes to what the rules read of this facility (itself, its organization's
        roles, its certifications) were recorded by ``at``: events of one epoch read the same."""
        times = self._change_times.get(facility_id)
        if times is None:
            times = self._change_times[facility_id] = self._all_change_times(facility_id)
        return bisect_right(times, at)

    def _all_change_times(self, facility_id: int) -> list[str]:
        facility = self._facilities[facility_id]
        times = list(facility.times)
        for organization_id in {state.organization_id for state in facility.states}:
            if organization_id in self._roles:
                times.extend(self._roles[organization_id].times)
        for certification_id in self._certifications_at.get(facility_id, ()):
            times.extend(self._certifications[certification_id].times)
        return sorted(times)


def _facility_timelines(facility_ids: set[int]) -> dict[int, Timeline]:
    rows = (
        Facility.history.filter(id__in=facility_ids)
        .exclude(history_type=DELETED)
        .order_by("history_date", "history_id")
        .values_list("id", "history_date", "name", "country", "organization_id", "gln", "is_active")
    )
    timelines: dict[int, Timeline] = defaultdict(Timeline)
    for pk, moment, name, country, organization_id, gln, is_active in rows:
        state = FacilityState(
            pk,
            name,
            country,
            _country_name(country),
            organization_id,
            gln,
            is_active,
            f"{name} ({country})",
        )
        timelines[pk].add(format_time(moment), state)
    for facility in Facility.objects.filter(pk__in=facility_ids - set(timelines)):
        # Rows written without the ORM's signals (raw SQL, bulk_create) have no history: the
        # live row is all there is.
        code = facility.country.code
        state = FacilityState(
            facility.pk,
            facility.name,
            code,
            _country_name(code),
            facility.organization_id,
            facility.gln,
            facility.is_active,
            str(facility),
        )
        timelines[facility.pk].add("", state)
    return timelines


def _role_timelines(organization_ids: set[int]) -> dict[int, Timeline]:
    """Each organization's roles, version by version (an organization with no role has a
    version whose role is None: one row, from the outer join)."""
    rows = (
        Organization.history.filter(id__in=organization_ids)
        .exclude(history_type=DELETED)
        .order_by("history_date", "history_id")
        .values_list(
            "id", "history_id", "history_date", "historicalorganization_roles__organizationrole"
        )
    )
    versions: dict[int, dict[int, tuple[str, set[str]]]] = defaultdict(dict)
    for pk, version, moment, role in rows:
        _, roles = versions[pk].setdefault(version, (format_time(moment), set()))
        if role:
            roles.add(role)
    timelines: dict[int, Timeline] = defaultdict(Timeline)
    for pk, by_version in versions.items():
        for moment, roles in by_version.values():  # in the query's order: oldest first
            timelines[pk].add(moment, frozenset(roles))
    for organization in Organization.objects.filter(pk__in=organization_ids - set(timelines)):
        timelines[organization.pk].add("", organization.role_codes)  # no history: the live row
    return timelines


def _certification_timelines(facility_ids: set[int]):
    """Every version of every certification ever held by these facilities (a certification
    moved to another facility keeps its whole history), and which were ever at each facility."""
    ever_held = Certification.history.filter(facility_id__in=facility_ids).values("id")
    rows = (
        Certification.history.filter(id__in=Subquery(ever_held))
        .order_by("history_date", "history_id")
        .values_list(
            "id",
            "history_id",
            "history_date",
            "facility_id",
            "scheme",
            "number",
            "valid_from",
            "valid_until",
            "status",
            "history_type",
        )
    )
    timelines: dict[int, Timeline] = defaultdict(Timeline)
    at_facility: dict[int, set[int]] = defaultdict(set)
    for pk, version, moment, facility_id, *values, history_type in rows:
        recorded_at = format_time(moment)
        state = CertificationState(
            pk, version, recorded_at, facility_id, *values, history_type == DELETED
        )
        timelines[pk].add(recorded_at, state)
        if facility_id in facility_ids:
            at_facility[facility_id].add(pk)
    return timelines, at_facility


def _acceptor(row: CertificationAcceptance) -> str:
    via = row.accepted_by_user or (
        f"key {row.accepted_by_api_key_prefix}" if row.accepted_by_api_key_prefix else None
    )
    who = row.accepted_by_organization.name
    return f"{who} ({via})" if via else who


def _country_name(code: str) -> str:
    return countries.name(code) or code
