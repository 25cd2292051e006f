"""The operator admin for the ledger: thin, and read-only except through ``custody.services``.

Lots, assets and events are never added, changed or deleted here (DESIGN invariants 1 and 2).
The only writes are the quarantine and release actions on lots, which call the services as the
user's operator organization. The lot page shows the lot's events as a timeline with their hash
chain, and whether the chain verifies.
"""

import json
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from recyclers.admin import country_filter
from recyclers.models import Membership, Organization, Role

from . import services
from .actors import Actor
from .errors import DomainError
from .models import (
    DRIVE_CATEGORIES,
    GENESIS_HASH,
    Asset,
    AssetCategory,
    CertificationRequirement,
    CustodyEvent,
    DriveContentWindow,
    EventKind,
    Lot,
    Material,
    OriginPolicy,
    Transformation,
    WebhookDelivery,
    WebhookSubscription,
    YieldWindow,
)
from .selectors.genealogy import contributions
from .selectors.verification import verify_ledger
from .services.policies import save_origin_policy
from .services.stored_verdicts import reassess_lot

HASH_PREVIEW = 12


def abbreviate(digest: str, length: int = HASH_PREVIEW) -> str:
    return f"{digest[:length]}…" if len(digest) > length else digest


def monospace_digest(digest: str, length: int = HASH_PREVIEW):
    """A digest abbreviated for reading, the full value in its title (hover, copy, tests)."""
    return format_html(
        '<code class="digest" title="{}">{}</code>', digest, abbreviate(digest, length)
    )


def operator_membership(user) -> Membership | None:
    """The user's membership in an organization with the operator role, if any."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__roles__code=Role.OPERATOR)
        .order_by("-organization__is_active", "organization__name")
        .first()
    )


# --- The timeline ------------------------------------------------------------------------------


def _kg(value) -> str:
    return f"{value} kg"


def _signed_kg(value):
    try:
        difference = Decimal(value)
    except (InvalidOperation, TypeError):
        return str(value), ""
    return f"{difference:+} kg", "warn" if difference else "ok"


def _compact(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


class Summary:
    """Reads an event's ``details`` into short labelled items, in a fixed readable order."""

    def __init__(self, events: list[CustodyEvent]):
        self.seq_by_uuid = {str(event.uuid): event.seq for event in events}
        carrier_ids = {
            event.details.get("carrier")
            for event in events
            if isinstance(event.details.get("carrier"), int)
        }
        self.carriers = Organization.objects.in_bulk(carrier_ids) if carrier_ids else {}

    def items(self, event: CustodyEvent) -> list[tuple[str, str, str]]:
        """``(label, text, tone)`` triples; tone is "", "ok", "warn" or "bad"."""
        details = dict(event.details or {})
        items = []
        for key, label, render in self.fields():
            if key not in details:
                continue
            value = details.pop(key)
            if value in ("", None, [], {}):
                continue
            rendered = render(value, event) if render else (str(value), "")
            if rendered is not None:
                text, tone = rendered if isinstance(rendered, tuple) else (rendered, "")
                items.append((label, text, tone))
        for key in sorted(details):
            if details[key] not in ("", None, [], {}):
                items.append((key.replace("_", " "), _compact(details[key]), ""))
        return items

    def fields(self):
        return [
            ("reason", "reason", None),
            ("method", "method", None),
            ("seals_intact", "seals", lambda v, e: ("intact", "ok") if v else ("BROKEN", "bad")),
            ("carrier", "carrier", self._carrier),
            ("seal_numbers", "seal nos.", lambda v, e: ", ".join(map(str, v))),
            ("dispatched_mass_kg", "dispatched", lambda v, e: _kg(v)),
            ("difference_kg", "difference", lambda v, e: _signed_kg(v)),
            ("previous_mass_kg", "previous mass", lambda v, e: _kg(v)),
            ("scale_ref", "scale", None),
            ("material", "material", lambda v, e: Material(v).label if v in Material else v),
            ("item_count", "items", None),
            ("manifest", "manifest", self._manifest),
            ("external_ref", "ext. ref", None),
            ("invoice_ref", "invoice", None),
            ("corrected_seq", "corrects", self._corrected),
            ("corrected_kind", "", lambda v, e: None),
            ("corrections", "corrections", lambda v, e: _compact(v)),
            ("updates_lot_mass", "sets lot mass", lambda v, e: "yes"),
            ("dispatch", "answers", self._event_ref("dispatch")),
            ("quarantine", "lifts", self._event_ref("quarantine")),
            ("note", "note", None),
        ]

    def _carrier(self, value, event):
        carrier = self.carriers.get(value)
        return str(carrier) if carrier else f"organization #{value}"

    def _manifest(self, value, event):
        if not isinstance(value, dict):
            return _compact(value)
        return f"{value.get('lines')} lines, sha256 {abbreviate(str(value.get('sha256', '')), 8)}"

    def _corrected(self, value, event):
        kind = event.details.get("corrected_kind", "")
        return f"#{value} {kind}".strip()

    def _event_ref(self, kind: str):
        def render(value, event):
            seq = self.seq_by_uuid.get(str(value))
            return f"{kind} #{seq}" if seq else f"{kind} {value}"

        return render


