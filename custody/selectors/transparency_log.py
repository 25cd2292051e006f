"""Reading the transparency log: its stored hashes as a node source, checkpoints, and inclusion
and consistency proofs (RFC 9162) against a checkpoint's tree size."""

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)

from recyclers.models import Organization

from .. import merkle, tiles
from ..errors import DomainError, ErrorCode
from ..models import CustodyEvent, LogBatch, LogCheckpoint, LogRun, LogTile
from .visibility import visible_lots


def widest_tiles(positions: Iterable[tiles.Position]) -> dict[tiles.Position, bytes]:
    """The hashes of these tiles, each from its widest row, in one statement."""
    positions = sorted(set(positions))
    if not positions:
        return {}
    table = LogTile._meta.db_table
    # "index" is a keyword to SQLite: quoted.
    condition = " OR ".join(['(t.level = %s AND t."index" = %s)'] * len(positions))
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT t.level, t."index", t.hashes FROM {table} t WHERE ({condition}) '
            f"AND t.width = (SELECT MAX(w.width) FROM {table} w "
            f'WHERE w.level = t.level AND w."index" = t."index")',
            [value for position in positions for value in position],
        )
        return {(level, index): bytes(blob) for level, index, blob in cursor.fetchall()}


def node_source(nodes: list[merkle.Node]) -> list[bytes]:
    """A ``merkle.NodeSource`` over the tiles: each complete subtree folded from the at most
    ``TILE_WIDTH // 2`` hashes under it in one tile, every tile read in one statement."""
    found = widest_tiles(tiles.needed(node)[0] for node in nodes)
    try:
        return [tiles.fold_node(node, found[tiles.needed(node)[0]]) for node in nodes]
    except KeyError as missing:
        raise LookupError(f"the log does not hold the tile {missing.args[0]}") from None


def latest_batch() -> LogBatch:
    """The last integration (an empty log's: nothing taken)."""
    return LogBatch.objects.order_by("-tree_size").first() or LogBatch(
        tree_size=0, watermark=0, open_gaps=[]
    )


def log_size() -> int:
    """How many leaves the log holds (its indexes are 0 to size - 1)."""
    return latest_batch().tree_size


def leaf_hash(index: int) -> bytes:
    """The leaf hash at ``index``, from its tile."""
    tile_index, offset = divmod(index, tiles.TILE_WIDTH)
    blob = widest_tiles([(0, tile_index)])[0, tile_index]
    return blob[offset * tiles.HASH : (offset + 1) * tiles.HASH]


def log_index_of(event_id) -> Subquery:
    """The log index of the event ``event_id`` (an ``OuterRef``) as a subquery: null while it
    is not in the log. The one run that may hold it is the last to start at or before it (one
    step down an index, where a condition on both ends would scan every run below)."""
    at = Case(
        When(last_event_id__gte=event_id, then=F("first_index") + event_id - F("first_event_id")),
        default=None,
        output_field=BigIntegerField(),
    )
    run = LogRun.objects.filter(first_event_id__lte=event_id).order_by("-first_event_id")
    return Subquery(run.annotate(at=at).values("at")[:1], output_field=BigIntegerField())


def log_index(event_id: int) -> int | None:
    """The log index of one event, None while it is not in the log."""
    run = LogRun.objects.filter(first_event_id__lte=event_id).order_by("-first_event_id").first()
    if run is None or run.last_event_id < event_id:
        return None
    return run.first_index + event_id - run.first_event_id


def latest_checkpoint() -> LogCheckpoint | None:
    return LogCheckpoint.objects.order_by("-tree_size").first()


def first_checkpoint() -> LogCheckpoint | None:
    return LogCheckpoint.objects.order_by("tree_size").first()


def require_checkpoint() -> LogCheckpoint:
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        raise DomainError(ErrorCode.LOG_EMPTY, "The log has no checkpoint yet.")
    return checkpoint


@dataclass(frozen=True)
class InclusionProof:
    event: CustodyEvent
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]
    checkpoint: LogCheckpoint | None  # the checkpoint of this tree size, if one was signed


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    hashes: list[bytes]


def _tree_size(requested: int | None, field: str, checkpoint: LogCheckpoint | None = None) -> int:
    latest = (checkpoint or require_checkpoint()).tree_size
    if requested is None:
        return latest
    if requested > latest:
        raise DomainError(
            ErrorCode.TREE_SIZE_BEYOND_CHECKPOINT,
            f"The latest checkpoint covers {latest} leaves; ask for at most that.",
            field=field,
        )
    return requested


