"""Partners: organizations, their facilities and certifications, and who works for them.

Reference data, edited in the admin. Every change to an organization (its roles too), a
facility, a certification or a membership is kept in an append-only history table
(django-simple-history; ``history``): who, when, and the whole row as it became, so that the
old and new value of every field can be read back, and a verdict can read a facility as it was
when an event was recorded.
"""

from datetime import date

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django_countries.fields import CountryField
from rest_framework_api_key.models import AbstractAPIKey
from simple_history.models import HistoricalRecords

from .gs1 import validate_gln


class Role(models.TextChoices):
    OPERATOR = "operator", "Platform operator"
    SOURCE = "source", "Source (data-center operator)"
    CARRIER = "carrier", "Carrier"
    RECYCLER = "recycler", "Recycler / scrap trader / dismantler"
    SEPARATOR = "separator", "Separator"
    REFINERY = "refinery", "Refinery"
    BUYER = "buyer", "Buyer"
    AUDITOR = "auditor", "Auditor"


def reference_history(**options) -> HistoricalRecords:
    """An append-only history of a reference-data model. The user is kept as an id, not a
    foreign key: deleting a user would otherwise rewrite (set to null) the history rows that
    name them, and those rows are never updated. ``updated_at`` would only add noise to every
    diff."""
    return HistoricalRecords(
        history_user_id_field=models.IntegerField(null=True, blank=True, db_index=True),
        **options,
    )


# Operators and auditors see every lot (DESIGN invariant 8).
SEES_EVERYTHING = frozenset({Role.OPERATOR, Role.AUDITOR})


class OrganizationRole(models.Model):
    """One role an organization plays; rows are fixed and installed by a migration."""

    code = models.CharField(primary_key=True, max_length=16, choices=Role.choices)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


class Organization(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    country = CountryField(help_text="Country of incorporation.")
    roles = models.ManyToManyField(OrganizationRole, related_name="organizations")
    website = models.URLField(blank=True)
    contact_email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = reference_history(m2m_fields=[roles], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def role_codes(self) -> frozenset[str]:
        """Read once per instance: a request asks several times (writer? operator? auditor?)."""
        return frozenset(role.code for role in self.roles.all())

    def has_role(self, role: str) -> bool:
        return role in self.role_codes

    @property
    def sees_everything(self) -> bool:
        """Operators and auditors see every lot (DESIGN invariant 8)."""
        return not self.role_codes.isdisjoint(SEES_EVERYTHING)


class FacilityKind(models.TextChoices):
    DATA_CENTER = "data_center", "Data center"
    WAREHOUSE = "warehouse", "Warehouse / depot"
    RECYCLING_PLANT = "recycling_plant", "Recycling / dismantling plant"
    SEPARATION_PLANT = "separation_plant", "Separation plant"
    REFINERY = "refinery", "Refinery"
    MAGNET_PLANT = "magnet_plant", "Magnet plant"
    OFFICE = "office", "Office"
    OTHER = "other", "Other"


class Facility(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="facilities"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=FacilityKind.choices)
    country = CountryField()
    region = models.CharField(max_length=100, blank=True, help_text="State or province.")
    city = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=300, blank=True)
    gln = models.CharField(
        "GLN",
        max_length=13,
        blank=True,
        validators=[validate_gln],
        help_text="GS1 Global Location Number, 13 digits with its check digit.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = reference_history(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["organization__name", "name"]
        verbose_name_plural = "facilities"
        constraints = [
            models.UniqueConstraint(
                fields=["gln"], condition=~Q(gln=""), name="facility_unique_gln"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country.code})"


class CertificationScheme(models.TextChoices):
    R2V3 = "r2v3", "R2v3"
    E_STEWARDS = "e_stewards", "e-Stewards"
    ISO_14001 = "iso_14001", "ISO 14001"
    ISO_45001 = "iso_45001", "ISO 45001"
    ISO_9001 = "iso_9001", "ISO 9001"
    RMAP = "rmap", "RMAP (Responsible Minerals Assurance Process)"
    NAID_AAA = "naid_aaa", "NAID AAA"
    OTHER = "other", "Other"


class CertificationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class Certification(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="certifications")
    scheme = models.CharField(max_length=32, choices=CertificationScheme.choices)
    number = models.CharField(max_length=100)
    issued_by = models.CharField(max_length=200, blank=True, help_text="Certification body.")
    valid_from = models.DateField()
    valid_until = models.DateField()
    status = models.CharField(
        max_length=16, choices=CertificationStatus.choices, default=CertificationStatus.ACTIVE
    )
    document_sha256 = models.CharField(
        "document SHA-256",
        max_length=64,
        blank=True,
        validators=[RegexValidator(r"^[0-9a-f]{64}$", "Lower-case hex SHA-256 expected.")],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = reference_history(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["facility", "scheme", "-valid_until"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "scheme", "number"], name="certification_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="certification_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.number}"

    def is_valid_on(self, day: date) -> bool:
        return (
            self.status == CertificationStatus.ACTIVE and self.valid_from <= day <= self.valid_until
        )


class Membership(models.Model):
    """A user acts for an organization; custody events record both."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    is_admin = models.BooleanField(default=False, help_text="May manage the organization's keys.")
    created_at = models.DateTimeField(auto_now_add=True)
    history = reference_history()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization}"


class OrganizationAPIKey(AbstractAPIKey):
    """An API key issued to an organization: stored hashed, shown once, prefix visible,
    expiry and revocation managed in the admin. Events recorded with it name its prefix."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "organization API key"
        verbose_name_plural = "organization API keys"
