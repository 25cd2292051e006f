"""Reports: the jobs that produce a certificate's PDF, a ledger export or an audit pack. Data
only. A report is a mutable job record (status, progress); what it issues (a ``Certificate``)
and the file it writes (to Django's default storage, with its SHA-256) are not."""

import uuid

from django.conf import settings
from django.db import models

from recyclers.models import Organization

from .certificates import Certificate
from .lots import Lot
from .policy_versions import OriginPolicyVersion


class ReportKind(models.TextChoices):
    CERTIFICATE = "certificate", "Certificate of origin (PDF)"
    LEDGER_CSV = "ledger_csv", "Upstream ledger (CSV)"
    AUDIT_PACK = "audit_pack", "Audit pack (zip)"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Report(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="reports")
    # Requested by (and built for): another organization's report is unknown to it.
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="reports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requested_reports",
    )
    policy = models.ForeignKey(
        OriginPolicyVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the default policy's latest version when the report runs.",
    )
    certificate = models.ForeignKey(
        Certificate, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="report_progress_at_most_100"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.lot.code} ({self.status})"
