"""Transformations: split, merge and process input lots into output lots.

Each is one transaction that locks every input lot in id order (so two transformations sharing
inputs queue instead of deadlocking), checks the custodian, the states and the mass balance,
creates the output lots, writes a ``transformed`` event on every input and output lot (each
chain stays whole) and one lot link per (input, output) pair.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from recyclers.models import Facility

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..hashing import GRAMS, canonical_bytes, ledger_json
from ..models import (
    EventKind,
    Lot,
    LotLink,
    Material,
    ResidueKind,
    Transformation,
    TransformationKind,
)
from .chain import append_event, lock_lots, new_lot
from .guards import (
    require_active_facility,
    require_at_facility,
    require_custodian,
    require_not_quarantined,
    require_writer,
)
from .replays import find_replay
from .transaction import ledger_write
from .validation import clean_item_count, clean_mass, clean_occurred_at, clean_text


@dataclass(frozen=True)
class Consume:
    """Take ``mass_kg`` from ``lot`` (all of what it holds when None)."""

    lot: Lot
    mass_kg: Decimal | None = None


@dataclass(frozen=True)
class Produce:
    """Create an output lot."""

    material: str
    mass_kg: Decimal
    item_count: int | None = None
    external_ref: str = ""


@dataclass(frozen=True)
class Residue:
    """Mass that left the material stream on purpose: slag, plastics, wastewater..."""

    kind: str
    mass_kg: Decimal
    destination: str = ""


@ledger_write
def split_lot(
    *,
    actor: Actor,
    lot: Lot,
    masses: Sequence[Decimal],
    residues: Sequence[Residue] = (),
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    note: str = "",
    idempotency_key: str | None = None,
) -> Transformation:
    """One lot into N lots of the same material with the given masses; the lot is used up."""
    if len(masses) < 2:
        raise DomainError(
            ErrorCode.TOO_FEW_OUTPUTS, "A split makes two lots or more.", field="masses"
        )
    outputs = [Produce(material=lot.material, mass_kg=mass) for mass in masses]
    return _transform(
        TransformationKind.SPLIT,
        actor,
        [Consume(lot)],
        outputs,
        residues,
        occurred_at,
        evidence,
        note,
        idempotency_key,
    )


@ledger_write
def merge_lots(
    *,
    actor: Actor,
    lots: Sequence[Lot],
    material: str | None = None,
    mass_kg: Decimal | None = None,
    residues: Sequence[Residue] = (),
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    note: str = "",
    external_ref: str = "",
    idempotency_key: str | None = None,
) -> Transformation:
    """N lots held at one facility into one lot, by default of their common material and their
    summed mass."""
    if len(lots) < 2:
        raise DomainError(ErrorCode.TOO_FEW_INPUTS, "A merge takes two lots or more.", field="lots")
    materials = {lot.material for lot in lots}
    if material is None:
        if len(materials) > 1:
            raise DomainError(
                ErrorCode.MIXED_MATERIALS,
                f"The lots hold {', '.join(sorted(materials))}: name the merged material.",
                field="material",
            )
        material = materials.pop()
    output = Produce(material=material, mass_kg=mass_kg, external_ref=external_ref)
    return _transform(
        TransformationKind.MERGE,
        actor,
        [Consume(lot) for lot in lots],
        [output],
        residues,
        occurred_at,
        evidence,
        note,
        idempotency_key,
    )


@ledger_write
def process_lots(
    *,
    actor: Actor,
    inputs: Sequence[Consume],
    outputs: Sequence[Produce],
    residues: Sequence[Residue] = (),
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    note: str = "",
    idempotency_key: str | None = None,
) -> Transformation:
    """Input lots (a consumed mass from each; the rest stays in the lot) into output lots plus
    declared residues. Outputs plus residues may not exceed what was consumed."""
    return _transform(
        TransformationKind.PROCESS,
        actor,
        inputs,
        outputs,
        residues,
        occurred_at,
        evidence,
        note,
        idempotency_key,
    )


def _transform(kind, actor, inputs, outputs, residues, occurred_at, evidence, note, key):
    if done := find_replay(actor, key, kind=kind, record=Transformation):
        return done
    require_writer(actor)
    if not inputs:
        raise DomainError(ErrorCode.NO_INPUTS, "Name the lots that go in.", field="inputs")
    if not outputs:
        raise DomainError(ErrorCode.NO_OUTPUTS, "Name the lots that come out.", field="outputs")
    locked = _lock_inputs(inputs)
    facility = _check_inputs(actor, locked)
    requested = {consume.lot.pk: (index, consume.mass_kg) for index, consume in enumerate(inputs)}
    consumed = [_consumed_mass(lot, *requested[lot.pk]) for lot in locked]
    occurred_at = clean_occurred_at(occurred_at, lot=max(locked, key=_last_time))
    total_consumed = sum(consumed, Decimal(0))
    outputs = [_clean_output(output, index, total_consumed) for index, output in enumerate(outputs)]
    residues = [_clean_residue(residue, index) for index, residue in enumerate(residues)]
    total_out = sum((output.mass_kg for output in outputs), Decimal(0))
    total_residue = sum((residue.mass_kg for residue in residues), Decimal(0))
    if total_out + total_residue > total_consumed:
        excess = total_out + total_residue - total_consumed
        raise DomainError(
            ErrorCode.MASS_NOT_CONSERVED,
            f"Outputs ({total_out} kg) plus residues ({total_residue} kg) exceed the consumed "
            f"inputs ({total_consumed} kg) by {excess} kg.",
            field="outputs",
        )
    note = clean_text(note, field="note", max_length=2000)

    transformation = Transformation(
        kind=kind,
        facility=facility,
        occurred_at=occurred_at,
        recorded_at=timezone.now(),
        actor_organization=actor.organization,
        actor_user=actor.user,
        actor_api_key_prefix=actor.api_key_prefix,
        consumed_kg=total_consumed,
        output_kg=total_out,
        residue_kg=total_residue,
        residues=ledger_json([asdict(residue) for residue in residues]),
        note=note,
        idempotency_key=key or "",
    )
    output_lots = [
        new_lot(facility, output.material, output.mass_kg, occurred_at, output.external_ref)
        for output in outputs
    ]
    transformation.digest = _digest(transformation, locked, consumed, output_lots, outputs)
    transformation.save(force_insert=True)
    shares = _allocate(consumed, [output.mass_kg for output in outputs])
    LotLink.objects.bulk_create(
        LotLink(transformation=transformation, parent=parent, child=child, mass_kg=mass)
        for parent, row in zip(locked, shares, strict=True)
        for child, mass in zip(output_lots, row, strict=True)
        if mass > 0
    )
    common = {
        "transformation": str(transformation.uuid),
        "kind": kind,
        "digest": transformation.digest,
    }
    for lot, mass in zip(locked, consumed, strict=True):
        append_event(
            lot=lot,
            kind=EventKind.TRANSFORMED,
            actor=actor,
            occurred_at=occurred_at,
            facility=facility,
            mass_kg=mass,
            details={**common, "role": "input", "remaining_kg": lot.mass_kg - mass},
            evidence=evidence,
        )
    for index, (lot, output) in enumerate(zip(output_lots, outputs, strict=True)):
        append_event(
            lot=lot,
            kind=EventKind.TRANSFORMED,
            actor=actor,
            occurred_at=occurred_at,
            facility=facility,
            mass_kg=output.mass_kg,
            details={
                **common,
                "role": "output",
                "material": output.material,
                "item_count": output.item_count,
                "inputs": [
                    {"lot": parent.code, "mass_kg": row[index]}
                    for parent, row in zip(locked, shares, strict=True)
                    if row[index] > 0
                ],
            },
            evidence=evidence,
        )
    return transformation


def _lock_inputs(inputs: Sequence[Consume]) -> list[Lot]:
    ids = [consume.lot.pk for consume in inputs]
    if len(set(ids)) != len(ids):
        raise DomainError(
            ErrorCode.DUPLICATE_INPUT, "A lot is named twice among the inputs.", field="inputs"
        )
    # One statement, rows locked in id order: two transformations sharing inputs never
    # hold one lot each while waiting for the other's.
    locked = lock_lots([consume.lot for consume in inputs])
    if len(locked) != len(ids):
        raise DomainError(ErrorCode.UNKNOWN_LOT, "An input lot does not exist.", field="inputs")
    return locked


def _check_inputs(actor: Actor, lots: list[Lot]) -> Facility:
    for lot in lots:
        require_at_facility(lot)
        require_not_quarantined(lot)
        require_custodian(lot, actor)
    facilities = {lot.custodian_id for lot in lots}
    if len(facilities) > 1:
        raise DomainError(
            ErrorCode.INPUTS_AT_DIFFERENT_FACILITIES,
            "All inputs must be at one facility: "
            + ", ".join(f"{lot.code} at {lot.custodian}" for lot in lots),
            field="inputs",
        )
    facility = lots[0].custodian
    require_active_facility(facility, field="inputs")
    return facility


def _consumed_mass(lot: Lot, index: int, requested) -> Decimal:
    if requested is None:
        return lot.mass_kg
    mass = clean_mass(requested, field=f"inputs[{index}].mass_kg")
    if mass > lot.mass_kg:
        raise DomainError(
            ErrorCode.CONSUMED_EXCEEDS_MASS,
            f"{lot.code} holds {lot.mass_kg} kg; {mass} kg cannot be taken from it "
            f"({mass - lot.mass_kg} kg too many).",
            field=f"inputs[{index}].mass_kg",
        )
    return mass


def _last_time(lot: Lot):
    return lot.last_occurred_at or timezone.now()


def _clean_output(output: Produce, index: int, total_consumed: Decimal) -> Produce:
    field = f"outputs[{index}]"
    if output.material not in Material.values:
        raise DomainError(
            ErrorCode.INVALID_MATERIAL,
            f"Unknown material {output.material!r}.",
            field=f"{field}.material",
        )
    mass = total_consumed if output.mass_kg is None else output.mass_kg
    mass = clean_mass(mass, field=f"{field}.mass_kg")
    count = output.item_count
    if count is not None:
        count = clean_item_count(count, field=f"{field}.item_count")
    ref = clean_text(output.external_ref, field=f"{field}.external_ref", max_length=100)
    return Produce(material=output.material, mass_kg=mass, item_count=count, external_ref=ref)


def _clean_residue(residue: Residue, index: int) -> Residue:
    field = f"residues[{index}]"
    if residue.kind not in ResidueKind.values:
        raise DomainError(
            ErrorCode.INVALID_RESIDUE_KIND,
            f"Unknown residue {residue.kind!r}; one of {', '.join(ResidueKind.values)}.",
            field=f"{field}.kind",
        )
    return Residue(
        kind=residue.kind,
        mass_kg=clean_mass(residue.mass_kg, field=f"{field}.mass_kg"),
        destination=clean_text(residue.destination, field=f"{field}.destination", max_length=200),
    )


def _allocate(consumed: list[Decimal], output_masses: list[Decimal]) -> list[list[Decimal]]:
    """``rows[i][j]``: the mass of output j that came from input i, in proportion to consumed
    mass, to the gram; each output's column sums exactly to its mass (largest remainders)."""
    total = sum(consumed, Decimal(0))
    rows = [[Decimal(0)] * len(output_masses) for _ in consumed]
    for j, output_mass in enumerate(output_masses):
        exact = [output_mass * mass / total for mass in consumed]
        floors = [share.quantize(GRAMS, rounding=ROUND_DOWN) for share in exact]
        left = int((output_mass - sum(floors, Decimal(0))) / GRAMS)
        by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - floors[i], reverse=True)
        for i in by_remainder[:left]:
            floors[i] += GRAMS
        for i, share in enumerate(floors):
            rows[i][j] = share
    return rows


def _digest(transformation, inputs, consumed, output_lots, outputs) -> str:
    """SHA-256 of the canonical description: what every transformed event commits to."""
    description = ledger_json(
        {
            "uuid": str(transformation.uuid),
            "kind": transformation.kind,
            "facility": transformation.facility_id,
            "occurred_at": transformation.occurred_at,
            "inputs": [
                {"lot": lot.code, "mass_kg": mass}
                for lot, mass in zip(inputs, consumed, strict=True)
            ],
            "outputs": [
                {
                    "lot": lot.code,
                    "material": output.material,
                    "mass_kg": output.mass_kg,
                    "item_count": output.item_count,
                }
                for lot, output in zip(output_lots, outputs, strict=True)
            ],
            "residues": transformation.residues,
        }
    )
    return hashlib.sha256(canonical_bytes(description)).hexdigest()
