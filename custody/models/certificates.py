"""Certificates of origin and the acts that revoke or supersede them. Data only.

A certificate is the signed credential (a UNTP Digital Product Passport as a VC-JWT) with what
it was issued against: the policy version, the signed checkpoint of the transparency log and
the Merkle root over every event upstream of the lot. It never changes once issued; a later
verdict or a correction does not rewrite it (the verification page says the ledger has moved
on). Both tables are append-only (database triggers, migration 0015).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from recyclers.models import Organization

from .lots import Lot
from .policies import VerdictOutcome
from .policy_versions import OriginPolicyVersion


class Certificate(models.Model):
    """One issued certificate of origin. Its id is a random UUID: the public verification page
    must not let anyone enumerate certificates."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="certificates")
    # Built for this organization: its exports and PDF disclose no more than it may learn.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="certificates"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_certificates",
    )
    issued_at = models.DateTimeField()
    policy = models.ForeignKey(
        OriginPolicyVersion, on_delete=models.PROTECT, related_name="certificates"
    )
    outcome = models.CharField(max_length=16, choices=VerdictOutcome.choices)
    assessed_at = models.DateTimeField()
    token = models.TextField(help_text="The credential, a VC-JWT (application/vc+jwt).")
    kid = models.CharField(max_length=500, help_text="The key that signed it (DID URL).")
    tree_size = models.BigIntegerField(help_text="The log's size at the checkpoint it names.")
    checkpoint = models.TextField(help_text="The signed note it was issued against.")
    upstream_root = models.CharField(max_length=64)
    upstream_events = models.IntegerField()
    ledger_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the ledger CSV.")

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["lot", "-issued_at"])]

    def __str__(self) -> str:
        return f"certificate {self.id} of {self.lot.code}"


class CertificateAction(models.TextChoices):
    REVOKED = "revoked", "Revoked"
    SUPERSEDED = "superseded", "Superseded"


class CertificateAct(models.Model):
    """An operator's recorded act on a certificate: revoked, or superseded by a new one. Once
    per certificate (unique), with a reason; the verification page shows it."""

    certificate = models.OneToOneField(Certificate, on_delete=models.PROTECT, related_name="act")
    action = models.CharField(max_length=16, choices=CertificateAction.choices)
    superseded_by = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
    )
    reason = models.TextField()
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificate_acts"
    )
    acted_at = models.DateTimeField()

    class Meta:
        ordering = ["-acted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="superseded", superseded_by__isnull=False)
                | Q(action="revoked", superseded_by__isnull=True),
                name="certificate_act_superseded_names_successor",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="certificate_act_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} {self.action}"
