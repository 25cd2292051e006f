"""The domestic-origin verdict: an origin policy applied to a lot, every upstream lot and every
event, with the findings that explain the answer.

``assess`` reads the whole upstream in a bounded number of queries (under twenty, whatever the
size of the genealogy) and applies the rules in Python.
"""

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone

from recyclers.models import CertificationScheme, Facility

from ..hashing import GRAMS
from ..models import (
    EventKind,
    Lot,
    OriginPolicy,
    Transformation,
    VerdictOutcome,
)
from .genealogy import lineage, source_shares, upstream_links
from .verification import event_rows, verify_rows

VIOLATION = "violation"
MISSING_EVIDENCE = "missing_evidence"

# Kinds that put or keep the lot at ``facility`` (held or processed there).
HELD_AT_FACILITY = {
    EventKind.REGISTERED,
    EventKind.RECEIVED,
    EventKind.WEIGHED,
    EventKind.ASSAYED,
    EventKind.TRANSFORMED,
    EventKind.QUARANTINED,
    EventKind.RELEASED,
    EventKind.DISPOSED,
    EventKind.DISPATCHED,
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    lot: str
    event: str | None  # uuid
    seq: int | None
    message: str

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "lot": self.lot,
            "event": self.event,
            "seq": self.seq,
            "message": self.message,
        }


class MassBalanceStep(NamedTuple):
    """One row of the mass-balance table (a tuple: a big genealogy has ten thousand)."""

    kind: str  # a transformation kind, or "transit"
    facility: str
    occurred_at: datetime
    mass_in_kg: Decimal
    mass_out_kg: Decimal
    residue_kg: Decimal
    lots_in: tuple[str, ...]
    lots_out: tuple[str, ...]

    @property
    def loss_kg(self) -> Decimal:
        return self.mass_in_kg - self.mass_out_kg - self.residue_kg

    @property
    def loss_share(self) -> float:
        return float(self.loss_kg / self.mass_in_kg) if self.mass_in_kg else 0.0


@dataclass
class Verdict:
    lot: Lot
    policy: OriginPolicy
    outcome: str
    findings: list[Finding]
    pickups: list[tuple[str, str, float]]  # (pickup code, data center, share)
    data_centers: list[tuple[str, float]]  # (data center, share)
    countries: list[str]
    facilities: list[str]
    mass_balance: list[MassBalanceStep]
    assessed_at: datetime

    @property
    def outcome_label(self) -> str:
        return VerdictOutcome(self.outcome).label

    @property
    def policy_label(self) -> str:
        return f"{self.policy.name} (version {self.policy.version})"


class EventView(NamedTuple):
    lot_id: int
    seq: int
    uuid: str
    kind: str
    occurred_at: datetime
    organization_id: int
    facility_id: int | None
    counterparty_id: int | None
    mass_kg: Decimal | None
    details: dict


class LotRow(NamedTuple):
    id: int
    code: str
    material: str
    mass_kg: Decimal
    status: str
    source_facility_id: int | None


def default_policy() -> OriginPolicy:
    return OriginPolicy.objects.get(is_default=True)


def assess(lot: Lot, policy: OriginPolicy | None = None, *, now: datetime | None = None) -> Verdict:
    """Apply ``policy`` (the default one if None) to ``lot`` and everything upstream of it."""
    with _cyclic_gc_paused():
        return _assess(lot, policy or default_policy(), now)


