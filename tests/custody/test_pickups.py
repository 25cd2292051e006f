"""Registering lots: pickups at a data center with their manifest, and intake from off the
platform. Every happy path, and every illegal move with its code and no trace."""

from decimal import Decimal

import pytest
from django.utils import timezone

from custody import services
from custody.models import CustodyEvent, EventKind, Lot, LotStatus, Material

from ..conftest import days_ago, drive_manifest, refused


class TestRegisterPickup:
    def test_registers_a_source_lot_with_its_manifest(self, chain, pickup):
        assert pickup.code == f"LOT-{pickup.events.get().occurred_at.year}-{pickup.pk:06d}"
        assert pickup.status == LotStatus.REGISTERED
        assert pickup.custodian == chain.data_center
        assert pickup.source_facility == chain.data_center
        assert pickup.mass_kg == Decimal("2.010")
        assert pickup.item_count == 3
        assert list(pickup.assets.values_list("line_no", "serial")) == [
            (1, "ZR000000"),
            (2, "ZR000001"),
            (3, "ZR000002"),
        ]
        event = pickup.events.get()
        assert event.kind == EventKind.REGISTERED
        assert event.seq == 1
        assert event.prev_hash == "0" * 64
        assert event.details["manifest"]["lines"] == 3
        assert len(event.details["manifest"]["sha256"]) == 64
        assert pickup.head_hash == event.hash

    def test_the_operator_may_register_for_a_data_center(self, chain):
        lot = services.register_pickup(
            actor=chain.actor(chain.operator),
            facility=chain.data_center,
            material=Material.RETIRED_SERVERS,
            mass_kg=Decimal("400"),
            assets=[services.AssetLine(category="server", serial="SRV-1")],
        )
        assert lot.events.get().actor_organization == chain.operator

    def test_replay_with_the_same_idempotency_key_writes_nothing(self, chain):
        def register():
            return services.register_pickup(
                actor=chain.actor(chain.source),
                facility=chain.data_center,
                material=Material.HDD,
                mass_kg=Decimal("1"),
                assets=drive_manifest(1),
                idempotency_key="erp-4711",
            )

        first = register()
        assert register() == first
        assert Lot.objects.count() == 1
        assert CustodyEvent.objects.count() == 1

    @pytest.mark.parametrize(
        ("changes", "code", "field"),
        [
            ({"mass_kg": Decimal("-1")}, "negative_mass", "mass_kg"),
            ({"mass_kg": Decimal("0")}, "zero_mass", "mass_kg"),
            ({"mass_kg": Decimal("2000000")}, "mass_too_large", "mass_kg"),
            ({"mass_kg": Decimal("1.0001")}, "mass_precision", "mass_kg"),
            ({"mass_kg": "heavy"}, "invalid_mass", "mass_kg"),
            ({"mass_kg": 1.5}, "invalid_mass", "mass_kg"),
            ({"material": Material.NDPR_OXIDE}, "not_source_material", "material"),
            ({"assets": []}, "empty_manifest", "assets"),
            ({"item_count": 0}, "invalid_item_count", "item_count"),
            ({"occurred_at": timezone.now().replace(tzinfo=None)}, "naive_time", "occurred_at"),
            ({"occurred_at": days_ago(-1)}, "time_in_future", "occurred_at"),
            ({"evidence": ["not-a-digest"]}, "invalid_evidence", "evidence"),
            ({"external_ref": "nul\x00byte"}, "invalid_text", "external_ref"),
            ({"external_ref": "x" * 101}, "text_too_long", "external_ref"),
        ],
    )
    def test_bad_input_is_refused(self, chain, changes, code, field):
        arguments = {
            "actor": chain.actor(chain.source),
            "facility": chain.data_center,
            "material": Material.HDD,
            "mass_kg": Decimal("2"),
            "assets": drive_manifest(2),
        } | changes
        with refused(code, field):
            services.register_pickup(**arguments)

    def test_manifest_lines_are_checked(self, chain):
        twin = drive_manifest(1)[0]
        for assets, code in [
            ([twin, twin], "duplicate_serial"),
            ([services.AssetLine(category="toaster")], "invalid_category"),
            (
                [services.AssetLine(category="hdd_2_5", sanitization_method="format")],
                "invalid_sanitization_method",
            ),
            ([services.AssetLine(category="hdd_2_5", weight_kg=Decimal("-0.1"))], "negative_mass"),
            (
                [services.AssetLine(category="ssd", sanitized_at=days_ago(-0.001))],
                "sanitized_after_pickup",
            ),
            ([services.AssetLine(category="ssd", serial="S" * 101)], "text_too_long"),
        ]:
            with refused(code):
                services.register_pickup(
                    actor=chain.actor(chain.source),
                    facility=chain.data_center,
                    material=Material.HDD,
                    mass_kg=Decimal("2"),
                    assets=assets,
                )

    def test_only_at_a_source_facility_of_ones_own(self, chain):
        with refused("not_facility_owner", "facility"):
            services.register_pickup(
                actor=chain.actor(chain.recycler),
                facility=chain.data_center,
                material=Material.HDD,
                mass_kg=Decimal("2"),
                assets=drive_manifest(),
            )
        with refused("not_source_facility", "facility"):
            services.register_pickup(
                actor=chain.actor(chain.recycler),
                facility=chain.plant,
                material=Material.HDD,
                mass_kg=Decimal("2"),
                assets=drive_manifest(),
            )

    def test_inactive_facility_auditor_and_inactive_organization_are_refused(self, chain):
        arguments = {
            "facility": chain.data_center,
            "material": Material.HDD,
            "mass_kg": Decimal("2"),
            "assets": drive_manifest(),
        }
        with refused("read_only_organization"):
            services.register_pickup(actor=chain.actor(chain.auditor), **arguments)
        chain.data_center.is_active = False
        chain.data_center.save()
        with refused("facility_inactive", "facility"):
            services.register_pickup(actor=chain.actor(chain.source), **arguments)
        chain.source.is_active = False
        chain.source.save()
        with refused("organization_inactive"):
            services.register_pickup(actor=chain.actor(chain.source), **arguments)


