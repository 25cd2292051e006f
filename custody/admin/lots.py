"""Lots and their asset manifests. The lot page shows what ``custody.selectors.lot_page`` reads
(timeline, chain check, manifest, genealogy, verdict) and adds only links and HTML: opening it
writes nothing. The lot actions are the admin's only writes, through the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from recyclers.admin import country_filter

from .. import services
from ..actors import Actor
from ..errors import DomainError
from ..models import Asset, Lot
from ..selectors.lot_page import LotPage, lot_page
from ..services.stored_verdicts import reassess_lot
from .certificates import issue_certificates
from .common import ReadOnlyAdmin, operator_or_refuse
from .timeline import timeline_rows


def page_context(page: LotPage) -> dict:
    """The lot page's template context: the selector's answer with the admin's links."""
    lot, report, manifest = page.lot, page.chain, page.manifest
    shares = page.genealogy.contributions
    return {
        "timeline": timeline_rows(page.events, page.carriers),
        "chain_ok": report.ok,
        "chain_broken": [str(broken) for broken in report.broken or []],
        "chain_events": report.events,
        "manifest": {
            "lines": manifest.lines,
            "categories": [
                {
                    "label": row.label,
                    "lines": row.lines,
                    "sanitized": row.sanitized,
                    "is_drive": row.is_drive,
                }
                for row in manifest.categories
            ],
            "drives": manifest.drives,
            "unsanitized_drives": manifest.unsanitized_drives,
            "url": f"{reverse('admin:custody_asset_changelist')}?lot__id__exact={lot.pk}",
        },
        "genealogy": {
            "parents": page.genealogy.parents,
            "children": page.genealogy.children,
            "data_centers": shares.data_centers if shares else [],
            "pickups": len(shares.pickups) if shares else 0,
            "unknown_origin": [row.lot for row in shares.unknown_origin] if shares else [],
        },
        "verdict": {
            "verdict": page.verdict,
            "findings": [
                {"finding": finding, "url": _event_url(page.finding_event_pk(finding))}
                for finding in page.verdict.findings
            ],
        },
    }


def _event_url(pk: int | None) -> str:
    return reverse("admin:custody_custodyevent_change", args=[pk]) if pk else ""


# --- The lot actions: the admin's only writes, through the services -------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Recorded in each lot's custody event and visible to the partners.",
    )


