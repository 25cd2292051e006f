from datetime import UTC

import django_filters

from recyclers.api.filters import IdFilter

from ..models import Lot, LotStatus, Material, VerdictOutcome


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
