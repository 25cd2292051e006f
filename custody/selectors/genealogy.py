"""The genealogy: which lots a lot came from (upstream) or went into (downstream), and how much
of its mass came from each data-center pickup. One recursive query per walk, on PostgreSQL and
SQLite alike; never a query per lot."""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction

from recyclers.models import Facility

from ..hashing import GRAMS
from ..models import Lot, LotLink

UP, DOWN = "up", "down"

# UNION, not UNION ALL: a diamond (one lot reaching the target by two paths) is walked once per
# depth instead of once per path. Depth is the shortest distance.
_WALK = """
WITH RECURSIVE walk(lot_id, depth) AS (
    SELECT {far}, 1 FROM custody_lotlink WHERE {near} = %s
    UNION
    SELECT link.{far}, walk.depth + 1
    FROM custody_lotlink link JOIN walk ON link.{near} = walk.lot_id
)
"""
_IDS = "SELECT lot_id, MIN(depth) FROM walk GROUP BY lot_id"
_LOTS = """
SELECT lot.id, lot.code, lot.material, lot.mass_kg, lot.status, lot.quarantined,
       lot.source_facility_id, facility.name, facility.country, hop.depth
FROM (SELECT lot_id, MIN(depth) AS depth FROM walk GROUP BY lot_id) hop
JOIN custody_lot lot ON lot.id = hop.lot_id
LEFT JOIN recyclers_facility facility ON facility.id = lot.custodian_id
ORDER BY hop.depth, lot.id
"""
_UPSTREAM_EDGES = """
WITH RECURSIVE walk(lot_id) AS (
    SELECT CAST(%s AS BIGINT)
    UNION
    SELECT link.parent_id FROM custody_lotlink link JOIN walk ON link.child_id = walk.lot_id
)
SELECT link.parent_id, link.child_id, link.mass_kg, link.transformation_id
FROM walk JOIN custody_lotlink link ON link.child_id = walk.lot_id
"""


def _walk(direction: str) -> str:
    near, far = ("child_id", "parent_id") if direction == UP else ("parent_id", "child_id")
    return _WALK.format(near=near, far=far)


