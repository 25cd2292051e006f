"""The domestic-origin verdict: an origin policy applied to a lot, every upstream lot and every
event, with the findings that explain the answer.

``assess`` reads the whole upstream in a bounded number of queries (under twenty, whatever the
size of the genealogy; ``upstream``), with each facility, its organization's roles and its
certifications as they were when each event was recorded (``reference``), and applies the
rules in Python (``rules``); ``types`` holds what a verdict is made of.
"""

import gc
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone

from ...findings import FindingCode, Severity
from ...models import Lot, OriginPolicy, OriginPolicyVersion, VerdictOutcome
from ..policies import applied_version
from .rules import Rules
from .types import AcceptedCertification, Finding, MassBalanceStep, Verdict
from .upstream import UpstreamLedger

VIOLATION = Severity.VIOLATION
MISSING_EVIDENCE = Severity.MISSING_EVIDENCE

__all__ = [
    "MISSING_EVIDENCE",
    "VIOLATION",
    "AcceptedCertification",
    "Finding",
    "FindingCode",
    "MassBalanceStep",
    "Severity",
    "Verdict",
    "assess",
    "default_policy",
]


def default_policy() -> OriginPolicy:
    return OriginPolicy.objects.get(is_default=True)


def assess(
    lot: Lot,
    policy: OriginPolicy | OriginPolicyVersion | None = None,
    *,
    now: datetime | None = None,
) -> Verdict:
    """Apply a version of an origin policy to ``lot`` and everything upstream of it: ``policy``
    if it is a version, else the latest version of ``policy`` (of the default one if None)."""
    version = applied_version(policy)
    with _cyclic_gc_paused():
        return _assess(lot, version, now)


@contextmanager
def _cyclic_gc_paused():
    """A big upstream builds some 200,000 short-lived tuples and dicts, none of them in a
    reference cycle; Python's cyclic collector would rescan them again and again (a fifth of
    the time, measured). Reference counting frees them all the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _assess(lot: Lot, policy: OriginPolicyVersion, now: datetime | None) -> Verdict:
    rules = Rules(policy, now or timezone.now())
    ledger = UpstreamLedger.load(lot)
    findings = [
        *rules.broken_chains(ledger),
        *rules.jurisdictions(ledger),
        *rules.handoffs(ledger),
        *rules.transformations(ledger),
        *rules.certifications(ledger),
        *rules.sanitization(ledger),
        *rules.origins(ledger),
    ]
    findings.sort(key=lambda f: (f.severity != VIOLATION, f.lot, f.seq or 0, f.code))
    if any(f.severity == VIOLATION for f in findings):
        outcome = VerdictOutcome.NON_COMPLIANT
    elif findings:
        outcome = VerdictOutcome.UNVERIFIED
    else:
        outcome = VerdictOutcome.VERIFIED
    pickups, data_centers = ledger.origins()
    visited_by_lot = ledger.visited_facilities()
    visited = set().union(*visited_by_lot.values())
    return Verdict(
        lot=lot,
        policy=policy,
        outcome=outcome,
        findings=findings,
        pickups=pickups,
        data_centers=data_centers,
        countries=sorted({facility.country for facility in visited}),
        facilities=sorted({facility.label for facility in visited}),
        mass_balance=ledger.mass_balance(),
        assessed_at=rules.now,
        accepted_certifications=rules.accepted_certifications(ledger),
        facilities_by_lot={
            ledger.lots[lot_id].code: {facility.label for facility in facilities}
            for lot_id, facilities in visited_by_lot.items()
        },
        event_places=ledger.event_places({finding.event for finding in findings} - {None}),
    )
