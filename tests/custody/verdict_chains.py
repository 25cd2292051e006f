"""A clean chain from pickup to oxide, built through the services, with a knob for each rule."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from custody import services
from custody.models import AssetCategory, Lot
from custody.services import Consume, Produce, Residue

from ..conftest import ship
from ..factories import CertificationFactory, FacilityFactory, OrganizationFactory
from .genealogy_builders import output_of

DRIVE_KG = Decimal("0.680")


@dataclass
class Knobs:
    """What to do differently from the clean chain; each knob trips one rule."""

    drives: int = 100
    unsanitized_drives: int = 0
    magnet_grams_per_drive: Decimal = Decimal("18")
    seals_intact: bool = True
    received_share: Decimal = Decimal("1")  # of the dispatched mass
    transit_days: float = 2
    undeclared_loss: Decimal = Decimal("0.01")  # share of the dismantled mass
    concentrate_ratio: Decimal = Decimal("0.30")
    oxide_ratio: Decimal = Decimal("0.74")
    recycler_certified: bool = True
    via_country: str | None = None  # route the magnets through a facility in this country
    extra_input: str | None = None  # "intake": merge in material of unknown origin
    stop_before_receipt_days_ago: float | None = None  # leave the first leg open


class VerdictChain:
    def __init__(self, chain):
        self.c = chain
        self.separator = OrganizationFactory(
            slug="separator", name="Separator", roles=["separator"]
        )
        self.refinery = OrganizationFactory(slug="refinery", name="Refinery", roles=["refinery"])
        self.separation_plant = FacilityFactory(organization=self.separator, name="Sep plant")
        self.refinery_plant = FacilityFactory(organization=self.refinery, name="Refinery")
        # A plant of its own: each build decides whether it is certified.
        self.plant = FacilityFactory(organization=chain.recycler, name="Dismantling plant")
        CertificationFactory(facility=self.separation_plant, scheme="iso_14001")
        CertificationFactory(facility=self.refinery_plant, scheme="rmap")

    def actor(self, organization):
        return self.c.actor(organization)

    def at(self, days_ago: float):
        return timezone.now() - timedelta(days=days_ago)

    def pickup(self, knobs: Knobs, serial: str = "D", days_ago: float = 90) -> Lot:
        assets = [
            services.AssetLine(
                category=AssetCategory.HDD_3_5,
                serial=f"{serial}-{n}",
                weight_kg=DRIVE_KG,
                sanitization_method="" if n < knobs.unsanitized_drives else "purge",
                sanitized_at=None if n < knobs.unsanitized_drives else self.at(days_ago + 1),
            )
            for n in range(knobs.drives)
        ]
        return services.register_pickup(
            actor=self.actor(self.c.source),
            facility=self.c.data_center,
            material="hdd",
            mass_kg=DRIVE_KG * knobs.drives,
            assets=assets,
            occurred_at=self.at(days_ago),
        )

    def ship(self, lot, destination, days_ago, knobs: Knobs | None = None):
        knobs = knobs or Knobs()
        lot.refresh_from_db()
        ship(
            self.c,
            lot,
            to=destination,
            measured_kg=(lot.mass_kg * knobs.received_share).quantize(Decimal("0.001")),
            seals_intact=knobs.seals_intact,
            dispatched_at=self.at(days_ago),
            received_at=self.at(days_ago - knobs.transit_days),
        )

    def build(self, knobs: Knobs | None = None) -> dict[str, Lot]:
        knobs = knobs or Knobs()
        c = self.c
        if knobs.recycler_certified:
            CertificationFactory(facility=self.plant, scheme="r2v3")
        drives = self.pickup(knobs)
        if knobs.stop_before_receipt_days_ago is not None:
            services.dispatch_lot(
                actor=self.actor(c.source),
                lot=drives,
                destination=self.plant,
                occurred_at=self.at(knobs.stop_before_receipt_days_ago),
            )
            return {"drives": drives}
        self.ship(drives, self.plant, 88, knobs)
        mass = drives.mass_kg
        magnets_kg = (knobs.magnet_grams_per_drive * knobs.drives / 1000).quantize(Decimal("0.001"))
        residue_kg = mass - magnets_kg - (mass * knobs.undeclared_loss).quantize(Decimal("0.001"))
        magnets = output_of(
            services.process_lots(
                actor=self.actor(c.recycler),
                inputs=[Consume(drives)],
                outputs=[Produce("ndfeb_magnets", magnets_kg)],
                residues=[Residue("steel", residue_kg)],
                occurred_at=self.at(50),
            )
        )
        if knobs.extra_input == "intake":
            bought = services.register_intake(
                actor=self.actor(c.recycler),
                facility=self.plant,
                material="ndfeb_magnets",
                mass_kg=Decimal("0.500"),
                supplier="Broker X",
                occurred_at=self.at(49.5),
            )
            merged = services.merge_lots(
                actor=self.actor(c.recycler), lots=[magnets, bought], occurred_at=self.at(49)
            )
            magnets = output_of(merged)
        if knobs.via_country:
            abroad = FacilityFactory(organization=c.trader, name="Yard", country=knobs.via_country)
            CertificationFactory(facility=abroad, scheme="r2v3")
            self.ship(magnets, abroad, 48)
            self.ship(magnets, self.separation_plant, 45)
        else:
            self.ship(magnets, self.separation_plant, 45)
        concentrate_kg = (magnets.mass_kg * knobs.concentrate_ratio).quantize(Decimal("0.001"))
        concentrate = output_of(
            services.process_lots(
                actor=self.actor(self.separator),
                inputs=[Consume(magnets)],
                outputs=[Produce("ree_concentrate", concentrate_kg)],
                residues=[Residue("slag", magnets.mass_kg - concentrate_kg)],
                occurred_at=self.at(40),
            )
        )
        self.ship(concentrate, self.refinery_plant, 38)
        oxide_kg = (concentrate.mass_kg * knobs.oxide_ratio).quantize(Decimal("0.001"))
        slag = max(concentrate.mass_kg - oxide_kg, Decimal(0))
        oxide = output_of(
            services.process_lots(
                actor=self.actor(self.refinery),
                inputs=[Consume(concentrate)],
                outputs=[Produce("ndpr_oxide", oxide_kg)],
                residues=[Residue("slag", slag)] if slag else [],
                occurred_at=self.at(30),
            )
        )
        return {"drives": drives, "magnets": magnets, "concentrate": concentrate, "oxide": oxide}
