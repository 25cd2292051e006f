"""A realistic, idempotent demo: run it twice and nothing changes the second time.

Reference data is upserted by slug; every custody step goes through ``custody.services`` with an
idempotency key, so a second run replays instead of writing.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from custody import db_triggers, services
from custody.actors import Actor
from custody.hashing import GRAMS
from custody.models import AssetCategory, Lot, Material, SanitizationMethod
from custody.selectors.verification import verify_ledger
from custody.services.stored_verdicts import reassess_stale_lots
from recyclers.gs1 import gs1_check_digit
from recyclers.models import (
    Certification,
    CertificationScheme,
    Facility,
    FacilityKind,
    Membership,
    Organization,
    OrganizationRole,
)

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "ledger-demo"

ORGANIZATIONS = {
    "ledger-ops": ("Ledger Operations", "US", ["operator"]),
    "northwind-cloud": ("Northwind Cloud", "US", ["source"]),
    "blue-ridge-freight": ("Blue Ridge Freight", "US", ["carrier"]),
    "volunteer-metals": ("Volunteer Metals Recovery", "US", ["recycler"]),
    "appalachian-separation": ("Appalachian Separation Co.", "US", ["separator"]),
    "gulf-coast-rare-earths": ("Gulf Coast Rare Earths", "US", ["refinery"]),
    "lakeshore-magnetics": ("Lakeshore Magnetics", "US", ["buyer"]),
    "keystone-assurance": ("Keystone Assurance", "US", ["auditor"]),
    "straits-metal-trading": ("Straits Metal Trading Sdn Bhd", "MY", ["recycler"]),
    "cumberland-scrap": ("Cumberland Scrap Metals", "US", ["recycler"]),
    "baotou-trading": ("Baotou Rare Earth Trading Co.", "CN", ["recycler"]),
}

# slug -> (organization, name, kind, country, region, city, location reference for the GLN)
FACILITIES = {
    "iad7": (
        "northwind-cloud",
        "Northwind IAD-7",
        FacilityKind.DATA_CENTER,
        "US",
        "VA",
        "Ashburn",
        10007,
    ),
    "cmh2": (
        "northwind-cloud",
        "Northwind CMH-2",
        FacilityKind.DATA_CENTER,
        "US",
        "OH",
        "New Albany",
        10002,
    ),
    "roanoke": (
        "blue-ridge-freight",
        "Roanoke cross-dock",
        FacilityKind.WAREHOUSE,
        "US",
        "VA",
        "Roanoke",
        20001,
    ),
    "knoxville": (
        "volunteer-metals",
        "Knoxville dismantling plant",
        FacilityKind.RECYCLING_PLANT,
        "US",
        "TN",
        "Knoxville",
        30001,
    ),
    "chattanooga": (
        "appalachian-separation",
        "Chattanooga separation plant",
        FacilityKind.SEPARATION_PLANT,
        "US",
        "TN",
        "Chattanooga",
        40001,
    ),
    "port-arthur": (
        "gulf-coast-rare-earths",
        "Port Arthur refinery",
        FacilityKind.REFINERY,
        "US",
        "TX",
        "Port Arthur",
        50001,
    ),
    "elkhart": (
        "lakeshore-magnetics",
        "Elkhart magnet plant",
        FacilityKind.MAGNET_PLANT,
        "US",
        "IN",
        "Elkhart",
        60001,
    ),
    "nashville": (
        "cumberland-scrap",
        "Nashville scrap yard",
        FacilityKind.RECYCLING_PLANT,
        "US",
        "TN",
        "Nashville",
        80001,
    ),
    "baotou": (
        "baotou-trading",
        "Baotou bonded warehouse",
        FacilityKind.WAREHOUSE,
        "CN",
        "Inner Mongolia",
        "Baotou",
        90001,
    ),
    "port-klang": (
        "straits-metal-trading",
        "Port Klang scrap yard",
        FacilityKind.WAREHOUSE,
        "MY",
        "Selangor",
        "Port Klang",
        70001,
    ),
}

CERTIFICATIONS = [
    ("knoxville", CertificationScheme.R2V3, "R2V3-2291", "SERI-accredited registrar"),
    ("knoxville", CertificationScheme.ISO_14001, "EMS-77120", "Bureau Veritas"),
    ("chattanooga", CertificationScheme.ISO_14001, "EMS-80455", "DNV"),
    ("port-arthur", CertificationScheme.RMAP, "RMAP-RE-0142", "RMI"),
    ("port-arthur", CertificationScheme.ISO_14001, "EMS-91873", "DNV"),
    ("iad7", CertificationScheme.NAID_AAA, "NAID-55310", "i-SIGMA"),
]

GS1_COMPANY_PREFIX = "0614141"  # the example prefix of GS1's own documentation


def demo_gln(location_reference: int) -> str:
    body = f"{GS1_COMPANY_PREFIX}{location_reference:05d}"
    return f"{body}{gs1_check_digit(body)}"


class Command(BaseCommand):
    help = "Load the demo chain: partners, facilities, certifications and lots at every stage."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Seed even with DEBUG off (never in production)."
        )

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates a known admin login: run it with DEBUG=1.")
        with transaction.atomic():
            organizations = self.seed_partners()
            admin = self.seed_admin(organizations["ledger-ops"])
        self.facilities = {
            slug: Facility.objects.get(gln=demo_gln(row[6])) for slug, row in FACILITIES.items()
        }
        self.organizations = organizations
        self.now = timezone.now().replace(minute=0, second=0, microsecond=0)
        lots = self.seed_lots()
        reassess_stale_lots(everything=True)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for label, lot in lots.items():
            lot.refresh_from_db()
            where = lot.custodian or f"in transit to {lot.destination}"
            hold = ", quarantined" if lot.quarantined else ""
            self.stdout.write(
                f"  {lot.code}  {label:<48} {lot.verdict.outcome:<14} {lot.status}{hold} @ {where}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin: http://127.0.0.1:8000/admin/  user {admin.username!r}  "
                f"password {ADMIN_PASSWORD!r}"
            )
        )

    # --- reference data ---------------------------------------------------------------------

    def seed_partners(self) -> dict[str, Organization]:
        organizations = {}
        for slug, (name, country, roles) in ORGANIZATIONS.items():
            organization, _ = Organization.objects.update_or_create(
                slug=slug, defaults={"name": name, "country": country}
            )
            organization.roles.set(OrganizationRole.objects.filter(code__in=roles))
            organizations[slug] = organization
        for org_slug, name, kind, country, region, city, reference in FACILITIES.values():
            Facility.objects.update_or_create(
                gln=demo_gln(reference),
                defaults={
                    "organization": organizations[org_slug],
                    "name": name,
                    "kind": kind,
                    "country": country,
                    "region": region,
                    "city": city,
                },
            )
        today = date.today()
        for facility_slug, scheme, number, issuer in CERTIFICATIONS:
            facility = Facility.objects.get(gln=demo_gln(FACILITIES[facility_slug][6]))
            Certification.objects.update_or_create(
                facility=facility,
                scheme=scheme,
                number=number,
                defaults={
                    "issued_by": issuer,
                    "valid_from": today - timedelta(days=400),
                    "valid_until": today + timedelta(days=700),
                },
            )
        return organizations

    def seed_admin(self, operator: Organization):
        user_model = get_user_model()
        admin = user_model.objects.filter(username=ADMIN_USERNAME).first()
        if admin is None:
            admin = user_model.objects.create_superuser(
                ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD
            )
        Membership.objects.get_or_create(user=admin, organization=operator, is_admin=True)
        return admin

    # --- lots -------------------------------------------------------------------------------

    def actor(self, slug: str) -> Actor:
        return Actor(organization=self.organizations[slug])

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago)

    def pickup(
        self, key, *, facility, material, count, unit_kg, days_ago, category, unwiped=0
    ) -> Lot:
        """A pickup of ``count`` items; the first ``unwiped`` drives lack a sanitization record."""
        assets = [
            services.AssetLine(
                category=category,
                make="Seagate" if category == AssetCategory.HDD_3_5 else "Dell",
                model="Exos X16" if category == AssetCategory.HDD_3_5 else "PowerEdge R640",
                serial=f"{key.upper()}-{number:05d}",
                weight_kg=unit_kg,
                sanitization_method="" if number <= unwiped else SanitizationMethod.PURGE,
                sanitization_certificate=""
                if number <= unwiped
                else f"NW-WIPE-{key.upper()}-{number:05d}",
                sanitized_at=None if number <= unwiped else self.at(days_ago + 2),
            )
            for number in range(1, count + 1)
        ]
        return services.register_pickup(
            actor=self.actor("northwind-cloud"),
            facility=self.facilities[facility],
            material=material,
            mass_kg=unit_kg * count,
            assets=assets,
            occurred_at=self.at(days_ago),
            external_ref=f"NW-RMA-{key.upper()}",
            idempotency_key=f"demo-{key}-pickup",
        )

    def move(self, key, lot, *, sender, to, days_ago, seals=("",)):
        services.dispatch_lot(
            actor=self.actor(sender),
            lot=lot,
            destination=self.facilities[to],
            carrier=self.organizations["blue-ridge-freight"],
            seal_numbers=[f"BRF-{key.upper()}-{n}" for n, _ in enumerate(seals, 1)],
            occurred_at=self.at(days_ago),
            idempotency_key=f"demo-{key}-dispatch-{to}",
        )

    def arrive(self, key, lot, *, receiver, at, mass, days_ago, seals_intact=True):
        services.receive_lot(
            actor=self.actor(receiver),
            lot=lot,
            measured_mass_kg=Decimal(mass),
            seals_intact=seals_intact,
            occurred_at=self.at(days_ago),
            idempotency_key=f"demo-{key}-receive-{at}",
        )

    def seed_lots(self) -> dict[str, Lot]:
        hdd, server = AssetCategory.HDD_3_5, AssetCategory.SERVER
        drive_kg, server_kg = Decimal("0.680"), Decimal("28.000")
        lots = {}

        lot = self.pickup(
            "a",
            facility="iad7",
            material=Material.HDD,
            count=240,
            unit_kg=drive_kg,
            days_ago=2,
            category=hdd,
        )
        lots["drives awaiting pickup"] = lot

        lot = self.pickup(
            "b",
            facility="iad7",
            material=Material.RETIRED_SERVERS,
            count=40,
            unit_kg=server_kg,
            days_ago=5,
            category=server,
        )
        self.move("b", lot, sender="northwind-cloud", to="knoxville", days_ago=1, seals=(1, 2))
        lots["servers on the road"] = lot

        lot = self.pickup(
            "c",
            facility="iad7",
            material=Material.HDD,
            count=600,
            unit_kg=drive_kg,
            days_ago=15,
            category=hdd,
        )
        self.move("c", lot, sender="northwind-cloud", to="knoxville", days_ago=14)
        self.arrive(
            "c", lot, receiver="volunteer-metals", at="knoxville", mass="407.600", days_ago=12
        )
        typo = services.weigh_lot(
            actor=self.actor("volunteer-metals"),
            lot=lot,
            mass_kg=Decimal("4075.000"),
            scale_ref="Floor scale 2",
            occurred_at=self.at(11),
            idempotency_key="demo-c-weigh",
        )
        services.correct_event(
            actor=self.actor("volunteer-metals"),
            lot=lot,
            corrects=typo,
            reason="Decimal point slipped on the floor scale ticket",
            mass_kg=Decimal("407.500"),
            occurred_at=self.at(11),
            idempotency_key="demo-c-correct",
        )
        lots["drives received, weighed, corrected"] = lot

        lot = self.pickup(
            "d",
            facility="cmh2",
            material=Material.HDD,
            count=300,
            unit_kg=drive_kg,
            days_ago=9,
            category=hdd,
        )
        self.move("d", lot, sender="northwind-cloud", to="knoxville", days_ago=8, seals=(1, 2))
        self.arrive(
            "d",
            lot,
            receiver="volunteer-metals",
            at="knoxville",
            mass="197.800",
            days_ago=6,
            seals_intact=False,
        )
        services.quarantine_lot(
            actor=self.actor("volunteer-metals"),
            lot=lot,
            reason="Seal BRF-D-2 broken on arrival; 6.2 kg short of the pickup mass",
            occurred_at=self.at(6),
            idempotency_key="demo-d-quarantine",
        )
        lots["drives quarantined: broken seal"] = lot

        lot = self.pickup(
            "e",
            facility="cmh2",
            material=Material.HDD,
            count=500,
            unit_kg=drive_kg,
            days_ago=40,
            category=hdd,
        )
        self.move("e", lot, sender="northwind-cloud", to="knoxville", days_ago=38)
        self.arrive(
            "e", lot, receiver="volunteer-metals", at="knoxville", mass="339.700", days_ago=36
        )
        self.move("e", lot, sender="volunteer-metals", to="port-klang", days_ago=30)
        self.arrive(
            "e", lot, receiver="straits-metal-trading", at="port-klang", mass="339.100", days_ago=2
        )
        lots["drives sold to a trader in Malaysia"] = lot

        lot = self.pickup(
            "f",
            facility="iad7",
            material=Material.RETIRED_SERVERS,
            count=12,
            unit_kg=server_kg,
            days_ago=25,
            category=server,
        )
        self.move("f", lot, sender="northwind-cloud", to="knoxville", days_ago=24)
        self.arrive(
            "f", lot, receiver="volunteer-metals", at="knoxville", mass="335.400", days_ago=22
        )
        services.dispose_lot(
            actor=self.actor("volunteer-metals"),
            lot=lot,
            method="Shredded for steel and aluminium recovery (no drives inside)",
            reason="Diskless chassis: no rare-earth content",
            occurred_at=self.at(20),
            idempotency_key="demo-f-dispose",
        )
        lots["diskless servers disposed"] = lot
        lots.update(self.seed_refined_chain())
        lots.update(self.seed_problem_lots())
        return lots

    def seed_problem_lots(self) -> dict[str, Lot]:
        """Lots that trip the rules the rest of the demo does not, so every finding shows."""
        hdd, drive_kg = AssetCategory.HDD_3_5, Decimal("0.680")
        recycler = self.actor("volunteer-metals")
        lots = {}

        # 12 drives without a wipe record; dismantled into more magnet than 300 drives hold
        # (30 g each, the window says 10 to 25 g) with 8 % of the mass unaccounted for; the
        # magnets then go to a bonded warehouse in China.
        lot = self.pickup(
            "j",
            facility="iad7",
            material=Material.HDD,
            count=300,
            unit_kg=drive_kg,
            days_ago=45,
            category=hdd,
            unwiped=12,
        )
        self.move("j", lot, sender="northwind-cloud", to="knoxville", days_ago=44)
        self.arrive(
            "j", lot, receiver="volunteer-metals", at="knoxville", mass="204.000", days_ago=43
        )
        heavy = services.process_lots(
            actor=recycler,
            inputs=[services.Consume(lot)],
            outputs=[services.Produce(Material.NDFEB_MAGNETS, Decimal("9.000"))],
            residues=[services.Residue("steel", Decimal("178.680"), "Nucor Knoxville")],
            occurred_at=self.at(40),
            idempotency_key="demo-j-dismantle",
        )
        magnets = Lot.objects.get(parent_links__transformation=heavy)
        self.move("j2", magnets, sender="volunteer-metals", to="baotou", days_ago=35)
        self.arrive(
            "j2", magnets, receiver="baotou-trading", at="baotou", mass="9.000", days_ago=30
        )
        lots["magnets from an overfull dismantling, in China"] = magnets

        # 200 drives that gave far too little magnet (4 g each), merged with magnets bought
        # off the platform from a broker: their origin is unknown.
        lot = self.pickup(
            "k",
            facility="cmh2",
            material=Material.HDD,
            count=200,
            unit_kg=drive_kg,
            days_ago=44,
            category=hdd,
        )
        self.move("k", lot, sender="northwind-cloud", to="knoxville", days_ago=43)
        self.arrive(
            "k", lot, receiver="volunteer-metals", at="knoxville", mass="136.000", days_ago=42
        )
        light = services.process_lots(
            actor=recycler,
            inputs=[services.Consume(lot)],
            outputs=[services.Produce(Material.NDFEB_MAGNETS, Decimal("0.800"))],
            residues=[services.Residue("steel", Decimal("134.000"), "Nucor Knoxville")],
            occurred_at=self.at(39),
            idempotency_key="demo-k-dismantle",
        )
        bought = services.register_intake(
            actor=recycler,
            facility=self.facilities["knoxville"],
            material=Material.NDFEB_MAGNETS,
            mass_kg=Decimal("25.000"),
            supplier="Gulf Scrap Brokers LLC (off the platform)",
            declared_origin="US",
            occurred_at=self.at(38),
            idempotency_key="demo-k-intake",
        )
        mixed = services.merge_lots(
            actor=recycler,
            lots=[Lot.objects.get(parent_links__transformation=light), bought],
            occurred_at=self.at(37),
            idempotency_key="demo-k-merge",
        )
        lots["magnets mixed with a broker's, origin unknown"] = Lot.objects.get(
            parent_links__transformation=mixed, parent_links__parent=bought
        )

        # A pickup received by a domestic yard with no R2v3 or e-Stewards certification.
        lot = self.pickup(
            "l",
            facility="iad7",
            material=Material.HDD,
            count=150,
            unit_kg=drive_kg,
            days_ago=12,
            category=hdd,
        )
        self.move("l", lot, sender="northwind-cloud", to="nashville", days_ago=11)
        self.arrive(
            "l", lot, receiver="cumberland-scrap", at="nashville", mass="102.000", days_ago=10
        )
        lots["drives at an uncertified yard"] = lot

        # A pickup whose registered event was altered behind the ledger's back (the demo does
        # it on purpose, with the append-only triggers lifted): verify_ledger names it.
        lot = self.pickup(
            "t",
            facility="cmh2",
            material=Material.HDD,
            count=50,
            unit_kg=drive_kg,
            days_ago=8,
            category=hdd,
        )
        self.tamper_once(lot)
        lots["drives with a tampered ledger row"] = lot

        # Dispatched three weeks ago and never received.
        lot = self.pickup(
            "u",
            facility="cmh2",
            material=Material.RETIRED_SERVERS,
            count=10,
            unit_kg=Decimal("28.000"),
            days_ago=25,
            category=AssetCategory.SERVER,
        )
        self.move("u", lot, sender="northwind-cloud", to="knoxville", days_ago=21)
        lots["servers lost on the road"] = lot
        return lots

    def tamper_once(self, lot: Lot) -> None:
        if verify_ledger([lot.code]).broken:
            return  # tampered on an earlier run
        first = lot.events.get(seq=1)
        db_triggers.drop(connection)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE custody_custodyevent SET mass_kg = %s WHERE id = %s",
                    [first.mass_kg - 1, first.pk],
                )
        finally:
            db_triggers.install(connection)

    def seed_refined_chain(self) -> dict[str, Lot]:
        """Three pickups at two data centers, dismantled in Knoxville, their magnets merged and
        separated in Chattanooga, refined in Port Arthur, and part delivered to the magnet
        maker in Elkhart."""
        hdd, drive_kg = AssetCategory.HDD_3_5, Decimal("0.680")
        recycler = self.actor("volunteer-metals")
        magnets = []
        for key, dc, count in (("g", "iad7", 800), ("h", "cmh2", 700), ("i", "iad7", 650)):
            lot = self.pickup(
                key,
                facility=dc,
                material=Material.HDD,
                count=count,
                unit_kg=drive_kg,
                days_ago=60,
                category=hdd,
            )
            self.move(key, lot, sender="northwind-cloud", to="knoxville", days_ago=59)
            self.arrive(
                key,
                lot,
                receiver="volunteer-metals",
                at="knoxville",
                mass=str(drive_kg * count),
                days_ago=57,
            )
            mass = drive_kg * count
            magnet_kg = (Decimal("0.018") * count).quantize(Decimal("0.001"))
            dismantled = services.process_lots(
                actor=recycler,
                inputs=[services.Consume(lot)],
                outputs=[services.Produce(Material.NDFEB_MAGNETS, magnet_kg)],
                residues=[
                    services.Residue(
                        "steel",
                        (mass * Decimal("0.55")).quantize(GRAMS),
                        "Nucor Knoxville (steel recycling)",
                    ),
                    services.Residue(
                        "aluminium",
                        (mass * Decimal("0.28")).quantize(GRAMS),
                        "Tennessee Aluminum Processors",
                    ),
                    services.Residue(
                        "pcb", (mass * Decimal("0.09")).quantize(GRAMS), "Precious-metals refiner"
                    ),
                    services.Residue(
                        "plastics", (mass * Decimal("0.045")).quantize(GRAMS), "Energy recovery"
                    ),
                ],
                occurred_at=self.at(50),
                idempotency_key=f"demo-{key}-dismantle",
            )
            magnets.append(Lot.objects.get(parent_links__transformation=dismantled))

        merged = services.merge_lots(
            actor=recycler,
            lots=magnets,
            occurred_at=self.at(49),
            idempotency_key="demo-magnets-merge",
        )
        magnet_lot = Lot.objects.get(
            parent_links__transformation=merged, parent_links__parent=magnets[0]
        )
        self.move("m", magnet_lot, sender="volunteer-metals", to="chattanooga", days_ago=48)
        self.arrive(
            "m",
            magnet_lot,
            receiver="appalachian-separation",
            at="chattanooga",
            mass=str(magnet_lot.mass_kg),
            days_ago=46,
        )
        magnet_lot.refresh_from_db()

        concentrate_kg = (magnet_lot.mass_kg * Decimal("0.30")).quantize(GRAMS)
        separated = services.process_lots(
            actor=self.actor("appalachian-separation"),
            inputs=[services.Consume(magnet_lot)],
            outputs=[services.Produce(Material.REE_CONCENTRATE, concentrate_kg)],
            residues=[
                services.Residue(
                    "slag",
                    (magnet_lot.mass_kg * Decimal("0.64")).quantize(GRAMS),
                    "Iron-rich slag to cement kiln",
                ),
                services.Residue(
                    "wastewater",
                    (magnet_lot.mass_kg * Decimal("0.05")).quantize(GRAMS),
                    "On-site treatment",
                ),
            ],
            occurred_at=self.at(40),
            idempotency_key="demo-separate",
        )
        concentrate = Lot.objects.get(parent_links__transformation=separated)
        self.move("n", concentrate, sender="appalachian-separation", to="port-arthur", days_ago=38)
        self.arrive(
            "n",
            concentrate,
            receiver="gulf-coast-rare-earths",
            at="port-arthur",
            mass=str(concentrate.mass_kg),
            days_ago=36,
        )
        concentrate.refresh_from_db()

        refinery = self.actor("gulf-coast-rare-earths")
        oxide_kg = (concentrate.mass_kg * Decimal("0.74")).quantize(GRAMS)
        refined = services.process_lots(
            actor=refinery,
            inputs=[services.Consume(concentrate)],
            outputs=[services.Produce(Material.NDPR_OXIDE, oxide_kg)],
            residues=[
                services.Residue(
                    "slag",
                    (concentrate.mass_kg * Decimal("0.24")).quantize(GRAMS),
                    "Licensed landfill",
                )
            ],
            occurred_at=self.at(30),
            idempotency_key="demo-refine",
        )
        oxide = Lot.objects.get(parent_links__transformation=refined)
        shipment_kg = (oxide_kg / 2).quantize(GRAMS)
        halves = services.split_lot(
            actor=refinery,
            lot=oxide,
            masses=[shipment_kg, oxide_kg - shipment_kg],
            occurred_at=self.at(29),
            idempotency_key="demo-oxide-split",
        )
        shipment, retained = Lot.objects.filter(parent_links__transformation=halves).order_by("pk")
        services.deliver_lot(
            actor=refinery,
            lot=shipment,
            buyer_facility=self.facilities["elkhart"],
            invoice_ref="GCRE-INV-2026-0412",
            occurred_at=self.at(25),
            idempotency_key="demo-oxide-deliver",
        )
        return {
            "NdFeB magnets, merged from 3 pickups": magnet_lot,
            "REE concentrate": concentrate,
            "NdPr oxide delivered to the magnet maker": shipment,
            "NdPr oxide held at the refinery": retained,
        }
