"""The one write path of the ledger (DESIGN invariant 1).

Each function is one business action in one transaction: it locks the lot, checks the move,
appends a hash-chained event and projects it onto the lot. An illegal move raises
``custody.errors.DomainError`` and writes nothing.
"""

from .batches import LOT_ACTIONS, LotAction, record_batch
from .lifecycle import correct, dispose, quarantine, release, weigh
from .movements import deliver, dispatch, receive
from .pickups import AssetLine, amend_manifest, register_intake, register_pickup
from .transformations import Consume, Produce, Residue, merge, process, split

__all__ = [
    "LOT_ACTIONS",
    "AssetLine",
    "Consume",
    "LotAction",
    "Produce",
    "Residue",
    "amend_manifest",
    "correct",
    "deliver",
    "dispatch",
    "dispose",
    "merge",
    "process",
    "quarantine",
    "receive",
    "record_batch",
    "register_intake",
    "register_pickup",
    "release",
    "split",
    "weigh",
]