def _lot_service_action(modeladmin, request, queryset, *, service, verb, past):
    membership = operator_or_refuse(modeladmin, request, f"{verb} lots")
    if membership is None:
        return None
    actor = Actor(organization=membership.organization, user=request.user)
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        done = []
        for lot in queryset:
            try:
                service(actor=actor, lot=lot, reason=form.cleaned_data["reason"])
            except DomainError as error:
                modeladmin.message_user(
                    request, f"{lot.code}: {error.message} ({error.code})", messages.ERROR
                )
            else:
                done.append(lot.code)
        if done:
            modeladmin.message_user(
                request,
                ngettext(
                    "%(count)d lot %(past)s: %(codes)s",
                    "%(count)d lots %(past)s: %(codes)s",
                    len(done),
                )
                % {"count": len(done), "past": past, "codes": ", ".join(done)},
                messages.SUCCESS,
            )
        return None
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"{verb.capitalize()} lots",
        "verb": verb,
        "opts": opts,
        "lots": list(queryset.select_related("custodian", "destination")),
        "form": form,
        "action": request.POST.get("action", ""),
        "select_across": request.POST.get("select_across", "0"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "organization": membership.organization,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/custody/lot/action_confirmation.html", context)


class VerdictFilter(admin.ChoicesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "verdict"


# --- Lots --------------------------------------------------------------------------------------


LOT_FIELDS = [
    "quarantine_flag",
    "code",
    "material",
    "external_ref",
    "source_facility",
    "created_at",
    "status",
    "quarantined",
    "custodian",
    "destination",
    "mass_kg",
    "item_count",
    "updated_at",
    "head_seq",
    "head_hash",
    "last_occurred_at",
]


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    # Where each lot is, at a glance and without scrolling sideways on a 1440 px screen: the
    # quarantine flag rides with the status, the destination with the custodian ("where"); item
    # counts, source facilities and update times are on each lot's page (and in the filters).
    list_display = ["code", "material", "mass_kg", "status_label", "verdict_badge", "where"]
    list_filter = [
        ("verdict__outcome", VerdictFilter),
        "status",
        "material",
        "quarantined",
        ("custodian__country", country_filter("custodian country")),
        ("source_facility", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["code", "external_ref", "assets__serial"]
    search_help_text = "Lot code, external reference or the serial of an asset in its manifest."
    list_select_related = ["custodian", "destination", "source_facility", "verdict"]
    readonly_fields = LOT_FIELDS
    fieldsets = [
        (
            "Lot",
            {
                "fields": [
                    ("code", "material"),
                    ("source_facility", "external_ref"),
                    "created_at",
                ]
            },
        ),
        (
            "Custody (projected from the events)",
            {
                "fields": [
                    ("status", "quarantine_flag"),
                    ("custodian", "destination"),
                    ("mass_kg", "item_count"),
                    "updated_at",
                ]
            },
        ),
        ("Ledger head", {"fields": [("head_seq", "last_occurred_at"), "head_hash"]}),
    ]
    actions = ["quarantine_lots", "release_lots", "reassess_verdicts", issue_certificates]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("custodian", "destination", "source_facility", "verdict")
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lot = self.get_object(request, unquote(object_id))
        if lot is not None and self.has_view_permission(request, lot):
            extra_context = {**(extra_context or {}), **page_context(lot_page(lot))}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="verdict", ordering="verdict__outcome")
    def verdict_badge(self, lot: Lot):
        """The stored verdict under the default policy: refreshed hourly by the
        ``reassess_verdicts`` task for lots that changed or are unverified, nightly for all,
        and by the "Reassess verdicts of selected lots" action. Opening a lot's page assesses
        the lot afresh for that page but stores nothing."""
        stored = getattr(lot, "verdict", None)
        if stored is None:
            return "not assessed"
        return format_html(
            '<span class="verdict-badge verdict-{}" title="assessed {}">{}</span>',
            stored.outcome,
            stored.assessed_at.strftime("%Y-%m-%d %H:%M UTC"),
            stored.get_outcome_display(),
        )

    @admin.display(description="status", ordering="status")
    def status_label(self, lot: Lot):
        """The status, and the red quarantine flag under it when the lot is held."""
        if lot.quarantined:
            return format_html(
                '{}<br><strong class="quarantine-flag">{}</strong>',
                lot.get_status_display(),
                "QUARANTINED",
            )
        return lot.get_status_display()

    @admin.display(description="where", ordering="custodian__name")
    def where(self, lot: Lot):
        """The custodian facility; in transit (no custodian), the dispatch's destination."""
        if lot.custodian_id:
            return str(lot.custodian)
        if lot.destination_id:
            return f"in transit to {lot.destination}"
        return "-"

    @admin.display(description="quarantined", ordering="quarantined")
    def quarantine_flag(self, lot: Lot):
        """A red flag rather than the admin's green tick, which would read as "all good"."""
        if lot.quarantined:
            return format_html('<strong class="quarantine-flag">{}</strong>', "QUARANTINED")
        return "no"

    @admin.action(description="Quarantine selected lots")
    def quarantine_lots(self, request, queryset):
        return _lot_service_action(
            self,
            request,
            queryset,
            service=services.quarantine_lot,
            verb="quarantine",
            past="quarantined",
        )

    @admin.action(description="Release selected lots from quarantine")
    def release_lots(self, request, queryset):
        return _lot_service_action(
            self, request, queryset, service=services.release_lot, verb="release", past="released"
        )

    @admin.action(description="Reassess verdicts of selected lots")
    def reassess_verdicts(self, request, queryset):
        """Assess each lot under the default policy now and store the verdict, for the list's
        badge and filter (what the hourly task does for lots that changed)."""
        if operator_or_refuse(self, request, "reassess lots") is None:
            return
        done = [
            f"{lot.code} ({reassess_lot(lot=lot).outcome_label})"
            for lot in queryset.order_by("code")
        ]
        self.message_user(
            request,
            ngettext(
                "%(count)d lot reassessed: %(lots)s",
                "%(count)d lots reassessed: %(lots)s",
                len(done),
            )
            % {"count": len(done), "lots": ", ".join(done)},
            messages.SUCCESS,
        )


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = [
        "lot",
        "line_no",
        "category",
        "make",
        "model",
        "serial",
        "weight_kg",
        "sanitization_method",
        "sanitized_at",
    ]
    list_filter = ["category", "sanitization_method"]
    search_fields = ["serial", "make", "model", "lot__code"]
    list_select_related = ["lot"]

    def lookup_allowed(self, lookup, value, request=None):
        # The lot page links here with ?lot__id__exact=<id> for the lot's whole manifest.
        return lookup == "lot__id__exact" or super().lookup_allowed(lookup, value, request)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lot")
