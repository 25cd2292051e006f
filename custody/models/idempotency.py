"""Stored responses of partner writes, so that a retry gets the first answer."""

from django.db import models

from recyclers.models import Organization


class IdempotencyRecord(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path and body of the first request."
    )
    status = models.PositiveSmallIntegerField()
    # JSON text, not jsonb: a refusal may quote a field name with a NUL in it, which jsonb
    # cannot hold and JSON text escapes.
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="one_record_per_key")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.organization_id}:{self.key}"
