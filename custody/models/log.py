"""The transparency log over every custody event (DESIGN invariant 10). Data only.

Every event committed has a ``LogEntry`` (a database trigger on the events table, in the
writer's transaction); the integrator (``custody.services.transparency_log``) takes the new
entries in batches, gives each event the next log index (``LogRun``), stores the leaf hashes and
the complete subtrees the proofs need in tiles (``LogTile``), records what it took
(``LogBatch``) and signs a checkpoint (``LogCheckpoint``). Entries, runs, tiles, batches and
checkpoints are append-only (triggers, migrations 0011 and 0014).
"""

from django.db import models


class LogEntry(models.Model):
    """An event as the log takes it: its id and hash, copied by a trigger when the event is
    inserted (so that no path into the events table bypasses the log), in the inserting
    transaction. Never deleted: the integrator takes the committed entries past what it took
    before (``LogBatch``), a narrow table it reads by id range and writes nothing to."""

    # The event's id (no constraint: an event deleted behind the trigger's back leaves it).
    id = models.BigIntegerField(primary_key=True)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"event {self.id} for the log"


class LogRun(models.Model):
    """Events ``first_event_id`` to ``last_event_id``, every id between, are the leaves
    ``first_index`` onwards, in id order: the event -> log index map, one row per batch unless
    ids were skipped (a transaction still open or rolled back)."""

    first_event_id = models.BigIntegerField(unique=True)
    last_event_id = models.BigIntegerField()
    first_index = models.BigIntegerField(unique=True)

    def __str__(self) -> str:
        return f"events {self.first_event_id}-{self.last_event_id} at leaf {self.first_index}"


class LogTile(models.Model):
    """Up to 256 consecutive hashes of one tree level (``custody.tiles``): tile level 0 holds the
    leaf hashes, ``SHA-256(0x00 || event hash)``. A tile grows by a new row with a larger
    ``width`` whose ``hashes`` start with the narrower row's; the widest row is the tile."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    width = models.PositiveSmallIntegerField()
    hashes = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index", "width"], name="log_tile_unique")
        ]

    def __str__(self) -> str:
        return f"log tile {self.level}/{self.index} of {self.width}"


class LogBatch(models.Model):
    """One integration: the tree's size after it, the largest event id taken so far, and the
    ids below it that were not committed yet (ranges ``[first, last, xmax]``: still open until
    every transaction running when they were seen has ended, ``xmax`` being PostgreSQL's
    snapshot horizon then, 0 on SQLite). The integrator takes those ids too while they are open."""

    tree_size = models.BigIntegerField(unique=True)
    watermark = models.BigIntegerField()
    open_gaps = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"log batch up to {self.tree_size} leaves"


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
