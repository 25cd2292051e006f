"""Accepting a certification recorded after the events it covers: the recorded act by which an
operator or auditor lets it count for them (README, "Reference data history")."""

from django.db import transaction
from django.utils import timezone

from recyclers.models import Certification, Role

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..models import CertificationAcceptance, CustodyEvent
from .stored_verdicts import reassess_after_commit
from .validation import clean_text, require_text

MAX_REASON_LENGTH = 2000
ASSESSORS = frozenset({Role.OPERATOR, Role.AUDITOR})


@transaction.atomic
def accept_certification(
    *, actor: Actor, certification: Certification, reason: str
) -> CertificationAcceptance:
    """Accept the certification as it is recorded now (its latest history record): verdicts
    then count it for events recorded before it, and cite this acceptance. A later edit of the
    certification needs an acceptance of its own. The verdicts of the lots held at its facility
    (and downstream) are refreshed once this commits."""
    require_assessor(actor)
    reason = clean_text(
        require_text(reason, field="reason", code=ErrorCode.REASON_REQUIRED),
        field="reason",
        max_length=MAX_REASON_LENGTH,
    )
    # The row lock orders two acceptances of one certification; the unique version decides.
    certification = Certification.objects.select_for_update().get(pk=certification.pk)
    version = certification.history.latest()
    if CertificationAcceptance.objects.filter(certification_version=version).exists():
        raise DomainError(
            ErrorCode.CERTIFICATION_ALREADY_ACCEPTED,
            f"{certification} is already accepted as it is recorded now.",
            field="certification",
        )
    acceptance = CertificationAcceptance.objects.create(
        certification=certification,
        certification_version=version,
        accepted_by_organization=actor.organization,
        accepted_by_user=actor.user,
        accepted_by_api_key_prefix=actor.api_key_prefix,
        accepted_at=timezone.now(),
        reason=reason,
    )
    lot_ids = list(
        CustodyEvent.objects.filter(facility_id=certification.facility_id)
        .values_list("lot_id", flat=True)
        .distinct()
    )
    transaction.on_commit(lambda: reassess_after_commit(lot_ids))
    return acceptance


def require_assessor(actor: Actor) -> None:
    """Only an active operator or auditor accepts a certification."""
    organization = actor.organization
    if not organization.is_active:
        raise DomainError(ErrorCode.ORGANIZATION_INACTIVE, f"{organization} is not active.")
    if organization.role_codes.isdisjoint(ASSESSORS):
        raise DomainError(
            ErrorCode.NOT_AN_ASSESSOR,
            f"{organization} is neither the platform operator nor an auditor: only they "
            "accept a certification recorded after the events it covers.",
        )
