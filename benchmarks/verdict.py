#!/usr/bin/env python
"""How long does a verdict take on a big genealogy, and how many queries does it make?

Builds, through the real services (in one transaction), a scratch PostgreSQL database
``bench_verdict``: 9,000 pickups of 10 drives at two data centers, each shipped, received and
weighed; dismantled ten at a time into 900 magnet lots; shipped and separated ten at a time
into 90 concentrate lots; shipped and refined ten at a time into 9 oxide lots; merged into one
final batch. 10,000 lots and ~49,000 events upstream of the final batch, every facility
certified, every yield inside its window. Then, median of 5 runs:

* bare: what the verdict must read, with nothing else: the recursive walk and every event of
  the upstream lots, through a raw psycopg cursor;
* ``assess()``: the whole verdict (chains verified, every rule applied).    target < 2 s

Usage: .venv/bin/python benchmarks/verdict.py [--keep] [--database NAME]
(the build takes a few minutes)
"""

import argparse
import time
from datetime import timedelta
from decimal import Decimal

from _setup import median_seconds, scratch_database

PICKUPS, GROUP = 9_000, 10


def build() -> int:
    from django.db import transaction
    from django.utils import timezone

    from custody import services
    from custody.actors import Actor
    from custody.selectors.genealogy import transformation_outputs
    from custody.services import Consume, Produce, Residue
    from recyclers.models import Certification, Facility, Organization, OrganizationRole

    def organization(slug, role):
        org = Organization.objects.create(slug=slug, name=slug.title(), country="US")
        org.roles.set(OrganizationRole.objects.filter(code=role))
        return org, Facility.objects.create(
            organization=org, name=f"{slug} site", kind="other", country="US"
        )

    now = timezone.now()
    today = now.date()

    def at(days):
        return now - timedelta(days=days)

    with transaction.atomic():
        source, dc1 = organization("source", "source")
        dc2 = Facility.objects.create(
            organization=source, name="DC 2", kind="data_center", country="US"
        )
        recycler, plant = organization("recycler", "recycler")
        separator, separation = organization("separator", "separator")
        refinery, refining = organization("refinery", "refinery")
        for facility, scheme in [(plant, "r2v3"), (separation, "iso_14001"), (refining, "rmap")]:
            Certification.objects.create(
                facility=facility,
                scheme=scheme,
                number=f"C-{scheme}",
                valid_from=today - timedelta(days=500),
                valid_until=today + timedelta(days=500),
            )
        src, rec, sep, ref = (
            Actor(organization=o) for o in (source, recycler, separator, refinery)
        )

        def output(transformation):
            (lot,) = transformation_outputs(transformation)
            return lot

        def ship(lot, sender, destination, receiver, days):
            services.dispatch_lot(
                actor=sender, lot=lot, destination=destination, occurred_at=at(days)
            )
            lot.refresh_from_db()
            services.receive_lot(
                actor=receiver,
                lot=lot,
                measured_mass_kg=lot.mass_kg,
                seals_intact=True,
                occurred_at=at(days - 1),
            )

        magnets = []
        started = time.perf_counter()
        for group in range(PICKUPS // GROUP):
            drives = []
            for n in range(GROUP):
                lot = services.register_pickup(
                    actor=src,
                    facility=dc1 if n % 2 else dc2,
                    material="hdd",
                    mass_kg=Decimal("6.800"),
                    occurred_at=at(100),
                    assets=[
                        services.AssetLine(
                            category="hdd_3_5",
                            serial=f"{group}-{n}-{d}",
                            sanitization_method="purge",
                            sanitized_at=at(101),
                        )
                        for d in range(10)
                    ],
                )
                ship(lot, src, plant, rec, 99)
                services.weigh_lot(actor=rec, lot=lot, mass_kg=Decimal("6.800"), occurred_at=at(97))
                drives.append(lot)
            magnets.append(
                output(
                    services.process_lots(
                        actor=rec,
                        inputs=[Consume(lot) for lot in drives],
                        outputs=[Produce("ndfeb_magnets", Decimal("1.800"))],
                        residues=[Residue("steel", Decimal("66.000"))],
                        occurred_at=at(90),
                    )
                )
            )
            if group % 100 == 99:
                print(f"  {(group + 1) * GROUP:,} pickups ({time.perf_counter() - started:.0f} s)")
        for lot in magnets:
            ship(lot, rec, separation, sep, 80)
        concentrates = [
            output(
                services.process_lots(
                    actor=sep,
                    inputs=[Consume(lot) for lot in magnets[i : i + GROUP]],
                    outputs=[Produce("ree_concentrate", Decimal("5.400"))],
                    residues=[Residue("slag", Decimal("12.600"))],
                    occurred_at=at(70),
                )
            )
            for i in range(0, len(magnets), GROUP)
        ]
        for lot in concentrates:
            ship(lot, sep, refining, ref, 60)
        oxides = [
            output(
                services.process_lots(
                    actor=ref,
                    inputs=[Consume(lot) for lot in concentrates[i : i + GROUP]],
                    outputs=[Produce("ndpr_oxide", Decimal("40.000"))],
                    residues=[Residue("slag", Decimal("14.000"))],
                    occurred_at=at(50),
                )
            )
            for i in range(0, len(concentrates), GROUP)
        ]
        final = output(services.merge_lots(actor=ref, lots=oxides, occurred_at=at(40)))
    return final.pk


BARE_WALK = """
WITH RECURSIVE walk(lot_id, depth) AS (
    SELECT parent_id, 1 FROM custody_lotlink WHERE child_id = %s
    UNION
    SELECT link.parent_id, walk.depth + 1
    FROM custody_lotlink link JOIN walk ON link.child_id = walk.lot_id
)
SELECT DISTINCT lot_id FROM walk
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="Reuse an existing database.")
    parser.add_argument(
        "--database", default="bench_verdict", help="Scratch database name (default: %(default)s)."
    )
    args = parser.parse_args()
    url = scratch_database(args.database, keep=args.keep)
    import psycopg
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from custody.models import CustodyEvent, Lot
    from custody.selectors.verdicts import assess
    from custody.services import stored_verdicts

    started = time.perf_counter()
    if args.keep and Lot.objects.filter(material="ndpr_oxide").exists():
        final = Lot.objects.filter(material="ndpr_oxide").order_by("-pk").first()
    else:
        # The build is one transaction over 10,000 lots: refreshing each stored verdict after
        # it commits (what every write asks for, eager here) would take hours, and is not what
        # is measured.
        stored_verdicts.set_reassessor(lambda lot_ids: None)
        final = Lot.objects.get(pk=build())
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(
        f"ledger: {Lot.objects.count():,} lots, {CustodyEvent.objects.count():,} events "
        f"({time.perf_counter() - started:.0f} s to build)"
    )

    with psycopg.connect(url, autocommit=True) as bare_connection:
        bare_connection.execute("SET jit = off")

        def bare():
            ids = [row[0] for row in bare_connection.execute(BARE_WALK, [final.pk])]
            return bare_connection.execute(
                "SELECT * FROM custody_custodyevent WHERE lot_id = ANY(%s) ORDER BY lot_id, seq",
                [[*ids, final.pk]],
            ).fetchall()

        events = len(bare())
        bare_seconds = median_seconds(bare)

    with CaptureQueriesContext(connection) as queries:
        verdict = assess(final)
    seconds = median_seconds(lambda: assess(final))
    print(
        f"final batch {final.code}: {len(verdict.pickups):,} pickups, {events:,} events "
        f"upstream; outcome {verdict.outcome} with {len(verdict.findings)} findings"
    )
    print(f"bare walk + read events      {bare_seconds * 1000:8.0f} ms")
    print(
        f"assess()                     {seconds * 1000:8.0f} ms  x{seconds / bare_seconds:.1f} "
        f"bare  {len(queries.captured_queries)} queries  target < 2 s: "
        f"{'PASS' if seconds < 2 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
