"""A correction is checked like the write it corrects: only the fields that kind of event has,
each by the service's own check; the manifest only through an amendment."""

from datetime import timedelta
from decimal import Decimal

import pytest

from custody import services
from custody.hashing import format_time
from custody.kinds import CORRECTABLE_FIELDS
from custody.models import EventKind
from custody.projection import projection_drift
from custody.selectors.verdicts import assess
from custody.services.chain import append_event, lock_lot
from custody.services.correctable import CHECKS
from custody.services.transaction import ledger_write

from ..conftest import days_ago, refused, ship
from ..factories import FacilityFactory
from .test_visibility import assert_the_record_is_the_rule
from .verdict_chains import Knobs, VerdictChain

FORGED_MANIFEST = {
    "lines": 900,
    "sha256": "ab" * 32,
    "drives": {"hdd_3_5": 900},
    "unsanitized_drives": 0,
    "last_sanitized_at": "2026-01-01T00:00:00.000000Z",
}


def codes(verdict) -> set[str]:
    return {finding.code for finding in verdict.findings}


@pytest.fixture
def unsanitized(chain):
    """A chain whose pickup had three drives without a sanitization record; the pickup lot is
    consumed by the dismantling."""
    return VerdictChain(chain).build(Knobs(unsanitized_drives=3))


def test_a_consumed_pickups_manifest_cannot_be_rewritten_through_a_correction(chain, unsanitized):
    drives, oxide = unsanitized["drives"], unsanitized["oxide"]
    before = codes(assess(oxide))
    assert "unsanitized_media" in before
    with refused("manifest_amendment_only", "corrections.manifest") as caught:
        services.correct_event(
            actor=chain.actor(chain.source),
            lot=drives,
            corrects=drives.events.get(seq=1),
            reason="All 900 drives were wiped",
            corrections={"manifest": FORGED_MANIFEST},
        )
    assert f"/api/v1/lots/{drives.code}/manifest/" in caught.value.message
    assert codes(assess(oxide)) == before


@ledger_write
def _unchecked_correction(*, actor, lot, corrects, corrections):
    """A correction as the ledger recorded it before corrections were checked."""
    lot = lock_lot(lot)
    return append_event(
        lot=lot,
        kind=EventKind.CORRECTED,
        actor=actor,
        occurred_at=days_ago(0),
        facility=lot.custodian,
        details={
            "reason": "unchecked",
            "corrected_kind": corrects.kind,
            "corrected_seq": corrects.seq,
            "corrections": corrections,
            "updates_lot_mass": False,
        },
        corrects=corrects,
    )


def test_the_verdict_reads_old_unchecked_corrections_only_for_fields_a_correction_may_change(
    chain, unsanitized
):
    drives, oxide = unsanitized["drives"], unsanitized["oxide"]
    before = codes(assess(oxide))
    _unchecked_correction(
        actor=chain.actor(chain.source),
        lot=drives,
        corrects=drives.events.get(seq=1),
        corrections={"manifest": FORGED_MANIFEST, "material": "ssd"},
    )
    assert codes(assess(oxide)) == before


def test_a_manifest_amended_at_the_data_center_still_counts(chain, pickup):
    line = services.AssetLine(category="hdd_3_5", serial="LATE-1")
    services.amend_manifest(actor=chain.actor(chain.source), lot=pickup, assets=[line])
    assert "unsanitized_media" in codes(assess(pickup))


def test_every_kind_of_event_has_its_table_of_checks():
    registered = set(CHECKS["pickup"]) | set(CHECKS["intake"])
    assert registered == CORRECTABLE_FIELDS[EventKind.REGISTERED]
    for kind, fields in CORRECTABLE_FIELDS.items():
        if kind != EventKind.REGISTERED:
            assert set(CHECKS.get(kind, {})) == fields, kind
    assert set(CORRECTABLE_FIELDS) == set(EventKind.values)


