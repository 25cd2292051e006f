from datetime import UTC

import django_filters
from django import forms

from ..models import Lot, LotStatus, Material, VerdictOutcome

BIGINT = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A database id: a whole number the database can hold, or a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=BIGINT, **kwargs)


class LotFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LotStatus.choices)
    material = django_filters.ChoiceFilter(choices=Material.choices)
    custodian = IdFilter(field_name="custodian_id")
    custodian_gln = django_filters.CharFilter(field_name="custodian__gln")
    source_facility = IdFilter(field_name="source_facility_id")
    verdict = django_filters.ChoiceFilter(
        field_name="verdict__outcome", choices=VerdictOutcome.choices
    )
    quarantined = django_filters.BooleanFilter()
    updated_since = django_filters.IsoDateTimeFilter(method="filter_updated_since")

    class Meta:
        model = Lot
        fields = []

    def filter_updated_since(self, queryset, name, value):
        # In UTC: PostgreSQL refuses offsets beyond +-15:59, which ISO 8601 parsers accept.
        return queryset.filter(updated_at__gte=value.astimezone(UTC))
