"""Reading the transparency log: its stored hashes as a node source, checkpoints, and inclusion
and consistency proofs (RFC 9162) against a checkpoint's tree size."""

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import BigIntegerField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Greatest

from recyclers.models import Organization

from .. import merkle
from ..errors import DomainError, ErrorCode
from ..models import NODE_STRIDE, CustodyEvent, LogCheckpoint, LogLeaf, LogNode, LotVisibility
from .visibility import visible_lots


def stored_hashes(keys: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The stored hashes of these complete subtrees (levels that are multiples of
    ``NODE_STRIDE``; level 0 is the leaves), in one statement."""
    keys = set(keys)
    leaves = [index for level, index in keys if level == 0]
    nodes = [key for key in keys if key[0] > 0]
    parts, params = [], []
    if leaves:
        parts.append(
            f"SELECT 0, id, hash FROM {LogLeaf._meta.db_table} "
            f"WHERE id IN ({', '.join(['%s'] * len(leaves))})"
        )
        params += leaves
    if nodes:
        # "index" is a keyword to SQLite: quoted.
        condition = " OR ".join(['(level = %s AND "index" = %s)'] * len(nodes))
        parts.append(f'SELECT level, "index", hash FROM {LogNode._meta.db_table} WHERE {condition}')
        params += [value for key in nodes for value in key]
    if not parts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {(level, index): bytes(digest) for level, index, digest in cursor.fetchall()}


def node_source(nodes: list[merkle.Node]) -> list[bytes]:
    """A ``merkle.NodeSource`` over the store: a complete subtree between stored levels is
    computed from the at most ``2**NODE_STRIDE`` stored hashes under it."""
    plans = []
    for level, index in nodes:
        span = level % NODE_STRIDE
        base = level - span
        plans.append([(base, child) for child in range(index << span, (index + 1) << span)])
    found = stored_hashes(key for keys in plans for key in keys)
    try:
        return [merkle.perfect_root([found[key] for key in keys]) for keys in plans]
    except KeyError as missing:
        raise LookupError(f"the log does not hold the node {missing.args[0]}") from None


def log_size() -> int:
    """How many leaves the log holds (its indexes are 0 to size - 1)."""
    last = LogLeaf.objects.order_by("-index").values_list("index", flat=True).first()
    return 0 if last is None else last + 1


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
    # The latest checkpoint and the event's leaf in one round trip.
    leaf = LogLeaf.objects.filter(event_id=event.pk)
    latest = (
        LogCheckpoint.objects.order_by("-tree_size")
        .annotate(
            leaf_index=Subquery(leaf.values("index")[:1]),
            leaf_hash=Subquery(leaf.values("hash")[:1]),
        )
        .first()
    )
    size = _tree_size(tree_size, "tree_size", latest or require_checkpoint())
    if latest.leaf_index is None:
        raise DomainError(
            ErrorCode.EVENT_NOT_YET_IN_LOG,
            "The event is committed but not yet in the log: ask again in a few seconds.",
            field="event",
        )
    index = latest.leaf_index
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
        leaf_hash=bytes(latest.leaf_hash),
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
    return dict(
        LogLeaf.objects.filter(event_id__in=list(event_ids)).values_list("event_id", "index")
    )


# A partner's feed position in log order: (the log index at which the entry came, the event's
# own index), as one integer. Holds while the log has fewer than 2**31 leaves.
FEED_SHIFT = 2**32


def logged_events(organization: Organization) -> QuerySet[CustodyEvent]:
    """The event feed in log order, which is commit order: every event the organization may
    see once it is in the log, in the order of ``position``, held back by nothing.

    An operator's or auditor's position is the event's log index. A partner's entries come in
    the order of the event that brought them: its own log index, or, for the history of a lot
    that became visible to it, the index of the event that granted it, the history right before
    that event. A transaction committed after a reader's page has larger indexes than every
    event on it, so no cursor ever moves past an entry that commits later."""
    events = CustodyEvent.objects.filter(log_leaf__isnull=False)
    if organization.sees_everything:
        return events.annotate(position=F("log_leaf__index"))
    granted = LotVisibility.objects.filter(organization=organization, lot=OuterRef("lot_id"))
    return (
        events.filter(feed_entries__organization=organization)
        .annotate(
            event_index=F("log_leaf__index"),
            grant_index=Subquery(granted.values("granted_by__log_leaf__index")[:1]),
        )
        .filter(grant_index__isnull=False)
        .annotate(
            # Named a bigint: past 2**31 Django would take a position for an overflow and
            # match nothing.
            position=ExpressionWrapper(
                Greatest("event_index", "grant_index") * FEED_SHIFT + F("event_index"),
                output_field=BigIntegerField(),
            )
        )
    )
