"""Origin policies: the rules a verdict applies, edited by operators."""

from collections.abc import Callable

from django.db import transaction
from django.db.models import F

from ..models import OriginPolicy


@transaction.atomic
def save_origin_policy(
    *, policy: OriginPolicy, save_rules: Callable[[], None], changed: bool
) -> OriginPolicy:
    """Save a policy with its rules (``save_rules`` writes its content windows, yield windows and
    certification requirements). A change to a policy that already existed bumps its version,
    which every verdict names."""
    existed = policy.pk is not None
    policy.save()
    save_rules()
    if existed and changed:
        OriginPolicy.objects.filter(pk=policy.pk).update(version=F("version") + 1)
        policy.refresh_from_db(fields=["version"])
    return policy
