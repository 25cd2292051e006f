"""Issuing certificates of origin, and the operator's acts that revoke or supersede them.

A certificate is issued for an organization that may see the lot, against a signed checkpoint
of the transparency log that covers every event upstream of the lot: the log is integrated
first, and an upstream event still outside it (its transaction committed a moment ago) makes
the issue wait (``events_not_in_log``: the report task retries). The slow part (the verdict,
the upstream ledger, its CSV and Merkle root) reads without a transaction; the certificate is
written in one short transaction at the end.
"""

import math
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from recyclers.models import Facility, Membership, Organization, Role

from .. import credentials
from ..errors import DomainError, ErrorCode
from ..hashing import format_mass
from ..models import (
    Certificate,
    CertificateAct,
    CertificateAction,
    Lot,
    Material,
    OriginPolicy,
    OriginPolicyVersion,
    Report,
)
from ..selectors import credential_key
from ..selectors.certificates import (
    LedgerRow,
    issued_ledger,
    ledger_csv,
    sha256,
    upstream_ledger,
    upstream_root,
)
from ..selectors.disclosure import verdict_for
from ..selectors.genealogy import Contributions, contributions
from ..selectors.policies import applied_version
from ..selectors.transparency_log import latest_checkpoint
from ..selectors.verdicts import Verdict
from ..selectors.visibility import may_see, unknown_lots
from .transparency_log import integrate_log
from .validation import clean_text, require_text

MAX_REASON_LENGTH = 2000
Progress = Callable[[int], object] | None


@dataclass
class Issued:
    """A certificate with what it was made of: the verdict as its organization may read it,
    the upstream ledger rows it commits to and their CSV (the bytes its hashDigest names), and
    the lot's contributions (walked once for the credential and the PDF)."""

    certificate: Certificate
    verdict: Verdict
    rows: list[LedgerRow]
    csv: bytes
    origin: Contributions


def issue_certificate(
    lot: Lot,
    *,
    organization: Organization,
    user=None,
    policy: OriginPolicy | OriginPolicyVersion | None = None,
    on_progress: Progress = None,
) -> Certificate:
    """Issue a certificate of origin of ``lot`` for ``organization`` under ``policy`` (a
    version, a policy's latest version, or the default policy's latest)."""
    return issue(
        lot, organization=organization, user=user, policy=policy, on_progress=on_progress
    ).certificate


def issue(
    lot: Lot,
    *,
    organization: Organization,
    user=None,
    policy: OriginPolicy | OriginPolicyVersion | None = None,
    on_progress: Progress = None,
    report: Report | None = None,
) -> Issued:
    """``issue_certificate``, returning what the PDF and the audit pack are made of. With
    ``report``, the report names the certificate in the transaction that writes it, and a
    report that already names one (a retry after its worker was killed) gets it back instead
    of a second one."""
    progress = on_progress or (lambda percent: None)
    require_visible(organization, lot)
    version = applied_version(policy)
    integrate_log()
    checkpoint = latest_checkpoint()
    verdict = verdict_for(organization, lot, version)
    progress(5)
    rows = logged_rows(upstream_ledger(lot, organization), checkpoint)
    csv = ledger_csv(rows)
    csv_sha256 = sha256(csv)
    progress(40)
    certificate_id = uuid.uuid4()
    issued_at = timezone.now()
    root = upstream_root([row.event_hash for row in rows])
    origin = contributions(lot)
    claims = _claims(
        lot,
        verdict=verdict,
        rows=rows,
        origin=origin,
        certificate_id=certificate_id,
        issued_at=issued_at,
        commitment=credentials.LedgerCommitment(
            checkpoint=checkpoint.note,
            tree_size=checkpoint.tree_size,
            upstream_root=root,
            upstream_events=len(rows),
        ),
        ledger_sha256=csv_sha256,
    )
    token = credentials.sign(
        credentials.passport(claims), credential_key.signing_key(), kid=credential_key.kid()
    )
    with transaction.atomic():
        if report is not None:
            report = Report.objects.select_for_update().get(pk=report.pk)
            if report.certificate_id:
                return reissued(report.certificate)
        certificate = Certificate.objects.create(
            id=certificate_id,
            lot=lot,
            organization=organization,
            issued_by=user,
            issued_at=issued_at,
            policy=version,
            outcome=verdict.outcome,
            assessed_at=verdict.assessed_at,
            token=token,
            kid=credential_key.kid(),
            tree_size=checkpoint.tree_size,
            checkpoint=checkpoint.note,
            upstream_root=root,
            upstream_events=len(rows),
            ledger_sha256=csv_sha256,
        )
        if report is not None:
            Report.objects.filter(pk=report.pk).update(certificate=certificate)
    progress(60)
    return Issued(certificate, verdict, rows, csv, origin)


