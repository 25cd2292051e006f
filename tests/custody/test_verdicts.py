"""The verdict: one scenario per rule trips exactly that finding; a clean chain is verified."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from custody import db_triggers, services
from custody.models import Lot, LotVerdict, OriginPolicy
from custody.selectors.verdicts import MISSING_EVIDENCE, VIOLATION, assess
from custody.services.policies import save_origin_policy
from custody.tasks import reassess_verdicts

from ..factories import FacilityFactory
from .verdict_chains import Knobs, VerdictChain


@pytest.fixture
def builder(chain):
    return VerdictChain(chain)


def codes(verdict) -> set[str]:
    return {finding.code for finding in verdict.findings}


def test_a_clean_chain_from_pickup_to_oxide_is_verified(builder):
    lots = builder.build()
    verdict = assess(lots["oxide"])
    assert verdict.findings == []
    assert verdict.outcome == "verified"
    assert verdict.policy_label == "US domestic (DFARS 252.225-7052, 2027) (version 1)"
    assert [code for code, _, _ in verdict.pickups] == [lots["drives"].code]
    assert verdict.data_centers == [("DC Ashburn (US)", 1.0)]
    assert verdict.countries == ["US"]
    kinds = [step.kind for step in verdict.mass_balance]
    assert kinds == ["transit", "process", "transit", "process", "transit", "process"]


@pytest.mark.parametrize(
    ("knobs", "expected", "severity", "lot"),
    [
        (Knobs(seals_intact=False), "seal_broken", VIOLATION, "drives"),
        (Knobs(received_share=Decimal("0.95")), "transit_loss", VIOLATION, "drives"),
        (Knobs(transit_days=20), "open_handoff", VIOLATION, "drives"),
        (Knobs(undeclared_loss=Decimal("0.10")), "unbalanced_transformation", VIOLATION, "magnets"),
        (Knobs(concentrate_ratio=Decimal("0.20")), "yield_shortfall", VIOLATION, "concentrate"),
        (Knobs(oxide_ratio=Decimal("0.95")), "yield_excess", VIOLATION, "oxide"),
        (Knobs(magnet_grams_per_drive=Decimal("30")), "yield_excess", VIOLATION, "magnets"),
        (Knobs(magnet_grams_per_drive=Decimal("5")), "yield_shortfall", VIOLATION, "magnets"),
        (Knobs(recycler_certified=False), "uncertified_custodian", VIOLATION, "drives"),
        (Knobs(unsanitized_drives=3), "unsanitized_media", VIOLATION, "drives"),
        (Knobs(via_country="MY"), "foreign_custody", VIOLATION, "magnets"),
        (Knobs(via_country="CN"), "denied_jurisdiction", VIOLATION, "magnets"),
        (Knobs(extra_input="intake"), "unknown_origin", MISSING_EVIDENCE, None),
    ],
)
def test_each_rule_trips_exactly_its_finding(builder, knobs, expected, severity, lot):
    lots = builder.build(knobs)
    verdict = assess(lots["oxide"])
    assert codes(verdict) == {expected}, [f.message for f in verdict.findings]
    (finding,) = verdict.findings
    assert finding.severity == severity
    assert verdict.outcome == ("non_compliant" if severity == VIOLATION else "unverified")
    if lot is not None:
        assert finding.lot == lots[lot].code
        assert finding.event is not None
    assert finding.message


def test_a_foreign_routed_input_makes_the_oxide_non_compliant_and_says_where(builder, chain):
    """Two pickups feed the oxide; the magnets of one went through Malaysia."""
    clean = builder.build()
    abroad = FacilityFactory(organization=chain.trader, name="Port Klang yard 2", country="MY")
    from ..factories import CertificationFactory

    CertificationFactory(facility=abroad, scheme="r2v3")
    drives = builder.pickup(Knobs(), serial="E", days_ago=59)
    builder.ship(drives, builder.plant, 57)
    builder.ship(drives, abroad, 55)
    builder.ship(drives, builder.plant, 52)
    magnets = Lot.objects.get(pk=clean["magnets"].pk)
    assert magnets.status == "consumed"
    merged = services.merge_lots(
        actor=chain.actor(builder.refinery),
        lots=[clean["oxide"], _oxide_from(builder, chain, drives)],
    )
    final = Lot.objects.get(
        parent_links__transformation=merged, parent_links__parent=clean["oxide"]
    )
    verdict = assess(final)
    assert verdict.outcome == "non_compliant"
    (finding,) = [f for f in verdict.findings if f.code == "foreign_custody"]
    assert finding.lot == drives.code
    assert "Port Klang yard 2" in finding.message and "Malaysia" in finding.message
    assert {name for name, _ in verdict.data_centers} == {"DC Ashburn (US)"}
    assert len(verdict.pickups) == 2
    assert "MY" in verdict.countries


def _oxide_from(builder, chain, drives):
    from custody.services import Consume, Produce, Residue

    from .genealogy_builders import output_of

    magnets = output_of(
        services.process_lots(
            actor=chain.actor(chain.recycler),
            inputs=[Consume(drives)],
            outputs=[Produce("ndfeb_magnets", Decimal("1.800"))],
            residues=[Residue("steel", drives.mass_kg - Decimal("1.800"))],
            occurred_at=builder.at(30),
        )
    )
    builder.ship(magnets, builder.separation_plant, 20)
    concentrate = output_of(
        services.process_lots(
            actor=chain.actor(builder.separator),
            inputs=[Consume(magnets)],
            outputs=[Produce("ree_concentrate", Decimal("0.540"))],
            residues=[Residue("slag", Decimal("1.260"))],
            occurred_at=builder.at(15),
        )
    )
    builder.ship(concentrate, builder.refinery_plant, 10)
    return output_of(
        services.process_lots(
            actor=chain.actor(builder.refinery),
            inputs=[Consume(concentrate)],
            outputs=[Produce("ndpr_oxide", Decimal("0.400"))],
            residues=[Residue("slag", Decimal("0.140"))],
            occurred_at=builder.at(5),
        )
    )


def test_an_open_handoff_within_its_time_is_unverified_and_beyond_it_non_compliant(builder):
    lots = builder.build(Knobs(stop_before_receipt_days_ago=3))
    verdict = assess(lots["drives"])
    assert [(f.code, f.severity) for f in verdict.findings] == [("open_handoff", MISSING_EVIDENCE)]
    assert verdict.outcome == "unverified"
    later = assess(lots["drives"], now=timezone.now() + timedelta(days=12))
    assert [(f.code, f.severity) for f in later.findings] == [("open_handoff", VIOLATION)]
    assert later.outcome == "non_compliant"


def test_a_broken_chain_upstream_makes_the_oxide_non_compliant(builder):
    lots = builder.build()
    db_triggers.drop(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE custody_custodyevent SET evidence = %s WHERE lot_id = %s AND seq = 1",
                ['["' + "ab" * 32 + '"]', lots["drives"].pk],
            )
    finally:
        db_triggers.install(connection)
    verdict = assess(lots["oxide"])
    assert codes(verdict) == {"broken_chain"}
    assert verdict.findings[0].lot == lots["drives"].code


def test_a_correction_is_taken_into_account(builder, chain):
    lots = builder.build(Knobs(seals_intact=False))
    receipt = lots["drives"].events.get(kind="received")
    services.correct_event(
        actor=chain.actor(chain.recycler),
        lot=lots["drives"],
        corrects=receipt,
        reason="The seal photo shows both seals intact",
        corrections={"seals_intact": True},
    )
    assert assess(lots["oxide"]).outcome == "verified"


def test_a_stricter_policy_is_named_with_its_version(builder):
    lots = builder.build()
    strict = OriginPolicy.objects.get(is_default=True)
    strict.pk, strict.is_default, strict.slug, strict.name = None, False, "strict", "Strict"
    save_origin_policy(policy=strict, save_rules=lambda: None)
    for tolerance in ("0.01", "0.001"):  # two edits: version 3
        strict.transformation_loss_tolerance = Decimal(tolerance)
        save_origin_policy(policy=strict, save_rules=lambda: None)
    verdict = assess(lots["oxide"], strict)
    assert codes(verdict) == {"unbalanced_transformation"}
    assert verdict.policy_label == "Strict (version 3)"


def test_assess_reads_the_upstream_in_a_bounded_number_of_queries(builder, chain):
    first, second = builder.build(), builder.build()
    merged = services.merge_lots(
        actor=chain.actor(builder.refinery), lots=[first["oxide"], second["oxide"]]
    )
    final = Lot.objects.get(
        parent_links__transformation=merged, parent_links__parent=first["oxide"]
    )
    with CaptureQueriesContext(connection) as small:
        assess(first["oxide"])
    with CaptureQueriesContext(connection) as twice_as_big:
        assert assess(final).outcome == "verified"
    assert len(twice_as_big.captured_queries) == len(small.captured_queries) <= 20


def test_the_assess_command_prints_the_verdict_and_stores_it(builder):
    lots = builder.build(Knobs(seals_intact=False))
    out = StringIO()
    call_command("assess", lots["oxide"].code, stdout=out)
    text = out.getvalue()
    assert text.startswith(f"{lots['oxide'].code}: NON-COMPLIANT")
    assert "[violation] seal_broken @" in text
    assert "100.00%  DC Ashburn (US)" in text
    assert "Mass balance:" in text
    stored = LotVerdict.objects.get(lot=lots["oxide"])
    assert (stored.outcome, stored.policy_version) == ("non_compliant", 1)
    assert [f["code"] for f in stored.findings] == ["seal_broken"]
    document = StringIO()
    call_command("assess", lots["oxide"].code, "--format", "json", stdout=document)
    data = json.loads(document.getvalue())
    assert data["outcome"] == "non_compliant"
    assert data["findings"][0]["event"] == str(lots["drives"].events.get(kind="received").uuid)
    with pytest.raises(CommandError, match="No origin policy 'nope'"):
        call_command("assess", lots["oxide"].code, "--policy", "nope", stdout=StringIO())


def test_the_hourly_task_reassesses_stale_lots(builder, chain):
    lots = builder.build()
    assert reassess_verdicts.delay(everything=True).get() == Lot.objects.count()
    assert LotVerdict.objects.get(lot=lots["oxide"]).outcome == "verified"
    assert reassess_verdicts.delay().get() == 0  # nothing changed, nothing unverified
    services.weigh_lot(
        actor=chain.actor(chain.source),
        lot=builder.pickup(Knobs(), serial="Z"),
        mass_kg=Decimal("68"),
    )
    assert reassess_verdicts.delay().get() == 1
