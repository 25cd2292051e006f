"""Least knowledge as a record (DESIGN invariant 8), written with the events it follows from.

A partner may see a lot from the first event that names one of its facilities where the lot is
held or processed (``facility``), that dispatches the lot to one of them or that delivers it to
one of them (``counterparty_facility`` of a dispatch, a delivery, or a correction of a
dispatch's destination). It keeps seeing it: a lot in
transit leaves transit only when its destination receives it. ``record_visibility`` writes a
``LotVisibility`` the first time, and the partners' feed entries: one per new event and partner
that may see its lot after it, and, for a partner that has just been granted a lot, one for each
of the lot's earlier events. Operators and auditors see everything and get neither.
"""

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Exists, OuterRef

from recyclers.models import SEES_EVERYTHING, Facility, Organization

from ..models import CustodyEvent, EventKind, FeedEntry, LotVisibility

# Kinds whose counterparty facility's organization may see the lot from then on (a correction
# names one when it corrects the destination of the lot's open dispatch).
NAMES_RECEIVER = frozenset({EventKind.DISPATCHED, EventKind.DELIVERED, EventKind.CORRECTED})


def granted_facilities(event: CustodyEvent) -> list[int]:
    """The facilities whose organizations may see the event's lot once it is recorded."""
    facilities = [event.facility_id]
    if event.kind in NAMES_RECEIVER:
        facilities.append(event.counterparty_facility_id)
    return [pk for pk in facilities if pk is not None]


def record_visibility(events: Sequence[CustodyEvent]) -> None:
    """Write the visibility the events grant and the feed entries they make, for events just
    inserted (with their ids and record time), in a few statements whatever their number:
    read who sees their lots and which partners their facilities belong to, insert the new
    visibility, read the earlier events of lots newly granted, insert the entries."""
    now = events[0].recorded_at
    partner_of = _partners_of(
        {pk for event in events for pk in granted_facilities(event)}
    )  # facility id -> organization id, for partners' facilities only
    seers = _seers({event.lot_id for event in events if event.seq > 1})
    grants: list[LotVisibility] = []
    audiences: list[tuple[CustodyEvent, list[int]]] = []
    for event in events:
        seeing = seers[event.lot_id]
        for facility in granted_facilities(event):
            organization = partner_of.get(facility)
            if organization is not None and organization not in seeing:
                seeing.add(organization)
                grants.append(
                    LotVisibility(
                        organization_id=organization,
                        lot_id=event.lot_id,
                        granted_by=event,
                        created_at=now,
                    )
                )
        audiences.append((event, sorted(seeing)))
    LotVisibility.objects.bulk_create(grants)
    earlier = _earlier_events([grant for grant in grants if grant.granted_by.seq > 1])
    entries = []
    granted_at = defaultdict(list)
    for grant in grants:
        granted_at[grant.granted_by_id].append(grant)
    for event, audience in audiences:
        for grant in granted_at[event.pk]:  # the lot's history first, in its order
            entries += [
                FeedEntry(organization_id=grant.organization_id, event_id=pk, recorded_at=now)
                for pk in earlier.get((grant.lot_id, event.seq), ())
            ]
        entries += [
            FeedEntry(organization_id=organization, event_id=event.pk, recorded_at=now)
            for organization in audience
        ]
    FeedEntry.objects.bulk_create(entries)


def _partners_of(facility_ids: set[int]) -> dict[int, int]:
    """``{facility: its organization}`` for those of the facilities that belong to a partner
    (an organization that does not see everything already)."""
    if not facility_ids:
        return {}
    sees_everything = Organization.roles.through.objects.filter(
        organization=OuterRef("organization_id"), organizationrole__in=SEES_EVERYTHING
    )
    rows = (
        Facility.objects.filter(pk__in=facility_ids)
        .filter(~Exists(sees_everything))
        .values_list("pk", "organization_id")
    )
    return dict(rows)


def _seers(lot_ids: set[int]) -> defaultdict[int, set[int]]:
    """``{lot: the partners that may see it}`` as recorded so far (lots whose first event is
    among the new ones have none)."""
    seers = defaultdict(set)
    if lot_ids:
        rows = LotVisibility.objects.filter(lot_id__in=lot_ids)
        for organization, lot in rows.values_list("organization_id", "lot_id"):
            seers[lot].add(organization)
    return seers


def _earlier_events(grants: list[LotVisibility]) -> dict[tuple[int, int], list[int]]:
    """``{(lot, seq of the granting event): ids of the lot's events before it, in order}``."""
    if not grants:
        return {}
    wanted = defaultdict(set)
    for grant in grants:
        wanted[grant.lot_id].add(grant.granted_by.seq)
    rows = (
        CustodyEvent.objects.filter(lot_id__in=wanted, seq__lt=max(map(max, wanted.values())))
        .order_by("lot_id", "seq")
        .values_list("lot_id", "seq", "pk")
    )
    earlier = defaultdict(list)
    for lot, seq, pk in rows:
        for granting_seq in wanted[lot]:
            if seq < granting_seq:
                earlier[(lot, granting_seq)].append(pk)
    return earlier