def timeline_rows(events: list[CustodyEvent]) -> list[dict]:
    summary = Summary(events)
    rows = []
    for event in events:
        if event.actor_user_id:
            via = str(event.actor_user)
        elif event.actor_api_key_prefix:
            via = f"API key {event.actor_api_key_prefix}…"
        else:
            via = ""
        if event.kind == EventKind.RECEIVED:
            arrow = "from"
        elif event.counterparty_facility_id:
            arrow = "to"
        else:
            arrow = ""
        rows.append(
            {
                "event": event,
                "url": reverse("admin:custody_custodyevent_change", args=[event.pk]),
                "via": via,
                "arrow": arrow,
                "summary": summary.items(event),
                "is_genesis": event.prev_hash == GENESIS_HASH,
                "corrects_url": (
                    reverse("admin:custody_custodyevent_change", args=[event.corrects_id])
                    if event.corrects_id
                    else ""
                ),
            }
        )
    return rows


def manifest_summary(lot: Lot) -> dict:
    """Counts of the manifest by category, and how many drives carry a sanitization record.

    A pickup can list thousands of drives: the lot page summarizes, the asset list pages."""
    rows = (
        lot.assets.values("category")
        .annotate(lines=Count("id"), sanitized=Count("id", filter=~Q(sanitization_method="")))
        .order_by("category")
    )
    categories = [
        {
            "label": AssetCategory(row["category"]).label,
            "lines": row["lines"],
            "sanitized": row["sanitized"],
            "is_drive": row["category"] in DRIVE_CATEGORIES,
        }
        for row in rows
    ]
    drives = [row for row in categories if row["is_drive"]]
    return {
        "lines": sum(row["lines"] for row in categories),
        "categories": categories,
        "drives": sum(row["lines"] for row in drives),
        "unsanitized_drives": sum(row["lines"] - row["sanitized"] for row in drives),
        "url": f"{reverse('admin:custody_asset_changelist')}?lot__id__exact={lot.pk}",
    }


def genealogy_context(lot: Lot) -> dict:
    """Direct parents and children with the mass that flowed, and the share of the lot's mass
    from each data center (through every split, merge and process upstream)."""
    parents = lot.parent_links.select_related("parent", "transformation").order_by("parent_id")
    children = lot.child_links.select_related("child", "transformation").order_by("child_id")
    shares = contributions(lot) if parents else None
    return {
        "parents": [(link.parent, link.mass_kg, link.transformation) for link in parents],
        "children": [(link.child, link.mass_kg, link.transformation) for link in children],
        "data_centers": shares.data_centers if shares else [],
        "pickups": len(shares.pickups) if shares else 0,
        "unknown_origin": [row.lot for row in shares.unknown_origin] if shares else [],
    }


def verdict_context(lot: Lot) -> dict:
    """The verdict under the default policy, assessed now (and kept for the list filter),
    with each finding linked to its event."""
    verdict = reassess_lot(lot=lot)
    event_pages = dict(
        CustodyEvent.objects.filter(
            uuid__in=[f.event for f in verdict.findings if f.event]
        ).values_list("uuid", "pk")
    )
    findings = [
        {
            "finding": finding,
            "url": reverse(
                "admin:custody_custodyevent_change", args=[event_pages[UUID(finding.event)]]
            )
            if finding.event and UUID(finding.event) in event_pages
            else "",
        }
        for finding in verdict.findings
    ]
    return {"verdict": verdict, "findings": findings}


