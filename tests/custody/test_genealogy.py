"""Upstream and downstream walks, contributions by pickup and data center, the trace command,
and concurrent transformations sharing an input."""

import json
import random
import threading
from decimal import Decimal
from fractions import Fraction
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections

from custody import services
from custody.errors import DomainError
from custody.models import Lot, Transformation
from custody.selectors.genealogy import contributions, downstream, trace, upstream
from custody.selectors.verification import verify_ledger
from custody.services import Consume, Produce

from .genealogy_builders import lot_at_plant, output_of, second_data_center


class TestDiamond:
    def test_upstream_and_downstream_with_depths(self, diamond):
        d = {name: lot.pk for name, lot in diamond.items()}
        assert upstream(diamond["f"]) == {d["m"]: 1, d["s2"]: 1, d["s1"]: 2, d["p2"]: 2, d["p1"]: 2}
        assert downstream(diamond["p1"]) == {d["s1"]: 1, d["s2"]: 1, d["m"]: 2, d["f"]: 2}
        assert upstream(diamond["p1"]) == {}

    def test_contributions_match_the_hand_computation(self, diamond):
        # F = 2.5 kg from M + 2 kg from S2; M = 3 kg from S1 + 2 kg from P2.
        # P1: 5/9 x 3/5 (via S1, M) + 4/9 (via S2) = 7/9;  P2: 5/9 x 2/5 = 2/9.
        result = contributions(diamond["f"])
        shares = {row.lot.code: row.share for row in result.pickups}
        assert shares == pytest.approx(
            {diamond["p1"].code: 7 / 9, diamond["p2"].code: 2 / 9}, abs=1e-12
        )
        assert result.total_share == pytest.approx(1, abs=1e-12)
        assert result.unknown_origin == []
        masses = {row.lot.code: row.mass_kg for row in result.pickups}
        assert masses == {
            diamond["p1"].code: Decimal("3.500"),
            diamond["p2"].code: Decimal("1.000"),
        }
        by_dc = {row.facility.name: (row.share, row.pickups) for row in result.data_centers}
        assert by_dc == {
            "DC Ashburn": (pytest.approx(7 / 9), 1),
            "DC Columbus": (pytest.approx(2 / 9), 1),
        }

    def test_a_pickup_is_all_its_own(self, diamond):
        result = contributions(diamond["p2"])
        assert [(row.lot, row.share) for row in result.pickups] == [(diamond["p2"], 1.0)]

    def test_trace_carries_the_lot_attributes_and_the_links(self, diamond):
        genealogy = trace(diamond["f"])
        assert [(node.code, node.depth) for node in genealogy.nodes] == [
            (lot.code, depth)
            for lot, depth in sorted(
                [
                    (diamond["m"], 1),
                    (diamond["s2"], 1),
                    (diamond["p1"], 2),
                    (diamond["s1"], 2),
                    (diamond["p2"], 2),
                ],
                key=lambda pair: (pair[1], pair[0].pk),
            )
        ]
        node = genealogy.by_id()[diamond["p1"].pk]
        assert (node.material, node.status, node.custodian, node.country) == (
            "hdd",
            "consumed",
            "Knoxville plant",
            "US",
        )
        assert len(genealogy.links) == 6


def test_contributions_on_random_genealogies_sum_to_one_exactly_as_fractions(chain):
    """Random processes over a pool of lots: the float shares match an exact computation with
    fractions over the same links."""
    rng = random.Random(7)
    actor = chain.actor(chain.recycler)
    pool = [
        lot_at_plant(chain, f"{rng.randint(5, 50)}.000", serial_prefix=f"R{n}") for n in range(6)
    ]
    for _ in range(8):
        chosen = rng.sample(pool, k=rng.randint(1, min(3, len(pool))))
        inputs = [
            Consume(
                lot, (lot.mass_kg * Decimal(rng.choice(["0.5", "1"]))).quantize(Decimal("0.001"))
            )
            for lot in chosen
        ]
        total = sum(consume.mass_kg for consume in inputs)
        made = services.process_lots(
            actor=actor,
            inputs=inputs,
            outputs=[Produce("shredded_hdd", (total * Decimal("0.9")).quantize(Decimal("0.001")))],
        )
        for lot in chosen:
            lot.refresh_from_db()
        pool = [lot for lot in pool if lot.status != "consumed"] + [output_of(made)]
    target = pool[-1]
    result = contributions(target)
    assert result.total_share == pytest.approx(1, abs=1e-9)
    exact = exact_shares(target)
    assert {row.lot.pk: row.share for row in result.pickups} == pytest.approx(
        {pk: float(share) for pk, share in exact.items()}, abs=1e-9
    )


def exact_shares(lot) -> dict[int, Fraction]:
    parents = list(lot.parent_links.values_list("parent_id", "mass_kg"))
    if not parents:
        return {lot.pk: Fraction(1)}
    total = sum(Fraction(mass) for _, mass in parents)
    shares: dict[int, Fraction] = {}
    for parent_id, mass in parents:
        for source, share in exact_shares(Lot.objects.get(pk=parent_id)).items():
            shares[source] = shares.get(source, 0) + Fraction(mass) / total * share
    return shares


