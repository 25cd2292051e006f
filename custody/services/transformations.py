"""Transformations: split, merge and process input lots into output lots.

Each is one transaction that locks every input lot in id order (so two transformations sharing
inputs queue instead of deadlocking), checks the custodian, the states and the mass balance,
creates the output lots, writes a ``transformed`` event on every input and output lot (each
chain stays whole) and one lot link per (input, output) pair.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..hashing import GRAMS, canonical_bytes, ledger_json
from ..models import (
    EventKind,
    Lot,
    LotLink,
    Transformation,
    TransformationKind,
)
from .chain import append_event, new_lot
from .guards import require_writer
from .replays import find_replay
from .transaction import ledger_write
from .transformation_plan import Consume, Plan, Produce, Residue, plan_transformation


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
        actor=actor,
        inputs=[Consume(lot)],
        outputs=outputs,
        residues=residues,
        occurred_at=occurred_at,
        evidence=evidence,
        note=note,
        idempotency_key=idempotency_key,
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
        actor=actor,
        inputs=[Consume(lot) for lot in lots],
        outputs=[output],
        residues=residues,
        occurred_at=occurred_at,
        evidence=evidence,
        note=note,
        idempotency_key=idempotency_key,
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
        actor=actor,
        inputs=inputs,
        outputs=outputs,
        residues=residues,
        occurred_at=occurred_at,
        evidence=evidence,
        note=note,
        idempotency_key=idempotency_key,
    )


def _transform(kind: str, *, actor: Actor, idempotency_key: str | None, **request):
    if done := find_replay(actor, idempotency_key, kind=kind, record=Transformation):
        return done
    require_writer(actor)
    plan = plan_transformation(kind, actor=actor, idempotency_key=idempotency_key, **request)
    transformation, output_lots = _record(plan)
    shares = _allocate(plan.consumed, [output.mass_kg for output in plan.outputs])
    LotLink.objects.bulk_create(
        LotLink(transformation=transformation, parent=parent, child=child, mass_kg=mass)
        for parent, row in zip(plan.inputs, shares, strict=True)
        for child, mass in zip(output_lots, row, strict=True)
        if mass > 0
    )
    _append_transformed_events(plan, transformation, output_lots, shares)
    return transformation


def _record(plan: Plan) -> tuple[Transformation, list[Lot]]:
    """The transformation row, committed to by its digest, and its output lots."""
    transformation = Transformation(
        kind=plan.kind,
        facility=plan.facility,
        occurred_at=plan.occurred_at,
        recorded_at=timezone.now(),
        actor_organization=plan.actor.organization,
        actor_user=plan.actor.user,
        actor_api_key_prefix=plan.actor.api_key_prefix,
        consumed_kg=plan.consumed_kg,
        output_kg=plan.output_kg,
        residue_kg=plan.residue_kg,
        residues=ledger_json([asdict(residue) for residue in plan.residues]),
        note=plan.note,
        idempotency_key=plan.idempotency_key or "",
    )
    output_lots = [
        new_lot(
            plan.facility, output.material, output.mass_kg, plan.occurred_at, output.external_ref
        )
        for output in plan.outputs
    ]
    transformation.digest = _digest(transformation, plan, output_lots)
    transformation.save(force_insert=True)
    return transformation, output_lots


def _append_transformed_events(plan: Plan, transformation, output_lots, shares) -> None:
    """A ``transformed`` event on every input and output lot, each carrying the digest, so
    that every chain commits to the whole transformation."""
    common = {
        "transformation": str(transformation.uuid),
        "kind": plan.kind,
        "digest": transformation.digest,
    }
    event = {
        "kind": EventKind.TRANSFORMED,
        "actor": plan.actor,
        "occurred_at": plan.occurred_at,
        "facility": plan.facility,
        "evidence": plan.evidence,
    }
    for lot, mass in zip(plan.inputs, plan.consumed, strict=True):
        details = {**common, "role": "input", "remaining_kg": lot.mass_kg - mass}
        append_event(lot=lot, mass_kg=mass, details=details, **event)
    for index, (lot, output) in enumerate(zip(output_lots, plan.outputs, strict=True)):
        details = {
            **common,
            "role": "output",
            "material": output.material,
            "item_count": output.item_count,
            "inputs": [
                {"lot": parent.code, "mass_kg": row[index]}
                for parent, row in zip(plan.inputs, shares, strict=True)
                if row[index] > 0
            ],
        }
        append_event(lot=lot, mass_kg=output.mass_kg, details=details, **event)


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


def _digest(transformation: Transformation, plan: Plan, output_lots: list[Lot]) -> str:
    """SHA-256 of the canonical description: what every transformed event commits to."""
    description = ledger_json(
        {
            "uuid": str(transformation.uuid),
            "kind": transformation.kind,
            "facility": transformation.facility_id,
            "occurred_at": transformation.occurred_at,
            "inputs": [
                {"lot": lot.code, "mass_kg": mass}
                for lot, mass in zip(plan.inputs, plan.consumed, strict=True)
            ],
            "outputs": [
                {
                    "lot": lot.code,
                    "material": output.material,
                    "mass_kg": output.mass_kg,
                    "item_count": output.item_count,
                }
                for lot, output in zip(output_lots, plan.outputs, strict=True)
            ],
            "residues": transformation.residues,
        }
    )
    return hashlib.sha256(canonical_bytes(description)).hexdigest()
