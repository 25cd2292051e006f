"""Origin policies: data the operators edit, saved with their rules through
``custody.services.policies.save_origin_policy``, which records each changed save as a new
version; the versions are shown read-only on the policy's page, with who saved them, when, and
what changed."""

from django.contrib import admin
from django.utils.html import format_html_join

from ..models import (
    CertificationRequirement,
    DriveContentWindow,
    OriginPolicy,
    OriginPolicyVersion,
    YieldWindow,
)
from ..selectors.policies import content_changes
from ..services.policies import save_origin_policy


class DriveContentWindowInline(admin.TabularInline):
    model = DriveContentWindow
    extra = 0
    verbose_name_plural = "NdFeB content per drive (grams)"


class YieldWindowInline(admin.TabularInline):
    model = YieldWindow
    extra = 0
    verbose_name_plural = "yield windows (output mass per input mass)"


class CertificationRequirementInline(admin.TabularInline):
    model = CertificationRequirement
    extra = 0
    verbose_name_plural = "certifications required per role (any one listed for a role)"


class OriginPolicyVersionInline(admin.TabularInline):
    """Every version, newest first, as it was saved: nothing here can be edited or deleted."""

    model = OriginPolicyVersion
    extra = 0
    can_delete = False
    verbose_name_plural = (
        "versions (each verdict names the one it applied: assess LOT --policy slug@N)"
    )
    fields = ["number", "saved_at", "saved_by", "changes", "content_sha256"]
    readonly_fields = fields
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("saved_by")

    @admin.display(description="changes from the version before")
    def changes(self, version: OriginPolicyVersion) -> str:
        previous = (
            OriginPolicyVersion.objects.filter(policy=version.policy_id, number__lt=version.number)
            .order_by("-number")
            .first()
        )
        lines = content_changes(previous and previous.content, version.content)
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))


@admin.register(OriginPolicy)
class OriginPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "version",
        "is_default",
        "allowed",
        "denied",
        "max_transit_days",
        "updated_at",
    ]
    readonly_fields = ["version", "updated_at"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [
        DriveContentWindowInline,
        YieldWindowInline,
        CertificationRequirementInline,
        OriginPolicyVersionInline,
    ]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "is_default", "version", "updated_at"]}),
        ("Jurisdictions", {"fields": ["allowed_countries", "denied_countries"]}),
        (
            "Tolerances",
            {
                "fields": [
                    "max_transit_days",
                    "transit_loss_tolerance",
                    "transformation_loss_tolerance",
                ]
            },
        ),
    ]

    @admin.display(description="allowed")
    def allowed(self, policy: OriginPolicy) -> str:
        return ", ".join(str(code) for code in policy.allowed_countries) or "anywhere"

    @admin.display(description="denied")
    def denied(self, policy: OriginPolicy) -> str:
        return ", ".join(str(code) for code in policy.denied_countries) or "-"

    def save_model(self, request, obj, form, change):
        """Saved with its rules by ``save_related``, through the policy service."""

    def save_related(self, request, form, formsets, change):
        save_origin_policy(
            policy=form.instance,
            save_rules=lambda: super(OriginPolicyAdmin, self).save_related(
                request, form, formsets, change
            ),
            saved_by=request.user,
        )

    def get_readonly_fields(self, request, obj=None):
        """A policy's slug names its versions (``slug@N``): fixed once it exists."""
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj else self.prepopulated_fields
