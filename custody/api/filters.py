import django_filters

from ..models import Lot, LotStatus, Material, VerdictOutcome


class LotFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LotStatus.choices)
    material = django_filters.ChoiceFilter(choices=Material.choices)
    custodian = django_filters.NumberFilter(field_name="custodian_id")
    custodian_gln = django_filters.CharFilter(field_name="custodian__gln")
    source_facility = django_filters.NumberFilter(field_name="source_facility_id")
    verdict = django_filters.ChoiceFilter(
        field_name="verdict__outcome", choices=VerdictOutcome.choices
    )
    quarantined = django_filters.BooleanFilter()
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Lot
        fields = []
