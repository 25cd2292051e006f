"""The write services: every happy path, and every illegal move with its code and no trace."""

import itertools
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from custody import services
from custody.errors import DomainError
from custody.models import CustodyEvent, EventKind, LotStatus, Material
from custody.projection import projection_drift
from custody.selectors.verification import verify_ledger
from recyclers.models import Certification

from ..conftest import days_ago, drive_manifest, refused, ship
from ..factories import FacilityFactory, OrganizationFactory


def dispatched(chain, lot, **kwargs):
    services.dispatch_lot(
        **{
            "actor": chain.actor(chain.source),
            "lot": lot,
            "destination": chain.plant,
            "carrier": chain.carrier,
            "seal_numbers": ["S-1", "S-2"],
            "occurred_at": days_ago(19),
        }
        | kwargs
    )
    lot.refresh_from_db()
    return lot


def received(chain, lot, mass="2.000", seals_intact=True):
    services.receive_lot(
        actor=chain.actor(chain.recycler),
        lot=lot,
        measured_mass_kg=Decimal(mass),
        seals_intact=seals_intact,
        occurred_at=days_ago(18),
    )
    lot.refresh_from_db()
    return lot


class TestDispatchAndReceive:
    def test_dispatch_puts_the_lot_in_transit_to_a_named_facility(self, chain, pickup):
        lot = dispatched(chain, pickup, declared_mass_kg=Decimal("2.005"))
        event = lot.events.get(seq=2)
        assert (lot.status, lot.custodian, lot.destination) == (
            LotStatus.IN_TRANSIT,
            None,
            chain.plant,
        )
        assert event.kind == EventKind.DISPATCHED
        assert event.facility == chain.data_center
        assert event.counterparty_facility == chain.plant
        assert event.mass_kg == Decimal("2.005")
        assert event.details["carrier"] == chain.carrier.slug  # as the request names it
        assert event.details["seal_numbers"] == ["S-1", "S-2"]
        assert event.prev_hash == lot.events.get(seq=1).hash

    def test_receipt_records_measured_mass_and_seals(self, chain, pickup):
        lot = ship(chain, pickup, measured_kg=Decimal("1.990"), seals_intact=False)
        event = lot.events.get(seq=3)
        assert (lot.status, lot.custodian, lot.destination) == (
            LotStatus.RECEIVED,
            chain.plant,
            None,
        )
        assert lot.mass_kg == Decimal("1.990")
        assert event.details["seals_intact"] is False
        assert event.details["dispatched_mass_kg"] == "2.010"
        assert event.details["difference_kg"] == "-0.020"
        assert event.counterparty_facility == chain.data_center

    def test_dispatch_refusals(self, chain, pickup):
        def dispatch(actor, **changes):
            services.dispatch_lot(
                **{"actor": chain.actor(actor), "lot": pickup, "destination": chain.plant} | changes
            )

        with refused("not_custodian"):
            dispatch(chain.recycler)
        with refused("same_facility", "destination"):
            dispatch(chain.source, destination=chain.data_center)
        with refused("not_a_carrier", "carrier"):
            dispatch(chain.source, carrier=chain.recycler)
        with refused("negative_mass", "declared_mass_kg"):
            dispatch(chain.source, declared_mass_kg=Decimal("-2"))
        with refused("invalid_seal_numbers", "seal_numbers"):
            dispatch(chain.source, seal_numbers=["S-1", "S-1"])
        with refused("invalid_seal_numbers", "seal_numbers"):
            dispatch(chain.source, seal_numbers=[""])
        with refused("time_before_previous_event", "occurred_at"):
            dispatch(chain.source, occurred_at=days_ago(21))
        with refused("read_only_organization"):
            dispatch(chain.auditor)
        closed_plant = FacilityFactory(organization=chain.recycler, is_active=False)
        with refused("facility_inactive", "destination"):
            dispatch(chain.source, destination=closed_plant)

    def test_a_lot_in_transit_cannot_move_again(self, chain, pickup):
        lot = dispatched(chain, pickup)
        with refused("lot_in_transit"):
            services.dispatch_lot(actor=chain.actor(chain.source), lot=lot, destination=chain.plant)
        with refused("lot_in_transit"):
            services.weigh_lot(actor=chain.actor(chain.source), lot=lot, mass_kg=Decimal("1"))

    def test_only_the_destination_may_receive(self, chain, pickup):
        lot = dispatched(chain, pickup)
        for stranger in (chain.source, chain.trader, chain.carrier):
            with refused("not_destination"):
                services.receive_lot(
                    actor=chain.actor(stranger),
                    lot=lot,
                    measured_mass_kg=Decimal("2"),
                    seals_intact=True,
                )

    def test_receive_refusals(self, chain, pickup):
        with refused("lot_not_in_transit"):
            services.receive_lot(
                actor=chain.actor(chain.recycler),
                lot=pickup,
                measured_mass_kg=Decimal("2"),
                seals_intact=True,
            )
        lot = dispatched(chain, pickup)
        for changes, code in [
            ({"measured_mass_kg": Decimal("-1")}, "negative_mass"),
            ({"seals_intact": "yes"}, "invalid_seals_intact"),
            ({"occurred_at": days_ago(25)}, "time_before_previous_event"),
        ]:
            arguments = {
                "actor": chain.actor(chain.recycler),
                "lot": lot,
                "measured_mass_kg": Decimal("2"),
                "seals_intact": True,
            } | changes
            with refused(code):
                services.receive_lot(**arguments)

    def test_a_replayed_dispatch_writes_nothing_even_after_the_state_moved_on(self, chain, pickup):
        first = services.dispatch_lot(
            actor=chain.actor(chain.source),
            lot=pickup,
            destination=chain.plant,
            idempotency_key="d-1",
        )
        again = services.dispatch_lot(
            actor=chain.actor(chain.source),
            lot=pickup,
            destination=chain.plant,
            idempotency_key="d-1",
        )
        assert again == first
        assert pickup.events.count() == 2
        with refused("idempotency_key_reused", "idempotency_key"):
            services.weigh_lot(
                actor=chain.actor(chain.source),
                lot=pickup,
                mass_kg=Decimal("1"),
                idempotency_key="d-1",
            )


