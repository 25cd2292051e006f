"""Origin policies: the rules a verdict applies, edited by operators, kept version by version."""

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ..models import OriginPolicy, OriginPolicyVersion, content_sha256, policy_content


@transaction.atomic
def save_origin_policy(
    *,
    policy: OriginPolicy,
    save_rules: Callable[[], None],
    saved_by: AbstractBaseUser | None = None,
) -> OriginPolicy:
    """Save a policy with its rules (``save_rules`` writes its content windows, yield windows and
    certification requirements). When what the policy says then differs from its latest
    version, the next version is recorded, by ``saved_by``, with the policy's whole content:
    the earlier versions stay as they were, for the verdicts that name them."""
    if policy.pk is not None:
        # Two operators saving the same policy number their versions one after the other.
        OriginPolicy.objects.select_for_update().filter(pk=policy.pk).first()
    policy.save()
    save_rules()
    _record_version(policy, saved_by)
    return policy


def _record_version(policy: OriginPolicy, saved_by: AbstractBaseUser | None) -> None:
    saved = OriginPolicy.objects.prefetch_related(
        "content", "yields", "certification_requirements"
    ).get(pk=policy.pk)
    content = policy_content(saved)
    digest = content_sha256(content)
    latest = policy.versions.order_by("-number").first()
    if latest is not None and latest.content_sha256 == digest:
        number = latest.number
    else:
        number = latest.number + 1 if latest else 1
        OriginPolicyVersion.objects.create(
            policy=policy,
            number=number,
            content=content,
            content_sha256=digest,
            saved_by=saved_by,
            saved_at=timezone.now(),
        )
    # ``policy.save()`` wrote the version the caller's instance held, which may be stale.
    OriginPolicy.objects.filter(pk=policy.pk).update(version=number)
    policy.version = number
