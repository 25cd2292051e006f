"""Lots, their asset manifests and the append-only ledger of custody events. Data only."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from recyclers.models import Facility, Organization

MASS = {"max_digits": 14, "decimal_places": 3}
GENESIS_HASH = "0" * 64


class Material(models.TextChoices):
    RETIRED_SERVERS = "retired_servers", "Retired servers"
    HDD = "hdd", "Hard disk drives"
    SSD = "ssd", "Solid-state drives"
    MIXED_ESCRAP = "mixed_escrap", "Mixed e-scrap"
    SHREDDED_HDD = "shredded_hdd", "Shredded HDD"
    NDFEB_MAGNETS = "ndfeb_magnets", "NdFeB magnets"
    MAGNET_SWARF = "magnet_swarf", "Magnet swarf"
    REE_CONCENTRATE = "ree_concentrate", "REE concentrate"
    MIXED_REO = "mixed_reo", "Mixed rare-earth oxides"
    NDPR_OXIDE = "ndpr_oxide", "NdPr oxide"
    ND_OXIDE = "nd_oxide", "Nd oxide"
    PR_OXIDE = "pr_oxide", "Pr oxide"
    DY_OXIDE = "dy_oxide", "Dy oxide"
    TB_OXIDE = "tb_oxide", "Tb oxide"
    NDPR_METAL = "ndpr_metal", "NdPr metal"
    DY_METAL = "dy_metal", "Dy metal"
    TB_METAL = "tb_metal", "Tb metal"
    RESIDUE = "residue", "Residue"


SOURCE_MATERIALS = {
    Material.RETIRED_SERVERS,
    Material.HDD,
    Material.SSD,
    Material.MIXED_ESCRAP,
}


class LotStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    IN_TRANSIT = "in_transit", "In transit"
    RECEIVED = "received", "Received"
    CONSUMED = "consumed", "Consumed"
    DELIVERED = "delivered", "Delivered"
    DISPOSED = "disposed", "Disposed"


CLOSED_STATUSES = {LotStatus.CONSUMED, LotStatus.DELIVERED, LotStatus.DISPOSED}


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

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class AssetCategory(models.TextChoices):
    SERVER = "server", "Server"
    HDD_3_5 = "hdd_3_5", '3.5" hard disk drive'
    HDD_2_5 = "hdd_2_5", '2.5" hard disk drive'
    SSD = "ssd", "Solid-state drive"
    PSU = "psu", "Power supply"
    NETWORK = "network", "Network equipment"
    TAPE = "tape", "Tape cartridge"
    OTHER = "other", "Other"


DRIVE_CATEGORIES = {AssetCategory.HDD_3_5, AssetCategory.HDD_2_5, AssetCategory.SSD}


class SanitizationMethod(models.TextChoices):
    """NIST SP 800-88 media sanitization."""

    CLEAR = "clear", "Clear"
    PURGE = "purge", "Purge"
    DESTROY = "destroy", "Destroy"


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


class EventKind(models.TextChoices):
    REGISTERED = "registered", "Registered"
    DISPATCHED = "dispatched", "Dispatched"
    RECEIVED = "received", "Received"
    WEIGHED = "weighed", "Weighed"
    ASSAYED = "assayed", "Assayed"
    TRANSFORMED = "transformed", "Transformed"
    QUARANTINED = "quarantined", "Quarantined"
    RELEASED = "released", "Released"
    DELIVERED = "delivered", "Delivered"
    DISPOSED = "disposed", "Disposed"
    CORRECTED = "corrected", "Corrected"


class CustodyEvent(models.Model):
    """One append-only, hash-chained record of what happened to a lot.

    Rows are never updated or deleted: a database trigger refuses it (migration 0002).
    ``hash`` is SHA-256 over the canonical serialization in ``custody.hashing``, which includes
    ``prev_hash``, the hash of the lot's previous event.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="events")
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
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["lot_id", "seq"]
        constraints = [
            # One event per position: a race can never fork a chain.
            models.UniqueConstraint(fields=["lot", "seq"], name="event_unique_seq_per_lot"),
            models.UniqueConstraint(
                fields=["actor_organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="event_unique_idempotency_key",
            ),
        ]
        indexes = [models.Index(fields=["kind"]), models.Index(fields=["recorded_at"])]

    def __str__(self) -> str:
        return f"{self.lot.code}#{self.seq} {self.kind}"


class TransformationKind(models.TextChoices):
    SPLIT = "split", "Split"
    MERGE = "merge", "Merge"
    PROCESS = "process", "Process"


class ResidueKind(models.TextChoices):
    PLASTICS = "plastics", "Plastics"
    STEEL = "steel", "Steel"
    ALUMINIUM = "aluminium", "Aluminium"
    COPPER = "copper", "Copper"
    PCB = "pcb", "Printed circuit boards"
    GLASS = "glass", "Glass"
    SLAG = "slag", "Slag"
    DUST = "dust", "Dust"
    WASTEWATER = "wastewater", "Wastewater"
    OTHER = "other", "Other"


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