class TestWeighQuarantineRelease:
    def test_weigh_sets_the_mass(self, chain, pickup):
        event = services.weigh_lot(
            actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("2.100"), scale_ref="S7"
        )
        pickup.refresh_from_db()
        assert pickup.mass_kg == Decimal("2.100")
        assert event.details == {"previous_mass_kg": "2.010", "scale_ref": "S7", "note": ""}

    def test_weigh_refusals(self, chain, pickup):
        with refused("not_custodian"):
            services.weigh_lot(actor=chain.actor(chain.recycler), lot=pickup, mass_kg=Decimal("2"))
        with refused("zero_mass", "mass_kg"):
            services.weigh_lot(actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("0"))

    def test_quarantine_blocks_dispatch_and_delivery_until_released(self, chain, pickup):
        services.quarantine_lot(actor=chain.actor(chain.source), lot=pickup, reason="Seal mismatch")
        pickup.refresh_from_db()
        assert pickup.quarantined
        with refused("lot_quarantined"):
            services.dispatch_lot(
                actor=chain.actor(chain.source), lot=pickup, destination=chain.plant
            )
        with refused("lot_quarantined"):
            services.deliver_lot(
                actor=chain.actor(chain.source), lot=pickup, buyer_facility=chain.buyer_plant
            )
        with refused("lot_quarantined"):
            services.quarantine_lot(actor=chain.actor(chain.source), lot=pickup, reason="again")
        services.release_lot(actor=chain.actor(chain.source), lot=pickup, reason="Seals checked")
        pickup.refresh_from_db()
        assert not pickup.quarantined
        lot = dispatched(chain, pickup, occurred_at=None)
        assert lot.status == LotStatus.IN_TRANSIT

    def test_quarantine_and_release_refusals(self, chain, pickup):
        with refused("reason_required", "reason"):
            services.quarantine_lot(actor=chain.actor(chain.source), lot=pickup, reason="  ")
        with refused("not_custodian"):
            services.quarantine_lot(actor=chain.actor(chain.recycler), lot=pickup, reason="x")
        with refused("lot_not_quarantined"):
            services.release_lot(actor=chain.actor(chain.source), lot=pickup, reason="x")

    def test_the_operator_quarantines_and_only_it_releases_its_quarantine(self, chain, pickup):
        lot = dispatched(chain, pickup)
        services.quarantine_lot(
            actor=chain.actor(chain.operator),
            lot=lot,
            reason="Route anomaly",
            occurred_at=days_ago(18.5),
        )
        lot = received(chain, lot)
        assert lot.quarantined
        with refused("not_quarantine_author"):
            services.release_lot(actor=chain.actor(chain.recycler), lot=lot, reason="fine")
        services.release_lot(actor=chain.actor(chain.operator), lot=lot, reason="Cleared")
        lot.refresh_from_db()
        assert not lot.quarantined


