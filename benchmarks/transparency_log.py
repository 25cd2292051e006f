#!/usr/bin/env python
"""How fast does the transparency log integrate, prove and verify, and what does it cost a write?

Builds a scratch PostgreSQL database of N events (COPY, bypassing the services: the database
trigger copies each one for the log, as it does for every write), then measures:

* integration: ``integrate_log`` in batches of ``LOG_BATCH_EVENTS`` until every entry is taken
  (entries read, tiles and runs written, a checkpoint signed per batch), against the
  bare floor: SHA-256 in Python over the same nodes (every leaf hash and every interior node,
  nothing stored), and against the API's capture rate (README, batches of 20: 1,495 events/s);
* an inclusion proof of a random event at N leaves, through the selector the API calls (the
  event's run, its tile of leaves, the tiles the proof folds from, the hashes folded), and a
  consistency proof;
* full log verification (``verify_log``: every leaf against its event, every checkpoint's root
  and signature, every tile row);
* what the log adds to one write: ``weigh_lot`` through the services, with the log's trigger
  and without it, alternating blocks, in one process (with Celery beat integrating, as in
  production, nothing else of the log runs on the request path).

Usage: .venv/bin/python benchmarks/transparency_log.py [--events 1000000] [--writes 2000]
Targets: integration at least half the bare SHA-256 rate and well above the API's capture
rate; an inclusion proof under 10 ms at 1,000,000 leaves; nothing measurable on a write.
"""

import argparse
import base64
import hashlib
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from _setup import scratch_database

API_BATCH_CAPTURE_RATE = 1_495  # README, Performance: batches of 20 on distinct lots
PER_LOT = 10


def build(events: int):
    from django.db import connection

    from recyclers.models import Facility, Organization, OrganizationRole

    organization = Organization.objects.create(slug="bench", name="Bench", country="US")
    organization.roles.set(OrganizationRole.objects.filter(code="recycler"))
    facility = Facility.objects.create(
        organization=organization, name="A", kind="other", country="US"
    )
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    lots = events // PER_LOT
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            "COPY custody_lot (id, code, material, status, custodian_id, mass_kg, head_seq,"
            " head_hash, last_occurred_at, quarantined, external_ref, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for lot_id in range(1, lots + 1):
                code = f"LOT-2026-{lot_id:07d}"
                state = ("hdd", "registered", facility.pk, Decimal("1.000"), PER_LOT, "0" * 64)
                copy.write_row((lot_id, code, *state, moment, False, "", moment, moment))
        with raw.copy(
            "COPY custody_custodyevent (uuid, lot_id, seq, kind, occurred_at, recorded_at,"
            " actor_organization_id, actor_api_key_prefix, mass_kg, details, evidence,"
            " idempotency_key, prev_hash, hash) FROM STDIN"
        ) as copy:
            for number in range(lots * PER_LOT):
                lot_id, seq = number // PER_LOT + 1, number % PER_LOT + 1
                digest = hashlib.sha256(number.to_bytes(8, "big")).hexdigest()
                times = (moment, moment, organization.pk, "", Decimal("1.000"), "{}", "[]", "")
                copy.write_row((uuid.uuid4(), lot_id, seq, "weighed", *times, "0" * 64, digest))
        cursor.execute("SELECT setval('custody_lot_id_seq', %s)", [lots])
        cursor.execute("ANALYZE")
    return facility


def bare_sha256(event_hashes: list[bytes]) -> float:
    """Seconds to hash the same nodes in Python and nothing else: each leaf hash, and each
    interior node as the tree grows (a binary counter of subtree roots)."""
    sha256 = hashlib.sha256
    started = time.perf_counter()
    stack: list[tuple[int, bytes]] = []
    for leaf in event_hashes:
        level, digest = 0, sha256(b"\x00" + leaf).digest()
        while stack and stack[-1][0] == level:
            digest = sha256(b"\x01" + stack.pop()[1] + digest).digest()
            level += 1
        stack.append((level, digest))
    return time.perf_counter() - started


def integrate_all() -> tuple[float, int]:
    from custody.services.transparency_log import integrate_log

    started, batches = time.perf_counter(), 0
    while integrate_log() is not None:
        batches += 1
    return time.perf_counter() - started, batches


