"""Webhooks: the partners' subscriptions, and the delivery log (read-only)."""

from django import forms
from django.contrib import admin

from ..models import WebhookDelivery, WebhookSubscription
from ..services.webhook_targets import TargetRefused, resolve_target
from .common import ReadOnlyAdmin


class WebhookSubscriptionForm(forms.ModelForm):
    """The URL is checked as the API checks it (``custody.services.webhook_targets``)."""

    class Meta:
        model = WebhookSubscription
        fields = ["organization", "url", "event_kinds", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            resolve_target(url)
        except TargetRefused as refused:
            raise forms.ValidationError(refused.message, code=refused.code) from None
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
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
