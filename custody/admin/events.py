"""Custody events: read-only for everyone, superusers included (DESIGN invariant 2)."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from recyclers.admin import country_filter

from ..models import CustodyEvent
from .common import ReadOnlyAdmin, monospace_digest


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
