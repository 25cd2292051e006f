"""Registering a source lot at a data-center pickup, with its asset manifest."""

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from recyclers.models import Facility, Role

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..hashing import canonical_bytes, ledger_json
from ..models import (
    DRIVE_CATEGORIES,
    SOURCE_MATERIALS,
    Asset,
    AssetCategory,
    CustodyEvent,
    EventKind,
    Lot,
    LotStatus,
    SanitizationMethod,
)
from .chain import append_event, lock_lot, new_lot, recorded_events
from .guards import (
    is_operator,
    require_active_facility,
    require_own_facility,
    require_role,
    require_writer,
)
from .replays import find_replay
from .transaction import ledger_write
from .validation import (
    REFERENCE_LENGTH,
    clean_item_count,
    clean_mass,
    clean_occurred_at,
    clean_text,
    clean_time_range,
)


@dataclass(frozen=True)
class AssetLine:
    """One manifest line as a partner declares it."""

    category: str
    make: str = ""
    model: str = ""
    serial: str = ""
    weight_kg: Decimal | None = None
    sanitization_method: str = ""
    sanitization_certificate: str = ""
    sanitized_at: datetime | None = None


# The most lines a lot's manifest may hold: each amendment digests the whole manifest again, so
# a larger one would keep a web worker busy for too long (README, "Partner API").
MAX_MANIFEST_LINES = 50_000
LINE_FIELDS = tuple(field.name for field in fields(AssetLine))
CATEGORIES = frozenset(AssetCategory.values)
SANITIZATION_METHODS = frozenset(SanitizationMethod.values)


def line_values(line: AssetLine) -> dict:
    """A line's fields by name: ``dataclasses.asdict`` without its deep copy of every value
    (the values are immutable), which made it the slowest step of a large manifest."""
    return {name: getattr(line, name) for name in LINE_FIELDS}


