"""split, merge and process: mass rules, partial consumption, links, chains, idempotency."""

from decimal import Decimal

import pytest

from custody import services
from custody.models import EventKind, Lot, LotLink, LotStatus, Transformation
from custody.projection import projection_drift
from custody.selectors.verification import verify_ledger
from custody.services import Consume, Produce, Residue

from ..conftest import refused, ship
from ..factories import FacilityFactory
from .genealogy_builders import lot_at_plant, refresh


def recycler(chain):
    return chain.actor(chain.recycler)


def links_of(transformation):
    return sorted(
        (link.parent.code, link.child.code, link.mass_kg)
        for link in transformation.links.select_related("parent", "child")
    )


class TestProcess:
    def test_dismantling_drives_into_magnets_with_declared_residues(self, chain):
        drives = lot_at_plant(chain, "680.000")
        done = services.process_lots(
            actor=recycler(chain),
            inputs=[Consume(drives)],
            outputs=[Produce(material="ndfeb_magnets", mass_kg=Decimal("15.200"), item_count=0)],
            residues=[
                Residue(kind="steel", mass_kg=Decimal("410"), destination="Steel mill"),
                Residue(kind="aluminium", mass_kg=Decimal("150")),
                Residue(kind="pcb", mass_kg=Decimal("60")),
                Residue(kind="plastics", mass_kg=Decimal("40")),
            ],
        )
        (magnets,) = Lot.objects.filter(parent_links__transformation=done)
        (drives,) = refresh(drives)
        assert (drives.status, drives.mass_kg) == (LotStatus.CONSUMED, Decimal("0.000"))
        assert (magnets.material, magnets.mass_kg, magnets.status) == (
            "ndfeb_magnets",
            Decimal("15.200"),
            LotStatus.REGISTERED,
        )
        assert magnets.custodian == chain.plant
        assert magnets.source_facility is None
        assert (done.consumed_kg, done.output_kg, done.residue_kg) == (
            Decimal("680.000"),
            Decimal("15.200"),
            Decimal("660.000"),
        )
        assert done.unaccounted_kg == Decimal("4.800")
        assert links_of(done) == [(drives.code, magnets.code, Decimal("15.200"))]
        consumed_event = drives.events.get(kind=EventKind.TRANSFORMED)
        made_event = magnets.events.get()
        assert consumed_event.details["role"] == "input"
        assert consumed_event.details["remaining_kg"] == "0.000"
        assert made_event.details["role"] == "output"
        assert made_event.details["inputs"] == [{"lot": drives.code, "mass_kg": "15.200"}]
        assert consumed_event.details["digest"] == made_event.details["digest"] == done.digest
        assert verify_ledger().ok
        for lot in (drives, magnets):
            assert projection_drift(lot, lot.events.order_by("seq")) == {}

    def test_an_input_may_be_partly_consumed_and_keep_the_rest(self, chain):
        drives = lot_at_plant(chain, "680.000")
        services.process_lots(
            actor=recycler(chain),
            inputs=[Consume(drives, Decimal("300"))],
            outputs=[Produce(material="shredded_hdd", mass_kg=Decimal("299.500"))],
        )
        (drives,) = refresh(drives)
        assert (drives.status, drives.mass_kg) == (LotStatus.RECEIVED, Decimal("380.000"))
        event = drives.events.get(kind=EventKind.TRANSFORMED)
        assert (event.mass_kg, event.details["remaining_kg"]) == (Decimal("300.000"), "380.000")
        # What is left can go on: a second process takes the rest.
        services.process_lots(
            actor=recycler(chain),
            inputs=[Consume(drives)],
            outputs=[Produce(material="shredded_hdd", mass_kg=Decimal("379"))],
        )
        (drives,) = refresh(drives)
        assert drives.status == LotStatus.CONSUMED

    def test_outputs_and_residues_may_not_exceed_the_consumed_inputs(self, chain):
        drives = lot_at_plant(chain, "100.000")
        with refused("mass_not_conserved", "outputs") as caught:
            services.process_lots(
                actor=recycler(chain),
                inputs=[Consume(drives, Decimal("50"))],
                outputs=[Produce(material="shredded_hdd", mass_kg=Decimal("45"))],
                residues=[Residue(kind="dust", mass_kg=Decimal("5.250"))],
            )
        assert "by 0.250 kg" in caught.value.message
        assert not Transformation.objects.exists()

    def test_mass_links_follow_consumed_mass_to_the_gram(self, chain):
        small = lot_at_plant(chain, "1.000", serial_prefix="A")
        large = lot_at_plant(chain, "2.000", serial_prefix="B")
        done = services.process_lots(
            actor=recycler(chain),
            inputs=[Consume(large), Consume(small)],
            outputs=[
                Produce(material="shredded_hdd", mass_kg=Decimal("1.000")),
                Produce(material="magnet_swarf", mass_kg=Decimal("1.001")),
            ],
        )
        shred, swarf = (
            Lot.objects.filter(parent_links__transformation=done).distinct().order_by("pk")
        )
        assert links_of(done) == sorted(
            [
                (small.code, shred.code, Decimal("0.333")),
                (large.code, shred.code, Decimal("0.667")),
                (small.code, swarf.code, Decimal("0.334")),
                (large.code, swarf.code, Decimal("0.667")),
            ]
        )
        for output in (shred, swarf):
            total = sum(link.mass_kg for link in LotLink.objects.filter(child=output))
            assert total == output.mass_kg

    @pytest.mark.parametrize(
        ("inputs", "outputs", "residues", "code", "field"),
        [
            ("none", [Produce("shredded_hdd", Decimal(1))], [], "no_inputs", "inputs"),
            ("all", [], [], "no_outputs", "outputs"),
            (
                "all",
                [Produce("unobtainium", Decimal(1))],
                [],
                "invalid_material",
                "outputs[0].material",
            ),
            (
                "all",
                [Produce("shredded_hdd", Decimal(-1))],
                [],
                "negative_mass",
                "outputs[0].mass_kg",
            ),
            (
                "all",
                [Produce("shredded_hdd", Decimal(1), item_count=-2)],
                [],
                "invalid_item_count",
                "outputs[0].item_count",
            ),
            (
                "all",
                [Produce("shredded_hdd", Decimal(1))],
                [Residue("gold", Decimal(1))],
                "invalid_residue_kind",
                "residues[0].kind",
            ),
            (
                "all",
                [Produce("shredded_hdd", Decimal(1))],
                [Residue("slag", Decimal(0))],
                "zero_mass",
                "residues[0].mass_kg",
            ),
            ("twice", [Produce("shredded_hdd", Decimal(1))], [], "duplicate_input", "inputs"),
            (
                "too much",
                [Produce("shredded_hdd", Decimal(1))],
                [],
                "consumed_exceeds_mass",
                "inputs[0].mass_kg",
            ),
        ],
    )
    def test_bad_input_is_refused(self, chain, inputs, outputs, residues, code, field):
        drives = lot_at_plant(chain, "10.000")
        consume = {
            "none": [],
            "all": [Consume(drives)],
            "twice": [Consume(drives), Consume(drives)],
            "too much": [Consume(drives, Decimal("10.001"))],
        }[inputs]
        with refused(code, field):
            services.process_lots(
                actor=recycler(chain), inputs=consume, outputs=outputs, residues=residues
            )

    def test_only_the_custodian_transforms_lots_it_holds_at_one_facility(self, chain, pickup):
        drives = lot_at_plant(chain, "10.000")
        output = [Produce("shredded_hdd", Decimal(1))]
        with refused("not_custodian"):
            services.process_lots(
                actor=chain.actor(chain.buyer), inputs=[Consume(drives)], outputs=output
            )
        elsewhere = lot_at_plant(chain, "5.000", serial_prefix="X")
        second_plant = FacilityFactory(organization=chain.recycler, name="Memphis plant")
        ship(chain, elsewhere, to=second_plant)
        with refused("inputs_at_different_facilities", "inputs"):
            services.process_lots(
                actor=recycler(chain), inputs=[Consume(drives), Consume(elsewhere)], outputs=output
            )
        services.quarantine_lot(actor=recycler(chain), lot=drives, reason="assay pending")
        with refused("lot_quarantined"):
            services.process_lots(actor=recycler(chain), inputs=[Consume(drives)], outputs=output)
        services.dispatch_lot(actor=chain.actor(chain.source), lot=pickup, destination=chain.plant)
        with refused("lot_in_transit"):
            services.process_lots(actor=recycler(chain), inputs=[Consume(pickup)], outputs=output)

    def test_a_consumed_lot_cannot_go_in_again(self, chain):
        drives = lot_at_plant(chain, "10.000")
        output = [Produce("shredded_hdd", Decimal(1))]
        services.process_lots(actor=recycler(chain), inputs=[Consume(drives)], outputs=output)
        with refused("lot_closed"):
            services.process_lots(actor=recycler(chain), inputs=[Consume(drives)], outputs=output)

    def test_a_retry_with_the_same_key_writes_nothing(self, chain):
        drives = lot_at_plant(chain, "10.000")

        def run():
            return services.process_lots(
                actor=recycler(chain),
                inputs=[Consume(drives, Decimal("4"))],
                outputs=[Produce("shredded_hdd", Decimal("4"))],
                idempotency_key="batch-7",
            )

        assert run() == run()
        assert Transformation.objects.count() == 1
        (drives,) = refresh(drives)
        assert drives.mass_kg == Decimal("6.000")
        with refused("idempotency_key_reused", "idempotency_key"):
            services.split_lot(
                actor=recycler(chain),
                lot=drives,
                masses=[Decimal(1), Decimal(1)],
                idempotency_key="batch-7",
            )