def proof_latencies(events: int, runs: int = 300) -> tuple[list[float], list[float]]:
    from custody import merkle
    from custody.models import CustodyEvent, LogCheckpoint
    from custody.selectors import transparency_log as log

    root = bytes(LogCheckpoint.objects.get(tree_size=events).root_hash)
    ids = random.sample(range(1, events + 1), runs)
    inclusion, consistency = [], []
    for event_id in ids:
        event = CustodyEvent.objects.get(pk=event_id)
        started = time.perf_counter()
        proof = log.inclusion_proof(event)
        inclusion.append(time.perf_counter() - started)
        assert merkle.verify_inclusion(
            proof.leaf_hash, proof.leaf_index, events, proof.hashes, root
        )
        first = random.randrange(1, events)
        started = time.perf_counter()
        log.consistency_proof(first, events)
        consistency.append(time.perf_counter() - started)
    return inclusion, consistency


def write_cost(facility, writes: int) -> tuple[float, float]:
    """Median seconds of one ``weigh_lot`` with the log's trigger and without it: blocks of 100
    writes to distinct lots, alternating, in two passes (trigger first, then trigger second),
    since the order of the blocks alone moved the figures by a millisecond here."""
    from django.db import connection

    from custody import db_triggers, services
    from custody.actors import Actor
    from custody.models import Lot
    from custody.services import stored_verdicts, transparency_log

    transparency_log.set_integrator(None)  # beat integrates in production, not the request
    stored_verdicts.set_reassessor(lambda lot_ids: None)  # a worker's job, not the request's
    actor = Actor(organization=facility.organization)
    lots = list(Lot.objects.order_by("pk")[:writes])
    timings = {True: [], False: []}
    for first in (True, False):
        for block in range(0, writes, 100):
            with_queue = first if (block // 100) % 2 == 0 else not first
            if with_queue:
                db_triggers.install_log_queue(connection)
            else:
                db_triggers.drop_log_queue(connection)
            for lot in lots[block : block + 100]:
                started = time.perf_counter()
                services.weigh_lot(actor=actor, lot=lot, mass_kg=Decimal("1.001"))
                timings[with_queue].append(time.perf_counter() - started)
    db_triggers.install_log_queue(connection)
    return statistics.median(timings[True]), statistics.median(timings[False])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=2_000)
    args = parser.parse_args()
    os.environ.setdefault("LOG_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
    scratch_database("bench_transparency_log")
    from django.db import connection

    started = time.perf_counter()
    facility = build(args.events)
    print(f"built {args.events:,} events in {time.perf_counter() - started:.1f} s (COPY)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT hash FROM custody_custodyevent ORDER BY id")
        hashes = [bytes.fromhex(row[0]) for row in cursor.fetchall()]
    bare = statistics.median(bare_sha256(hashes) for _ in range(3))
    integration, batches = integrate_all()
    bare_rate, rate = args.events / bare, args.events / integration
    print(f"bare SHA-256 of the same nodes   {bare_rate:>12,.0f} leaves/s  {bare:7.2f} s")
    print(
        f"integrate_log ({batches} batches)     {rate:>12,.0f} leaves/s  {integration:7.2f} s"
        f"  x{rate / bare_rate:.2f} bare  x{rate / API_BATCH_CAPTURE_RATE:,.0f} API capture"
    )
    inclusion, consistency = proof_latencies(args.events)
    for label, timings in (("inclusion proof", inclusion), ("consistency proof", consistency)):
        timings.sort()
        p50, p99 = timings[len(timings) // 2], timings[int(len(timings) * 0.99)]
        print(
            f"{label:<20} at {args.events:,} leaves: p50 {p50 * 1e3:.2f} ms  p99 {p99 * 1e3:.2f} ms"
        )
    from custody.selectors.log_verification import verify_log

    started = time.perf_counter()
    report = verify_log()
    seconds = time.perf_counter() - started
    assert report.ok, report.problems[:5]
    print(f"verify_log           {report.leaves / seconds:>12,.0f} leaves/s  {seconds:7.2f} s")
    with_queue, without = write_cost(facility, args.writes)
    print(
        f"one weigh_lot: {with_queue * 1e3:.2f} ms with the log's trigger, {without * 1e3:.2f} ms"
        f" without (median of {args.writes:,} each): {(with_queue - without) * 1e3:+.2f} ms"
    )


if __name__ == "__main__":
    main()
