"""The transparency log over every custody event (DESIGN invariant 10). Data only.

Every event committed is queued (``LogQueue``, filled by a database trigger on the events
table, in the writer's transaction); the integrator (``custody.services.transparency_log``)
takes what is queued in batches, gives each event the next log index (``LogLeaf``), stores the
complete subtrees the proofs need (``LogNode``) and signs a checkpoint (``LogCheckpoint``).
Leaves, nodes and checkpoints are append-only (triggers, migration 0011); the queue is a work
list that the integrator empties.
"""

from django.db import models

from .events import CustodyEvent

# Stored complete subtrees: the leaves (level 0, ``LogLeaf``) and every complete subtree at a
# level that is a multiple of this (``LogNode``); a proof computes the levels in between from
# at most 2**STRIDE stored hashes each. 4 stores one node per 15 leaves.
NODE_STRIDE = 4


class LogQueue(models.Model):
    """An event committed and not yet in the log. Written by a trigger when the event is
    inserted (so that no path into the events table bypasses the log), deleted by the
    integrator in the transaction that appends its leaf. Its id orders the queue: a writer
    takes it after the events its transaction depends on have committed."""

    event = models.ForeignKey(
        CustodyEvent,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The event's hash as it was inserted: the integrator reads no event row.
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"event {self.event_id} queued for the log"


class LogLeaf(models.Model):
    """The event at ``index`` in the log (0, 1, 2... in the order the integrator took them
    from the queue). ``hash`` is the RFC 6962 leaf hash, ``SHA-256(0x00 || event hash)``."""

    # The column is "id", as in every append-only table (the trigger's message names it).
    index = models.BigIntegerField(primary_key=True, db_column="id")
    # No constraint, as ``LotVisibility.granted_by``: an event deleted behind the trigger's
    # back leaves its leaf, which is how verify_ledger names it.
    event = models.OneToOneField(
        CustodyEvent, on_delete=models.DO_NOTHING, related_name="log_leaf", db_constraint=False
    )
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"log leaf {self.index}"


class LogNode(models.Model):
    """The hash of the complete subtree ``(level, index)``: the leaves ``index * 2**level`` to
    ``(index + 1) * 2**level - 1``. Stored for levels that are multiples of ``NODE_STRIDE``."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="log_node_unique_position")
        ]

    def __str__(self) -> str:
        return f"log node {self.level}/{self.index}"


class LogCheckpoint(models.Model):
    """A signed tree head: the first ``tree_size`` leaves have the root ``root_hash``. ``note``
    is the C2SP signed note (``custody.notes``), published as is."""

    tree_size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    signed_at = models.DateTimeField()

    class Meta:
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return f"checkpoint of {self.tree_size} leaves"
