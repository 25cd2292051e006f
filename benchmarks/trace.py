#!/usr/bin/env python
"""How fast are the genealogy walks on a realistic ledger, against the bare recursive query?

Builds a scratch PostgreSQL database ``bench_trace`` of about 1,000,000 lots in 5 tiers
(pickups, dismantled, magnets, concentrate, oxide) and ~6 million lot links: ~98 blocks, each
ending in one oxide batch with ~10,000 ancestors; every output is fed by 10 to 100 inputs drawn
from an overlapping window of the tier below, so lots feed several outputs (diamonds). Then, for
a final batch, median of 7 runs:

* bare: the recursive query alone (UNION, ids and depths) through a raw psycopg cursor, with
  the server's defaults and with JIT off as the app runs it (ratios are to the faster);
* ``upstream()``: ids and depths, as the app computes them;          target <= 1.5x bare
* ``lineage()``: the same with each lot's attributes (a join);       target < 100 ms
* ``contributions()``: the share of each pickup and data center;     target < 1 s

Usage: .venv/bin/python benchmarks/trace.py [--blocks 98] [--keep]   (--keep reuses the data)
"""

import argparse
import itertools
import random
import time
import uuid
from datetime import UTC, datetime

from _setup import median_seconds, scratch_database

# Per block: pickups, dismantled, magnets, concentrate, oxide.
TIER_SIZES = (9_000, 1_000, 150, 30, 1)
TIER_MATERIALS = ("hdd", "shredded_hdd", "ndfeb_magnets", "ree_concentrate", "ndpr_oxide")
WINDOW = 100
FAN_IN = (10, 100)