class TestSplitAndMerge:
    def test_split_uses_up_the_lot(self, chain):
        drives = lot_at_plant(chain, "10.000")
        done = services.split_lot(
            actor=recycler(chain), lot=drives, masses=[Decimal("6"), Decimal("3.990")]
        )
        parts = list(Lot.objects.filter(parent_links__transformation=done).order_by("pk"))
        assert [(p.material, p.mass_kg) for p in parts] == [
            ("hdd", Decimal("6.000")),
            ("hdd", Decimal("3.990")),
        ]
        (drives,) = refresh(drives)
        assert drives.status == LotStatus.CONSUMED
        assert done.unaccounted_kg == Decimal("0.010")
        with refused("too_few_outputs", "masses"):
            services.split_lot(actor=recycler(chain), lot=parts[0], masses=[Decimal(6)])

    def test_merge_makes_one_lot_of_the_summed_mass(self, chain):
        lots = [lot_at_plant(chain, mass, serial_prefix=mass) for mass in ("1", "2", "3.5")]
        done = services.merge_lots(actor=recycler(chain), lots=lots)
        merged = Lot.objects.get(parent_links__transformation=done, parent_links__parent=lots[0])
        assert (merged.material, merged.mass_kg) == ("hdd", Decimal("6.500"))
        assert links_of(done) == sorted((lot.code, merged.code, lot.mass_kg) for lot in lots)
        assert all(lot.status == LotStatus.CONSUMED for lot in refresh(*lots))

    def test_merge_refusals(self, chain):
        one = lot_at_plant(chain, "1", serial_prefix="one")
        with refused("too_few_inputs", "lots"):
            services.merge_lots(actor=recycler(chain), lots=[one])
        magnets = services.process_lots(
            actor=recycler(chain),
            inputs=[Consume(one, Decimal("0.5"))],
            outputs=[Produce("ndfeb_magnets", Decimal("0.010"))],
        )
        magnet_lot = Lot.objects.get(parent_links__transformation=magnets)
        with refused("mixed_materials", "material"):
            services.merge_lots(actor=recycler(chain), lots=[one, magnet_lot])
        done = services.merge_lots(
            actor=recycler(chain), lots=[one, magnet_lot], material="mixed_escrap"
        )
        assert done.output_kg == Decimal("0.510")