@contextmanager
def _cyclic_gc_paused():
    """A big upstream builds some 200,000 short-lived tuples and dicts, none of them in a
    reference cycle; Python's cyclic collector would rescan them again and again (a fifth of
    the time, measured). Reference counting frees them all the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _assess(lot: Lot, policy: OriginPolicy, now: datetime | None) -> Verdict:
    rules = Rules(policy, now or timezone.now())
    ledger = UpstreamLedger.load(lot)
    findings = [
        *rules.broken_chains(ledger),
        *rules.jurisdictions(ledger),
        *rules.handoffs(ledger),
        *rules.transformations(ledger),
        *rules.certifications(ledger),
        *rules.sanitization(ledger),
        *rules.origins(ledger),
    ]
    findings.sort(key=lambda f: (f.severity != VIOLATION, f.lot, f.seq or 0, f.code))
    if any(f.severity == VIOLATION for f in findings):
        outcome = VerdictOutcome.NON_COMPLIANT
    elif findings:
        outcome = VerdictOutcome.UNVERIFIED
    else:
        outcome = VerdictOutcome.VERIFIED
    pickups, data_centers = ledger.origins()
    return Verdict(
        lot=lot,
        policy=policy,
        outcome=outcome,
        findings=findings,
        pickups=pickups,
        data_centers=data_centers,
        countries=sorted({ledger.countries[pk] for pk in ledger.visited_facilities()}),
        facilities=sorted(ledger.labels[pk] for pk in ledger.visited_facilities()),
        mass_balance=ledger.mass_balance(),
        assessed_at=rules.now,
    )


# --- Reading the upstream ledger --------------------------------------------------------------


@dataclass
class UpstreamLedger:
    root: Lot
    lots: dict[int, LotRow]
    events: dict[int, list[EventView]]  # by lot, in sequence order, corrections applied
    raw_rows: list[tuple]
    links: list[tuple[int, int, Decimal, int]]  # parent, child, mass, transformation id
    transformations: dict[int, dict]
    facilities: dict[int, Facility]
    labels: dict[int, str]  # facility id -> "Name (CC)", computed once
    countries: dict[int, str]  # facility id -> ISO code
    drives: dict[int, dict[str, int]]  # pickup lot -> {category: count}
    unsanitized: dict[int, int]  # pickup lot -> drives without a sanitization record

    @classmethod
    def load(cls, root: Lot) -> "UpstreamLedger":
        # Two walks up the genealogy instead of long IN (...) lists of ids.
        lots = {
            node.id: LotRow(
                node.id,
                node.code,
                node.material,
                node.mass_kg,
                node.status,
                node.source_facility_id,
            )
            for node in lineage(root)
        }
        lots[root.pk] = LotRow(
            root.pk, root.code, root.material, root.mass_kg, root.status, root.source_facility_id
        )
        links = upstream_links(root)
        raw_rows = list(event_rows(lot_ids=lots))
        transformations = {
            row["id"]: row
            for row in Transformation.objects.filter(pk__in={link[3] for link in links}).values(
                "id",
                "uuid",
                "kind",
                "facility_id",
                "occurred_at",
                "consumed_kg",
                "output_kg",
                "residue_kg",
            )
        }
        events = _event_views(raw_rows)
        facility_ids = {t["facility_id"] for t in transformations.values()}
        for lot_events in events.values():
            for event in lot_events:
                facility_ids.update({event.facility_id, event.counterparty_id})
        facility_ids.discard(None)
        facilities = Facility.objects.select_related("organization").prefetch_related(
            "organization__roles", "certifications"
        )
        drives, unsanitized = _manifest_stats(lots, events)
        facilities = facilities.in_bulk(facility_ids)
        return cls(
            root=root,
            lots=lots,
            events=events,
            raw_rows=raw_rows,
            links=links,
            transformations=transformations,
            facilities=facilities,
            # django-countries builds a Country object on every read: read each once.
            labels={pk: str(facility) for pk, facility in facilities.items()},
            countries={pk: facility.country.code for pk, facility in facilities.items()},
            drives=drives,
            unsanitized=unsanitized,
        )

    def facility(self, facility_id: int | None) -> Facility | None:
        return self.facilities.get(facility_id) if facility_id else None

    def visited_facilities(self) -> set[int]:
        seen = set()
        for lot_events in self.events.values():
            for event in lot_events:
                seen.update((event.facility_id, event.counterparty_id))
        seen.discard(None)
        return seen

    def origins(self):
        shares = source_shares(self.root.pk, [link[:3] for link in self.links])
        pickups = []
        by_data_center: dict[str, float] = defaultdict(float)
        for lot_id, share in sorted(shares.items(), key=lambda item: -item[1]):
            lot = self.lots[lot_id]
            if lot.source_facility_id:
                name = self.labels.get(lot.source_facility_id, str(lot.source_facility_id))
                pickups.append((lot.code, name, share))
                by_data_center[name] += share
        return pickups, sorted(by_data_center.items(), key=lambda item: -item[1])

    def mass_balance(self) -> list[MassBalanceStep]:
        steps = []
        by_transformation = defaultdict(lambda: (set(), set()))
        for parent, child, _, transformation in self.links:
            by_transformation[transformation][0].add(self.lots[parent].code)
            by_transformation[transformation][1].add(self.lots[child].code)
        for transformation_id, (inputs, outputs) in by_transformation.items():
            t = self.transformations[transformation_id]
            steps.append(
                MassBalanceStep(
                    kind=t["kind"],
                    facility=self.labels[t["facility_id"]],
                    occurred_at=t["occurred_at"],
                    mass_in_kg=t["consumed_kg"],
                    mass_out_kg=t["output_kg"],
                    residue_kg=t["residue_kg"],
                    lots_in=tuple(sorted(inputs)),
                    lots_out=tuple(sorted(outputs)),
                )
            )
        for lot_id, lot_events in self.events.items():
            for dispatched, received in _legs(lot_events):
                if received is None or dispatched.mass_kg is None:
                    continue
                steps.append(
                    MassBalanceStep(
                        kind="transit",
                        facility=f"{self.labels[dispatched.facility_id]} -> "
                        f"{self.labels[received.facility_id]}",
                        occurred_at=received.occurred_at,
                        mass_in_kg=dispatched.mass_kg,
                        mass_out_kg=received.mass_kg,
                        residue_kg=Decimal(0),
                        lots_in=(self.lots[lot_id].code,),
                        lots_out=(self.lots[lot_id].code,),
                    )
                )
        return sorted(steps, key=lambda step: step.occurred_at)


def _event_views(rows) -> dict[int, list[EventView]]:
    """Events by lot, with every correction merged into the event it corrects."""
    by_lot: dict[int, list[EventView]] = defaultdict(list)
    corrections: dict[str, tuple[dict, Decimal | None]] = {}
    for row in rows:
        (
            lot_id,
            _,
            _,
            _,
            seq,
            uuid,
            kind,
            occurred_at,
            _,
            organization,
            _,
            _,
            facility,
            counterparty,
            mass,
            details,
            _,
            corrects,
            _,
            _,
        ) = row
        mass = Decimal(mass) if mass is not None else None
        if kind == EventKind.CORRECTED and corrects:
            fields, corrected_mass = corrections.get(corrects, ({}, None))
            fields = {**fields, **details.get("corrections", {})}
            corrections[corrects] = (fields, mass if mass is not None else corrected_mass)
        by_lot[lot_id].append(
            EventView(
                lot_id,
                seq,
                uuid,
                kind,
                datetime.fromisoformat(occurred_at),
                organization,
                facility,
                counterparty,
                mass,
                details,
            )
        )
    if corrections:
        for lot_id, lot_events in by_lot.items():
            by_lot[lot_id] = [_corrected(event, corrections) for event in lot_events]
    return by_lot


def _corrected(event: EventView, corrections) -> EventView:
    if event.uuid not in corrections:
        return event
    fields, mass = corrections[event.uuid]
    return event._replace(
        details={**event.details, **fields}, mass_kg=mass if mass is not None else event.mass_kg
    )


def _manifest_stats(lots: dict[int, LotRow], events: dict[int, list[EventView]]):
    """Drive counts and sanitization coverage of each pickup, as its registered event recorded
    them (the ledger, not the editable manifest table, is what the verdict trusts)."""
    drives: dict[int, dict[str, int]] = {}
    unsanitized: dict[int, int] = {}
    for lot in lots.values():
        if not lot.source_facility_id:
            continue
        manifest = events[lot.id][0].details.get("manifest", {})
        if manifest.get("drives"):
            drives[lot.id] = manifest["drives"]
            unsanitized[lot.id] = manifest.get("unsanitized_drives", 0)
    return drives, unsanitized


def _legs(events: list[EventView]):
    """(dispatched, received or None) for each dispatch of a lot, in order."""
    open_dispatch = None
    for event in events:
        if event.kind == EventKind.DISPATCHED:
            open_dispatch = event
        elif event.kind == EventKind.RECEIVED and open_dispatch is not None:
            yield open_dispatch, event
            open_dispatch = None
    if open_dispatch is not None:
        yield open_dispatch, None


# --- The rules --------------------------------------------------------------------------------


class Rules:
    def __init__(self, policy: OriginPolicy, now: datetime):
        self.policy = policy
        self.now = now
        self.allowed = {str(code) for code in policy.allowed_countries}
        self.denied = {str(code) for code in policy.denied_countries}
        self.max_transit = timedelta(days=policy.max_transit_days)
        self.content = {window.category: window for window in policy.content.all()}
        self.yields = {(w.input_material, w.output_material): w for w in policy.yields.all()}
        self.required: dict[str, set[str]] = defaultdict(set)
        for requirement in policy.certification_requirements.all():
            self.required[requirement.role].add(requirement.scheme)
        self._certified_cache: dict[tuple[int, date], str | None] = {}

    def finding(self, code, severity, ledger, event_or_lot, message) -> Finding:
        if isinstance(event_or_lot, EventView):
            lot = ledger.lots[event_or_lot.lot_id]
            return Finding(code, severity, lot.code, event_or_lot.uuid, event_or_lot.seq, message)
        return Finding(code, severity, event_or_lot.code, None, None, message)

    def broken_chains(self, ledger: UpstreamLedger):
        for broken in verify_rows(ledger.raw_rows).broken:
            yield Finding(
                "broken_chain",
                VIOLATION,
                broken.lot_code,
                broken.event_uuid,
                broken.seq,
                f"The hash chain of {broken.lot_code} does not verify at event #{broken.seq}: "
                f"{broken.reason}.",
            )

    def jurisdictions(self, ledger: UpstreamLedger):
        for lot_events in ledger.events.values():
            flagged = set()
            for event in lot_events:
                places = []
                if event.kind in HELD_AT_FACILITY:
                    places.append((event.facility_id, "held or processed at"))
                if event.kind in (EventKind.DISPATCHED, EventKind.DELIVERED):
                    places.append((event.counterparty_id, f"{event.kind} to"))
                for facility_id, verb in places:
                    facility = ledger.facility(facility_id)
                    if facility is None or facility_id in flagged:
                        continue
                    country = ledger.countries[facility_id]
                    lot = ledger.lots[event.lot_id].code
                    if country in self.denied:
                        flagged.add(facility_id)
                        yield self.finding(
                            "denied_jurisdiction",
                            VIOLATION,
                            ledger,
                            event,
                            f"{lot} was {verb} {facility} in {facility.country.name}, a denied "
                            f"jurisdiction under {self.policy.name}.",
                        )
                    elif self.allowed and country not in self.allowed:
                        flagged.add(facility_id)
                        yield self.finding(
                            "foreign_custody",
                            VIOLATION,
                            ledger,
                            event,
                            f"{lot} was {verb} {facility} in {facility.country.name}, outside "
                            f"the allowed jurisdictions ({', '.join(sorted(self.allowed))}).",
                        )

    def handoffs(self, ledger: UpstreamLedger):
        tolerance = self.policy.transit_loss_tolerance
        days = self.policy.max_transit_days
        for lot_id, lot_events in ledger.events.items():
            code = ledger.lots[lot_id].code
            for dispatched, received in _legs(lot_events):
                destination = ledger.facility(dispatched.counterparty_id)
                if received is None:
                    waited = self.now - dispatched.occurred_at
                    if waited > self.max_transit:
                        yield self.finding(
                            "open_handoff",
                            VIOLATION,
                            ledger,
                            dispatched,
                            f"{code} was dispatched to {destination} {waited.days} days ago and "
                            f"never received; the limit is {days} days.",
                        )
                    else:
                        yield self.finding(
                            "open_handoff",
                            MISSING_EVIDENCE,
                            ledger,
                            dispatched,
                            f"{code} is in transit to {destination} (dispatched "
                            f"{_ago(waited)} ago, within the {days}-day limit); its receipt "
                            "is still to come.",
                        )
                    continue
                took = received.occurred_at - dispatched.occurred_at
                if took > self.max_transit:
                    yield self.finding(
                        "open_handoff",
                        VIOLATION,
                        ledger,
                        received,
                        f"{code} took {took.days} days to reach {destination}; the limit is "
                        f"{days} days.",
                    )
                if received.details.get("seals_intact") is False:
                    yield self.finding(
                        "seal_broken",
                        VIOLATION,
                        ledger,
                        received,
                        f"{code} arrived at {destination} with broken seals.",
                    )
                sent, got = dispatched.mass_kg, received.mass_kg
                if sent and got is not None and sent - got > sent * tolerance:
                    yield self.finding(
                        "transit_loss",
                        VIOLATION,
                        ledger,
                        received,
                        f"{code} left with {sent} kg and arrived with {got} kg: "
                        f"{sent - got} kg ({(sent - got) / sent:.1%}) lost in transit, beyond "
                        f"the {tolerance:.1%} tolerance.",
                    )

    def transformations(self, ledger: UpstreamLedger):
        inputs, outputs = defaultdict(list), defaultdict(list)
        for lot_events in ledger.events.values():
            for event in lot_events:
                if event.kind == EventKind.TRANSFORMED:
                    role = inputs if event.details.get("role") == "input" else outputs
                    role[event.details["transformation"]].append(event)
        tolerance = self.policy.transformation_loss_tolerance
        for transformation in ledger.transformations.values():
            made = outputs[str(transformation["uuid"])]
            if not made:
                continue
            consumed, out = transformation["consumed_kg"], transformation["output_kg"]
            residue = transformation["residue_kg"]
            loss = consumed - out - residue
            where = ledger.facility(transformation["facility_id"])
            if consumed and loss > consumed * tolerance:
                yield self.finding(
                    "unbalanced_transformation",
                    VIOLATION,
                    ledger,
                    made[0],
                    f"The {transformation['kind']} at {where} consumed {consumed} kg, made "
                    f"{out} kg and declared {residue} kg of residues: {loss} kg "
                    f"({loss / consumed:.1%}) is unaccounted for, beyond the {tolerance:.1%} "
                    "tolerance.",
                )
            yield from self._yields(ledger, inputs[str(transformation["uuid"])], made)

    def _yields(self, ledger, consumed_events, made_events):
        for material in {event.details.get("material") for event in made_events}:
            made = sum(e.mass_kg for e in made_events if e.details.get("material") == material)
            anchor = next(e for e in made_events if e.details.get("material") == material)
            low = high = Decimal(0)
            basis = []
            for event in consumed_events:
                source = ledger.lots[event.lot_id]
                window = self.yields.get((source.material, material))
                drive_range = self._drive_content(ledger, source, event, material)
                if drive_range is not None:
                    low, high = low + drive_range[0], high + drive_range[1]
                    basis.append(f"the drives of {source.code}")
                elif window is not None:
                    low += event.mass_kg * window.min_ratio
                    high += event.mass_kg * window.max_ratio
                    basis.append(f"{event.mass_kg} kg of {source.material}")
                else:
                    basis = None  # an input with no window: no judgement on this output
                    break
            if not basis:
                continue
            low, high = low.quantize(GRAMS), high.quantize(GRAMS)
            if made < low:
                yield self.finding(
                    "yield_shortfall",
                    VIOLATION,
                    ledger,
                    anchor,
                    f"{made} kg of {material} came from {', '.join(basis)}, which should give "
                    f"{low} to {high} kg: material leaked.",
                )
            elif made > high:
                yield self.finding(
                    "yield_excess",
                    VIOLATION,
                    ledger,
                    anchor,
                    f"{made} kg of {material} came from {', '.join(basis)}, which can give at "
                    f"most {high} kg: foreign feed may have been mixed in.",
                )

    def _drive_content(self, ledger, source: LotRow, event: EventView, material: str):
        """The NdFeB range, in kg, of the drives consumed from a pickup lot, if the policy has
        content windows for them."""
        if material != "ndfeb_magnets" or source.id not in ledger.drives:
            return None
        registered = ledger.events[source.id][0]
        fraction = event.mass_kg / registered.mass_kg if registered.mass_kg else Decimal(1)
        low = high = Decimal(0)
        for category, count in ledger.drives[source.id].items():
            window = self.content.get(category)
            if window is None:
                return None
            low += count * fraction * window.min_grams / 1000
            high += count * fraction * window.max_grams / 1000
        return low, high

    def certifications(self, ledger: UpstreamLedger):
        """One finding per uncertified facility: its first event without the certification."""
        flagged = set()
        for lot_events in ledger.events.values():
            for event in lot_events:
                if event.kind not in HELD_AT_FACILITY or event.facility_id in flagged:
                    continue
                facility = ledger.facility(event.facility_id)
                missing = self._missing_certification(facility, event.occurred_at.date())
                if missing:
                    flagged.add(event.facility_id)
                    yield self.finding(
                        "uncertified_custodian",
                        VIOLATION,
                        ledger,
                        event,
                        f"{facility} had no valid {missing} certification on "
                        f"{event.occurred_at.date()} when it held "
                        f"{ledger.lots[event.lot_id].code}.",
                    )

    def _missing_certification(self, facility: Facility, day: date) -> str | None:
        key = (facility.pk, day)
        if key not in self._certified_cache:
            missing = None
            for role in facility.organization.roles.all():
                schemes = self.required.get(role.code)
                if schemes and not any(
                    cert.scheme in schemes and cert.is_valid_on(day)
                    for cert in facility.certifications.all()
                ):
                    missing = " or ".join(sorted(CertificationScheme(s).label for s in schemes))
                    break
            self._certified_cache[key] = missing
        return self._certified_cache[key]

    def sanitization(self, ledger: UpstreamLedger):
        for lot_id, drives in ledger.drives.items():
            lot_events = ledger.events[lot_id]
            registered = lot_events[0]
            missing = ledger.unsanitized.get(lot_id, 0)
            code = ledger.lots[lot_id].code
            if missing:
                yield self.finding(
                    "unsanitized_media",
                    VIOLATION,
                    ledger,
                    registered,
                    f"{missing} of the {sum(drives.values())} drives of {code} have no "
                    "sanitization record (NIST SP 800-88 method and date).",
                )

    def origins(self, ledger: UpstreamLedger):
        children_with_parents = {child for _, child, _, _ in ledger.links}
        for lot in ledger.lots.values():
            if lot.id not in children_with_parents and not lot.source_facility_id:
                first = ledger.events[lot.id][0] if ledger.events.get(lot.id) else lot
                yield self.finding(
                    "unknown_origin",
                    MISSING_EVIDENCE,
                    ledger,
                    first,
                    f"{lot.code} ({lot.material}) reaches no data-center pickup: where its "
                    "material came from is not on the ledger.",
                )


def _ago(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} days" if hours >= 48 else f"{hours} hours"
