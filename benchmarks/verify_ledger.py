#!/usr/bin/env python
"""How fast does ``verify_ledger`` recompute every chain, against the bare floor?

Builds a scratch PostgreSQL database of N hash-chained events (COPY, bypassing the services:
this measures verification, not writing), then times, median of 5 runs:

* bare: a raw psycopg server-side cursor over the same rows, canonical JSON + SHA-256 per row,
  nothing else (PERFORMANCE.md measured about 300,000 events/s on its machine);
* verify_ledger: the real selector behind ``manage.py verify_ledger`` (chain links, sequence
  gaps, lot heads, and the transparency log: every leaf against its event, every checkpoint),
  in one process and with one process per CPU (the command's default); the events are
  integrated into the log first, as beat keeps them in production.

Usage: .venv/bin/python benchmarks/verify_ledger.py [--events 300000] [--per-lot 15]
Target: at least 100,000 events/s.
"""

import argparse
import hashlib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from _setup import median_seconds, scratch_database

TARGET_EVENTS_PER_SECOND = 100_000


def build(events: int, per_lot: int) -> None:
    from django.db import connection

    from custody.hashing import content_hash, event_content
    from recyclers.models import Facility, Organization

    organization = Organization.objects.create(slug="bench", name="Bench", country="US")
    origin = Facility.objects.create(
        organization=organization, name="A", kind="other", country="US"
    )
    target = Facility.objects.create(
        organization=organization, name="B", kind="other", country="US"
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lot_rows, event_rows = [], []
    for lot_id in range(1, events // per_lot + 1):
        code = f"LOT-2026-{lot_id:06d}"
        prev = "0" * 64
        for seq in range(1, per_lot + 1):
            moment = start + timedelta(minutes=lot_id * 20 + seq)
            kind = "registered" if seq == 1 else ("dispatched" if seq % 2 else "received")
            details = {
                "carrier": organization.pk,
                "seal_numbers": [f"SEAL-{lot_id}-{seq}-A", f"SEAL-{lot_id}-{seq}-B"],
                "note": "Pallets 1-12, shrink-wrapped, forklift ticket 4471-B, dock 3",
                "dispatched_mass_kg": "1250.500",
                "difference_kg": "-0.250",
                "seals_intact": True,
            }
            event_uuid = uuid.uuid4()
            mass = Decimal("1250.250")
            content = event_content(
                uuid=event_uuid,
                lot_code=code,
                seq=seq,
                kind=kind,
                occurred_at=moment,
                recorded_at=moment,
                actor_organization_id=organization.pk,
                actor_user_id=None,
                actor_api_key="",
                facility_id=origin.pk,
                counterparty_facility_id=target.pk,
                mass_kg=mass,
                details=details,
                evidence=[],
                corrects_uuid=None,
                prev_hash=prev,
            )
            digest = content_hash(content)
            event_rows.append(
                (
                    event_uuid,
                    lot_id,
                    seq,
                    kind,
                    moment,
                    moment,
                    organization.pk,
                    "",
                    origin.pk,
                    target.pk,
                    mass,
                    json.dumps(details),
                    "[]",
                    "",
                    prev,
                    digest,
                )
            )
            prev = digest
        lot_rows.append((lot_id, code, "hdd", "received", origin.pk, mass, per_lot, prev, moment))
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            "COPY custody_lot (id, code, material, status, custodian_id, mass_kg, head_seq,"
            " head_hash, last_occurred_at, quarantined, external_ref, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for row in lot_rows:
                copy.write_row((*row, False, "", row[-1], row[-1]))
        with raw.copy(
            "COPY custody_custodyevent (uuid, lot_id, seq, kind, occurred_at, recorded_at,"
            " actor_organization_id, actor_api_key_prefix, facility_id, counterparty_facility_id,"
            " mass_kg, details, evidence, idempotency_key, prev_hash, hash) FROM STDIN"
        ) as copy:
            for row in event_rows:
                copy.write_row(row)
        cursor.execute("ANALYZE")


def bare(url: str) -> int:
    """The floor: the same rows through a raw psycopg server-side cursor, each turned into a
    dict and hashed (orjson + SHA-256), with no verification logic and no Django at all."""
    import orjson
    import psycopg

    from custody.selectors.verification import POSTGRES_ROWS

    count = 0
    with psycopg.connect(url) as connection, connection.cursor(name="bare") as cursor:
        cursor.itersize = 10_000
        cursor.execute(POSTGRES_ROWS.format(where=""))
        for row in cursor:
            content = dict(zip(BARE_KEYS, row, strict=True))
            content["details"] = orjson.loads(content["details"])
            content["evidence"] = orjson.loads(content["evidence"])
            hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
            count += 1
    return count


BARE_KEYS = (
    "lot_id",
    "lot",
    "head_seq",
    "head_hash",
    "seq",
    "uuid",
    "kind",
    "occurred_at",
    "recorded_at",
    "actor_organization",
    "actor_user",
    "actor_api_key",
    "facility",
    "counterparty_facility",
    "mass_kg",
    "details",
    "evidence",
    "corrects",
    "prev_hash",
    "hash",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--per-lot", type=int, default=15)
    args = parser.parse_args()

    url = scratch_database("bench_verify_ledger")
    from custody.selectors.verification import verify_ledger
    from custody.services.transparency_log import integrate_log

    build(args.events, args.per_lot)
    while integrate_log():
        pass
    report = verify_ledger()
    assert report.ok and report.events == args.events // args.per_lot * args.per_lot, report
    events = report.events

    workers = os.cpu_count() or 1
    bare_seconds = median_seconds(lambda: bare(url))
    serial_seconds = median_seconds(lambda: verify_ledger(workers=1))
    parallel_seconds = median_seconds(lambda: verify_ledger(workers=workers))
    bare_rate = events / bare_seconds
    print(f"events                      {events:>10,}  (medians of 5 runs)")
    for label, seconds in [
        ("bare stream + hash", bare_seconds),
        ("verify_ledger, 1 process", serial_seconds),
        (f"verify_ledger, {workers} processes", parallel_seconds),
    ]:
        rate = events / seconds
        print(f"{label:<28}{rate:>10,.0f} events/s  {seconds:6.2f} s  x{rate / bare_rate:.2f} bare")
    verdict = "PASS" if events / parallel_seconds >= TARGET_EVENTS_PER_SECOND else "FAIL"
    print(f"target >= {TARGET_EVENTS_PER_SECOND:,} events/s (default workers): {verdict}")


if __name__ == "__main__":
    main()