def inclusion_proof(event: CustodyEvent, tree_size: int | None = None) -> InclusionProof:
    """The proof that ``event`` is a leaf of the tree of ``tree_size`` leaves (default: the
    latest checkpoint's). The caller has checked that it may see the event."""
    latest = latest_checkpoint()
    size = _tree_size(tree_size, "tree_size", latest or require_checkpoint())
    index = log_index(event.pk)
    if index is None:
        raise DomainError(
            ErrorCode.EVENT_NOT_YET_IN_LOG,
            "The event is committed but not yet in the log: ask again in a few seconds.",
            field="event",
        )
    if index >= size:
        raise DomainError(
            ErrorCode.EVENT_NOT_IN_TREE,
            f"The event is leaf {index}, after the tree of {size} leaves.",
            field="tree_size",
        )
    return InclusionProof(
        event=event,
        leaf_index=index,
        tree_size=size,
        leaf_hash=leaf_hash(index),
        hashes=merkle.inclusion_proof(index, size, node_source),
        checkpoint=latest if size == latest.tree_size else checkpoint_of_size(size),
    )


def b64(digest: bytes) -> str:
    return base64.b64encode(bytes(digest)).decode()


def inclusion_document(proof: InclusionProof) -> dict:
    """An inclusion proof as the API answers it and ``python -m custody.verify`` reads it."""
    return {
        "event": proof.event.uuid,
        "event_hash": proof.event.hash,
        "leaf_index": proof.leaf_index,
        "tree_size": proof.tree_size,
        "leaf_hash": b64(proof.leaf_hash),
        "hashes": [b64(digest) for digest in proof.hashes],
        "checkpoint": proof.checkpoint.note if proof.checkpoint else None,
    }


def consistency_proof(first: int, second: int | None = None) -> ConsistencyProof:
    """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``
    (default: the latest checkpoint's)."""
    second = _tree_size(second, "second")
    if first > second:
        raise DomainError(
            ErrorCode.TREE_SIZES_OUT_OF_ORDER,
            f"first ({first}) is larger than second ({second}).",
            field="first",
        )
    return ConsistencyProof(first, second, merkle.consistency_proof(first, second, node_source))


def consistency_document(proof: ConsistencyProof) -> dict:
    """A consistency proof as the API answers it and ``python -m custody.verify`` reads it,
    with the signed checkpoints of its two tree sizes (null for a size never signed)."""
    signed = dict(
        LogCheckpoint.objects.filter(tree_size__in=[proof.first, proof.second]).values_list(
            "tree_size", "note"
        )
    )
    return {
        "first": proof.first,
        "second": proof.second,
        "hashes": [b64(digest) for digest in proof.hashes],
        "first_checkpoint": signed.get(proof.first),
        "second_checkpoint": signed.get(proof.second),
    }


def checkpoint_of_size(tree_size: int) -> LogCheckpoint | None:
    return LogCheckpoint.objects.filter(tree_size=tree_size).first()


def visible_event(organization: Organization, event_uuid) -> CustodyEvent | None:
    """The event with this uuid if the organization may see its lot; None for an unknown event
    and for one it may not see alike, after the same single query."""
    return (
        CustodyEvent.objects.select_related("lot")
        .filter(uuid=event_uuid, lot__in=visible_lots(organization))
        .first()
    )


def log_indexes(event_ids: Iterable[int]) -> dict[int, int]:
    """The log index of each of these events that the log holds."""
    indexes = {}
    for event_id in event_ids:
        if (index := log_index(event_id)) is not None:
            indexes[event_id] = index
    return indexes


def events_at_indexes(first: int, last: int) -> Q:
    """A condition on events: those at the log indexes ``first`` to ``last``, by event id
    (the runs that overlap those indexes, read down their index from ``last``)."""
    runs = LogRun.objects.filter(first_index__lte=last).order_by("-first_index")
    condition = Q(pk__in=[])
    for run in runs[: last - first + 1]:
        end = run.first_index + run.last_event_id - run.first_event_id
        if end < first:
            break
        low = run.first_event_id + max(0, first - run.first_index)
        high = run.first_event_id + min(end, last) - run.first_index
        condition |= Q(pk__range=(low, high))
    return condition


def feed(organization: Organization, page: tuple[int, int] | None = None) -> QuerySet[CustodyEvent]:
    """The event feed, in log order, which is commit order: every event the organization may
    see once it is in the log, in the order of ``position``, held back by nothing.

    A partner's position is its feed entry's id (``FeedEntry``, written by the integrator in
    log order): the history of a lot that became visible to it comes right before the event
    that granted it. An operator's or auditor's is the event's log index. A transaction
    committed after a reader's page gets larger positions than every event on it, so no cursor
    ever moves past an entry that commits later.

    ``page`` (the position a forward page starts after, and its size) lets an operator's page
    read only the events at those indexes, found from the runs; a partner's page reads its
    entries' index from the cursor on. Either costs the same whatever the ledger's size."""
    if not organization.sees_everything:
        # One join: the annotation reuses the filter's join to the organization's entries.
        return CustodyEvent.objects.filter(feed_entries__organization=organization).annotate(
            position=F("feed_entries__id")
        )
    events = CustodyEvent.objects.annotate(event_index=log_index_of(OuterRef("pk"))).filter(
        event_index__isnull=False
    )
    if page is not None:
        after, size = page
        # One more than the page: the paginator looks for it to know a next page exists.
        events = events.filter(events_at_indexes(after + 1, after + size + 1))
    return events.annotate(position=F("event_index"))
