"""The one write path of the ledger (DESIGN invariant 1).

Each function is one business action in one transaction (``transaction.ledger_write``): it
locks the lot, replays a retried call, checks the move (``guards``, ``validation``), appends a
hash-chained event and projects it onto the lot (``chain``). An illegal move raises
``custody.errors.DomainError`` and writes nothing.
"""

from .acceptances import accept_certification
from .batches import LOT_ACTIONS, LotAction, record_batch
from .corrections import correct_event
from .intake import register_intake
from .lifecycle import dispose_lot, quarantine_lot, release_lot, weigh_lot
from .movements import deliver_lot, dispatch_lot, receive_lot
from .pickups import AssetLine, amend_manifest, register_pickup
from .transformation_plan import Consume, Produce, Residue
from .transformations import merge_lots, process_lots, split_lot

__all__ = [
    "LOT_ACTIONS",
    "AssetLine",
    "Consume",
    "LotAction",
    "Produce",
    "Residue",
    "accept_certification",
    "amend_manifest",
    "correct_event",
    "deliver_lot",
    "dispatch_lot",
    "dispose_lot",
    "merge_lots",
    "process_lots",
    "quarantine_lot",
    "receive_lot",
    "record_batch",
    "register_intake",
    "register_pickup",
    "release_lot",
    "split_lot",
    "weigh_lot",
]
