"""Origin policies: data the operators edit, saved with their rules through
``custody.services.policies.save_origin_policy`` (which versions them)."""

from django.contrib import admin

from ..models import CertificationRequirement, DriveContentWindow, OriginPolicy, YieldWindow
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
    inlines = [DriveContentWindowInline, YieldWindowInline, CertificationRequirementInline]
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
            changed=form.has_changed() or any(formset.has_changed() for formset in formsets),
        )
