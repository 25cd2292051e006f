"""A lot's state as a projection of its events (DESIGN invariant 5).

``apply_event`` is the only code that turns an event into lot state. The services call it as
they append; ``replay`` runs it over a lot's whole history to rebuild or check the stored state.
"""

from decimal import Decimal
from types import SimpleNamespace

from .kinds import GENESIS_HASH, EventKind, LotStatus

PROJECTED_FIELDS = (
    "status",
    "custodian_id",
    "destination_id",
    "quarantined",
    "mass_kg",
    "item_count",
    "head_seq",
    "head_hash",
    "last_occurred_at",
)

# A lot before its first event.
INITIAL_STATE = {
    "status": "",
    "custodian_id": None,
    "destination_id": None,
    "quarantined": False,
    "mass_kg": Decimal(0),
    "item_count": None,
    "head_seq": 0,
    "head_hash": GENESIS_HASH,
    "last_occurred_at": None,
}


def apply_event(lot, event) -> None:
    """Move ``lot`` (a ``Lot``) on by ``event`` (a ``CustodyEvent``), in memory."""
    kind = event.kind
    if kind == EventKind.REGISTERED:
        _begin_at_facility(lot, event)
    elif kind == EventKind.DISPATCHED:
        lot.status = LotStatus.IN_TRANSIT
        lot.custodian_id = None
        lot.destination_id = event.counterparty_facility_id
    elif kind == EventKind.RECEIVED:
        lot.status = LotStatus.RECEIVED
        lot.custodian_id = event.facility_id
        lot.destination_id = None
        lot.mass_kg = event.mass_kg
    elif kind == EventKind.WEIGHED:
        lot.mass_kg = event.mass_kg
    elif kind == EventKind.QUARANTINED:
        lot.quarantined = True
    elif kind == EventKind.RELEASED:
        lot.quarantined = False
    elif kind == EventKind.DELIVERED:
        lot.status = LotStatus.DELIVERED
        lot.custodian_id = event.counterparty_facility_id
    elif kind == EventKind.DISPOSED:
        lot.status = LotStatus.DISPOSED
    elif kind == EventKind.TRANSFORMED:
        _apply_transformation(lot, event)
    elif kind == EventKind.CORRECTED:
        _apply_correction(lot, event)
    lot.head_seq = event.seq
    lot.head_hash = event.hash
    if lot.last_occurred_at is None or event.occurred_at > lot.last_occurred_at:
        lot.last_occurred_at = event.occurred_at


def _begin_at_facility(lot, event) -> None:
    """A lot comes into being at the event's facility: a pickup, an intake, or an output of a
    transformation."""
    lot.status = LotStatus.REGISTERED
    lot.custodian_id = event.facility_id
    lot.destination_id = None
    lot.quarantined = False
    lot.mass_kg = event.mass_kg
    lot.item_count = event.details.get("item_count")


def _apply_correction(lot, event) -> None:
    if event.details.get("updates_lot_mass"):
        lot.mass_kg = event.mass_kg
    # Only a correction of the open dispatch's destination, or of a delivery's buyer facility,
    # names a counterparty facility.
    if event.counterparty_facility_id is None:
        return
    if event.details.get("corrected_kind") == EventKind.DELIVERED:
        lot.custodian_id = event.counterparty_facility_id
    else:
        lot.destination_id = event.counterparty_facility_id


def _apply_transformation(lot, event) -> None:
    if event.details["role"] == "output":
        _begin_at_facility(lot, event)
    else:
        lot.mass_kg = Decimal(event.details["remaining_kg"])
        if lot.mass_kg == 0:
            lot.status = LotStatus.CONSUMED


def replay(events) -> dict:
    """The projected fields that ``events`` (a lot's, in sequence order) give their lot."""
    scratch = SimpleNamespace(**INITIAL_STATE)
    for event in events:
        apply_event(scratch, event)
    return {field: getattr(scratch, field) for field in PROJECTED_FIELDS}


def projection_drift(lot, events) -> dict:
    """Fields whose stored value differs from the replay: ``{field: (stored, replayed)}``."""
    expected = replay(events)
    return {
        field: (getattr(lot, field), value)
        for field, value in expected.items()
        if getattr(lot, field) != value
    }
