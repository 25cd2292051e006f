"""What a partner learns of lots it may not see (DESIGN invariant 8; README, "Partner API").

A trace or a verdict of a lot the partner may see reaches upstream (or downstream) lots it never
held. Of those, it learns what a certificate of origin would state, and what was wrong with them,
but not their masses, custodians, facilities or events:

* a trace names such a lot by code, material and depth: no mass, status, custodian or country;
  a link's mass shows only when the partner may see the child (whose ``transformed`` event lists
  the mass from each input). Contributions name the data centers and their shares.
* a verdict keeps its outcome, the pickups and data centers with their shares and the countries.
  A finding on such a lot keeps its code, severity, lot and position in the chain (``seq``); its
  message becomes a neutral sentence of the code and the countries of the event's facilities, and
  the event's uuid is left out (it names an event the partner cannot open, and would let it match
  the same hidden event across verdicts). A mass-balance row on lots the partner has not all seen
  keeps its kind, date and lots, and names its facilities by country only, without masses. The
  facilities listed are those of the lots it may see and the data centers; an accepted
  certification of another facility names it by country only. Facilities and countries are
  as recorded when each event was (the verdict's own reading of the history).

Operators and auditors see everything: they get the trace and the verdict whole.
"""

import dataclasses
import re
from datetime import datetime
from typing import NamedTuple

from recyclers.models import Organization

from ..models import EventKind, Lot, OriginPolicy, OriginPolicyVersion
from .genealogy import UP, Trace, trace, upstream
from .verdicts import Finding, Verdict, assess
from .visibility import may_see_lot_ids


def trace_for(organization: Organization, lot: Lot, direction: str = UP) -> Trace:
    """The genealogy of ``lot`` as ``organization`` may see it."""
    genealogy = trace(lot, direction)
    if organization.sees_everything:
        return genealogy
    lot_ids = [lot.pk, *(node.id for node in genealogy.nodes)]
    return redacted_trace(genealogy, may_see_lot_ids(organization, lot_ids))


def redacted_trace(genealogy: Trace, visible: set[int]) -> Trace:
    """The genealogy less what it says of lots outside ``visible`` (lot ids)."""
    withheld = dict.fromkeys(("mass_kg", "status", "quarantined", "custodian", "country"))
    nodes = [node if node.id in visible else node._replace(**withheld) for node in genealogy.nodes]
    links = [
        (parent, child, mass if child in visible else None)
        for parent, child, mass in genealogy.links
    ]
    return Trace(root=genealogy.root, direction=genealogy.direction, nodes=nodes, links=links)


def verdict_for(
    organization: Organization,
    lot: Lot,
    policy: OriginPolicy | OriginPolicyVersion | None = None,
    *,
    now: datetime | None = None,
) -> Verdict:
    """The verdict on ``lot`` as ``organization`` may read it."""
    verdict = assess(lot, policy, now=now)
    if organization.sees_everything:
        return verdict
    lot_ids = [lot.pk, *upstream(lot)]
    return redacted_verdict(verdict, may_see_lot_ids(organization, lot_ids))


class WithheldStep(NamedTuple):
    """A mass-balance row on lots the caller has not all seen: what happened, when, to which
    lots, and in which countries; no masses, no facility names."""

    kind: str
    facility: str  # "a facility in US", or "a facility in US -> a facility in CA" for a transit
    occurred_at: datetime
    lots_in: tuple[str, ...]
    lots_out: tuple[str, ...]
    mass_in_kg: None = None
    mass_out_kg: None = None
    residue_kg: None = None
    loss_kg: None = None


def redacted_verdict(verdict: Verdict, visible: set[int]) -> Verdict:
    """The verdict less what it says of lots outside ``visible`` (lot ids)."""
    seen = set(Lot.objects.filter(pk__in=visible).values_list("code", flat=True))
    places = verdict.event_places  # as recorded when each event was
    findings = [
        finding
        if finding.lot in seen
        else dataclasses.replace(
            finding, event=None, message=_neutral(finding, places.get(finding.event))
        )
        for finding in verdict.findings
    ]
    mass_balance = [
        step if {*step.lots_in, *step.lots_out} <= seen else _withheld(step)
        for step in verdict.mass_balance
    ]
    known = {data_center for _, data_center, _ in verdict.pickups}.union(
        *(verdict.facilities_by_lot.get(code, ()) for code in seen)
    )
    accepted = [
        cited
        if cited.facility in known
        else cited._replace(facility=f"a facility in {cited.country}")
        for cited in verdict.accepted_certifications
    ]
    return dataclasses.replace(
        verdict,
        findings=findings,
        mass_balance=mass_balance,
        facilities=[label for label in verdict.facilities if label in known],
        accepted_certifications=accepted,
    )


def _neutral(finding: Finding, place: tuple[str, str | None, str | None] | None) -> str:
    """What was wrong, where by country only: "LOT-2026-000012: transit_loss from a facility in
    US to a facility in US."."""
    kind, here, there = place or (None, None, None)
    if there and kind in (EventKind.DISPATCHED, EventKind.DELIVERED):
        where = f" from a facility in {here} to a facility in {there}"
    elif there and kind == EventKind.RECEIVED:
        where = f" from a facility in {there} to a facility in {here}"
    elif here:
        where = f" at a facility in {here}"
    else:
        where = ""
    return f"{finding.lot}: {finding.code}{where}."


# A facility's label is "Name (CC)" (``Facility.__str__``); a transit's is two, joined by " -> ".
_COUNTRY = re.compile(r"\(([A-Z]{2})\)$")


def _withheld(step) -> WithheldStep:
    parts = step.facility.split(" -> ") if step.kind == "transit" else [step.facility]
    where = []
    for part in parts:
        country = _COUNTRY.search(part)
        where.append(f"a facility in {country.group(1)}" if country else "a facility")
    return WithheldStep(
        kind=step.kind,
        facility=" -> ".join(where),
        occurred_at=step.occurred_at,
        lots_in=step.lots_in,
        lots_out=step.lots_out,
    )
