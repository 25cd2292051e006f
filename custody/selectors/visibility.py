"""Least knowledge (DESIGN invariant 8): which lots an organization may see, and who may see an
event (a webhook's audience).

Operators and auditors see every lot. A partner sees a lot it has held (any event at one of its
facilities), a lot whose open dispatch names one of its facilities, and a lot delivered to it.
Visibility only grows (a dispatch leaves transit only by its destination's receipt), so the
services record it as it is granted (``LotVisibility``, ``custody.services.visibility``) and
every question here reads that record. ``visible_lots_by_rule`` states the rule itself, from the
events; the tests hold the record equal to it at every step of a lot's life.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db.models import Exists, OuterRef, Q, QuerySet

from recyclers.models import Organization

from ..errors import DomainError, ErrorCode
from ..models import CustodyEvent, EventKind, Lot, LotStatus, LotVisibility


def visible_lots(organization: Organization, within: Q | None = None) -> QuerySet[Lot]:
    """Every lot the organization may see; every other lot does not exist for it.

    ``within`` (a condition on ``lot_id``: where a page of lots by id starts) is also asked of
    the visibility record, so that a partner's page reads its own record's index from there,
    whatever the ledger's size and its share of it: PostgreSQL does not carry a range on the
    lot's id over to the record's."""
    lots = Lot.objects.all()
    if organization.sees_everything:
        return lots
    recorded = LotVisibility.objects.filter(lot=OuterRef("pk"), organization=organization)
    if within is not None:
        recorded = recorded.filter(within)
    return lots.filter(Exists(recorded))


def visible_lots_by_rule(organization: Organization) -> QuerySet[Lot]:
    """The rule as DESIGN states it, read from the events and the lots' state: what the record
    stands for. Not for requests (it reads every event the partner ever recorded)."""
    lots = Lot.objects.all()
    if organization.sees_everything:
        return lots
    held = CustodyEvent.objects.filter(lot=OuterRef("pk"), facility__organization=organization)
    # Named as the receiver: by a delivery, or as the destination of a dispatch (or of a
    # correction of one), which it receives or, redirected, no longer awaits but has seen.
    named = CustodyEvent.objects.filter(
        lot=OuterRef("pk"),
        kind__in=(EventKind.DISPATCHED, EventKind.DELIVERED, EventKind.CORRECTED),
        counterparty_facility__organization=organization,
    )
    inbound = Q(status=LotStatus.IN_TRANSIT, destination__organization=organization)
    return lots.filter(Exists(held) | inbound | Exists(named))


def lots_named(organization: Organization, codes: Iterable[str]) -> dict[str, Lot]:
    """The lots with these codes that the organization may see, by code. A code never issued
    and a lot the organization may not see are alike left out, after the same single query:
    it can tell them apart neither by the answer nor by its time."""
    lots = Lot.objects.filter(code__in=set(codes))
    if organization.sees_everything:
        return {lot.code: lot for lot in lots}
    recorded = LotVisibility.objects.filter(lot=OuterRef("pk"), organization=organization)
    return {lot.code: lot for lot in lots.annotate(seen=Exists(recorded)) if lot.seen}


def unknown_lots(codes: Iterable[str], *, field: str) -> DomainError:
    """The refusal of codes that ``lots_named`` left out, whether they exist or not."""
    return DomainError(ErrorCode.UNKNOWN_LOT, f"No lot {', '.join(codes)}.", field=field)


def may_see(organization: Organization, lot: Lot) -> bool:
    """The same rule for one lot."""
    return lot.pk in may_see_lots(organization, [lot])


def may_see_lots(organization: Organization, lots: Iterable[Lot]) -> set[int]:
    """The ids of those of ``lots`` the organization may see (one query)."""
    return may_see_lot_ids(organization, [lot.pk for lot in lots])


def may_see_lot_ids(organization: Organization, lot_ids: Iterable[int]) -> set[int]:
    """Those of these lot ids the organization may see (one query)."""
    lot_ids = set(lot_ids)
    if organization.sees_everything or not lot_ids:
        return lot_ids
    recorded = LotVisibility.objects.filter(organization=organization, lot_id__in=lot_ids)
    return set(recorded.values_list("lot_id", flat=True))


def lot_audiences(events: Sequence[CustodyEvent], partners: set[int]) -> dict[int, set[int]]:
    """``{event id: those of the partners that may see its lot as of that event}``, in one query
    whatever the number of events and partners: a partner sees an event if its visibility of
    the lot was granted by that event or an earlier one (within a lot, ids follow the chain).
    The events are inserted (they have ids); operators and auditors are not asked."""
    audiences = {event.pk: set() for event in events}
    if not partners or not events:
        return audiences
    granted = defaultdict(list)
    rows = LotVisibility.objects.filter(
        lot_id__in={event.lot_id for event in events}, organization_id__in=partners
    ).values_list("lot_id", "organization_id", "granted_by_id")
    for lot, organization, granted_by in rows:
        granted[lot].append((organization, granted_by))
    for event in events:
        audiences[event.pk] = {
            organization for organization, by in granted[event.lot_id] if by <= event.pk
        }
    return audiences