def build(blocks: int, url: str) -> list[int]:
    """Write the ledger with COPY; return the ids of the final oxide batches. Lots and links
    stream through two connections at once (one COPY each), foreign keys unchecked."""
    import psycopg
    from django.db import connection

    from recyclers.models import Facility, Organization

    organization = Organization.objects.create(slug="bench", name="Bench", country="US")
    facilities = [
        Facility.objects.create(
            organization=organization, name=f"Site {n}", kind="other", country="US"
        )
        for n in range(5)
    ]
    rng = random.Random(42)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    next_id, finals = 1, []
    with connection.cursor() as cursor, psycopg.connect(url) as link_connection:
        raw = cursor.cursor
        for session in (cursor, link_connection):
            session.execute("SET session_replication_role = replica")  # no FK or trigger per row
        transformation = _one_transformation(cursor, organization.pk, facilities[0].pk, now)
        lot_copy = raw.copy(
            "COPY custody_lot (id, code, material, status, mass_kg, custodian_id,"
            " source_facility_id, quarantined, head_seq, head_hash, external_ref, created_at,"
            " updated_at) FROM STDIN"
        )
        link_copy = link_connection.cursor().copy(
            "COPY custody_lotlink (transformation_id, parent_id, child_id, mass_kg) FROM STDIN"
        )
        with lot_copy as lots, link_copy as links:
            for _ in range(blocks):
                tiers = []
                for tier, size in enumerate(TIER_SIZES):
                    ids = list(range(next_id, next_id + size))
                    next_id += size
                    for lot_id in ids:
                        lots.write_row(
                            (
                                lot_id,
                                f"LOT-2026-{lot_id:07d}",
                                TIER_MATERIALS[tier],
                                "consumed" if tier < 4 else "registered",
                                "10.000",
                                facilities[tier].pk,
                                facilities[0].pk if tier == 0 else None,
                                False,
                                1,
                                "0" * 64,
                                "",
                                now,
                                now,
                            )
                        )
                    tiers.append(ids)
                for below, above in itertools.pairwise(tiers):
                    ratio = len(below) / len(above)
                    for position, child in enumerate(above):
                        center = int(position * ratio + ratio / 2)
                        start = max(0, min(len(below) - WINDOW, center - WINDOW // 2))
                        window = below[start : start + WINDOW]
                        fan_in = min(len(window), rng.randint(*FAN_IN))
                        for parent in rng.sample(window, fan_in):
                            links.write_row((transformation, parent, child, "0.500"))
                finals.append(tiers[-1][0])
        link_connection.commit()
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SELECT setval('custody_lot_id_seq', %s)", [next_id])
        # Statistics after both COPYs committed: with none, the planner walks the whole index.
        # VACUUM also sets the visibility map, so the walk reads the index alone.
        cursor.execute("VACUUM ANALYZE custody_lot")
        cursor.execute("VACUUM ANALYZE custody_lotlink")
    return finals


def _one_transformation(cursor, organization_id, facility_id, now) -> int:
    cursor.execute(
        "INSERT INTO custody_transformation (uuid, kind, facility_id, occurred_at, recorded_at,"
        " actor_organization_id, actor_api_key_prefix, consumed_kg, output_kg, residue_kg,"
        " residues, note, idempotency_key, digest) VALUES"
        " (%s, 'process', %s, %s, %s, %s, '', 1, 1, 0, '[]', '', '', %s) RETURNING id",
        [uuid.uuid4(), facility_id, now, now, organization_id, "0" * 64],
    )
    return cursor.fetchone()[0]


BARE = """
WITH RECURSIVE walk(lot_id, depth) AS (
    SELECT parent_id, 1 FROM custody_lotlink WHERE child_id = %s
    UNION
    SELECT link.parent_id, walk.depth + 1
    FROM custody_lotlink link JOIN walk ON link.child_id = walk.lot_id
)
SELECT lot_id, depth FROM walk
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=98)
    parser.add_argument("--keep", action="store_true", help="Reuse an existing bench_trace.")
    args = parser.parse_args()

    url = scratch_database("bench_trace", keep=args.keep)
    import psycopg
    from django.db import connection

    from custody.models import Lot
    from custody.selectors.genealogy import contributions, lineage, upstream

    started = time.perf_counter()
    if args.keep and Lot.objects.exists():
        finals = list(
            Lot.objects.filter(material="ndpr_oxide").order_by("pk").values_list("pk", flat=True)
        )
    else:
        finals = build(args.blocks, url)
    print(f"ledger: {Lot.objects.count():,} lots ({time.perf_counter() - started:.0f} s to build)")
    target = Lot.objects.get(pk=finals[len(finals) // 2])

    with psycopg.connect(url, autocommit=True) as bare_connection:

        def bare():
            return bare_connection.execute(BARE, [target.pk]).fetchall()

        rows = bare()
        bare_jit_seconds = median_seconds(bare, repeat=7)  # the server's defaults
        bare_connection.execute("SET jit = off")  # as the app's selectors run it
        bare_seconds = median_seconds(bare, repeat=7)
        plan = bare_connection.execute("EXPLAIN ANALYZE " + BARE, [target.pk]).fetchall()
    ancestors = upstream(target)
    shares = contributions(target)
    print(
        f"final batch {target.code}: {len(ancestors):,} ancestors ({len(rows):,} rows from "
        f"the bare walk), {len(shares.pickups):,} pickups"
    )
    connection.ensure_connection()
    ids_seconds = median_seconds(lambda: upstream(target), 7)
    lineage_seconds = median_seconds(lambda: lineage(target), 7)
    shares_seconds = median_seconds(lambda: contributions(target), 7)
    for label, seconds, goal, met in [
        ("bare walk, server defaults (JIT on)", bare_jit_seconds, "", None),
        ("bare walk (ids, depths), JIT off", bare_seconds, "", None),
        (
            "upstream(): ids and depths",
            ids_seconds,
            "<= 1.5x bare",
            ids_seconds <= 1.5 * bare_seconds,
        ),
        ("lineage(): with lot attributes", lineage_seconds, "< 100 ms", lineage_seconds < 0.1),
        ("contributions()", shares_seconds, "< 1 s", shares_seconds < 1),
    ]:
        verdict = "" if met is None else ("PASS" if met else "FAIL")
        print(
            f"{label:<38}{seconds * 1000:9.1f} ms  x{seconds / bare_seconds:5.2f} bare  "
            f"{goal:<13} {verdict}"
        )
    print("\nplan of the bare walk:")
    for (line,) in plan:
        print("  " + line)


if __name__ == "__main__":
    main()
