"""Least knowledge as a record (DESIGN invariant 8): which partner may see which lot, and each
partner's event feed. Data only; both tables are append-only (triggers, migration 0010),
written by ``custody.services``: the visibility in the ledger transaction of the event that
grants it, the feed as the transparency log integrates the events (migration 0015)."""

from django.db import models

from recyclers.models import Organization

from .events import CustodyEvent
from .lots import Lot


class LotVisibility(models.Model):
    """From ``granted_by`` on, ``organization`` (a partner) may see ``lot``: that event was at
    one of its facilities, named one of them as the destination of a dispatch, or delivered the
    lot to one of them. Visibility only grows: one row per partner and lot, never changed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="lot_visibilities", db_index=False
    )
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="visibilities")
    # No constraint: an event is never deleted (the append-only trigger refuses it, and says so
    # to the ORM too), and one deleted behind the trigger's back is verify_ledger's to find.
    granted_by = models.ForeignKey(
        CustodyEvent,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Also the index of every "may this partner see these lots?" question.
            models.UniqueConstraint(fields=["organization", "lot"], name="one_visibility_per_lot")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} sees {self.lot_id} from event {self.granted_by_id}"


class FeedEntry(models.Model):
    """One event in one partner's feed (``GET /api/v1/events/``), which pages entries by id.

    Written by the transparency log's integrator (``custody.services.transparency_log.write_feed``)
    for each event it takes, in log order, which is commit order: one entry per partner that
    may see the event's lot as of that event, and, for the event that granted a partner the
    lot, one for each of the lot's earlier events, right before it. Only the integrator writes
    entries, one integration at a time, so an entry's id is its place in the feed: an entry
    with a larger id committed after every entry with a smaller one, and a reader whose cursor
    stands at an id has missed nothing below it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="feed_entries", db_index=False
    )
    event = models.ForeignKey(  # no constraint, as ``LotVisibility.granted_by``
        CustodyEvent,
        on_delete=models.DO_NOTHING,
        related_name="feed_entries",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name_plural = "feed entries"
        constraints = [
            # Each event once per feed.
            models.UniqueConstraint(fields=["organization", "event"], name="one_entry_per_event")
        ]
        # A feed page: one partner's entries after the cursor, in id order.
        indexes = [models.Index(fields=["organization", "id"], name="feedentry_feed")]

    def __str__(self) -> str:
        return f"{self.organization_id}: event {self.event_id}"
