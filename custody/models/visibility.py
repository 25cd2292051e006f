"""Least knowledge as a record (DESIGN invariant 8): which partner may see which lot, and each
partner's event feed. Data only; both tables are append-only (triggers, migration 0010) and
written by ``custody.services`` in the ledger transaction of the events they follow from."""

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

    An entry is written for each new event to every partner that may see its lot after it, and,
    when a lot becomes visible to a partner, for each of the lot's earlier events: so a partner
    that reads its feed to the end still gets the history of a lot it is dispatched later.
    ``recorded_at`` is when the entry was written (the record time of the events written with
    it): the feed holds entries back by it, since ids are taken at insert, not at commit, and an
    entry for an old event is as young as the transaction that wrote it."""

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
    recorded_at = models.DateTimeField()

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
