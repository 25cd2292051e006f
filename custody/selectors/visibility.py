"""Least knowledge (DESIGN invariant 8): which lots an organization may see."""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from recyclers.models import SEES_EVERYTHING, Facility, Organization

from ..errors import DomainError, ErrorCode
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


def settled_events(organization: Organization) -> QuerySet[CustodyEvent]:
    """The event feed: the events the organization may see, less those recorded in the last
    ``FEED_SETTLE_SECONDS``. Ids are taken when a transaction inserts, not when it commits, so
    a younger event could otherwise be read before an older one commits, and a cursor that moved
    past its id would never see it."""
    settled = timezone.now() - timedelta(seconds=settings.FEED_SETTLE_SECONDS)
    return visible_events(organization).filter(recorded_at__lte=settled)


def lots_named(organization: Organization, codes: Iterable[str]) -> dict[str, Lot]:
    """The lots with these codes that the organization may see, by code. A code never issued
    and a lot the organization may not see are alike left out: it cannot tell them apart."""
    lots = list(Lot.objects.filter(code__in=set(codes)))
    visible = may_see_lots(organization, lots)
    return {lot.code: lot for lot in lots if lot.pk in visible}


def unknown_lots(codes: Iterable[str], *, field: str) -> DomainError:
    """The refusal of codes that ``lots_named`` left out, whether they exist or not."""
    return DomainError(ErrorCode.UNKNOWN_LOT, f"No lot {', '.join(codes)}.", field=field)


def may_see(organization: Organization, lot: Lot) -> bool:
    """The same rule for one lot."""
    return lot.pk in may_see_lots(organization, [lot])


def may_see_lots(organization: Organization, lots: Iterable[Lot]) -> set[int]:
    """The ids of those of ``lots`` the organization may see: the same rule, reading only these
    lots' events (``visible_lots`` would hash every event the organization ever recorded: fine
    for a list of everything, wasteful for a few lots named in a request)."""
    lots = list(lots)
    if organization.sees_everything:
        return {lot.pk for lot in lots}
    inbound = {
        lot.pk: lot.destination_id
        for lot in lots
        if lot.status == LotStatus.IN_TRANSIT and lot.destination_id is not None
    }
    seen = set()
    if inbound:
        own = Facility.objects.filter(pk__in=set(inbound.values()), organization=organization)
        own = set(own.values_list("pk", flat=True))
        seen = {pk for pk, destination in inbound.items() if destination in own}
    others = [lot.pk for lot in lots if lot.pk not in seen]
    if others:
        # The first such event of each lot, as a subquery with LIMIT 1: PostgreSQL cannot turn
        # it into a join, so it reads each lot's events by index and stops at the first match,
        # whatever its statistics say (as an EXISTS, it once hashed every event in the ledger).
        held_or_delivered = CustodyEvent.objects.filter(lot=OuterRef("pk")).filter(
            Q(facility__organization=organization)
            | Q(kind=EventKind.DELIVERED, counterparty_facility__organization=organization)
        )
        first = Subquery(held_or_delivered.order_by().values("pk")[:1])
        held = Lot.objects.filter(pk__in=others).annotate(first=first).order_by()
        seen |= set(held.filter(first__isnull=False).values_list("pk", flat=True))
    return seen


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
