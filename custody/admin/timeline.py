"""The lot page's timeline: each event as a row of short labelled items. Presentation only: the
events and the carriers they name come from ``custody.selectors.lot_page``."""

import json
from decimal import Decimal, InvalidOperation

from django.urls import reverse

from recyclers.models import Organization

from ..models import GENESIS_HASH, CustodyEvent, EventKind, Material
from .common import abbreviate


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

    def __init__(self, events: list[CustodyEvent], carriers: dict[int | str, Organization]):
        self.seq_by_uuid = {str(event.uuid): event.seq for event in events}
        self.carriers = carriers

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
        """Named by slug (or, in events recorded before slugs, by id)."""
        carrier = self.carriers.get(value) if isinstance(value, int | str) else None
        if carrier:
            return str(carrier)
        return value if isinstance(value, str) else f"organization #{value}"

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


def timeline_rows(
    events: list[CustodyEvent], carriers: dict[int | str, Organization]
) -> list[dict]:
    summary = Summary(events, carriers)
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
