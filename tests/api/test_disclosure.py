"""Least knowledge in what a trace and a verdict say (README, "Partner API"): of lots the caller
never held, a partner learns codes, materials, depths, countries and data-center shares, and
what was wrong with them, never masses, custodians, facilities or events. And a lot it may not
see answers exactly as a code never issued, in the same queries."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from custody.documents import verdict_document
from custody.selectors.disclosure import verdict_for
from custody.selectors.verdicts import assess
from custody.selectors.visibility import lots_named

from ..custody.verdict_chains import Knobs, VerdictChain
from .test_write_api import keyed


@pytest.fixture
def builder(chain):
    return VerdictChain(chain)


def get(organization, lot, suffix):
    response = keyed(organization).get(f"/api/v1/lots/{lot.code}/{suffix}")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_trace_shows_code_material_and_depth_of_lots_the_caller_never_held(builder):
    """The refinery received the concentrate and made the oxide; the drives and the magnets
    upstream it never held."""
    lots = builder.build()
    drives, magnets, concentrate, oxide = (
        lots[k] for k in ("drives", "magnets", "concentrate", "oxide")
    )
    for lot in lots.values():
        lot.refresh_from_db()
    document = get(builder.refinery, oxide, "trace/")
    nodes = {node["code"]: node for node in document["lots"]}
    assert (nodes[concentrate.code]["mass_kg"], nodes[concentrate.code]["status"]) == (
        "0.000",
        "consumed",
    )
    assert nodes[concentrate.code]["custodian"] == "Refinery"
    for hidden, depth, material in [(magnets, 2, "ndfeb_magnets"), (drives, 3, "hdd")]:
        assert nodes[hidden.code] == {
            "code": hidden.code,
            "material": material,
            "mass_kg": None,
            "status": None,
            "custodian": None,
            "country": None,
            "depth": depth,
        }
    links = {(link["parent"], link["child"]): link["mass_kg"] for link in document["links"]}
    # The concentrate's transformed event, which the refinery may read, lists what came in.
    assert links[(magnets.code, concentrate.code)] is not None
    assert links[(drives.code, magnets.code)] is None
    (share,) = document["contributions"]
    assert (share["pickup"], share["data_center"], share["share"]) == (
        drives.code,
        "DC Ashburn (US)",
        1.0,
    )
    assert "Dismantling plant" not in json.dumps(document)
    whole = get(builder.c.auditor, oxide, "trace/")
    assert {node["code"]: node["custodian"] for node in whole["lots"]}[drives.code] == (
        "Dismantling plant"
    )
    assert None not in {link["mass_kg"] for link in whole["links"]}


def test_a_verdict_says_what_was_wrong_upstream_without_masses_or_facilities(builder, chain):
    """The drives lost 5 % in transit and the magnets went through Malaysia, both before the
    refinery held anything: it learns the rule, the lot, the countries; not the masses, the
    yards or the plants."""
    lots = builder.build(Knobs(received_share=Decimal("0.95"), via_country="MY"))
    drives, magnets, concentrate, oxide = (
        lots[k] for k in ("drives", "magnets", "concentrate", "oxide")
    )
    whole = get(chain.operator, oxide, "verdict/")
    seen = get(builder.refinery, oxide, "verdict/")
    assert seen["outcome"] == whole["outcome"] == "non_compliant"
    for key in ("policy", "pickups", "data_centers", "countries"):
        assert seen[key] == whole[key], key
    assert "MY" in seen["countries"]
    findings = {(f["code"], f["lot"]): f for f in seen["findings"]}
    originals = {(f["code"], f["lot"]): f for f in whole["findings"]}
    assert findings.keys() == originals.keys()
    loss = findings[("transit_loss", drives.code)]
    assert loss == {
        **originals[("transit_loss", drives.code)],
        "event": None,
        "message": f"{drives.code}: transit_loss from a facility in US to a facility in US.",
    }
    assert "kg" in originals[("transit_loss", drives.code)]["message"]
    abroad = findings[("foreign_custody", magnets.code)]
    assert abroad["message"] == (
        f"{magnets.code}: foreign_custody from a facility in US to a facility in MY."
    )
    assert abroad["seq"] == originals[("foreign_custody", magnets.code)]["seq"] is not None

    steps = {
        (s["kind"], tuple(s["lots_in"]), tuple(s["lots_out"])): s for s in seen["mass_balance"]
    }
    transit = steps[("transit", (drives.code,), (drives.code,))]
    assert transit["facility"] == "a facility in US -> a facility in US"
    assert [transit[k] for k in ("mass_in_kg", "mass_out_kg", "residue_kg", "loss_kg")] == [
        None
    ] * 4
    # The separator's process: the refinery has seen its output, not its input.
    separation = steps[("process", (magnets.code,), (concentrate.code,))]
    assert (separation["facility"], separation["mass_in_kg"]) == ("a facility in US", None)
    refining = steps[("process", (concentrate.code,), (oxide.code,))]
    assert refining == next(s for s in whole["mass_balance"] if s["lots_out"] == [oxide.code])
    assert seen["facilities"] == ["DC Ashburn (US)", "Refinery (US)", "Sep plant (US)"]
    assert {"Dismantling plant (US)", "Yard (MY)"} <= set(whole["facilities"])
    text = json.dumps(seen)
    for withheld in ("Dismantling plant", "Yard", "Malaysia", str(drives.mass_kg)):
        assert withheld not in text, withheld


def test_operators_and_auditors_get_the_verdict_whole(builder, chain):
    lots = builder.build(Knobs(received_share=Decimal("0.95")))
    oxide = lots["oxide"]
    whole = verdict_document(assess(oxide))
    for organization in (chain.operator, chain.auditor):
        document = verdict_document(verdict_for(organization, oxide, now=None))
        assert {**document, "assessed_at": None} == {**whole, "assessed_at": None}


def test_a_partner_that_held_every_lot_gets_its_verdict_whole(chain, pickup):
    """The source registered the pickup; its verdict names nothing the source never held."""
    from ..conftest import ship

    lot = ship(chain, pickup, measured_kg=Decimal("1.800"), seals_intact=False)
    whole = verdict_document(assess(lot))
    recycler = get(chain.recycler, lot, "verdict/")
    assert {**recycler, "assessed_at": None} == {**whole, "assessed_at": None}
    assert any("kg" in finding["message"] for finding in recycler["findings"])


# --- Lot existence is not revealed by timing --------------------------------------------------


def test_an_unknown_code_and_a_hidden_lot_cost_the_same_queries(chain, pickup):
    unknown = "LOT-2026-999999"
    assert not chain.trader.sees_everything  # its roles, read once
    with CaptureQueriesContext(connection) as for_unknown:
        assert lots_named(chain.trader, [unknown]) == {}
    with CaptureQueriesContext(connection) as for_hidden:
        assert lots_named(chain.trader, [pickup.code]) == {}
    shapes = [
        [q["sql"].replace(code, "?") for q in queries]
        for code, queries in ((unknown, for_unknown), (pickup.code, for_hidden))
    ]
    assert len(for_unknown) == len(for_hidden) == 1
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize("suffix", ["", "events/", "trace/", "verdict/"])
def test_the_api_answers_an_unknown_code_and_a_hidden_lot_in_the_same_queries(
    chain, pickup, suffix, django_assert_num_queries
):
    stranger = keyed(chain.trader)
    stranger.get("/api/v1/lots/LOT-2026-999998/")  # the first request reads what is cached
    with CaptureQueriesContext(connection) as for_unknown:
        unknown = stranger.get(f"/api/v1/lots/LOT-2026-999999/{suffix}")
    with django_assert_num_queries(len(for_unknown)):
        hidden = stranger.get(f"/api/v1/lots/{pickup.code}/{suffix}")
    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json() == hidden.json()
