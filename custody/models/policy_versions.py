"""The versions of an origin policy: each save that changes what the policy says keeps its
complete content, as it applied, in a row that is never changed (append-only, trigger-guarded).
A verdict applies one version; the rules read its content and nothing else."""

import hashlib
import json
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple

from django.conf import settings
from django.db import models

from .policies import OriginPolicy

# Decimal places of each fraction, as the policy's fields store them: the content keeps them as
# fixed-point text, so that the same policy always gives the same bytes and the same SHA-256.
TOLERANCE_PLACES = 4
GRAM_PLACES = 2
RATIO_PLACES = 4


class ContentWindow(NamedTuple):
    category: str
    min_grams: Decimal
    max_grams: Decimal


class YieldRange(NamedTuple):
    input_material: str
    output_material: str
    min_ratio: Decimal
    max_ratio: Decimal
    note: str


class PolicyTerms(NamedTuple):
    """A version's content, typed for the rules."""

    name: str
    allowed_countries: tuple[str, ...]
    denied_countries: tuple[str, ...]
    max_transit_days: int
    transit_loss_tolerance: Decimal
    transformation_loss_tolerance: Decimal
    content_windows: tuple[ContentWindow, ...]
    yield_windows: tuple[YieldRange, ...]
    certification_requirements: tuple[tuple[str, str], ...]  # (role, scheme)

    @classmethod
    def from_content(cls, content: dict) -> "PolicyTerms":
        return cls(
            name=content["name"],
            allowed_countries=tuple(content["allowed_countries"]),
            denied_countries=tuple(content["denied_countries"]),
            max_transit_days=content["max_transit_days"],
            transit_loss_tolerance=Decimal(content["transit_loss_tolerance"]),
            transformation_loss_tolerance=Decimal(content["transformation_loss_tolerance"]),
            content_windows=tuple(
                ContentWindow(w["category"], Decimal(w["min_grams"]), Decimal(w["max_grams"]))
                for w in content["content_windows"]
            ),
            yield_windows=tuple(
                YieldRange(
                    w["input_material"],
                    w["output_material"],
                    Decimal(w["min_ratio"]),
                    Decimal(w["max_ratio"]),
                    w["note"],
                )
                for w in content["yield_windows"]
            ),
            certification_requirements=tuple(
                (r["role"], r["scheme"]) for r in content["certification_requirements"]
            ),
        )


def policy_content(policy) -> dict:
    """Everything ``policy`` says (all but its slug, which names it, and whether it is the
    default, which is not what it says), as saved, in a canonical form (sorted lists, fixed-point
    decimals as text). Reads only fields and related managers, so that a migration can call it
    with its historical models."""
    return {
        "name": policy.name,
        "description": policy.description,
        "allowed_countries": sorted(str(code) for code in policy.allowed_countries),
        "denied_countries": sorted(str(code) for code in policy.denied_countries),
        "max_transit_days": policy.max_transit_days,
        "transit_loss_tolerance": _fixed(policy.transit_loss_tolerance, TOLERANCE_PLACES),
        "transformation_loss_tolerance": _fixed(
            policy.transformation_loss_tolerance, TOLERANCE_PLACES
        ),
        "content_windows": sorted(
            (
                {
                    "category": window.category,
                    "min_grams": _fixed(window.min_grams, GRAM_PLACES),
                    "max_grams": _fixed(window.max_grams, GRAM_PLACES),
                }
                for window in policy.content.all()
            ),
            key=lambda window: window["category"],
        ),
        "yield_windows": sorted(
            (
                {
                    "input_material": window.input_material,
                    "output_material": window.output_material,
                    "min_ratio": _fixed(window.min_ratio, RATIO_PLACES),
                    "max_ratio": _fixed(window.max_ratio, RATIO_PLACES),
                    "note": window.note,
                }
                for window in policy.yields.all()
            ),
            key=lambda window: (window["input_material"], window["output_material"]),
        ),
        "certification_requirements": sorted(
            (
                {"role": requirement.role, "scheme": requirement.scheme}
                for requirement in policy.certification_requirements.all()
            ),
            key=lambda requirement: (requirement["role"], requirement["scheme"]),
        ),
    }


def content_sha256(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fixed(value, places: int) -> str:
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


class OriginPolicyVersion(models.Model):
    """One version of an origin policy, kept as it applied: never updated or deleted.
    ``content`` is ``policy_content`` of the policy when it was saved; ``content_sha256`` its
    SHA-256 over canonical JSON (sorted keys, no spaces)."""

    policy = models.ForeignKey(OriginPolicy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    content_sha256 = models.CharField(max_length=64)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="saved_policy_versions",
        null=True,
        blank=True,
        help_text="Empty for a version a migration or the demo recorded.",
    )
    saved_at = models.DateTimeField()

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="one_policy_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.slug}@{self.number}"

    @property
    def name(self) -> str:
        return self.content["name"]

    @property
    def slug(self) -> str:
        return self.policy.slug

    @property
    def version(self) -> int:
        return self.number

    @property
    def is_latest_of_default(self) -> bool:
        """Whether this is what a verdict applies when no policy is named."""
        return self.policy.is_default and self.policy.version == self.number

    @cached_property
    def terms(self) -> PolicyTerms:
        return PolicyTerms.from_content(self.content)
