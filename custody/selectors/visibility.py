"""Least knowledge (DESIGN invariant 8): which lots an organization may see, and its event feed.

Operators and auditors see every lot. A partner sees a lot it has held (any event at one of its
facilities), a lot whose open dispatch names one of its facilities, and a lot delivered to it.
Visibility only grows (a dispatch leaves transit only by its destination's receipt), so the
services record it as it is granted (``LotVisibility``, ``custody.services.visibility``) and
every question here reads that record. ``visible_lots_by_rule`` states the rule itself, from the
events; the tests hold the record equal to it at every step of a lot's life.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from recyclers.models import SEES_EVERYTHING, Organization

from ..errors import DomainError, ErrorCode
from ..models import CustodyEvent, EventKind, Lot, LotStatus, LotVisibility


def visible_lots(organization: Organization) -> QuerySet[Lot]:
    """Every lot the organization may see; every other lot does not exist for it."""
    lots = Lot.objects.all()
    if organization.sees_everything:
        return lots
    recorded = LotVisibility.objects.filter(lot=OuterRef("pk"), organization=organization)
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


def settled_events(organization: Organization) -> QuerySet[CustodyEvent]:
    """The event feed: every event the organization may see, once, in the order of
    ``position``, less those written in the last ``FEED_SETTLE_SECONDS``.

    An operator's or auditor's feed is every event, by id. A partner's is its feed entries, by
    entry id: an event of a lot it may see, or an earlier event of a lot it has just been
    granted (the history of a lot dispatched to it after it read past that history). Ids are
    taken when a transaction inserts, not when it commits, so a younger row could otherwise be
    read before an older one commits, and a cursor that moved past its id would never see it."""
    settled = timezone.now() - timedelta(seconds=settings.FEED_SETTLE_SECONDS)
    if organization.sees_everything:
        return CustodyEvent.objects.filter(recorded_at__lte=settled).annotate(position=F("pk"))
    # One join: the annotation reuses the filter's join to the organization's entries.
    return CustodyEvent.objects.filter(
        feed_entries__organization=organization, feed_entries__recorded_at__lte=settled
    ).annotate(position=F("feed_entries__id"))


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


def sees_lot(lot: Lot, organization_field: str) -> Q:
    """The same rule seen from the lot: a filter on rows whose ``organization_field`` names an
    organization, keeping those that may see ``lot`` (one query for any number of them)."""
    organization = OuterRef(organization_field)
    everything = Organization.roles.through.objects.filter(
        organization=organization, organizationrole__in=SEES_EVERYTHING
    )
    recorded = LotVisibility.objects.filter(lot_id=lot.pk, organization=organization)
    return Q(Exists(everything)) | Q(Exists(recorded))
