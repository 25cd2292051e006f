"""Property: random clean chains are verified; any one violation makes them not verified."""

import dataclasses
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custody.selectors.verdicts import assess

from .verdict_chains import Knobs, VerdictChain


def decimals(low: str, high: str, places: int = 3):
    return st.decimals(Decimal(low), Decimal(high), places=places)


clean_knobs = st.builds(
    Knobs,
    drives=st.integers(20, 120),
    magnet_grams_per_drive=decimals("11", "24", 1),
    received_share=decimals("0.985", "1"),
    transit_days=st.floats(0.1, 12),
    undeclared_loss=decimals("0", "0.04"),
    concentrate_ratio=decimals("0.285", "0.325"),
    oxide_ratio=decimals("0.66", "0.89"),
)

VIOLATIONS = {
    "seal_broken": {"seals_intact": False},
    "transit_loss": {"received_share": Decimal("0.9")},
    "open_handoff": {"transit_days": 20},
    "unbalanced_transformation": {"undeclared_loss": Decimal("0.2")},
    "yield_shortfall": {"concentrate_ratio": Decimal("0.2")},
    "yield_excess": {"oxide_ratio": Decimal("0.97")},
    "yield_excess (drives)": {"magnet_grams_per_drive": Decimal("40")},
    "yield_shortfall (drives)": {"magnet_grams_per_drive": Decimal("3")},
    "uncertified_custodian": {"recycler_certified": False},
    "unsanitized_media": {"unsanitized_drives": 1},
    "foreign_custody": {"via_country": "MY"},
    "denied_jurisdiction": {"via_country": "CN"},
    "unknown_origin": {"extra_input": "intake"},
}

SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(knobs=clean_knobs)
def test_clean_chains_inside_every_window_are_verified(chain, knobs):
    lots = VerdictChain(chain).build(knobs)
    verdict = assess(lots["oxide"])
    assert verdict.outcome == "verified", [f.message for f in verdict.findings]


@SETTINGS
@given(knobs=clean_knobs, violation=st.sampled_from(sorted(VIOLATIONS)))
def test_any_one_violation_never_leaves_a_chain_verified(chain, knobs, violation):
    broken = dataclasses.replace(knobs, **VIOLATIONS[violation])
    lots = VerdictChain(chain).build(broken)
    verdict = assess(lots["oxide"])
    assert verdict.outcome != "verified", violation
    assert violation.split(" ")[0] in {finding.code for finding in verdict.findings}
