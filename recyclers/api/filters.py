"""Filters shared by the APIs."""

import django_filters
from django import forms

BIGINT = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A database id: a whole number the database can hold, or a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=BIGINT, **kwargs)