def reissued(certificate: Certificate) -> Issued:
    """What an issued certificate was made of, read again (a report retried after its
    certificate was written): the verdict as it was assessed then, the rows up to its tree
    size. The CSV must hash as the credential says, or the report fails rather than ship a
    file the credential does not name."""
    verdict = verdict_for(
        certificate.organization, certificate.lot, certificate.policy, now=certificate.assessed_at
    )
    rows, csv = issued_ledger(certificate)
    return Issued(certificate, verdict, rows, csv, contributions(certificate.lot))


def require_visible(organization: Organization, lot: Lot) -> None:
    """A lot the organization may not see is as unknown to it as one that does not exist."""
    if not may_see(organization, lot):
        raise unknown_lots([lot.code], field="lot")


def logged_rows(rows: list[LedgerRow], checkpoint) -> list[LedgerRow]:
    """The rows the checkpoint covers. An event not yet in the log is refused (the caller
    tries again once it is); one logged after the checkpoint was signed (a commit in between)
    is left out, as the verification page leaves it out."""
    waiting = [row for row in rows if row.log_index is None]
    if checkpoint is None or waiting:
        raise DomainError(
            ErrorCode.EVENTS_NOT_IN_LOG,
            f"{len(waiting) or len(rows)} upstream event(s) are not in the transparency log "
            "yet: try again in a few seconds.",
        )
    return [row for row in rows if row.log_index < checkpoint.tree_size]


def _claims(
    lot: Lot,
    *,
    verdict: Verdict,
    rows: list[LedgerRow],
    origin: Contributions,
    certificate_id: uuid.UUID,
    issued_at: datetime,
    commitment: credentials.LedgerCommitment,
    ledger_sha256: str,
) -> credentials.OriginClaims:
    base_url = credential_key.base_url()
    first = next((row for row in rows if row.lot_id == lot.pk and row.seq == 1), None)
    facility = (
        Facility.objects.select_related("organization").get(pk=first.facility_id)
        if first and first.facility_id
        else None
    )
    return credentials.OriginClaims(
        certificate_id=str(certificate_id),
        issued_at=issued_at,
        base_url=base_url,
        lot_code=lot.code,
        lot_name=Material(lot.material).label,
        mass_kg=format_mass(lot.mass_kg),
        produced_at=first.facility if facility else "unrecorded",
        produced_at_id=_facility_uri(base_url, facility),
        producer=facility.organization.name if facility else "unrecorded",
        country_of_production=first.country if first else "",
        production_date=datetime.fromisoformat(first.occurred_at).date()
        if first
        else issued_at.date(),
        materials=materials(rows, origin),
        policy_slug=verdict.policy.slug,
        policy_version=verdict.policy.number,
        policy_description=verdict.policy.content.get("description", ""),
        outcome=verdict.outcome,
        assessed_at=verdict.assessed_at,
        ledger_export_url=f"{credential_key.verify_url(certificate_id)}/ledger.csv",
        ledger_export_sha256=ledger_sha256,
        commitment=commitment,
    )


