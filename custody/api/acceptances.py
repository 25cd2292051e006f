"""``/certification-acceptances/``: acceptances of certifications recorded after the events they
cover. Every partner reads them (they are cited by verdicts); an operator or auditor records
one (``custody.services.accept_certification``)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from recyclers.models import Certification

from .. import services
from ..models import CertificationAcceptance
from .auth import request_actor
from .common import parsed
from .idempotency import idempotent
from .inputs import Strict


class AcceptanceInput(Strict):
    certification = serializers.PrimaryKeyRelatedField(queryset=Certification.objects.all())
    reason = serializers.CharField(
        max_length=services.acceptances.MAX_REASON_LENGTH, allow_blank=True, trim_whitespace=False
    )


class AcceptanceSerializer(serializers.ModelSerializer):
    facility = serializers.IntegerField(source="certification.facility_id")
    certification_version = serializers.IntegerField(
        source="certification_version_id",
        help_text="The certification's history record accepted: a later edit is not.",
    )
    accepted_by = serializers.SlugRelatedField(
        source="accepted_by_organization", slug_field="slug", read_only=True
    )

    class Meta:
        model = CertificationAcceptance
        fields = [
            "id",
            "certification",
            "certification_version",
            "facility",
            "accepted_by",
            "accepted_at",
            "reason",
        ]


class CertificationAcceptanceViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Acceptances, newest first. ``POST`` (an operator's or auditor's key) accepts a
    certification as it is recorded now, with a ``reason``: verdicts then count it for events
    recorded before it, and cite the acceptance."""

    serializer_class = AcceptanceSerializer
    queryset = CertificationAcceptance.objects.select_related(
        "certification", "accepted_by_organization"
    )
    lookup_value_regex = "[0-9]{1,18}"

    @extend_schema(request=AcceptanceInput, responses={201: AcceptanceSerializer})
    @idempotent
    def create(self, request, *args, **kwargs):
        data = parsed(AcceptanceInput, request)
        acceptance = services.accept_certification(
            actor=request_actor(request),
            certification=data["certification"],
            reason=data["reason"],
        )
        return Response(AcceptanceSerializer(acceptance).data, status=status.HTTP_201_CREATED)
