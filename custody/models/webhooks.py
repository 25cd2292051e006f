"""Webhooks: partner subscriptions, and the outbox of deliveries written with each event."""

import secrets

from django.db import models

from recyclers.models import Organization

from ..kinds import EventKind
from .events import CustodyEvent


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField(max_length=500)
    event_kinds = models.JSONField(
        default=list, blank=True, help_text=f"Empty: every kind. Kinds: {', '.join(EventKind)}."
    )
    secret = models.CharField(
        max_length=100, default=new_secret, help_text="Signs each delivery (HMAC-SHA256)."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.organization} -> {self.url}"

    def wants(self, kind: str) -> bool:
        return self.is_active and (not self.event_kinds or kind in self.event_kinds)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(models.Model):
    """One event to send to one subscription: written in the event's transaction, sent after
    commit by Celery, retried with exponential backoff until delivered or given up."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(CustodyEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} -> {self.subscription.url} ({self.status})"
