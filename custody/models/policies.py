"""Origin policies: the rules a verdict applies, as data that operators edit in the admin."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from recyclers.models import CertificationScheme, Role

from ..kinds import AssetCategory, Material
from .lots import Lot

FRACTION = {
    "max_digits": 6,
    "decimal_places": 4,
    "validators": [MinValueValidator(0), MaxValueValidator(1)],
}


class OriginPolicy(models.Model):
    """Allowed and denied jurisdictions, tolerances, windows and required certifications.

    What operators edit. Each save that changes what it says records the next
    ``OriginPolicyVersion`` (``custody.services.policies``), immutable; ``version`` is the latest
    one's number. A verdict applies a version's stored content, never this row's."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    is_default = models.BooleanField(
        default=False, help_text="The policy a verdict applies when none is named."
    )
    allowed_countries = CountryField(
        multiple=True, blank=True, help_text="Where custody may sit. Empty: anywhere not denied."
    )
    denied_countries = CountryField(
        multiple=True, blank=True, help_text="Covered countries: custody there is never allowed."
    )
    max_transit_days = models.PositiveIntegerField(
        default=14, help_text="A dispatch not received within this many days is an open handoff."
    )
    transit_loss_tolerance = models.DecimalField(
        **FRACTION,
        default="0.0200",
        help_text="Share of the dispatched mass that may go missing in transit (0.02 = 2 %).",
    )
    transformation_loss_tolerance = models.DecimalField(
        **FRACTION,
        default="0.0500",
        help_text="Share of the consumed mass that a transformation may lose undeclared.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "origin policies"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_policy"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class DriveContentWindow(models.Model):
    """Grams of NdFeB magnet one drive of a category holds, from ... to."""

    policy = models.ForeignKey(OriginPolicy, on_delete=models.CASCADE, related_name="content")
    category = models.CharField(max_length=16, choices=AssetCategory.choices)
    min_grams = models.DecimalField(max_digits=8, decimal_places=2)
    max_grams = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "category"], name="one_window_per_category"),
            models.CheckConstraint(
                condition=Q(min_grams__lte=models.F("max_grams")), name="content_window_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.min_grams}-{self.max_grams} g NdFeB"


class YieldWindow(models.Model):
    """Output mass per input mass of one process step (input material to output material)."""

    policy = models.ForeignKey(OriginPolicy, on_delete=models.CASCADE, related_name="yields")
    input_material = models.CharField(max_length=32, choices=Material.choices)
    output_material = models.CharField(max_length=32, choices=Material.choices)
    min_ratio = models.DecimalField(max_digits=6, decimal_places=4)
    max_ratio = models.DecimalField(max_digits=6, decimal_places=4)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "input_material", "output_material"], name="one_window_per_step"
            ),
            models.CheckConstraint(
                condition=Q(min_ratio__lte=models.F("max_ratio")), name="yield_window_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.input_material} -> {self.output_material}: {self.min_ratio}-{self.max_ratio}"


class CertificationRequirement(models.Model):
    """A facility of an organization with ``role`` must hold a valid certification of one of the
    schemes listed for that role, on the day of each custody event there."""

    policy = models.ForeignKey(
        OriginPolicy, on_delete=models.CASCADE, related_name="certification_requirements"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    scheme = models.CharField(max_length=32, choices=CertificationScheme.choices)

    class Meta:
        ordering = ["role", "scheme"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "role", "scheme"], name="one_requirement")
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.get_scheme_display()}"


class VerdictOutcome(models.TextChoices):
    VERIFIED = "verified", "Verified"
    UNVERIFIED = "unverified", "Unverified"
    NON_COMPLIANT = "non_compliant", "Non-compliant"


class LotVerdict(models.Model):
    """The latest verdict on a lot, kept so that lists can filter by it. Always recomputable:
    ``custody.selectors.verdicts.assess`` is the source of truth."""

    lot = models.OneToOneField(Lot, on_delete=models.CASCADE, related_name="verdict")
    outcome = models.CharField(max_length=16, choices=VerdictOutcome.choices)
    policy = models.ForeignKey(OriginPolicy, on_delete=models.PROTECT, related_name="verdicts")
    policy_version = models.PositiveIntegerField()
    findings = models.JSONField(default=list)
    assessed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["outcome"])]

    def __str__(self) -> str:
        return f"{self.lot} {self.outcome}"