class TestDeliverDispose:
    def test_delivery_to_a_buyer_closes_the_lot(self, chain, pickup):
        lot = ship(chain, pickup)
        event = services.deliver_lot(
            actor=chain.actor(chain.recycler),
            lot=lot,
            buyer_facility=chain.buyer_plant,
            invoice_ref="INV-9",
        )
        lot.refresh_from_db()
        assert (lot.status, lot.custodian) == (LotStatus.DELIVERED, chain.buyer_plant)
        assert event.counterparty_facility == chain.buyer_plant
        with refused("lot_closed"):
            services.weigh_lot(actor=chain.actor(chain.buyer), lot=lot, mass_kg=Decimal("1"))

    def test_delivery_refusals(self, chain, pickup):
        with refused("not_a_buyer", "buyer_facility"):
            services.deliver_lot(
                actor=chain.actor(chain.source), lot=pickup, buyer_facility=chain.plant
            )
        with refused("not_custodian"):
            services.deliver_lot(
                actor=chain.actor(chain.recycler), lot=pickup, buyer_facility=chain.buyer_plant
            )

    def test_dispose(self, chain, pickup):
        with refused("method_required", "method"):
            services.dispose_lot(actor=chain.actor(chain.source), lot=pickup, method="")
        services.dispose_lot(actor=chain.actor(chain.source), lot=pickup, method="landfill")
        pickup.refresh_from_db()
        assert pickup.status == LotStatus.DISPOSED
        with refused("lot_closed"):
            services.dispatch_lot(
                actor=chain.actor(chain.source), lot=pickup, destination=chain.plant
            )


