"""Partner reference data: every partner may read the organizations, facilities and
certifications it must name in its custody events."""

import django_filters
from rest_framework import serializers, viewsets

from ..models import Certification, Facility, FacilityKind, Organization
from .filters import IdFilter
from .serializers import FacilityRefSerializer


class OrganizationSerializer(serializers.ModelSerializer):
    roles = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    country = serializers.CharField(source="country.code", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "slug", "name", "country", "roles", "is_active"]


class FacilitySerializer(FacilityRefSerializer):
    kind = serializers.ChoiceField(choices=FacilityKind.choices, read_only=True)
    region = serializers.CharField(read_only=True, help_text="State or province.")
    city = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)


class CertificationSerializer(serializers.ModelSerializer):
    facility = FacilityRefSerializer(read_only=True)

    class Meta:
        model = Certification
        fields = [
            "id",
            "facility",
            "scheme",
            "number",
            "issued_by",
            "valid_from",
            "valid_until",
            "status",
        ]


class FacilityFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    country = django_filters.CharFilter()
    gln = django_filters.CharFilter()

    class Meta:
        model = Facility
        fields = []


class CertificationFilter(django_filters.FilterSet):
    facility = IdFilter(field_name="facility_id")
    scheme = django_filters.CharFilter()
    status = django_filters.CharFilter()

    class Meta:
        model = Certification
        fields = []


class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Organization.objects.prefetch_related("roles")
    serializer_class = OrganizationSerializer
    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"  # a slug: anything else (a NUL) is a 404


class FacilityViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Facility.objects.select_related("organization")
    serializer_class = FacilitySerializer
    filterset_class = FacilityFilter
    lookup_value_regex = "[0-9]{1,18}"


class CertificationViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Certification.objects.select_related("facility__organization")
    serializer_class = CertificationSerializer
    filterset_class = CertificationFilter
    lookup_value_regex = "[0-9]{1,18}"
