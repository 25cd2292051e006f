"""The demo's lots: one at every stage of the chain, the refined chain from three pickups to the
magnet maker, and problem lots that trip every rule of the verdict.

The lots are created in a fixed order (their codes follow it) and every step carries an
idempotency key, so that a second run replays instead of writing.
"""

from decimal import Decimal

from custody import services
from custody.hashing import GRAMS
from custody.models import Lot, Material

from .builder import DRIVE_KG, Builder

# The key of the pickup that ``manage.py demo_tamper`` alters (external reference NW-RMA-T).
TAMPER_TARGET = "t"


def seed_lots(demo: Builder) -> dict[str, Lot]:
    """Every demo lot worth a look, by a label saying what it shows."""
    lots = stages(demo)
    lots.update(refined_chain(demo))
    lots.update(problem_lots(demo))
    return lots


def stages(demo: Builder) -> dict[str, Lot]:
    """Pickups at every stage: awaiting pickup, on the road, received and weighed (with a
    correction), quarantined, sold abroad, disposed of."""
    recycler = demo.actor("volunteer-metals")
    lots = {}

    lot = demo.drives("a", facility="iad7", count=240, days_ago=2)
    lots["drives awaiting pickup"] = lot

    lot = demo.servers("b", facility="iad7", count=40, days_ago=5)
    demo.move("b", lot, sender="northwind-cloud", to="knoxville", days_ago=1, seals=2)
    lots["servers on the road"] = lot

    lot = demo.drives("c", facility="iad7", count=600, days_ago=15)
    demo.move("c", lot, sender="northwind-cloud", to="knoxville", days_ago=14)
    demo.arrive("c", lot, receiver="volunteer-metals", at="knoxville", mass="407.600", days_ago=12)
    typo = services.weigh_lot(
        actor=recycler,
        lot=lot,
        mass_kg=Decimal("4075.000"),
        scale_ref="Floor scale 2",
        occurred_at=demo.days_ago(11),
        idempotency_key="demo-c-weigh",
    )
    services.correct_event(
        actor=recycler,
        lot=lot,
        corrects=typo,
        reason="Decimal point slipped on the floor scale ticket",
        mass_kg=Decimal("407.500"),
        occurred_at=demo.days_ago(11),
        idempotency_key="demo-c-correct",
    )
    lots["drives received, weighed, corrected"] = lot

    lot = demo.drives("d", facility="cmh2", count=300, days_ago=9)
    demo.move("d", lot, sender="northwind-cloud", to="knoxville", days_ago=8, seals=2)
    demo.arrive(
        "d",
        lot,
        receiver="volunteer-metals",
        at="knoxville",
        mass="197.800",
        days_ago=6,
        seals_intact=False,
    )
    services.quarantine_lot(
        actor=recycler,
        lot=lot,
        reason="Seal BRF-D-2 broken on arrival; 6.2 kg short of the pickup mass",
        occurred_at=demo.days_ago(6),
        idempotency_key="demo-d-quarantine",
    )
    lots["drives quarantined: broken seal"] = lot

    lot = demo.drives("e", facility="cmh2", count=500, days_ago=40)
    demo.move("e", lot, sender="northwind-cloud", to="knoxville", days_ago=38)
    demo.arrive("e", lot, receiver="volunteer-metals", at="knoxville", mass="339.700", days_ago=36)
    demo.move("e", lot, sender="volunteer-metals", to="port-klang", days_ago=30)
    demo.arrive(
        "e", lot, receiver="straits-metal-trading", at="port-klang", mass="339.100", days_ago=2
    )
    lots["drives sold to a trader in Malaysia"] = lot

    lot = demo.servers("f", facility="iad7", count=12, days_ago=25)
    demo.move("f", lot, sender="northwind-cloud", to="knoxville", days_ago=24)
    demo.arrive("f", lot, receiver="volunteer-metals", at="knoxville", mass="335.400", days_ago=22)
    services.dispose_lot(
        actor=recycler,
        lot=lot,
        method="Shredded for steel and aluminium recovery (no drives inside)",
        reason="Diskless chassis: no rare-earth content",
        occurred_at=demo.days_ago(20),
        idempotency_key="demo-f-dispose",
    )
    lots["diskless servers disposed"] = lot
    return lots


