"""Least knowledge as a record (DESIGN invariant 8), written with the events it follows from,
and the partners' feeds, written as the events enter the transparency log.

A partner may see a lot from the first event that names one of its facilities where the lot is
held or processed (``facility``), that dispatches the lot to one of them or that delivers it to
one of them (``counterparty_facility`` of a dispatch, a delivery, or a correction of a
dispatch's destination). It keeps seeing it: a lot in transit leaves transit only when its
destination receives it. ``record_visibility`` writes a ``LotVisibility`` the first time, in the
ledger transaction. ``feed_entries`` says what the log's integrator appends to the feeds (in its
transaction, ``transparency_log.write_feed``): for each event the log takes, in log order (commit
order), one feed entry per partner that may see its lot as of that event, and,
right before the event that granted a partner the lot, one for each of the lot's earlier
events. Operators and auditors see everything and get neither.
"""

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Exists, F, OuterRef, Q

from recyclers.models import SEES_EVERYTHING, Facility, Organization

from ..models import CustodyEvent, EventKind, LotVisibility

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
    """Write the visibility the events grant, for events just inserted (with their ids and
    record time), in three statements whatever their number: read who sees their lots and which
    partners their facilities belong to, insert the new visibility."""
    partner_of = _partners_of(
        {pk for event in events for pk in granted_facilities(event)}
    )  # facility id -> organization id, for partners' facilities only
    if not partner_of:
        return
    seers = _seers({event.lot_id for event in events if event.seq > 1})
    grants: list[LotVisibility] = []
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
                        created_at=event.recorded_at,
                    )
                )
    LotVisibility.objects.bulk_create(grants)


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


def feed_entries(runs: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The feed entries ``(organization, event)`` the events of these runs (``(first event id,
    last event id, first log index)``, in log order) bring, in the order they enter each feed.

    An event comes to each partner whose ``LotVisibility`` of its lot was granted by it or by an
    earlier event of the lot (within a lot, ids follow the chain). The event that granted it
    brings the lot's earlier events first, in their order: they entered the log before it (a
    lot's writer appends only after the previous one committed), when the partner could not yet
    see them. Two statements whatever the number of events: the events with who sees them, and
    the history of the lots granted."""
    if not runs:
        return []
    taken = Q()
    for first, last, _ in runs:
        taken |= Q(lot__events__pk__range=(first, last))
    rows = (
        LotVisibility.objects.filter(taken, granted_by_id__lte=F("lot__events__pk"))
        .order_by("lot__events__pk", "organization_id")
        .values_list(
            "lot__events__pk", "lot__events__seq", "lot_id", "organization_id", "granted_by_id"
        )
    )
    seen = list(rows)
    history = _histories([(lot, pk) for pk, seq, lot, _, by in seen if by == pk and seq > 1])
    entries = []
    for pk, _, _, organization, granted_by in seen:
        if granted_by == pk:
            entries += [(organization, earlier) for earlier in history[pk]]
        entries.append((organization, pk))
    return entries


def _histories(granting: list[tuple[int, int]]) -> defaultdict[int, list[int]]:
    """``{granting event: ids of its lot's events before it, in order}`` for these ``(lot,
    granting event)``, in one query."""
    history = defaultdict(list)
    if not granting:
        return history
    wanted = defaultdict(list)
    for lot, pk in granting:
        wanted[lot].append(pk)
    rows = (
        CustodyEvent.objects.filter(lot_id__in=wanted, pk__lt=max(pk for _, pk in granting))
        .order_by("lot_id", "pk")
        .values_list("lot_id", "pk")
    )
    for lot, pk in rows:
        for granting_pk in wanted[lot]:
            if pk < granting_pk:
                history[granting_pk].append(pk)
    return history
