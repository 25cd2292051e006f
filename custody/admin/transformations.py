"""Transformations (splits, merges, processes) with their lot links and loss: read-only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from recyclers.admin import country_filter

from ..models import Transformation
from .common import ReadOnlyAdmin


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
