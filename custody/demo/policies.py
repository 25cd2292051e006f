"""The demo's second origin policy, ``strict-eu``, so that the same ledger can be judged by
another buyer's rules (``manage.py assess LOT --policy strict-eu``). Created once through
``custody.services``, with the default policy's content and yield windows; a second run, or an
operator's later edit, is left as it is."""

from custody.models import CertificationRequirement, OriginPolicy
from custody.services.policies import save_origin_policy

STRICT_EU = "strict-eu"

EU_MEMBER_STATES = [
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
]


def seed_policies() -> OriginPolicy:
    """The ``strict-eu`` policy, created if missing."""
    existing = OriginPolicy.objects.filter(slug=STRICT_EU).first()
    if existing is not None:
        return existing
    default = OriginPolicy.objects.get(is_default=True)
    policy = OriginPolicy(
        name="EU buyer, strict (demo)",
        slug=STRICT_EU,
        description=(
            "A demo policy for a European magnet maker: custody only in EU member states; "
            "China, Russia, Belarus, North Korea and Iran denied; a week in transit; 1 % "
            "transit loss and 3 % undeclared transformation loss; recyclers certified to R2v3 or "
            "e-Stewards, separators and refineries to ISO 14001. A domestic US chain fails it: "
            "compare with the default policy."
        ),
        allowed_countries=EU_MEMBER_STATES,
        denied_countries=["BY", "CN", "IR", "KP", "RU"],
        max_transit_days=7,
        transit_loss_tolerance="0.0100",
        transformation_loss_tolerance="0.0300",
    )

    def save_rules() -> None:
        for window in default.content.all():
            window.pk, window.policy = None, policy
            window.save()
        for window in default.yields.all():
            window.pk, window.policy = None, policy
            window.save()
        CertificationRequirement.objects.bulk_create(
            CertificationRequirement(policy=policy, role=role, scheme=scheme)
            for role, scheme in [
                ("recycler", "r2v3"),
                ("recycler", "e_stewards"),
                ("separator", "iso_14001"),
                ("refinery", "iso_14001"),
            ]
        )

    return save_origin_policy(policy=policy, save_rules=save_rules)
