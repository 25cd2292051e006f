from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from recyclers.api.filters import IdFilter

from ..models import Lot, LotStatus, Material, VerdictOutcome


class UtcDateTimeField(IsoDateTimeField):
    """ISO 8601, turned to UTC: PostgreSQL refuses offsets beyond +-15:59, which ISO 8601
    parsers accept. A time outside years 1 to 9999 in UTC (``0001-01-01T00:00:00+01:00``) is
    invalid, not an overflow."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError(
                "The time is outside the years 1 to 9999 in UTC.", code="overflow"
            ) from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class StrictBooleanField(forms.NullBooleanField):
    """``true`` or ``false`` (``1``, ``0``): anything else is invalid, not "no filter", which
    would answer ``?quarantined=yes`` with every lot."""

    widget = forms.TextInput  # hands the value over as sent (NullBooleanSelect drops the rest)

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = value.lower() if isinstance(value, str) else value
        if text in (True, "true", "1"):
            return True
        if text in (False, "false", "0"):
            return False
        raise ValidationError("Use true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class LotFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LotStatus.choices)
    material = django_filters.ChoiceFilter(choices=Material.choices)
    custodian = IdFilter(field_name="custodian_id")
    custodian_gln = django_filters.CharFilter(field_name="custodian__gln")
    source_facility = IdFilter(field_name="source_facility_id")
    verdict = django_filters.ChoiceFilter(
        field_name="verdict__outcome", choices=VerdictOutcome.choices
    )
    quarantined = StrictBooleanFilter()
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Lot
        fields = []