@ledger_write
def register_pickup(
    *,
    actor: Actor,
    facility: Facility,
    material: str,
    mass_kg: Decimal,
    assets: Sequence[AssetLine],
    item_count: int | None = None,
    occurred_at: datetime | None = None,
    external_ref: str = "",
    evidence: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Lot:
    """Create a source lot at a data center: its manifest and its ``registered`` event."""
    replayed = find_replay(actor, idempotency_key, kind=EventKind.REGISTERED)
    if replayed is not None:
        return replayed.lot
    require_writer(actor)
    _check_pickup_site(actor, facility)
    if material not in SOURCE_MATERIALS:
        raise DomainError(
            ErrorCode.NOT_SOURCE_MATERIAL,
            f"A pickup registers retired equipment, not {material!r}.",
            field="material",
        )
    mass_kg = clean_mass(mass_kg)
    occurred_at = clean_occurred_at(occurred_at)
    external_ref = clean_text(external_ref, field="external_ref", max_length=REFERENCE_LENGTH)
    _check_manifest(assets, occurred_at)
    item_count = len(assets) if item_count is None else clean_item_count(item_count, minimum=1)

    lot = new_lot(facility, material, mass_kg, occurred_at, external_ref, source=True)
    Asset.objects.bulk_create(
        Asset(lot=lot, line_no=number, **line_values(line)) for number, line in enumerate(assets, 1)
    )
    append_event(
        lot=lot,
        kind=EventKind.REGISTERED,
        actor=actor,
        occurred_at=occurred_at,
        facility=facility,
        mass_kg=mass_kg,
        details={
            "material": material,
            "item_count": item_count,
            "external_ref": external_ref,
            "manifest": manifest_record(assets),
        },
        evidence=evidence,
        idempotency_key=idempotency_key,
    )
    return lot


def manifest_record(assets: Sequence[AssetLine]) -> dict:
    """What the registered event records of the manifest: its digest, and the drive counts and
    sanitization coverage a verdict needs, so that the verdict reads them from the ledger."""
    drives = [line for line in assets if line.category in DRIVE_CATEGORIES]
    wiped = [line.sanitized_at for line in drives if line.sanitization_method and line.sanitized_at]
    return {
        "lines": len(assets),
        "sha256": manifest_digest(assets),
        "drives": dict(Counter(line.category for line in drives)),
        "unsanitized_drives": len(drives) - len(wiped),
        "last_sanitized_at": max(wiped) if wiped else None,
    }


def manifest_digest(assets: Sequence[AssetLine]) -> str:
    """SHA-256 of the canonical manifest, so that the registered event commits to it."""
    lines = [ledger_json(line_values(line)) for line in assets]
    return hashlib.sha256(canonical_bytes({"lines": lines})).hexdigest()


def _check_pickup_site(actor: Actor, facility: Facility) -> None:
    require_active_facility(facility, field="facility")
    require_role(
        facility.organization, Role.SOURCE, code=ErrorCode.NOT_SOURCE_FACILITY, field="facility"
    )
    if not is_operator(actor):
        require_own_facility(actor, facility)


MANIFEST_TEXT_FIELDS = {
    name: Asset._meta.get_field(name).max_length
    for name in ("make", "model", "serial", "sanitization_certificate")
}


def _check_manifest_size(lines: int, held: int = 0) -> None:
    if lines > MAX_MANIFEST_LINES:
        raise DomainError(
            ErrorCode.MANIFEST_TOO_LARGE,
            f"A manifest holds at most {MAX_MANIFEST_LINES:,} lines ({lines:,} with these, "
            f"{held:,} already): register the rest as another pickup.",
            field="assets",
        )


def _check_manifest(assets: Sequence[AssetLine], occurred_at: datetime) -> None:
    if not assets:
        raise DomainError(
            ErrorCode.EMPTY_MANIFEST,
            "A pickup needs its asset manifest (one line at least).",
            field="assets",
        )
    _check_manifest_size(len(assets))
    serials: set[str] = set()
    for number, line in enumerate(assets, 1):
        field = f"assets[{number - 1}]"
        for name, max_length in MANIFEST_TEXT_FIELDS.items():
            clean_text(getattr(line, name), field=f"{field}.{name}", max_length=max_length)
        if line.category not in CATEGORIES:
            raise DomainError(
                ErrorCode.INVALID_CATEGORY,
                f"Line {number}: unknown category {line.category!r}.",
                field=f"{field}.category",
            )
        if line.sanitization_method and line.sanitization_method not in SANITIZATION_METHODS:
            raise DomainError(
                ErrorCode.INVALID_SANITIZATION_METHOD,
                f"Line {number}: {line.sanitization_method!r} is not a NIST SP 800-88 method "
                "(clear, purge, destroy).",
                field=f"{field}.sanitization_method",
            )
        if line.weight_kg is not None:
            clean_mass(line.weight_kg, field=f"{field}.weight_kg")
        if line.sanitized_at is not None:
            clean_time_range(line.sanitized_at, field=f"{field}.sanitized_at")
        if line.sanitized_at is not None and line.sanitized_at > occurred_at:
            raise DomainError(
                ErrorCode.SANITIZED_AFTER_PICKUP,
                f"Line {number}: the sanitization date is after the pickup.",
                field=f"{field}.sanitized_at",
            )
        if line.serial:
            if line.serial in serials:
                raise DomainError(
                    ErrorCode.DUPLICATE_SERIAL,
                    f"Line {number}: serial {line.serial} appears twice.",
                    field=f"{field}.serial",
                )
            serials.add(line.serial)


@ledger_write
def amend_manifest(
    *,
    actor: Actor,
    lot: Lot,
    assets: Sequence[AssetLine],
    occurred_at: datetime | None = None,
    evidence: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> CustodyEvent:
    """Add lines to a pickup's manifest while the lot is still at its data center (a manifest of
    thousands of drives often comes as a file after the pickup was registered). A ``corrected``
    event on the registered event records the whole manifest's new summary and digest."""
    lot = lock_lot(lot)
    if replayed := find_replay(actor, idempotency_key, kind=EventKind.CORRECTED, lot=lot):
        return replayed
    require_writer(actor)
    if lot.source_facility_id is None:
        raise DomainError(ErrorCode.NOT_A_PICKUP, f"{lot.code} was not registered at a pickup.")
    if lot.status != LotStatus.REGISTERED or lot.custodian_id != lot.source_facility_id:
        raise DomainError(
            ErrorCode.LOT_LEFT_SOURCE,
            f"{lot.code} has left its data center; its manifest is closed.",
        )
    _check_pickup_site(actor, lot.source_facility)
    occurred_at = clean_occurred_at(occurred_at, lot=lot)
    _check_manifest(assets, occurred_at)
    existing = list(lot.assets.order_by("line_no"))
    _check_manifest_size(len(existing) + len(assets), held=len(existing))
    taken = {asset.serial for asset in existing if asset.serial}
    for number, line in enumerate(assets):
        if line.serial and line.serial in taken:
            raise DomainError(
                ErrorCode.DUPLICATE_SERIAL,
                f"Serial {line.serial} is already in the manifest.",
                field=f"assets[{number}].serial",
            )
    Asset.objects.bulk_create(
        Asset(lot=lot, line_no=len(existing) + number, **line_values(line))
        for number, line in enumerate(assets, 1)
    )
    every_line = [
        AssetLine(**{f: getattr(a, f) for f in AssetLine.__dataclass_fields__}) for a in existing
    ] + list(assets)
    return append_event(
        lot=lot,
        kind=EventKind.CORRECTED,
        actor=actor,
        occurred_at=occurred_at,
        facility=lot.custodian,
        details={
            "reason": f"Manifest amended: {len(assets)} lines added",
            "corrected_kind": EventKind.REGISTERED,
            "corrected_seq": 1,
            "corrections": {"manifest": manifest_record(every_line)},
            "updates_lot_mass": False,
        },
        evidence=evidence,
        corrects=recorded_events(lot).get(seq=1),
        idempotency_key=idempotency_key,
    )
