"""The rules of the domestic-origin verdict: each reads the upstream ledger and yields findings,
every one with a ``FindingCode``. What a rule reads of a facility (country, organization roles,
certifications) is what was recorded when the event was (``reference``)."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from recyclers.models import CertificationScheme

from ...findings import FindingCode, Severity
from ...hashing import GRAMS
from ...models import EventKind, OriginPolicyVersion
from ..verification import verify_rows
from .reference import FacilityState
from .standing import Standing, standing
from .types import AcceptedCertification, EventView, Finding, LotRow
from .upstream import UpstreamLedger, transit_legs

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


class Rules:
    """A version of an origin policy, read once from its stored content, as rules: each method
    yields the findings of one rule."""

    def __init__(self, version: OriginPolicyVersion, now: datetime):
        self.policy = policy = version.terms
        self.now = now
        self.allowed = set(policy.allowed_countries)
        self.denied = set(policy.denied_countries)
        self.max_transit = timedelta(days=policy.max_transit_days)
        self.content = {window.category: window for window in policy.content_windows}
        self.yields = {(w.input_material, w.output_material): w for w in policy.yield_windows}
        self.required: dict[str, set[str]] = defaultdict(set)
        for role, scheme in policy.certification_requirements:
            self.required[role].add(scheme)
        self._standings: dict[tuple[int, date, int], Standing] = {}

    def finding(
        self,
        code: FindingCode,
        ledger: UpstreamLedger,
        event_or_lot: EventView | LotRow,
        message: str,
        *,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding about an event (or a lot without events), with the severity its code
        carries unless ``severity`` says otherwise."""
        severity = severity or code.severity
        if isinstance(event_or_lot, EventView):
            lot = ledger.lots[event_or_lot.lot_id]
            return Finding(code, severity, lot.code, event_or_lot.uuid, event_or_lot.seq, message)
        return Finding(code, severity, event_or_lot.code, None, None, message)

    def broken_chains(self, ledger: UpstreamLedger):
        for broken in verify_rows(ledger.raw_rows).broken:
            yield Finding(
                FindingCode.BROKEN_CHAIN,
                FindingCode.BROKEN_CHAIN.severity,
                broken.lot_code,
                broken.event_uuid,
                broken.seq,
                f"The hash chain of {broken.lot_code} does not verify at event #{broken.seq}: "
                f"{broken.reason}.",
            )

    def jurisdictions(self, ledger: UpstreamLedger):
        unchanged = ledger.reference.unchanged.get
        for lot_events in ledger.events.values():
            flagged = set()
            for event in lot_events:
                places = []
                if event.kind in HELD_AT_FACILITY:
                    places.append((event.facility_id, "held or processed at"))
                if event.kind in (EventKind.DISPATCHED, EventKind.DELIVERED):
                    places.append((event.counterparty_id, f"{event.kind} to"))
                for facility_id, verb in places:
                    if facility_id is None or facility_id in flagged:
                        continue
                    facility = unchanged(facility_id) or ledger.place(
                        facility_id, event.recorded_at
                    )
                    country = facility.country
                    lot = ledger.lots[event.lot_id].code
                    if country in self.denied:
                        flagged.add(facility_id)
                        yield self.finding(
                            FindingCode.DENIED_JURISDICTION,
                            ledger,
                            event,
                            f"{lot} was {verb} {facility} in {facility.country_name}, a denied "
                            f"jurisdiction under {self.policy.name}.",
                        )
                    elif self.allowed and country not in self.allowed:
                        flagged.add(facility_id)
                        yield self.finding(
                            FindingCode.FOREIGN_CUSTODY,
                            ledger,
                            event,
                            f"{lot} was {verb} {facility} in {facility.country_name}, outside "
                            f"the allowed jurisdictions ({', '.join(sorted(self.allowed))}).",
                        )

    def handoffs(self, ledger: UpstreamLedger):
        tolerance = self.policy.transit_loss_tolerance
        days = self.policy.max_transit_days
        for lot_id, lot_events in ledger.events.items():
            code = ledger.lots[lot_id].code
            for dispatched, received in transit_legs(lot_events):
                destination = ledger.place(dispatched.counterparty_id, dispatched.recorded_at)
                if received is None:
                    waited = self.now - dispatched.occurred_at
                    if waited > self.max_transit:
                        yield self.finding(
                            FindingCode.OPEN_HANDOFF,
                            ledger,
                            dispatched,
                            f"{code} was dispatched to {destination} {waited.days} days ago and "
                            f"never received; the limit is {days} days.",
                        )
                    else:
                        yield self.finding(
                            FindingCode.OPEN_HANDOFF,
                            ledger,
                            dispatched,
                            f"{code} is in transit to {destination} (dispatched "
                            f"{_ago(waited)} ago, within the {days}-day limit); its receipt "
                            "is still to come.",
                            severity=Severity.MISSING_EVIDENCE,  # not late yet: no violation
                        )
                    continue
                took = received.occurred_at - dispatched.occurred_at
                if took > self.max_transit:
                    yield self.finding(
                        FindingCode.OPEN_HANDOFF,
                        ledger,
                        received,
                        f"{code} took {took.days} days to reach {destination}; the limit is "
                        f"{days} days.",
                    )
                if received.details.get("seals_intact") is False:
                    yield self.finding(
                        FindingCode.SEAL_BROKEN,
                        ledger,
                        received,
                        f"{code} arrived at {destination} with broken seals.",
                    )
                sent, got = dispatched.mass_kg, received.mass_kg
                if sent and got is not None and sent - got > sent * tolerance:
                    yield self.finding(
                        FindingCode.TRANSIT_LOSS,
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
            where = ledger.place(transformation["facility_id"], transformation["recorded_at"])
            if consumed and loss > consumed * tolerance:
                yield self.finding(
                    FindingCode.UNBALANCED_TRANSFORMATION,
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
                    FindingCode.YIELD_SHORTFALL,
                    ledger,
                    anchor,
                    f"{made} kg of {material} came from {', '.join(basis)}, which should give "
                    f"{low} to {high} kg: material leaked.",
                )
            elif made > high:
                yield self.finding(
                    FindingCode.YIELD_EXCESS,
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
        """Per facility, one finding for its first event without a required certification, and
        one for its first event covered only by a certification recorded after it."""
        flagged = set()
        unchanged = ledger.reference.unchanged.get
        for lot_events in ledger.events.values():
            for event in lot_events:
                if event.kind not in HELD_AT_FACILITY:
                    continue
                facility = unchanged(event.facility_id) or ledger.place(
                    event.facility_id, event.recorded_at
                )
                found = self._standing(ledger, facility, event).finding
                if found is None or (facility.id, found) in flagged:
                    continue
                flagged.add((facility.id, found))
                if found == FindingCode.UNCERTIFIED_CUSTODIAN:
                    yield self._uncertified(ledger, facility, event)
                else:
                    yield self._retroactive(ledger, facility, event)

    def _standing(self, ledger: UpstreamLedger, facility: FacilityState, event: EventView):
        day = event.occurred_at.date()
        key = (facility.id, day, ledger.reference.epoch(facility.id, event.recorded_at))
        if key not in self._standings:
            self._standings[key] = standing(
                ledger.reference, self.required, facility, day, event.recorded_at
            )
        return self._standings[key]

    def _uncertified(self, ledger, facility: FacilityState, event: EventView) -> Finding:
        missing = self._standing(ledger, facility, event).missing
        return self.finding(
            FindingCode.UNCERTIFIED_CUSTODIAN,
            ledger,
            event,
            f"{facility} had no valid {_schemes(missing)} certification on "
            f"{event.occurred_at.date()} when it held {ledger.lots[event.lot_id].code}.",
        )

    def _retroactive(self, ledger, facility: FacilityState, event: EventView) -> Finding:
        certification = self._standing(ledger, facility, event).retroactive
        lot = ledger.lots[event.lot_id].code
        return self.finding(
            FindingCode.RETROACTIVE_CERTIFICATION,
            ledger,
            event,
            f"{facility} had no valid {CertificationScheme(certification.scheme).label} "
            f"certification on the ledger when {lot}'s event #{event.seq} was recorded "
            f"({event.recorded_at[:10]}): {certification.label} (valid from "
            f"{certification.valid_from}) was recorded on {certification.recorded_at[:10]}, "
            "after the event. It counts once an operator or auditor accepts it.",
        )

    def accepted_certifications(self, ledger: UpstreamLedger) -> list[AcceptedCertification]:
        """The accepted retroactive certifications this verdict relied on, to be cited."""
        accepted = {
            acceptance.id: acceptance
            for standing_ in self._standings.values()
            for acceptance in standing_.accepted
        }
        return [
            ledger.reference.cited(acceptance)
            for acceptance in sorted(accepted.values(), key=lambda a: (a.accepted_at, a.id))
        ]

    def sanitization(self, ledger: UpstreamLedger):
        for lot_id, drives in ledger.drives.items():
            lot_events = ledger.events[lot_id]
            registered = lot_events[0]
            missing = ledger.unsanitized.get(lot_id, 0)
            code = ledger.lots[lot_id].code
            if missing:
                yield self.finding(
                    FindingCode.UNSANITIZED_MEDIA,
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
                    FindingCode.UNKNOWN_ORIGIN,
                    ledger,
                    first,
                    f"{lot.code} ({lot.material}) reaches no data-center pickup: where its "
                    "material came from is not on the ledger.",
                )


def _schemes(schemes: frozenset[str]) -> str:
    return " or ".join(sorted(CertificationScheme(scheme).label for scheme in schemes))


def _ago(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} days" if hours >= 48 else f"{hours} hours"