class TestFields:
    def correct(self, chain, lot, event, actor=None, **corrections):
        return services.correct_event(
            actor=chain.actor(actor or event.actor_organization),
            lot=lot,
            corrects=event,
            reason="wrong",
            corrections=corrections,
        )

    def test_an_unknown_field_is_refused_by_name(self, chain, pickup):
        with refused("unknown_correction_field", "corrections.colour"):
            self.correct(chain, pickup, pickup.events.get(), colour="red")
        with refused("unknown_correction_field", "corrections.mass_kg"):
            self.correct(chain, pickup, pickup.events.get(), mass_kg="2")

    def test_fields_the_event_has_but_a_correction_may_not_change(self, chain, pickup):
        registered = pickup.events.get()
        with refused("field_not_correctable", "corrections.material"):
            self.correct(chain, pickup, registered, material="ssd")
        with refused("field_not_correctable", "corrections.facility"):
            self.correct(chain, pickup, registered, facility=chain.plant.pk)
        lot = ship(chain, pickup)
        receipt = lot.events.get(kind=EventKind.RECEIVED)
        with refused("field_not_correctable", "corrections.difference_kg"):
            self.correct(chain, lot, receipt, difference_kg="0.000")

    def test_a_transformed_event_is_corrected_by_nothing(self, chain, pickup):
        lot = ship(chain, pickup)
        services.split_lot(
            actor=chain.actor(chain.recycler), lot=lot, masses=[Decimal(1), Decimal("1.010")]
        )
        transformed = lot.events.get(kind=EventKind.TRANSFORMED)
        with refused("field_not_correctable", "corrections.role"):
            self.correct(chain, lot, transformed, role="output")
        with refused("field_not_correctable", "corrections.occurred_at"):
            self.correct(chain, lot, transformed, occurred_at=days_ago(1).isoformat())

    @pytest.mark.parametrize(
        ("corrections", "code", "field"),
        [
            ({"item_count": 0}, "invalid_item_count", "item_count"),
            ({"item_count": "3"}, "invalid_item_count", "item_count"),
            ({"external_ref": "x" * 101}, "text_too_long", "external_ref"),
            ({"external_ref": "a\x00b"}, "invalid_text", "external_ref"),
            ({"occurred_at": "yesterday"}, "invalid_time", "occurred_at"),
            ({"occurred_at": "2026-01-01T00:00:00"}, "naive_time", "occurred_at"),
            ({"occurred_at": "1999-12-31T23:59:59Z"}, "time_out_of_range", "occurred_at"),
            ({"occurred_at": "0999-06-01T12:00:00Z"}, "time_out_of_range", "occurred_at"),
            ({"occurred_at": "9999-01-01T00:00:00Z"}, "time_in_future", "occurred_at"),
        ],
    )
    def test_a_pickups_fields_are_checked_as_the_pickup_checks_them(
        self, chain, pickup, corrections, code, field
    ):
        with refused(code, f"corrections.{field}"):
            self.correct(chain, pickup, pickup.events.get(), **corrections)

    def test_a_pickup_cannot_move_before_its_drives_were_sanitized(self, chain, pickup):
        with refused("sanitized_after_pickup", "corrections.occurred_at"):
            self.correct(chain, pickup, pickup.events.get(), occurred_at=days_ago(40).isoformat())

    def test_a_time_stays_between_the_lots_previous_and_next_events(self, chain, pickup):
        lot = ship(chain, pickup, dispatched_at=days_ago(10), received_at=days_ago(8))
        dispatched = lot.events.get(kind=EventKind.DISPATCHED)
        with refused("time_before_previous_event", "corrections.occurred_at"):
            self.correct(chain, lot, dispatched, occurred_at=days_ago(21).isoformat())
        with refused("time_after_next_event", "corrections.occurred_at"):
            self.correct(chain, lot, dispatched, occurred_at=days_ago(7).isoformat())
        moment = days_ago(9)
        event = self.correct(chain, lot, dispatched, occurred_at=moment.isoformat())
        assert event.details["corrections"] == {"occurred_at": format_time(moment)}

    def test_a_corrections_own_time_is_not_before_the_event_it_corrects(self, chain, pickup):
        with refused("time_before_previous_event", "occurred_at"):
            services.correct_event(
                actor=chain.actor(chain.source),
                lot=pickup,
                corrects=pickup.events.get(),
                reason="typo",
                mass_kg=Decimal(2),
                occurred_at=days_ago(21),
            )

    def test_a_dispatchs_fields_are_checked_as_the_dispatch_checks_them(self, chain, pickup):
        services.dispatch_lot(actor=chain.actor(chain.source), lot=pickup, destination=chain.plant)
        dispatched = pickup.events.get(kind=EventKind.DISPATCHED)
        with refused("not_a_carrier", "corrections.carrier"):
            self.correct(chain, pickup, dispatched, carrier=chain.recycler.slug)
        with refused("not_a_carrier", "corrections.carrier"):
            self.correct(chain, pickup, dispatched, carrier="nobody")
        with refused("invalid_seal_numbers", "corrections.seal_numbers"):
            self.correct(chain, pickup, dispatched, seal_numbers=["S-1", " S-1 "])
        with refused("invalid_seal_numbers", "corrections.seal_numbers"):
            self.correct(chain, pickup, dispatched, seal_numbers={"S-1": True})
        with refused("text_too_long", "corrections.note"):
            self.correct(chain, pickup, dispatched, note="n" * 2001)
        event = self.correct(
            chain, pickup, dispatched, carrier=chain.carrier.slug, seal_numbers=[" S-9 "]
        )
        assert event.details["corrections"] == {"carrier": "carrier", "seal_numbers": ["S-9"]}

    def test_a_receipts_seals_are_a_yes_or_no(self, chain, pickup):
        lot = ship(chain, pickup)
        receipt = lot.events.get(kind=EventKind.RECEIVED)
        with refused("invalid_seals_intact", "corrections.seals_intact"):
            self.correct(chain, lot, receipt, seals_intact="no")

    def test_reasons_and_methods_are_required_as_the_services_require_them(self, chain, pickup):
        held = services.quarantine_lot(actor=chain.actor(chain.source), lot=pickup, reason="x")
        with refused("reason_required", "corrections.reason"):
            self.correct(chain, pickup, held, reason=" ")
        disposed = services.dispose_lot(
            actor=chain.actor(chain.source), lot=pickup, method="landfill"
        )
        with refused("method_required", "corrections.method"):
            self.correct(chain, pickup, disposed, method="")
        assert self.correct(chain, pickup, disposed, method="incineration").details[
            "corrections"
        ] == {"method": "incineration"}

    def test_an_intakes_supplier_and_origin_are_checked_as_the_intake_checks_them(self, chain):
        lot = services.register_intake(
            actor=chain.actor(chain.recycler),
            facility=chain.plant,
            material="ndfeb_magnets",
            mass_kg=Decimal(1),
            supplier="Broker",
            declared_origin="US",
            occurred_at=days_ago(3),
        )
        registered = lot.events.get()
        bad = {"supplier": "Broker", "declared_origin": "XX"}
        with refused("invalid_country", "corrections.intake.declared_origin"):
            self.correct(chain, lot, registered, intake=bad)
        with refused("supplier_required", "corrections.intake.supplier"):
            self.correct(chain, lot, registered, intake={"supplier": "", "declared_origin": ""})
        with refused("invalid_details", "corrections.intake"):
            self.correct(chain, lot, registered, intake={"declared_origin": "CN"})
        with refused("manifest_amendment_only", "corrections.manifest"):
            self.correct(chain, lot, registered, manifest=FORGED_MANIFEST)
        event = self.correct(
            chain, lot, registered, intake={"supplier": " Broker Y ", "declared_origin": "CA"}
        )
        assert event.details["corrections"]["intake"] == {
            "supplier": "Broker Y",
            "declared_origin": "CA",
        }


