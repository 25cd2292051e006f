"""Least knowledge (DESIGN invariant 8): which lots an organization may see."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from recyclers.models import Organization

from ..models import CustodyEvent, EventKind, Lot, LotStatus


def visible_lots(organization: Organization) -> QuerySet[Lot]:
    """Operators and auditors see every lot. A partner sees a lot it has held (any event at one
    of its facilities), a lot whose open dispatch names one of its facilities, and a lot
    delivered to it. Every other lot does not exist for it."""
    lots = Lot.objects.all()
    if organization.sees_everything:
        return lots
    held = CustodyEvent.objects.filter(lot=OuterRef("pk"), facility__organization=organization)
    delivered = CustodyEvent.objects.filter(
        lot=OuterRef("pk"),
        kind=EventKind.DELIVERED,
        counterparty_facility__organization=organization,
    )
    inbound = Q(status=LotStatus.IN_TRANSIT, destination__organization=organization)
    return lots.filter(Exists(held) | inbound | Exists(delivered))


def visible_events(organization: Organization) -> QuerySet[CustodyEvent]:
    events = CustodyEvent.objects.all()
    if organization.sees_everything:
        return events
    return events.filter(lot__in=visible_lots(organization).values("pk"))
