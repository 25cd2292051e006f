"""Keeping the latest verdict of each lot, so that lists can filter by it.

When it is refreshed:

* after every ledger transaction that commits: the lots it wrote events on (a transformation
  writes on its inputs and its outputs) and every lot downstream of them, since a verdict reads
  the whole upstream. ``PendingWrites.finish`` hands the lot ids to
  ``reassess_after_commit``, which hands them to Celery (``custody.tasks`` sets the seam; eager
  in ``make run`` and the tests, so there at once). A broker that is down fails no write: it is
  logged, and the hourly task catches up on the lots written;
* hourly (beat): lots without a verdict, changed since it, or still unverified (a handoff runs out
  of time without any new event);
* nightly (beat): every lot, which also catches what changes a verdict without an event (an edited
  policy, facility or certification) and a downstream lot whose refresh a down broker lost;
* by the lot list's "Reassess verdicts" action and the ``assess`` command.
"""

import logging
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import F, Q

from ..models import Lot, LotLink, LotVerdict
from ..selectors.genealogy import downstream
from ..selectors.verdicts import Verdict, assess

logger = logging.getLogger(__name__)


def record_verdict(*, verdict: Verdict) -> LotVerdict | None:
    """Store ``verdict`` as its lot's latest, if it applied the latest version of the default
    policy (what the lot list filters by); it names that version."""
    if not verdict.policy.is_latest_of_default:
        return None
    stored, _ = LotVerdict.objects.update_or_create(
        lot=verdict.lot,
        defaults={
            "outcome": verdict.outcome,
            "policy": verdict.policy.policy,
            "policy_version": verdict.policy.number,
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


def reassess_lots(*, lot_ids: Iterable[int]) -> int:
    """Reassess these lots and every lot downstream of them (what a committed write can change);
    returns how many were reassessed."""
    ids = set(lot_ids)
    with_children = Lot.objects.filter(
        pk__in=LotLink.objects.filter(parent_id__in=ids).values("parent_id")
    )
    for parent in with_children:
        ids.update(downstream(parent))
    count = 0
    for lot in Lot.objects.filter(pk__in=ids).order_by("pk"):
        reassess_lot(lot=lot)
        count += 1
    return count


# How a ledger transaction asks for its lots' verdicts to be refreshed once it commits:
# ``custody.tasks`` sets it when it loads (a Celery task), so that no service imports a task.
_reassessor: Callable[[list[int]], None] | None = None


def set_reassessor(reassess: Callable[[list[int]], None]) -> None:
    """``reassess(lot_ids)`` queues the refresh of these lots' stored verdicts."""
    global _reassessor
    _reassessor = reassess


def reassess_after_commit(lot_ids: Iterable[int]) -> None:
    """Hand the lots a committed transaction wrote to the reassessor. Never raises: the write
    has committed, and a lot whose refresh is lost here is caught by the hourly task (its
    ``updated_at`` is newer than its stored verdict)."""
    ids = sorted(set(lot_ids))
    if not ids:
        return
    try:
        if _reassessor is None:
            raise RuntimeError("no reassessor set (custody.tasks not loaded)")
        _reassessor(ids)
    except Exception:
        logger.warning(
            "Verdicts of lots %s not refreshed after commit (the hourly reassessment catches up)",
            ids,
            exc_info=True,
        )