def refined_chain(demo: Builder) -> dict[str, Lot]:
    """Three pickups at two data centers, dismantled in Knoxville, their magnets merged and
    separated in Chattanooga, refined in Port Arthur, and part delivered to the magnet maker in
    Elkhart."""
    recycler = demo.actor("volunteer-metals")
    magnets = []
    for key, dc, count in (("g", "iad7", 800), ("h", "cmh2", 700), ("i", "iad7", 650)):
        lot = demo.drives(key, facility=dc, count=count, days_ago=60)
        demo.move(key, lot, sender="northwind-cloud", to="knoxville", days_ago=59)
        mass = DRIVE_KG * count
        demo.arrive(
            key, lot, receiver="volunteer-metals", at="knoxville", mass=str(mass), days_ago=57
        )
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
            occurred_at=demo.days_ago(50),
            idempotency_key=f"demo-{key}-dismantle",
        )
        magnets.append(demo.output(dismantled))

    merged = services.merge_lots(
        actor=recycler,
        lots=magnets,
        occurred_at=demo.days_ago(49),
        idempotency_key="demo-magnets-merge",
    )
    magnet_lot = demo.output(merged, parent=magnets[0])
    demo.move("m", magnet_lot, sender="volunteer-metals", to="chattanooga", days_ago=48)
    demo.arrive(
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
        actor=demo.actor("appalachian-separation"),
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
        occurred_at=demo.days_ago(40),
        idempotency_key="demo-separate",
    )
    concentrate = demo.output(separated)
    demo.move("n", concentrate, sender="appalachian-separation", to="port-arthur", days_ago=38)
    demo.arrive(
        "n",
        concentrate,
        receiver="gulf-coast-rare-earths",
        at="port-arthur",
        mass=str(concentrate.mass_kg),
        days_ago=36,
    )
    concentrate.refresh_from_db()

    refinery = demo.actor("gulf-coast-rare-earths")
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
        occurred_at=demo.days_ago(30),
        idempotency_key="demo-refine",
    )
    oxide = demo.output(refined)
    shipment_kg = (oxide_kg / 2).quantize(GRAMS)
    halves = services.split_lot(
        actor=refinery,
        lot=oxide,
        masses=[shipment_kg, oxide_kg - shipment_kg],
        occurred_at=demo.days_ago(29),
        idempotency_key="demo-oxide-split",
    )
    shipment, retained = Lot.objects.filter(parent_links__transformation=halves).order_by("pk")
    services.deliver_lot(
        actor=refinery,
        lot=shipment,
        buyer_facility=demo.facilities["elkhart"],
        invoice_ref="GCRE-INV-2026-0412",
        occurred_at=demo.days_ago(25),
        idempotency_key="demo-oxide-deliver",
    )
    return {
        "NdFeB magnets, merged from 3 pickups": magnet_lot,
        "REE concentrate": concentrate,
        "NdPr oxide delivered to the magnet maker": shipment,
        "NdPr oxide held at the refinery": retained,
    }


def problem_lots(demo: Builder) -> dict[str, Lot]:
    """Lots that trip the rules the rest of the demo does not, so every finding shows (the
    ``broken_chain`` one once ``demo_tamper`` has altered the pickup ``TAMPER_TARGET``)."""
    recycler = demo.actor("volunteer-metals")
    lots = {}

    # 12 drives without a wipe record; dismantled into more magnet than 300 drives hold
    # (30 g each, the window says 10 to 25 g) with 8 % of the mass unaccounted for; the
    # magnets then go to a bonded warehouse in China.
    lot = demo.drives("j", facility="iad7", count=300, days_ago=45, unwiped=12)
    demo.move("j", lot, sender="northwind-cloud", to="knoxville", days_ago=44)
    demo.arrive("j", lot, receiver="volunteer-metals", at="knoxville", mass="204.000", days_ago=43)
    heavy = services.process_lots(
        actor=recycler,
        inputs=[services.Consume(lot)],
        outputs=[services.Produce(Material.NDFEB_MAGNETS, Decimal("9.000"))],
        residues=[services.Residue("steel", Decimal("178.680"), "Nucor Knoxville")],
        occurred_at=demo.days_ago(40),
        idempotency_key="demo-j-dismantle",
    )
    magnets = demo.output(heavy)
    demo.move("j2", magnets, sender="volunteer-metals", to="baotou", days_ago=35)
    demo.arrive("j2", magnets, receiver="baotou-trading", at="baotou", mass="9.000", days_ago=30)
    lots["magnets from an overfull dismantling, in China"] = magnets

    # 200 drives that gave far too little magnet (4 g each), merged with magnets bought
    # off the platform from a broker: their origin is unknown.
    lot = demo.drives("k", facility="cmh2", count=200, days_ago=44)
    demo.move("k", lot, sender="northwind-cloud", to="knoxville", days_ago=43)
    demo.arrive("k", lot, receiver="volunteer-metals", at="knoxville", mass="136.000", days_ago=42)
    light = services.process_lots(
        actor=recycler,
        inputs=[services.Consume(lot)],
        outputs=[services.Produce(Material.NDFEB_MAGNETS, Decimal("0.800"))],
        residues=[services.Residue("steel", Decimal("134.000"), "Nucor Knoxville")],
        occurred_at=demo.days_ago(39),
        idempotency_key="demo-k-dismantle",
    )
    bought = services.register_intake(
        actor=recycler,
        facility=demo.facilities["knoxville"],
        material=Material.NDFEB_MAGNETS,
        mass_kg=Decimal("25.000"),
        supplier="Gulf Scrap Brokers LLC (off the platform)",
        declared_origin="US",
        occurred_at=demo.days_ago(38),
        idempotency_key="demo-k-intake",
    )
    mixed = services.merge_lots(
        actor=recycler,
        lots=[demo.output(light), bought],
        occurred_at=demo.days_ago(37),
        idempotency_key="demo-k-merge",
    )
    lots["magnets mixed with a broker's, origin unknown"] = demo.output(mixed, parent=bought)

    # A pickup received by a domestic yard with no R2v3 or e-Stewards certification.
    lot = demo.drives("l", facility="iad7", count=150, days_ago=12)
    demo.move("l", lot, sender="northwind-cloud", to="nashville", days_ago=11)
    demo.arrive("l", lot, receiver="cumberland-scrap", at="nashville", mass="102.000", days_ago=10)
    lots["drives at an uncertified yard"] = lot

    # A plain pickup, the one ``manage.py demo_tamper`` alters behind the ledger's back so that
    # verify_ledger names it and its verdict says broken_chain.
    lot = demo.drives(TAMPER_TARGET, facility="cmh2", count=50, days_ago=8)
    lots["drives, the pickup demo_tamper alters"] = lot

    # Dispatched three weeks ago and never received.
    lot = demo.servers("u", facility="cmh2", count=10, days_ago=25)
    demo.move("u", lot, sender="northwind-cloud", to="knoxville", days_ago=21)
    lots["servers lost on the road"] = lot
    return lots