class TestCorrect:
    def test_a_correction_of_the_latest_mass_moves_the_lot_mass(self, chain, pickup):
        lot = ship(chain, pickup, measured_kg=Decimal("1.500"))
        wrong = lot.events.get(kind=EventKind.RECEIVED)
        event = services.correct_event(
            actor=chain.actor(chain.recycler),
            lot=lot,
            corrects=wrong,
            reason="Scale tared wrong",
            mass_kg=Decimal("1.950"),
        )
        lot.refresh_from_db()
        assert lot.mass_kg == Decimal("1.950")
        assert event.corrects == wrong
        assert event.details["updates_lot_mass"] is True
        wrong.refresh_from_db()
        assert wrong.mass_kg == Decimal("1.500"), "the wrong event stays as it was"

    def test_a_correction_of_an_old_mass_leaves_the_current_mass(self, chain, pickup):
        services.weigh_lot(actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("2.2"))
        services.correct_event(
            actor=chain.actor(chain.source),
            lot=pickup,
            corrects=pickup.events.get(seq=1),
            reason="typo in the pickup mass",
            mass_kg=Decimal("2.020"),
        )
        pickup.refresh_from_db()
        assert pickup.mass_kg == Decimal("2.200")

    def test_correction_refusals(self, chain, pickup):
        other = services.register_pickup(
            actor=chain.actor(chain.source),
            facility=chain.data_center,
            material=Material.HDD,
            mass_kg=Decimal("1"),
            assets=drive_manifest(1),
        )
        registered = pickup.events.get()
        arguments = {"lot": pickup, "corrects": registered, "reason": "r", "mass_kg": Decimal(1)}
        with refused("event_not_in_lot", "corrects"):
            services.correct_event(
                **(arguments | {"actor": chain.actor(chain.source), "corrects": other.events.get()})
            )
        with refused("not_event_author", "corrects"):
            services.correct_event(**(arguments | {"actor": chain.actor(chain.recycler)}))
        with refused("nothing_to_correct", "corrections"):
            services.correct_event(
                **(arguments | {"actor": chain.actor(chain.source), "mass_kg": None})
            )
        with refused("reason_required", "reason"):
            services.correct_event(
                **(arguments | {"actor": chain.actor(chain.source), "reason": ""})
            )
        quarantined = services.quarantine_lot(
            actor=chain.actor(chain.source), lot=pickup, reason="x"
        )
        with refused("mass_not_correctable", "mass_kg"):
            services.correct_event(
                **(arguments | {"actor": chain.actor(chain.source), "corrects": quarantined})
            )

    def test_the_operator_may_correct_fields_other_than_mass(self, chain, pickup):
        lot = ship(chain, pickup, seals_intact=False)
        event = services.correct_event(
            actor=chain.actor(chain.operator),
            lot=lot,
            corrects=lot.events.get(kind=EventKind.RECEIVED),
            reason="Seal photo shows the seals intact",
            corrections={"seals_intact": True},
        )
        assert event.details["corrections"] == {"seals_intact": True}
        assert event.details["updates_lot_mass"] is False


def test_a_whole_journey_keeps_one_verified_chain_and_a_rebuildable_projection(chain, pickup):
    lot = ship(chain, pickup)
    services.weigh_lot(actor=chain.actor(chain.recycler), lot=lot, mass_kg=Decimal("1.999"))
    services.quarantine_lot(actor=chain.actor(chain.recycler), lot=lot, reason="Assay pending")
    services.release_lot(actor=chain.actor(chain.recycler), lot=lot, reason="Assay fine")
    services.deliver_lot(
        actor=chain.actor(chain.recycler), lot=lot, buyer_facility=chain.buyer_plant
    )
    lot.refresh_from_db()
    events = list(lot.events.order_by("seq"))
    assert [event.kind for event in events] == [
        "registered",
        "dispatched",
        "received",
        "weighed",
        "quarantined",
        "released",
        "delivered",
    ]
    assert [event.seq for event in events] == list(range(1, 8))
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert verify_ledger().ok
    assert projection_drift(lot, events) == {}


def test_certifications_are_reference_data_not_ledger(chain):
    # Certifications change freely; the ledger records none of it.
    Certification.objects.create(
        facility=chain.plant,
        scheme="r2v3",
        number="R2-1",
        valid_from=timezone.now().date(),
        valid_until=timezone.now().date(),
    )
    assert CustodyEvent.objects.count() == 0
    assert OrganizationFactory(roles=["recycler"]).has_role("recycler")


def test_a_correction_names_an_event_of_the_lot_by_uuid(chain, pickup):
    actor = chain.actor(chain.source)
    for wrong in ("not-a-uuid", uuid.uuid4()):
        with pytest.raises(DomainError) as refused:
            services.correct_event(
                actor=actor, lot=pickup, corrects=wrong, reason="typo", mass_kg=Decimal("2")
            )
        assert (refused.value.code, refused.value.field) == ("event_not_in_lot", "corrects")
    registered = pickup.events.get()
    event = services.correct_event(
        actor=actor, lot=pickup, corrects=str(registered.uuid), reason="typo", mass_kg=Decimal("2")
    )
    assert event.corrects == registered
