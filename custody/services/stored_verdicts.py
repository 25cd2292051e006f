"""Keeping the latest verdict of each lot, so that lists can filter by it."""

from django.db import transaction
from django.db.models import F, Q

from ..models import Lot, LotVerdict
from ..selectors.verdicts import Verdict, assess


def record_verdict(*, verdict: Verdict) -> LotVerdict | None:
    """Store ``verdict`` as its lot's latest, if it applied the default policy."""
    if not verdict.policy.is_default:
        return None
    stored, _ = LotVerdict.objects.update_or_create(
        lot=verdict.lot,
        defaults={
            "outcome": verdict.outcome,
            "policy": verdict.policy,
            "policy_version": verdict.policy.version,
            "findings": [finding.as_dict() for finding in verdict.findings],
            "assessed_at": verdict.assessed_at,
        },
    )
    return stored


@transaction.atomic
def reassess_lot(*, lot: Lot) -> Verdict:
    """Assess the lot under the default policy now and store the verdict."""
    verdict = assess(lot)
    record_verdict(verdict=verdict)
    return verdict


def reassess_stale_lots(*, everything: bool = False) -> int:
    """Reassess lots without a verdict, changed since their verdict, or still open (a handoff
    runs out of time without any new event); every lot with ``everything``."""
    lots = Lot.objects.all()
    if not everything:
        lots = lots.filter(
            Q(verdict__isnull=True)
            | Q(updated_at__gt=F("verdict__assessed_at"))
            | Q(verdict__outcome="unverified")
        )
    count = 0
    for lot in lots.order_by("pk").iterator():
        reassess_lot(lot=lot)
        count += 1
    return count