def _facility_uri(base_url: str, facility: Facility | None) -> str:
    if facility is None:
        return f"{base_url}/facilities/unrecorded"
    if facility.gln:
        return f"https://id.gs1.org/414/{facility.gln}"
    return f"{base_url}/facilities/{facility.pk}"


def materials(
    rows: list[LedgerRow], origin: Contributions
) -> tuple[credentials.MaterialOrigin, ...]:
    """The lot's material by origin country: the shares of its mass from each pickup (all
    recycled: data-center scrap), by the country of its data center as recorded when it was
    picked up; lots of unrecorded origin by the country where they first appear, not
    recycled. Fractions are rounded to six places and sum to 1."""
    countries = {row.lot_id: row.country for row in rows if row.seq == 1}
    shares: dict[tuple[str, str, float], float] = defaultdict(float)
    for pickup in origin.pickups:
        name = f"{Material(pickup.lot.material).label} from data-center pickups"
        shares[name, countries.get(pickup.lot.pk, ""), 1.0] += pickup.share
    for unknown in origin.unknown_origin:
        name = f"{Material(unknown.lot.material).label} of unrecorded origin"
        shares[name, countries.get(unknown.lot.pk, ""), 0.0] += unknown.share
    ordered = sorted(shares.items(), key=lambda item: -item[1])
    fractions = [round(share, 6) for _, share in ordered]
    if fractions:
        fractions[0] = round(1 - math.fsum(fractions[1:]), 6)
    return tuple(
        credentials.MaterialOrigin(name, country, fraction, recycled)
        for ((name, country, recycled), _), fraction in zip(ordered, fractions, strict=True)
    )


def revoke_certificate(certificate: Certificate, *, user, reason: str) -> CertificateAct:
    """An operator withdraws a certificate, with a reason the verification page shows."""
    with transaction.atomic():
        certificate, reason = _act_allowed(certificate, user, reason)
        return CertificateAct.objects.create(
            certificate=certificate,
            action=CertificateAction.REVOKED,
            reason=reason,
            acted_by=user,
            acted_at=timezone.now(),
        )


def supersede_certificate(certificate: Certificate, *, user, reason: str) -> Certificate:
    """An operator replaces a certificate by a new one of the same lot, for the same
    organization under the same policy version, issued now; the act names it."""
    _act_allowed(certificate, user, reason)  # refuse before the work of issuing
    successor = issue_certificate(
        certificate.lot,
        organization=certificate.organization,
        user=user,
        policy=certificate.policy,
    )
    with transaction.atomic():
        certificate, reason = _act_allowed(certificate, user, reason)
        CertificateAct.objects.create(
            certificate=certificate,
            action=CertificateAction.SUPERSEDED,
            superseded_by=successor,
            reason=reason,
            acted_by=user,
            acted_at=timezone.now(),
        )
    return successor


def _act_allowed(certificate: Certificate, user, reason: str) -> tuple[Certificate, str]:
    """Only an operator acts, with a reason, once per certificate (the certificate's row
    lock orders two acts; the unique certificate of an act decides)."""
    if user is None or not _is_operator(user):
        raise DomainError(
            ErrorCode.NOT_AN_OPERATOR,
            "Only the platform operator revokes or supersedes a certificate.",
        )
    reason = clean_text(
        require_text(reason, field="reason", code=ErrorCode.REASON_REQUIRED),
        field="reason",
        max_length=MAX_REASON_LENGTH,
    )
    if transaction.get_connection().in_atomic_block:
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    act = CertificateAct.objects.filter(certificate=certificate).first()
    if act is not None:
        raise DomainError(
            ErrorCode.CERTIFICATE_ALREADY_REVOKED,
            f"This certificate was already {act.action} on {act.acted_at:%Y-%m-%d}.",
            field="certificate",
        )
    return certificate, reason


def _is_operator(user) -> bool:
    return Membership.objects.filter(
        user=user, organization__roles__code=Role.OPERATOR, organization__is_active=True
    ).exists()