def _rows(sql: str, params) -> list[tuple]:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner expects a recursive walk to fan out at every step (a million rows
            # where ten thousand come), which trips JIT compilation: 30+ ms spent to save none.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def upstream(lot: Lot) -> dict[int, int]:
    """Every ancestor's id with its depth (1 = a direct parent)."""
    return dict(_rows(_walk(UP) + _IDS, [lot.pk]))


def downstream(lot: Lot) -> dict[int, int]:
    """Every descendant's id with its depth (1 = a direct child)."""
    return dict(_rows(_walk(DOWN) + _IDS, [lot.pk]))


class TraceNode(NamedTuple):
    """One lot of a walk (a tuple: ten thousand of them build in a few milliseconds)."""

    id: int
    code: str
    material: str
    mass_kg: Decimal
    status: str
    quarantined: bool
    source_facility_id: int | None
    custodian: str | None
    country: str | None
    depth: int


@dataclass
class Trace:
    root: Lot
    direction: str
    nodes: list[TraceNode]
    links: list[tuple[int, int, Decimal]]  # (parent id, child id, mass)

    def by_id(self) -> dict[int, TraceNode]:
        return {node.id: node for node in self.nodes}


def lineage(lot: Lot, direction: str = UP) -> list[TraceNode]:
    """Every ancestor (or descendant) with its depth and attributes: one query."""
    if direction not in (UP, DOWN):
        raise ValueError(f"direction is {UP!r} or {DOWN!r}")
    rows = _rows(_walk(direction) + _LOTS, [lot.pk])
    if connection.vendor != "postgresql":
        # SQLite hands raw decimals back as floats: bring them to grams again.
        rows = [(*row[:3], Decimal(str(row[3])).quantize(GRAMS), *row[4:]) for row in rows]
    return [TraceNode._make(row) for row in rows]


def trace(lot: Lot, direction: str = UP) -> Trace:
    """The genealogy with each lot's attributes and the links between them: two queries."""
    nodes = lineage(lot, direction)
    ids = [node.id for node in nodes] + [lot.pk]
    near = "child_id__in" if direction == UP else "parent_id__in"
    links = list(
        LotLink.objects.filter(**{near: ids})
        .order_by("child_id", "parent_id")
        .values_list("parent_id", "child_id", "mass_kg")
    )
    return Trace(root=lot, direction=direction, nodes=nodes, links=links)


@dataclass(frozen=True)
class PickupShare:
    lot: Lot  # a source lot, registered at a data-center pickup
    share: float
    mass_kg: Decimal


@dataclass(frozen=True)
class DataCenterShare:
    facility: object
    share: float
    mass_kg: Decimal
    pickups: int

    @property
    def percent(self) -> float:
        return self.share * 100


@dataclass
class Contributions:
    lot: Lot
    pickups: list[PickupShare] = field(default_factory=list)
    unknown_origin: list[PickupShare] = field(default_factory=list)

    @property
    def data_centers(self) -> list[DataCenterShare]:
        grouped = defaultdict(list)
        for pickup in self.pickups:
            grouped[pickup.lot.source_facility_id].append(pickup)
        rows = [
            DataCenterShare(
                facility=group[0].lot.source_facility,
                share=math.fsum(p.share for p in group),
                mass_kg=sum((p.mass_kg for p in group), Decimal(0)),
                pickups=len(group),
            )
            for group in grouped.values()
        ]
        return sorted(rows, key=lambda row: -row.share)

    @property
    def total_share(self) -> float:
        return math.fsum(p.share for p in [*self.pickups, *self.unknown_origin])


def upstream_links(lot: Lot) -> list[tuple[int, int, Decimal, int]]:
    """Every link into the lot or an ancestor: (parent, child, mass, transformation id)."""
    return _rows(_UPSTREAM_EDGES, [lot.pk])


def source_shares(root: int, links) -> dict[int, float]:
    """``{lot id: share}`` of the root's mass for every upstream lot without parents (a pickup,
    or a lot of unknown origin), from ``(parent, child, mass)`` links covering the upstream."""
    inbound: dict[int, list[tuple[int, float]]] = defaultdict(list)
    children_left: Counter = Counter()
    for parent, child, mass in links:
        inbound[child].append((parent, float(mass)))
        children_left[parent] += 1
    share = {root: 1.0}
    ready, leaves = [root], {}
    # Reverse topological order: a lot hands on its share once every child has given it theirs.
    while ready:
        node = ready.pop()
        parents = inbound.get(node)
        if not parents:
            leaves[node] = share[node]
            continue
        total = math.fsum(mass for _, mass in parents)
        for parent, mass in parents:
            share[parent] = share.get(parent, 0.0) + share[node] * mass / total
            children_left[parent] -= 1
            if children_left[parent] == 0:
                ready.append(parent)
    return leaves


def contributions(lot: Lot) -> Contributions:
    """The share of ``lot``'s mass that came from each source pickup, carried through every
    split, merge and process: each lot passes its share to its parents in proportion to the
    mass each parent gave it. Shares sum to 1. Upstream lots that have no parents and are no
    pickup are listed as ``unknown_origin``. Two queries, whatever the size of the genealogy."""
    share = source_shares(lot.pk, [link[:3] for link in upstream_links(lot)])
    result = Contributions(lot=lot)
    # Thousands of pickups: load only what the answer shows, and each data center once.
    sources = list(
        Lot.objects.filter(pk__in=share)
        .only("code", "material", "mass_kg", "status", "source_facility")
        .order_by("code")
    )
    data_centers = Facility.objects.in_bulk({s.source_facility_id for s in sources} - {None})
    for source in sources:
        row = PickupShare(
            lot=source,
            share=share[source.pk],
            mass_kg=(lot.mass_kg * Decimal(repr(share[source.pk]))).quantize(GRAMS),
        )
        # A pickup (possibly the lot itself) has a data center; anything else came from nowhere.
        if source.source_facility_id:
            source.source_facility = data_centers[source.source_facility_id]
            result.pickups.append(row)
        else:
            result.unknown_origin.append(row)
    return result


def transformation_outputs(transformation) -> list[Lot]:
    """The lots a transformation made, in the order it made them."""
    return list(
        Lot.objects.filter(parent_links__transformation=transformation).distinct().order_by("pk")
    )
