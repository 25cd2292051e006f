"""Checking a transformation request: the parts a partner names (``Consume``, ``Produce``,
``Residue``), its inputs locked and held by the actor at one facility, its outputs and residues
cleaned, and mass conserved. The result is a ``Plan`` that ``transformations`` records."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from recyclers.models import Facility

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..models import Lot, Material, ResidueKind
from .chain import lock_lots
from .guards import (
    require_active_facility,
    require_at_facility,
    require_custodian,
    require_not_quarantined,
)
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


@dataclass(frozen=True)
class Plan:
    """A transformation checked and ready to record: its inputs locked, in id order, with the
    mass consumed from each; its outputs and residues cleaned."""

    kind: str
    actor: Actor
    facility: Facility
    inputs: list[Lot]
    consumed: list[Decimal]
    outputs: list[Produce]
    residues: list[Residue]
    occurred_at: datetime
    evidence: Sequence[str]
    note: str
    idempotency_key: str | None

    @property
    def consumed_kg(self) -> Decimal:
        return sum(self.consumed, Decimal(0))

    @property
    def output_kg(self) -> Decimal:
        return sum((output.mass_kg for output in self.outputs), Decimal(0))

    @property
    def residue_kg(self) -> Decimal:
        return sum((residue.mass_kg for residue in self.residues), Decimal(0))


def plan_transformation(
    kind, *, actor, inputs, outputs, residues, occurred_at, evidence, note, idempotency_key
) -> Plan:
    """Check a transformation request as the actor makes it; raise its first refusal."""
    if not inputs:
        raise DomainError(ErrorCode.NO_INPUTS, "Name the lots that go in.", field="inputs")
    if not outputs:
        raise DomainError(ErrorCode.NO_OUTPUTS, "Name the lots that come out.", field="outputs")
    locked = _lock_inputs(inputs)
    facility = _check_inputs(actor, locked)
    requested = {consume.lot.pk: (index, consume.mass_kg) for index, consume in enumerate(inputs)}
    consumed = [_consumed_mass(lot, *requested[lot.pk]) for lot in locked]
    total_consumed = sum(consumed, Decimal(0))
    plan = Plan(
        kind=kind,
        actor=actor,
        facility=facility,
        inputs=locked,
        consumed=consumed,
        occurred_at=clean_occurred_at(occurred_at, lot=max(locked, key=_last_time)),
        outputs=[_clean_output(output, i, total_consumed) for i, output in enumerate(outputs)],
        residues=[_clean_residue(residue, index) for index, residue in enumerate(residues)],
        evidence=evidence,
        note=note,
        idempotency_key=idempotency_key,
    )
    if plan.output_kg + plan.residue_kg > plan.consumed_kg:
        excess = plan.output_kg + plan.residue_kg - plan.consumed_kg
        raise DomainError(
            ErrorCode.MASS_NOT_CONSERVED,
            f"Outputs ({plan.output_kg} kg) plus residues ({plan.residue_kg} kg) exceed the "
            f"consumed inputs ({plan.consumed_kg} kg) by {excess} kg.",
            field="outputs",
        )
    return replace(plan, note=clean_text(note, field="note", max_length=2000))


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
