"""``/webhooks/``: a partner's webhook subscriptions."""

from django.core.validators import URLValidator
from rest_framework import mixins, serializers, viewsets

from ..models import EventKind, WebhookSubscription
from ..services.webhook_targets import TargetRefused, resolve_target
from .auth import request_actor
from .idempotency import idempotent
from .inputs import Strict


class WebhookURL(serializers.URLField):
    """An absolute URL, checked (scheme first, then form, then where it leads) by
    ``custody.services.webhook_targets`` rather than by Django's URL validator alone."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [each for each in self.validators if not isinstance(each, URLValidator)]


class WebhookSubscriptionSerializer(Strict, serializers.ModelSerializer):
    """Unknown fields are refused. ``url`` is ``https`` to a public address: a name that
    resolves to a loopback, private, link-local, multicast, reserved or unspecified address is
    refused (``webhook_url_not_allowed``), as are other schemes (``webhook_scheme_not_allowed``)
    and names that do not resolve (``webhook_host_unresolved``)."""

    url = WebhookURL(max_length=500)
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices), required=False, max_length=20
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "event_kinds", "secret", "is_active", "created_at"]
        read_only_fields = ["secret", "created_at"]

    def validate_url(self, url: str) -> str:
        try:
            resolve_target(url)
        except TargetRefused as refused:
            raise serializers.ValidationError(refused.message, code=refused.code) from None
        return url


class WebhookSubscriptionViewSet(
    mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    """The caller's webhook subscriptions: each event of a lot it may see is POSTed to the URL,
    signed with the subscription's secret (``Webhook-Signature: t=...,v1=...``)."""

    serializer_class = WebhookSubscriptionSerializer
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return WebhookSubscription.objects.filter(
            organization=request_actor(self.request).organization
        )

    def perform_create(self, serializer):
        serializer.save(organization=request_actor(self.request).organization)

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)
