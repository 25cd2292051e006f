"""The operator admin for partners: organizations, facilities, certifications, memberships.

Reference data, edited here directly (unlike lots and events, which only ``custody.services``
writes). The list pages annotate or join what they show, so that no row costs a query. Every
change is kept: each page's "History" lists who changed what and when, with each field's old
and new value; the history can be read, never changed, deleted or reverted from.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django_countries.filters import CountryFilter
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Certification,
    CertificationStatus,
    Facility,
    Membership,
    Organization,
    OrganizationAPIKey,
)


def country_filter(title: str) -> type[CountryFilter]:
    """A country filter titled ``title`` that lists only the countries in use, also across a
    relation (``custodian__country``), instead of all 250 countries of the field's choices."""

    class TitledCountryFilter(CountryFilter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return TitledCountryFilter


def valid_certifications_filter(day) -> Q:
    """Certifications of a facility (seen from ``Facility``) that are active and in date."""
    return Q(
        certifications__status=CertificationStatus.ACTIVE,
        certifications__valid_from__lte=day,
        certifications__valid_until__gte=day,
    )


class ReferenceHistoryAdmin(SimpleHistoryAdmin):
    """An admin whose "History" page shows every change with its old and new values. A past
    version opens read-only: simple-history's revert form would save it back (a POST the
    setting ``SIMPLE_HISTORY_REVERT_DISABLED`` only hides the button of), so it is refused."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied("The history of reference data is read-only.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class FacilityInline(admin.TabularInline):
    """The organization's sites, for a glance; each is edited on its own page."""

    model = Facility
    fields = ["name", "kind", "country", "region", "city", "gln", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "is_admin", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(ReferenceHistoryAdmin):
    list_display = ["name", "slug", "country", "role_list", "is_active"]
    list_filter = ["roles", ("country", country_filter("country")), "is_active"]
    search_fields = ["name", "slug", "legal_name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "legal_name", "country", "roles", "is_active"]}),
        ("Contact", {"fields": ["website", "contact_email"]}),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    formfield_overrides = {
        models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple},
        models.URLField: {"assume_scheme": "https"},
    }
    inlines = [FacilityInline, MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("roles")

    @admin.display(description="roles")
    def role_list(self, organization: Organization) -> str:
        return ", ".join(role.get_code_display() for role in organization.roles.all()) or "-"


class CertificationInline(admin.TabularInline):
    model = Certification
    fields = ["scheme", "number", "issued_by", "valid_from", "valid_until", "status"]
    extra = 0


@admin.register(Facility)
class FacilityAdmin(ReferenceHistoryAdmin):
    list_display = [
        "name",
        "organization",
        "kind",
        "country",
        "region",
        "gln",
        "is_active",
        "valid_certifications",
    ]
    list_filter = [
        "kind",
        ("country", country_filter("country")),
        "is_active",
        ("organization", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "gln", "city", "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["organization", "name", "kind", "gln", "is_active"]}),
        ("Location", {"fields": ["country", "region", "city", "address"]}),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [CertificationInline]

    def get_queryset(self, request):
        today = timezone.localdate()
        return (
            super()
            .get_queryset(request)
            .annotate(
                valid_certification_count=Count(
                    "certifications", filter=valid_certifications_filter(today)
                )
            )
        )

    @admin.display(description="valid certifications", ordering="valid_certification_count")
    def valid_certifications(self, facility: Facility) -> int:
        return facility.valid_certification_count


@admin.register(Certification)
class CertificationAdmin(ReferenceHistoryAdmin):
    list_display = [
        "facility",
        "scheme",
        "number",
        "valid_from",
        "valid_until",
        "status",
        "valid_today",
    ]
    list_filter = ["scheme", "status", ("facility__country", country_filter("facility country"))]
    search_fields = ["number", "facility__name"]
    date_hierarchy = "valid_until"
    list_select_related = ["facility"]
    autocomplete_fields = ["facility"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="valid today", boolean=True)
    def valid_today(self, certification: Certification) -> bool:
        return certification.is_valid_on(timezone.localdate())


@admin.register(Membership)
class MembershipAdmin(ReferenceHistoryAdmin):
    list_display = ["user", "organization", "is_admin", "created_at"]
    list_filter = ["is_admin", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]
    readonly_fields = ["created_at"]


# The library registers an admin for its own APIKey model, whose keys belong to no organization
# and which the API rejects: keys are made in one place, Organization API keys below.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(OrganizationAPIKey)
class OrganizationAPIKeyAdmin(APIKeyModelAdmin):
    """Issue keys (shown once on save), see their prefix, set expiry, revoke."""

    list_display = [*APIKeyModelAdmin.list_display, "organization"]
    list_filter = [*APIKeyModelAdmin.list_filter, "organization"]
    search_fields = [*APIKeyModelAdmin.search_fields, "organization__name"]
    autocomplete_fields = ["organization"]