# --- Quarantine and release: the admin's only writes, through the services ------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Recorded in each lot's custody event and visible to the partners.",
    )


def _lot_service_action(modeladmin, request, queryset, *, service, verb, past):
    membership = operator_membership(request.user)
    if membership is None:
        modeladmin.message_user(
            request,
            f"Only a member of an operator organization can {verb} lots; "
            "you are not one, so nothing was changed.",
            messages.ERROR,
        )
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger records are written by ``custody.services`` only: nobody adds, changes or deletes
    them here, superusers included (DESIGN invariants 1 and 2)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        raise PermissionDenied("Ledger records are written only through custody.services.")

    def delete_model(self, request, obj):
        raise PermissionDenied("Ledger records are never deleted.")


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
    list_display = [
        "code",
        "material",
        "mass_kg",
        "item_count",
        "status",
        "verdict_badge",
        "quarantine_flag",
        "custodian",
        "destination",
        "source_facility",
        "updated_at",
    ]
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
    actions = ["quarantine_lots", "release_lots"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("custodian", "destination", "source_facility", "verdict")
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lot = self.get_object(request, unquote(object_id))
        if lot is not None and self.has_view_permission(request, lot):
            extra_context = {**(extra_context or {}), **self.timeline_context(lot)}
        return super().change_view(request, object_id, form_url, extra_context)

    def timeline_context(self, lot: Lot) -> dict:
        events = list(
            lot.events.select_related(
                "actor_organization", "actor_user", "facility", "counterparty_facility"
            ).order_by("seq")
        )
        report = verify_ledger(lot_codes=[lot.code])
        return {
            "timeline": timeline_rows(events),
            "chain_ok": report.ok,
            "chain_broken": [str(broken) for broken in report.broken or []],
            "chain_events": report.events,
            "manifest": manifest_summary(lot),
            "genealogy": genealogy_context(lot),
            "verdict": verdict_context(lot),
        }

    @admin.display(description="verdict", ordering="verdict__outcome")
    def verdict_badge(self, lot: Lot):
        """The stored verdict (refreshed hourly, and whenever the lot's page is opened)."""
        stored = getattr(lot, "verdict", None)
        if stored is None:
            return "not assessed"
        return format_html(
            '<span class="verdict-badge verdict-{}" title="assessed {}">{}</span>',
            stored.outcome,
            stored.assessed_at.strftime("%Y-%m-%d %H:%M UTC"),
            stored.get_outcome_display(),
        )

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


# --- Events: read-only for everyone, superusers included ---------------------------------------


@admin.register(CustodyEvent)
class CustodyEventAdmin(ReadOnlyAdmin):
    list_display = [
        "lot_code",
        "seq",
        "kind",
        "occurred_at",
        "recorded_at",
        "actor_organization",
        "facility",
        "mass_kg",
        "short_hash",
    ]
    list_filter = [
        "kind",
        ("actor_organization", admin.RelatedOnlyFieldListFilter),
        ("facility__country", country_filter("facility country")),
    ]
    search_fields = ["lot__code", "uuid", "hash", "idempotency_key"]
    search_help_text = "Lot code, event UUID, hash or idempotency key."
    list_select_related = ["lot", "actor_organization", "facility"]
    date_hierarchy = "occurred_at"
    fieldsets = [
        ("Event", {"fields": ["lot_link", "seq", "kind", "uuid", "occurred_at", "recorded_at"]}),
        (
            "Recorded by",
            {
                "fields": [
                    "actor_organization",
                    "actor_user",
                    "actor_api_key_prefix",
                    "idempotency_key",
                ]
            },
        ),
        ("Where and how much", {"fields": ["facility", "counterparty_facility", "mass_kg"]}),
        ("Details and evidence", {"fields": ["details_pretty", "evidence_list"]}),
        ("Corrections", {"fields": ["corrects_link", "corrected_by"]}),
        ("Hash chain", {"fields": ["prev_hash_full", "hash_full"]}),
    ]
    readonly_fields = [
        "lot_link",
        "seq",
        "kind",
        "uuid",
        "occurred_at",
        "recorded_at",
        "actor_organization",
        "actor_user",
        "actor_api_key_prefix",
        "idempotency_key",
        "facility",
        "counterparty_facility",
        "mass_kg",
        "details_pretty",
        "evidence_list",
        "corrects_link",
        "corrected_by",
        "prev_hash_full",
        "hash_full",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "lot",
                "actor_organization",
                "actor_user",
                "facility",
                "counterparty_facility",
                "corrects__lot",
            )
        )

    @admin.display(description="lot", ordering="lot__code")
    def lot_code(self, event: CustodyEvent) -> str:
        return event.lot.code

    @admin.display(description="hash")
    def short_hash(self, event: CustodyEvent):
        return monospace_digest(event.hash)

    @admin.display(description="lot")
    def lot_link(self, event: CustodyEvent):
        url = reverse("admin:custody_lot_change", args=[event.lot_id])
        return format_html('<a href="{}">{}</a>', url, event.lot.code)

    @admin.display(description="details")
    def details_pretty(self, event: CustodyEvent):
        text = json.dumps(event.details, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="ledger-json">{}</pre>', text)

    @admin.display(description="evidence (SHA-256)")
    def evidence_list(self, event: CustodyEvent):
        if not event.evidence:
            return "-"
        return format_html_join(
            mark_safe("<br>"), "<code>{}</code>", ((d,) for d in event.evidence)
        )

    @admin.display(description="corrects")
    def corrects_link(self, event: CustodyEvent):
        if not event.corrects_id:
            return "-"
        url = reverse("admin:custody_custodyevent_change", args=[event.corrects_id])
        return format_html('<a href="{}">{}</a>', url, event.corrects)

    @admin.display(description="corrected by")
    def corrected_by(self, event: CustodyEvent):
        corrections = list(event.corrections.order_by("seq").values_list("pk", "seq"))
        if not corrections:
            return "-"
        return format_html_join(
            ", ",
            '<a href="{}">{}#{}</a>',
            (
                (reverse("admin:custody_custodyevent_change", args=[pk]), event.lot.code, seq)
                for pk, seq in corrections
            ),
        )

    @admin.display(description="previous hash")
    def prev_hash_full(self, event: CustodyEvent):
        return format_html("<code>{}</code>", event.prev_hash)

    @admin.display(description="hash")
    def hash_full(self, event: CustodyEvent):
        return format_html("<code>{}</code>", event.hash)


@admin.register(Transformation)
class TransformationAdmin(ReadOnlyAdmin):
    """Splits, merges and processes: read-only, like the events that carry them."""

    list_display = [
        "occurred_at",
        "kind",
        "facility",
        "actor_organization",
        "consumed_kg",
        "output_kg",
        "residue_kg",
        "unaccounted_kg",
    ]
    list_filter = ["kind", ("facility__country", country_filter("facility country"))]
    search_fields = ["uuid", "digest", "idempotency_key", "links__parent__code"]
    list_select_related = ["facility", "actor_organization"]
    date_hierarchy = "occurred_at"
    fields = [
        "uuid",
        "kind",
        "facility",
        "occurred_at",
        "recorded_at",
        "actor_organization",
        "actor_user",
        "consumed_kg",
        "output_kg",
        "residue_kg",
        "unaccounted_kg",
        "residues",
        "lot_links",
        "note",
        "idempotency_key",
        "digest",
    ]
    readonly_fields = fields

    @admin.display(description="unaccounted (loss)")
    def unaccounted_kg(self, transformation: Transformation):
        return transformation.unaccounted_kg

    @admin.display(description="lot links (input -> output: mass)")
    def lot_links(self, transformation: Transformation):
        links = transformation.links.select_related("parent", "child").order_by("child_id")
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{}</a> &rarr; <a href="{}">{}</a>: {} kg',
            (
                (
                    reverse("admin:custody_lot_change", args=[link.parent_id]),
                    link.parent.code,
                    reverse("admin:custody_lot_change", args=[link.child_id]),
                    link.child.code,
                    link.mass_kg,
                )
                for link in links
            ),
        )


# --- Origin policies: data the operators edit -----------------------------------------------


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


# --- Webhooks --------------------------------------------------------------------------------


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["organization", "url", "event_kinds", "is_active", "created_at"]
    list_filter = ["is_active", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["url", "organization__name"]
    readonly_fields = ["secret", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: status, attempts, last answer and error, next try."""

    list_display = [
        "created_at",
        "subscription",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", ("subscription__organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["subscription__url", "event__lot__code", "last_error"]
    list_select_related = ["subscription__organization", "event__lot"]
    date_hierarchy = "created_at"
