"""The genealogy: transformations and the lot links they write. Data only."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from recyclers.models import Facility, Organization

from ..kinds import TransformationKind
from .lots import MASS, Lot


class Transformation(models.Model):
    """One split, merge or process: input lots (a mass consumed from each) became output lots,
    plus declared residues. Each input and output lot gets a ``transformed`` event whose details
    carry this transformation's ``digest``, so the chains commit to it. Append-only."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=TransformationKind.choices)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="transformations")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    actor_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="transformations"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="transformations",
        null=True,
        blank=True,
    )
    actor_api_key_prefix = models.CharField(max_length=16, blank=True)
    consumed_kg = models.DecimalField(**MASS, help_text="Mass taken from the inputs.")
    output_kg = models.DecimalField(**MASS, help_text="Mass of the output lots.")
    residue_kg = models.DecimalField(**MASS, help_text="Mass of the declared residues.")
    residues = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the canonical description.")

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["actor_organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="transformation_unique_idempotency_key",
            ),
            # Half a gram of slack: SQLite compares decimals as floats (0.9 + 2.1 > 3.0 there).
            models.CheckConstraint(
                condition=Q(
                    consumed_kg__gte=models.F("output_kg")
                    + models.F("residue_kg")
                    - Decimal("0.0005")
                ),
                name="transformation_mass_conserved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.uuid}"

    @property
    def unaccounted_kg(self):
        """Consumed mass neither in an output nor declared as residue: the loss."""
        return self.consumed_kg - self.output_kg - self.residue_kg


class LotLink(models.Model):
    """An edge of the genealogy: ``mass_kg`` of ``child`` came from ``parent``."""

    transformation = models.ForeignKey(
        Transformation, on_delete=models.PROTECT, related_name="links"
    )
    parent = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="child_links", db_index=False
    )
    child = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="parent_links", db_index=False
    )
    mass_kg = models.DecimalField(**MASS)

    class Meta:
        constraints = [
            # Also the index that walks down the genealogy (parent -> children).
            models.UniqueConstraint(fields=["parent", "child"], name="lotlink_unique_edge"),
            models.CheckConstraint(condition=Q(mass_kg__gt=0), name="lotlink_mass_positive"),
        ]
        # Walks up the genealogy (child -> parents) from the index alone.
        indexes = [models.Index(fields=["child", "parent", "mass_kg"], name="lotlink_upstream")]

    def __str__(self) -> str:
        return f"{self.parent_id} -> {self.child_id}: {self.mass_kg} kg"
