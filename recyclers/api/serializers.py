"""Serializers of partner reference data that other apps' APIs show too."""

from rest_framework import serializers


class FacilityRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    gln = serializers.CharField(
        read_only=True, help_text="GS1 Global Location Number (13 digits); empty if none."
    )
    name = serializers.CharField(read_only=True)
    organization = serializers.CharField(source="organization.slug", read_only=True)
    country = serializers.CharField(source="country.code", read_only=True)
