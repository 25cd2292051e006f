"""Which version of an origin policy a verdict applies: the latest version of the default policy,
the latest of a named policy (``slug``), or a named version (``slug@N``). Every verdict reads
its rules from the version's stored content, whichever way it was named."""

import re

from ..errors import DomainError, ErrorCode
from ..models import OriginPolicy, OriginPolicyVersion

REFERENCE = re.compile(r"(?P<slug>[-a-zA-Z0-9_]{1,64})(?:@(?P<number>[0-9]{1,20}))?")
MAX_VERSION = 2**31 - 1  # a PositiveIntegerField's range on every database


def applied_version(policy: OriginPolicy | OriginPolicyVersion | None) -> OriginPolicyVersion:
    """``policy`` if it is a version; else the latest version of ``policy``, or of the default
    policy if None."""
    if isinstance(policy, OriginPolicyVersion):
        return policy
    versions = OriginPolicyVersion.objects.select_related("policy").order_by("-number")
    if policy is None:
        found = versions.filter(policy__is_default=True).first()
    else:
        found = versions.filter(policy=policy).first()
    if found is None:
        raise _unknown(f"No recorded version of {policy or 'the default origin policy'}.")
    return found


def policy_version(reference: str) -> OriginPolicyVersion:
    """The version ``reference`` names: ``slug`` for the policy's latest, ``slug@N`` for its
    version N. An unknown policy or version is a ``DomainError`` on the field ``policy``."""
    match = REFERENCE.fullmatch(reference)
    if match is None:
        raise _unknown(f"No origin policy {reference!r}: name one as SLUG or SLUG@VERSION.")
    slug, number = match["slug"], match["number"]
    versions = OriginPolicyVersion.objects.select_related("policy").filter(policy__slug=slug)
    if number is not None:
        versions = versions.filter(number=min(int(number), MAX_VERSION + 1))
    found = versions.order_by("-number").first()
    if found is not None:
        return found
    latest = OriginPolicy.objects.filter(slug=slug).values_list("version", flat=True).first()
    if latest is None:
        raise _unknown(f"No origin policy {slug!r}.")
    raise _unknown(
        f"Origin policy {slug!r} has no version {number}: its versions are 1 to {latest}."
    )


def _unknown(message: str) -> DomainError:
    return DomainError(ErrorCode.UNKNOWN_POLICY, message, field="policy")


# What names one row of a policy's windows and requirements, from one version to the next.
ROW_KEYS = {
    "content_windows": ("category",),
    "yield_windows": ("input_material", "output_material"),
    "certification_requirements": ("role", "scheme"),
}


def content_changes(older: dict | None, newer: dict) -> list[str]:
    """What changed from one version's content to the next, one line per change."""
    if older is None:
        return ["first version"]
    changes = []
    for field, value in newer.items():
        before = older.get(field)
        if field in ROW_KEYS:
            changes.extend(_row_changes(field, before or [], value))
        elif isinstance(value, list):
            added = [f"+{item}" for item in value if item not in (before or [])]
            removed = [f"-{item}" for item in before or [] if item not in value]
            if added or removed:
                changes.append(f"{field}: {' '.join(removed + added)}")
        elif before != value:
            changes.append(f"{field}: {_short(before)} -> {_short(value)}")
    return changes


def _row_changes(field: str, before: list[dict], after: list[dict]) -> list[str]:
    keys = ROW_KEYS[field]
    old = {tuple(row[key] for key in keys): row for row in before}
    new = {tuple(row[key] for key in keys): row for row in after}
    changes = []
    for key in sorted(old.keys() | new.keys()):
        name = f"{field} {'/'.join(key)}"
        if key not in new:
            changes.append(f"{name} removed")
        elif key not in old:
            values = ", ".join(f"{k} {v}" for k, v in new[key].items() if k not in keys)
            changes.append(f"{name} added{': ' + values if values else ''}")
        else:
            changes.extend(
                f"{name} {k}: {_short(old[key].get(k))} -> {_short(v)}"
                for k, v in new[key].items()
                if old[key].get(k) != v
            )
    return changes


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 60 else f"{text[:57]}..."
