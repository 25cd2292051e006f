"""The append-only ledger of custody events. Data only."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from recyclers.models import Facility, Organization

from ..kinds import EventKind
from .lots import MASS, Lot


class CustodyEvent(models.Model):
    """One append-only, hash-chained record of what happened to a lot.

    Rows are never updated or deleted: a database trigger refuses it (migration 0002).
    ``hash`` is SHA-256 over the canonical serialization in ``custody.hashing``, which includes
    ``prev_hash``, the hash of the lot's previous event.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: ``event_unique_seq_per_lot`` (lot, seq) serves every lookup by lot.
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="events", db_index=False)
    seq = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    occurred_at = models.DateTimeField(help_text="Business time: when it happened.")
    recorded_at = models.DateTimeField(help_text="Record time: when the ledger learnt of it.")
    actor_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="recorded_events"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="recorded_events",
        null=True,
        blank=True,
    )
    actor_api_key_prefix = models.CharField(max_length=16, blank=True)
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="events", null=True, blank=True
    )
    counterparty_facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="counterparty_events",
        null=True,
        blank=True,
    )
    mass_kg = models.DecimalField(**MASS, null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    evidence = models.JSONField(
        default=list, blank=True, help_text="SHA-256 digests of evidence documents."
    )
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="corrections", null=True, blank=True
    )
    idempotency_key = models.CharField(max_length=200, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["lot_id", "seq"]
        constraints = [
            # One event per position: a race can never fork a chain.
            models.UniqueConstraint(fields=["lot", "seq"], name="event_unique_seq_per_lot"),
            # A constraint, not ``unique=True``, which on PostgreSQL adds a second index for
            # LIKE on the same random keys (nothing searches hashes by prefix). Every write
            # touched a random page of each: at a million events, twice the pages read and the
            # WAL written per event (``EXPLAIN (ANALYZE, BUFFERS, WAL)``, README Performance).
            models.UniqueConstraint(fields=["hash"], name="event_unique_hash"),
            models.UniqueConstraint(
                fields=["actor_organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="event_unique_idempotency_key",
            ),
        ]
        indexes = [models.Index(fields=["kind"]), models.Index(fields=["recorded_at"])]

    def __str__(self) -> str:
        return f"{self.lot.code}#{self.seq} {self.kind}"
