"""Least knowledge (DESIGN invariant 8): which lots an organization may see."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from recyclers.models import SEES_EVERYTHING, Facility, Organization

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


def may_see(organization: Organization, lot: Lot) -> bool:
    """The same rule for one lot, reading only that lot's events (``visible_lots`` would hash
    every lot the organization ever held: fine for a list, wasteful for one lot)."""
    if organization.sees_everything:
        return True
    if lot.status == LotStatus.IN_TRANSIT and lot.destination_id is not None:
        destination = lot.destination
        if destination.organization_id == organization.pk:
            return True
    return (
        CustodyEvent.objects.filter(lot_id=lot.pk)
        .filter(
            Q(facility__organization=organization)
            | Q(kind=EventKind.DELIVERED, counterparty_facility__organization=organization)
        )
        .exists()
    )


def sees_lot(lot: Lot, organization_field: str) -> Q:
    """The same rule seen from the lot: a filter on rows whose ``organization_field`` names an
    organization, keeping those that may see ``lot`` (one query for any number of them)."""
    organization = OuterRef(organization_field)
    everything = Organization.roles.through.objects.filter(
        organization=organization, organizationrole__in=SEES_EVERYTHING
    )
    events = CustodyEvent.objects.filter(lot_id=lot.pk)
    held = events.filter(facility__organization=organization)
    delivered = events.filter(
        kind=EventKind.DELIVERED, counterparty_facility__organization=organization
    )
    rule = Q(Exists(everything)) | Q(Exists(held)) | Q(Exists(delivered))
    if lot.status == LotStatus.IN_TRANSIT and lot.destination_id is not None:
        inbound = Facility.objects.filter(pk=lot.destination_id, organization=organization)
        rule |= Q(Exists(inbound))
    return rule
