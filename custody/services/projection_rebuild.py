"""Rebuilding a lot's projected state from its events (DESIGN invariant 5)."""

from django.db import transaction

from ..models import Lot
from ..projection import PROJECTED_FIELDS, projection_drift
from .chain import lock_lot


@transaction.atomic
def rebuild_projection(*, lot: Lot) -> dict:
    """Replay the lot's events and store the state they give; returns what changed as
    ``{field: (old, new)}`` (empty when the stored state was right)."""
    lot = lock_lot(lot)
    drift = projection_drift(lot, lot.events.order_by("seq"))
    if drift:
        for field, (_, replayed) in drift.items():
            setattr(lot, field, replayed)
        lot.save(update_fields=[field.removesuffix("_id") for field in PROJECTED_FIELDS])
    return drift
