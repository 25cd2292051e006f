"""Acceptances of retroactive certifications: an operator's or auditor's recorded act that lets
a certification entered after the events it covers count for them (README, "Reference data
history")."""

from django.conf import settings
from django.db import models

from recyclers.models import Certification, Organization


class CertificationAcceptance(models.Model):
    """Who accepted which version of a certification, when and why. Append-only (a database
    trigger, like the events); a verdict cites every acceptance it relied on."""

    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="acceptances"
    )
    # The history record accepted: a later edit of the certification is not accepted with it.
    certification_version = models.ForeignKey(
        Certification.history.model, on_delete=models.PROTECT, related_name="+"
    )
    accepted_by_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="certification_acceptances"
    )
    accepted_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certification_acceptances",
    )
    accepted_by_api_key_prefix = models.CharField(max_length=16, blank=True)
    accepted_at = models.DateTimeField()
    reason = models.TextField(help_text="Why the certification counts for events before it.")

    class Meta:
        ordering = ["-accepted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification_version"], name="acceptance_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.certification} accepted by {self.accepted_by_organization}"