@pytest.fixture
def five_tiers(chain):
    """Pickups -> dismantled -> magnets -> concentrate -> oxide, with two data centers."""
    actor = chain.actor(chain.recycler)
    columbus = second_data_center(chain)
    pickups = [
        lot_at_plant(chain, "680.000", data_center=dc, serial_prefix=f"T{n}")
        for n, dc in enumerate([chain.data_center, chain.data_center, columbus])
    ]
    shredded = [
        output_of(
            services.process_lots(
                actor=actor, inputs=[Consume(p)], outputs=[Produce("shredded_hdd", Decimal("670"))]
            )
        )
        for p in pickups
    ]
    magnets = [
        output_of(
            services.process_lots(
                actor=actor, inputs=[Consume(s)], outputs=[Produce("ndfeb_magnets", Decimal("15"))]
            )
        )
        for s in shredded
    ]
    concentrate = output_of(
        services.process_lots(
            actor=actor,
            inputs=[Consume(m) for m in magnets],
            outputs=[Produce("ree_concentrate", Decimal("13.5"))],
        )
    )
    oxide = output_of(
        services.process_lots(
            actor=actor,
            inputs=[Consume(concentrate)],
            outputs=[Produce("ndpr_oxide", Decimal("4.2"))],
        )
    )
    return {
        "pickups": pickups,
        "shredded": shredded,
        "magnets": magnets,
        "concentrate": concentrate,
        "oxide": oxide,
    }


class TestFiveTiers:
    def test_every_tier_at_its_depth(self, five_tiers):
        depths = upstream(five_tiers["oxide"])
        assert depths[five_tiers["concentrate"].pk] == 1
        assert {depths[lot.pk] for lot in five_tiers["magnets"]} == {2}
        assert {depths[lot.pk] for lot in five_tiers["shredded"]} == {3}
        assert {depths[lot.pk] for lot in five_tiers["pickups"]} == {4}
        assert len(depths) == 10
        down = downstream(five_tiers["pickups"][0])
        assert sorted(down.values()) == [1, 2, 3, 4]

    def test_trace_command_tree(self, five_tiers):
        out = StringIO()
        call_command("trace", five_tiers["oxide"].code, stdout=out)
        text = out.getvalue()
        assert text.splitlines()[0].startswith(f"{five_tiers['oxide'].code}  ndpr_oxide  4.200 kg")
        for tier in ("pickups", "shredded", "magnets"):
            for lot in five_tiers[tier]:
                assert lot.code in text
        assert "Contributions by data center:" in text
        assert " 66.67%  2.800 kg  DC Ashburn (US)  (2 pickups)" in text
        assert " 33.33%  1.400 kg  DC Columbus (US)  (1 pickup)" in text

    def test_trace_command_json_down(self, five_tiers):
        out = StringIO()
        call_command(
            "trace", five_tiers["pickups"][2].code, "--down", "--format", "json", stdout=out
        )
        document = json.loads(out.getvalue())
        assert document["direction"] == "down"
        assert [(lot["material"], lot["depth"]) for lot in document["lots"]] == [
            ("shredded_hdd", 1),
            ("ndfeb_magnets", 2),
            ("ree_concentrate", 3),
            ("ndpr_oxide", 4),
        ]
        link = {
            "parent": five_tiers["pickups"][2].code,
            "child": five_tiers["shredded"][2].code,
            "mass_kg": "670.000",
        }
        assert link in document["links"]

    def test_trace_of_an_unknown_lot(self, db):
        with pytest.raises(Exception, match="No lot LOT-1999-000001"):
            call_command("trace", "LOT-1999-000001", stdout=StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_transformations_sharing_inputs_neither_deadlock_nor_over_consume(chain):
    """Eight threads each take a random mass from two of three shared lots, in random order.
    Lots are locked in id order, so nothing deadlocks; every draw either fits or is refused with
    ``consumed_exceeds_mass``, so no lot ever gives more than it held."""
    actor = chain.actor(chain.recycler)
    shared = [lot_at_plant(chain, "10.000", serial_prefix=f"C{n}") for n in range(3)]
    start = threading.Barrier(8)
    outcomes, errors = [], []

    def worker(seed: int):
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(4):
                lots = rng.sample(shared, k=2)
                masses = [Decimal(rng.randint(500, 3000)) / 1000 for _ in lots]
                try:
                    services.process_lots(
                        actor=actor,
                        inputs=[
                            Consume(Lot(pk=lot.pk), m) for lot, m in zip(lots, masses, strict=True)
                        ],
                        outputs=[Produce("shredded_hdd", sum(masses))],
                    )
                    outcomes.append("done")
                except DomainError as error:
                    outcomes.append(error.code)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a transformation deadlocked"
    assert errors == []
    assert set(outcomes) <= {"done", "consumed_exceeds_mass", "lot_closed"}
    assert outcomes.count("done") == Transformation.objects.count() > 0
    for lot in shared:
        lot.refresh_from_db()
        taken = sum(link_mass for link_mass in lot.child_links.values_list("mass_kg", flat=True))
        assert lot.mass_kg >= 0
        assert taken + lot.mass_kg == Decimal("10.000")
    assert verify_ledger().ok
