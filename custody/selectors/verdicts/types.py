"""What a verdict is made of (its findings and mass-balance steps), and the rows the rules read."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from ...findings import FindingCode, Severity
from ...models import Lot, OriginPolicyVersion, VerdictOutcome


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    severity: Severity
    lot: str
    event: str | None  # uuid
    seq: int | None
    message: str

    def as_dict(self) -> dict:
        # The members' text as plain strings, for any serializer.
        return {
            "code": str(self.code),
            "severity": str(self.severity),
            "lot": self.lot,
            "event": self.event,
            "seq": self.seq,
            "message": self.message,
        }


class MassBalanceStep(NamedTuple):
    """One row of the mass-balance table (a tuple: a big genealogy has ten thousand)."""

    kind: str  # a transformation kind, or "transit"
    facility: str
    occurred_at: datetime
    mass_in_kg: Decimal
    mass_out_kg: Decimal
    residue_kg: Decimal
    lots_in: tuple[str, ...]
    lots_out: tuple[str, ...]

    @property
    def loss_kg(self) -> Decimal:
        return self.mass_in_kg - self.mass_out_kg - self.residue_kg

    @property
    def loss_share(self) -> float:
        return float(self.loss_kg / self.mass_in_kg) if self.mass_in_kg else 0.0


class AcceptedCertification(NamedTuple):
    """A certification recorded after events it covers, which counts for them because an
    operator or auditor accepted it: the verdict cites the acceptance."""

    facility: str  # label, "Name (CC)"
    country: str
    certification: str  # "R2v3 R2-00001"
    valid_from: str
    valid_until: str
    recorded_at: str  # when the accepted version was recorded
    accepted_by: str
    accepted_at: str
    reason: str

    def as_dict(self) -> dict:
        return self._asdict()


@dataclass
class Verdict:
    lot: Lot
    policy: OriginPolicyVersion  # the version applied
    outcome: str
    findings: list[Finding]
    pickups: list[tuple[str, str, float]]  # (pickup code, data center, share)
    data_centers: list[tuple[str, float]]  # (data center, share)
    countries: list[str]
    facilities: list[str]
    mass_balance: list[MassBalanceStep]
    assessed_at: datetime
    accepted_certifications: list[AcceptedCertification] = field(default_factory=list)
    # What disclosure needs, as recorded: the facilities each lot's events name (labels), and
    # each finding's event as (kind, country of its facility, of its counterparty).
    facilities_by_lot: dict[str, set[str]] = field(default_factory=dict)
    event_places: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)

    @property
    def outcome_label(self) -> str:
        return VerdictOutcome(self.outcome).label

    @property
    def policy_label(self) -> str:
        return f"{self.policy.name} (version {self.policy.version})"


class EventView(NamedTuple):
    """An event as the rules read it: its corrections merged in, its mass a Decimal."""

    lot_id: int
    seq: int
    uuid: str
    kind: str
    occurred_at: datetime
    organization_id: int
    facility_id: int | None
    counterparty_id: int | None
    mass_kg: Decimal | None
    details: dict
    recorded_at: str  # canonical text: reference data is read as it was then


class LotRow(NamedTuple):
    id: int
    code: str
    material: str
    mass_kg: Decimal
    status: str
    source_facility_id: int | None