class TestRegisterIntake:
    def test_records_material_from_off_the_platform(self, chain):
        lot = services.register_intake(
            actor=chain.actor(chain.recycler),
            facility=chain.plant,
            material=Material.NDFEB_MAGNETS,
            mass_kg=Decimal("25"),
            supplier="Gulf Scrap Brokers LLC",
            declared_origin="US",
            item_count=0,
        )
        event = lot.events.get()
        assert (lot.source_facility, lot.custodian, lot.status) == (
            None,
            chain.plant,
            LotStatus.REGISTERED,
        )
        assert event.details["intake"] == {
            "supplier": "Gulf Scrap Brokers LLC",
            "declared_origin": "US",
        }

    @pytest.mark.parametrize(
        ("changes", "code", "field"),
        [
            ({"supplier": " "}, "supplier_required", "supplier"),
            ({"declared_origin": "XX"}, "invalid_country", "declared_origin"),
            ({"material": "gold"}, "invalid_material", "material"),
            ({"item_count": -1}, "invalid_item_count", "item_count"),
            ({"facility": "data_center"}, "not_facility_owner", "facility"),
        ],
    )
    def test_bad_input_is_refused(self, chain, changes, code, field):
        arguments = {
            "actor": chain.actor(chain.recycler),
            "facility": chain.plant,
            "material": Material.NDFEB_MAGNETS,
            "mass_kg": Decimal("25"),
            "supplier": "Broker",
        } | changes
        if arguments["facility"] == "data_center":
            arguments["facility"] = chain.data_center
        with refused(code, field):
            services.register_intake(**arguments)
