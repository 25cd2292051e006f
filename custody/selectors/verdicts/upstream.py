"""The upstream ledger of a lot as a verdict reads it: every upstream lot, link, transformation
and event (corrections merged), and the facilities as they were when each event was recorded
(``reference``), in a bounded number of queries."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ...hashing import format_time
from ...kinds import CORRECTABLE_FIELDS, LEAVES_SOURCE
from ...models import EventKind, Lot, Transformation
from ..genealogy import lineage, source_shares, upstream_links
from ..verification import EventRow, event_rows
from .reference import FacilityState, ReferenceData
from .types import EventView, LotRow, MassBalanceStep


@dataclass
class UpstreamLedger:
    root: Lot
    lots: dict[int, LotRow]
    events: dict[int, list[EventView]]  # by lot, in sequence order, corrections applied
    raw_rows: list[EventRow]
    links: list[tuple[int, int, Decimal, int]]  # parent, child, mass, transformation id
    transformations: dict[int, dict]
    reference: ReferenceData
    drives: dict[int, dict[str, int]]  # pickup lot -> {category: count}
    unsanitized: dict[int, int]  # pickup lot -> drives without a sanitization record

    @classmethod
    def load(cls, root: Lot) -> "UpstreamLedger":
        # Two walks up the genealogy instead of long IN (...) lists of ids.
        lots = {
            node.id: LotRow(
                node.id,
                node.code,
                node.material,
                node.mass_kg,
                node.status,
                node.source_facility_id,
            )
            for node in lineage(root)
        }
        lots[root.pk] = LotRow(
            root.pk, root.code, root.material, root.mass_kg, root.status, root.source_facility_id
        )
        links = upstream_links(root)
        raw_rows = list(event_rows(lot_ids=lots))
        transformations = {
            row["id"]: row
            for row in Transformation.objects.filter(pk__in={link[3] for link in links}).values(
                "id",
                "uuid",
                "kind",
                "facility_id",
                "occurred_at",
                "consumed_kg",
                "output_kg",
                "residue_kg",
                "recorded_at",
            )
        }
        for transformation in transformations.values():
            transformation["recorded_at"] = format_time(transformation["recorded_at"])
        events = _event_views(raw_rows)
        facility_ids = {t["facility_id"] for t in transformations.values()}
        for lot_events in events.values():
            for event in lot_events:
                facility_ids.update({event.facility_id, event.counterparty_id})
        facility_ids.discard(None)
        drives, unsanitized = _manifest_stats(lots, events)
        return cls(
            root=root,
            lots=lots,
            events=events,
            raw_rows=raw_rows,
            links=links,
            transformations=transformations,
            reference=ReferenceData.load(facility_ids),
            drives=drives,
            unsanitized=unsanitized,
        )

    def place(self, facility_id: int | None, at: str) -> FacilityState | None:
        """The facility as it was recorded at ``at`` (an event's record time)."""
        return self.reference.facility(facility_id, at) if facility_id else None

    def visited_facilities(self) -> dict[int, set[FacilityState]]:
        """By lot: every facility its events name, as it was when each event was recorded."""
        unchanged, place = self.reference.unchanged.get, self.place
        visited = {}
        for lot_id, lot_events in self.events.items():
            seen = set()
            for event in lot_events:
                for facility_id in (event.facility_id, event.counterparty_id):
                    if facility_id:
                        seen.add(unchanged(facility_id) or place(facility_id, event.recorded_at))
            visited[lot_id] = seen
        return visited

    def event_places(self, uuids: set[str]) -> dict[str, tuple[str, str | None, str | None]]:
        """``{event uuid: (kind, country of its facility, of its counterparty)}``, as recorded."""
        places = {}
        for lot_events in self.events.values() if uuids else ():
            for event in lot_events:
                if event.uuid in uuids:
                    here = self.place(event.facility_id, event.recorded_at)
                    there = self.place(event.counterparty_id, event.recorded_at)
                    places[event.uuid] = (
                        event.kind,
                        here.country if here else None,
                        there.country if there else None,
                    )
        return places

    def origins(self):
        shares = source_shares(self.root.pk, [link[:3] for link in self.links])
        pickups = []
        by_data_center: dict[str, float] = defaultdict(float)
        for lot_id, share in sorted(shares.items(), key=lambda item: -item[1]):
            lot = self.lots[lot_id]
            if lot.source_facility_id:
                name = self.place(lot.source_facility_id, self.events[lot_id][0].recorded_at).label
                pickups.append((lot.code, name, share))
                by_data_center[name] += share
        return pickups, sorted(by_data_center.items(), key=lambda item: -item[1])

    def mass_balance(self) -> list[MassBalanceStep]:
        steps = []
        by_transformation = defaultdict(lambda: (set(), set()))
        for parent, child, _, transformation in self.links:
            by_transformation[transformation][0].add(self.lots[parent].code)
            by_transformation[transformation][1].add(self.lots[child].code)
        for transformation_id, (inputs, outputs) in by_transformation.items():
            t = self.transformations[transformation_id]
            steps.append(
                MassBalanceStep(
                    kind=t["kind"],
                    facility=self.place(t["facility_id"], t["recorded_at"]).label,
                    occurred_at=t["occurred_at"],
                    mass_in_kg=t["consumed_kg"],
                    mass_out_kg=t["output_kg"],
                    residue_kg=t["residue_kg"],
                    lots_in=tuple(sorted(inputs)),
                    lots_out=tuple(sorted(outputs)),
                )
            )
        for lot_id, lot_events in self.events.items():
            for dispatched, received in transit_legs(lot_events):
                if received is None or dispatched.mass_kg is None:
                    continue
                steps.append(
                    MassBalanceStep(
                        kind="transit",
                        facility=f"{self.place(dispatched.facility_id, dispatched.recorded_at)} "
                        f"-> {self.place(received.facility_id, received.recorded_at)}",
                        occurred_at=received.occurred_at,
                        mass_in_kg=dispatched.mass_kg,
                        mass_out_kg=received.mass_kg,
                        residue_kg=Decimal(0),
                        lots_in=(self.lots[lot_id].code,),
                        lots_out=(self.lots[lot_id].code,),
                    )
                )
        return sorted(steps, key=lambda step: step.occurred_at)


def _event_views(rows: Iterable[EventRow]) -> dict[int, list[EventView]]:
    """Events by lot, with every correction merged into the event it corrects."""
    by_lot: dict[int, list[EventView]] = defaultdict(list)
    corrections: dict[str, tuple[dict, Decimal | None, int | None]] = {}
    left_source: set[int] = set()
    corrected = EventKind.CORRECTED
    for row in rows:
        mass, details, corrects = row.mass_kg, row.details, row.corrects_uuid
        if mass is not None:
            mass = Decimal(mass)
        if row.kind in LEAVES_SOURCE:
            left_source.add(row.lot_id)
        if corrects and row.kind == corrected:
            fields, corrected_mass, destination = corrections.get(corrects, ({}, None, None))
            fields = {
                **fields,
                **_correctable(details, manifest_open=row.lot_id not in left_source),
            }
            corrections[corrects] = (
                fields,
                mass if mass is not None else corrected_mass,
                # A corrected destination is the correction's own counterparty facility.
                row.counterparty_facility_id or destination,
            )
        lot_id = row.lot_id
        by_lot[lot_id].append(
            EventView(
                lot_id,
                row.seq,
                row.uuid,
                row.kind,
                datetime.fromisoformat(row.occurred_at),
                row.actor_organization_id,
                row.facility_id,
                row.counterparty_facility_id,
                mass,
                details,
                row.recorded_at,
            )
        )
    if corrections:
        for lot_id, lot_events in by_lot.items():
            by_lot[lot_id] = [_corrected(event, corrections) for event in lot_events]
    return by_lot


def _correctable(details: dict, *, manifest_open: bool) -> dict:
    """The fields of a correction that a correction may change. Ledgers written before
    corrections were checked may hold others: they are not read. A manifest counts only while
    the lot was at its data center, as an amendment records it."""
    kind = details.get("corrected_kind")
    allowed = CORRECTABLE_FIELDS.get(kind, frozenset())
    if kind == EventKind.REGISTERED and manifest_open:
        allowed = allowed | {"manifest"}
    corrections = details.get("corrections")
    if not isinstance(corrections, dict):
        return {}
    return {name: value for name, value in corrections.items() if name in allowed}


def _corrected(event: EventView, corrections) -> EventView:
    if event.uuid not in corrections:
        return event
    fields, mass, destination = corrections[event.uuid]
    return event._replace(
        occurred_at=_corrected_time(fields.get("occurred_at"), event.occurred_at),
        counterparty_id=destination or event.counterparty_id,
        details={**event.details, **fields},
        mass_kg=mass if mass is not None else event.mass_kg,
    )


def _corrected_time(corrected, recorded: datetime) -> datetime:
    """A corrected time, as a checked correction records it; else the event's own."""
    if not isinstance(corrected, str):
        return recorded
    try:
        moment = datetime.fromisoformat(corrected)
    except ValueError:
        return recorded
    return moment if moment.tzinfo is not None else recorded


def _manifest_stats(lots: dict[int, LotRow], events: dict[int, list[EventView]]):
    """Drive counts and sanitization coverage of each pickup, as its registered event recorded
    them (the ledger, not the editable manifest table, is what the verdict trusts)."""
    drives: dict[int, dict[str, int]] = {}
    unsanitized: dict[int, int] = {}
    for lot in lots.values():
        if not lot.source_facility_id:
            continue
        manifest = events[lot.id][0].details.get("manifest", {})
        if manifest.get("drives"):
            drives[lot.id] = manifest["drives"]
            unsanitized[lot.id] = manifest.get("unsanitized_drives", 0)
    return drives, unsanitized


def transit_legs(events: list[EventView]) -> Iterator[tuple[EventView, EventView | None]]:
    """(dispatched, received or None) for each dispatch of a lot, in order."""
    open_dispatch = None
    for event in events:
        if event.kind == EventKind.DISPATCHED:
            open_dispatch = event
        elif event.kind == EventKind.RECEIVED and open_dispatch is not None:
            yield open_dispatch, event
            open_dispatch = None
    if open_dispatch is not None:
        yield open_dispatch, None
