"""Webhooks: the partners' subscriptions, and the delivery log (read-only)."""

from django.contrib import admin

from ..models import WebhookDelivery, WebhookSubscription
from .common import ReadOnlyAdmin


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["organization", "url", "event_kinds", "is_active", "created_at"]
    list_filter = ["is_active", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["url", "organization__name"]
    readonly_fields = ["secret", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: status, attempts, last answer and error, next try."""

    list_display = [
        "created_at",
        "subscription",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", ("subscription__organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["subscription__url", "event__lot__code", "last_error"]
    list_select_related = ["subscription__organization", "event__lot"]
    date_hierarchy = "created_at"
