"""``/webhooks/``: a partner's webhook subscriptions."""

from rest_framework import mixins, serializers, viewsets

from ..models import EventKind, WebhookSubscription
from .auth import request_actor
from .idempotency import idempotent


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices), required=False, max_length=20
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "event_kinds", "secret", "is_active", "created_at"]
        read_only_fields = ["secret", "created_at"]


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
