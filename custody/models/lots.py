"""Lots and their asset manifests. Data only."""

from django.db import models
from django.db.models import Q

from recyclers.models import Facility

from ..kinds import (
    GENESIS_HASH,
    AssetCategory,
    LotStatus,
    Material,
    SanitizationMethod,
)

MASS = {"max_digits": 14, "decimal_places": 3}


class Lot(models.Model):
    """A quantity of material with one identity.

    Every field below ``projection`` is derived from the lot's events (DESIGN invariant 5) and
    written only by ``custody.services``.
    """

    code = models.CharField(max_length=32, unique=True, editable=False)
    material = models.CharField(max_length=32, choices=Material.choices)
    source_facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="sourced_lots",
        null=True,
        blank=True,
        help_text="The data center of a pickup; empty for lots made by a transformation.",
    )
    external_ref = models.CharField(
        max_length=100, blank=True, help_text="The partner's own reference (ERP, ticket)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # projection
    status = models.CharField(max_length=16, choices=LotStatus.choices)
    custodian = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="held_lots",
        null=True,
        blank=True,
        help_text="The facility holding the lot; empty while in transit.",
    )
    destination = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="inbound_lots",
        null=True,
        blank=True,
        help_text="Named receiver of the open dispatch.",
    )
    quarantined = models.BooleanField(default=False)
    mass_kg = models.DecimalField(**MASS)
    item_count = models.PositiveIntegerField(null=True, blank=True)
    head_seq = models.PositiveIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    last_occurred_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["material"]),
            models.Index(fields=["updated_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(mass_kg__gte=0), name="lot_mass_not_negative"),
        ]

    def __str__(self) -> str:
        return self.code


class Asset(models.Model):
    """One line of a source lot's asset manifest."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="assets")
    line_no = models.PositiveIntegerField()
    category = models.CharField(max_length=16, choices=AssetCategory.choices)
    make = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    serial = models.CharField(max_length=100, blank=True)
    weight_kg = models.DecimalField(**MASS, null=True, blank=True)
    sanitization_method = models.CharField(
        max_length=16, choices=SanitizationMethod.choices, blank=True
    )
    sanitization_certificate = models.CharField(max_length=200, blank=True)
    sanitized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["lot", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "line_no"], name="asset_unique_line"),
            models.UniqueConstraint(
                fields=["lot", "serial"], condition=~Q(serial=""), name="asset_unique_serial"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot.code} #{self.line_no} {self.get_category_display()} {self.serial}"