def test_a_corrected_dispatch_time_is_the_one_the_verdict_reads(chain):
    builder = VerdictChain(chain)
    lots = builder.build(Knobs(transit_days=20))
    assert "open_handoff" in codes(assess(lots["oxide"]))
    drives = lots["drives"]
    received = drives.events.get(kind=EventKind.RECEIVED)
    services.correct_event(
        actor=chain.actor(chain.source),
        lot=drives,
        corrects=drives.events.get(kind=EventKind.DISPATCHED),
        reason="The truck left the day before it arrived",
        corrections={"occurred_at": (received.occurred_at - timedelta(days=1)).isoformat()},
    )
    assert assess(lots["oxide"]).outcome == "verified"


class TestDestination:
    """A dispatch to the wrong facility, corrected while the lot is still on the road."""

    def redirect(self, chain, lot, destination, actor=None):
        return services.correct_event(
            actor=chain.actor(actor or chain.source),
            lot=lot,
            corrects=lot.events.get(kind=EventKind.DISPATCHED),
            reason="Wrong facility picked in the ERP",
            corrections={"destination": destination},
        )

    def test_the_lot_heads_to_the_corrected_destination_and_the_verdict_follows(
        self, chain, pickup
    ):
        services.dispatch_lot(
            actor=chain.actor(chain.source), lot=pickup, destination=chain.trader_yard
        )
        assert "foreign_custody" in codes(assess(pickup))
        self.redirect(chain, pickup, chain.plant.pk)
        pickup.refresh_from_db()
        assert pickup.destination == chain.plant
        assert projection_drift(pickup, pickup.events.order_by("seq")) == {}
        assert_the_record_is_the_rule("redirected")
        with refused("not_destination"):
            services.receive_lot(
                actor=chain.actor(chain.trader),
                lot=pickup,
                measured_mass_kg=Decimal("2.010"),
                seals_intact=True,
            )
        services.receive_lot(
            actor=chain.actor(chain.recycler),
            lot=pickup,
            measured_mass_kg=Decimal("2.010"),
            seals_intact=True,
        )
        assert_the_record_is_the_rule("received at the corrected destination")
        assert "foreign_custody" not in codes(assess(pickup))

    def test_a_destination_is_checked_as_the_dispatch_checks_it(self, chain, pickup):
        services.dispatch_lot(actor=chain.actor(chain.source), lot=pickup, destination=chain.plant)
        closed = FacilityFactory(organization=chain.recycler, name="Closed", is_active=False)
        with refused("facility_inactive", "corrections.destination"):
            self.redirect(chain, pickup, closed.pk)
        with refused("same_facility", "corrections.destination"):
            self.redirect(chain, pickup, chain.data_center.pk)
        with refused("unknown_facility", "corrections.destination"):
            self.redirect(chain, pickup, "nowhere")
        with refused("not_event_author", "corrects"):
            self.redirect(chain, pickup, chain.trader_yard.pk, actor=chain.recycler)

    def test_after_the_receipt_the_receipt_records_where_it_arrived(self, chain, pickup):
        lot = ship(chain, pickup)
        with refused("lot_not_in_transit", "corrections.destination"):
            self.redirect(chain, lot, chain.trader_yard.pk)


def test_a_deliverys_buyer_facility_is_checked_as_the_delivery_checks_it(chain, pickup):
    lot = ship(chain, pickup)
    services.deliver_lot(
        actor=chain.actor(chain.recycler), lot=lot, buyer_facility=chain.buyer_plant
    )
    delivered = lot.events.get(kind=EventKind.DELIVERED)
    correct = {"actor": chain.actor(chain.recycler), "lot": lot, "corrects": delivered}
    with refused("not_a_buyer", "corrections.buyer_facility"):
        services.correct_event(
            **correct, reason="r", corrections={"buyer_facility": chain.trader_yard.pk}
        )
    second_plant = FacilityFactory(organization=chain.buyer, name="Second magnet plant")
    services.correct_event(
        **correct,
        reason="Delivered to the second plant",
        corrections={"buyer_facility": second_plant.pk},
    )
    lot.refresh_from_db()
    assert lot.custodian == second_plant
    assert projection_drift(lot, lot.events.order_by("seq")) == {}
    assert_the_record_is_the_rule("delivery corrected")
