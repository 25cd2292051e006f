#!/usr/bin/env python
"""How many custody events per second can partners post through the API?

Serves the app with gunicorn (4 workers) on a scratch PostgreSQL database ``bench_api`` with
Redis as broker (the webhook outbox is active: one subscription sees every lot), then 4 client
processes post ``weigh`` events (API key, a fresh Idempotency-Key each) for 30 s: first to
distinct lots, then all to one hot lot. Baseline, same run: a bare psycopg INSERT of the same
event-shaped rows, one commit per row, from 4 connections (PERFORMANCE.md: ~8,000 rows/s).

Usage: .venv/bin/python benchmarks/api_capture.py [--seconds 30]
Targets: distinct lots >= 10 % of the bare rate, p99 < 100 ms.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid

from _setup import REPO, scratch_database

PORT = 8765
CLIENTS = 4


def prepare(lots_per_client: int):
    from decimal import Decimal

    from custody import services
    from custody.actors import Actor
    from custody.models import WebhookSubscription
    from recyclers.models import Facility, Organization, OrganizationAPIKey, OrganizationRole

    source = Organization.objects.create(slug="source", name="Source", country="US")
    source.roles.set(OrganizationRole.objects.filter(code="source"))
    dc = Facility.objects.create(organization=source, name="DC", kind="data_center", country="US")
    actor = Actor(organization=source)
    codes = [
        services.register_pickup(
            actor=actor, facility=dc, material="hdd", mass_kg=Decimal("10"),
            assets=[services.AssetLine(category="hdd_3_5", serial=f"S{n}")],
        ).code
        for n in range(CLIENTS * lots_per_client + 1)
    ]  # fmt: skip
    WebhookSubscription.objects.create(organization=source, url="http://127.0.0.1:9/hook")
    _, key = OrganizationAPIKey.objects.create_key(name="bench", organization=source)
    return key, codes[:-1], codes[-1]


def client(key, codes, seconds, results):
    latencies, errors = [], 0
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        code = codes[n % len(codes)]
        n += 1
        body = json.dumps({"mass_kg": f"{10 + (n % 1000) / 1000:.3f}"})
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        connection.request("POST", f"/api/v1/lots/{code}/weigh/", body, {
            "Authorization": f"Api-Key {key}", "Idempotency-Key": str(uuid.uuid4()),
            "Content-Type": "application/json", "Host": "127.0.0.1",
        })  # fmt: skip
        status = connection.getresponse().status
        connection.close()
        if status == 201:
            latencies.append(time.perf_counter() - started)
        else:
            errors += 1
    results.put((latencies, errors))


def run_clients(key, code_sets, seconds):
    results = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=client, args=(key, codes, seconds, results))
                 for codes in code_sets]  # fmt: skip
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(value for batch, _ in outcomes for value in batch)
    errors = sum(errors for _, errors in outcomes)
    return len(latencies) / seconds, latencies, errors


def bare_inserts(url, seconds) -> float:
    """4 connections INSERT event-shaped rows, one commit per row."""

    def worker(results):
        import psycopg

        count, deadline = 0, time.monotonic() + seconds
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS bare_events (id uuid, lot_id bigint,"
                               " kind text, occurred_at timestamptz, details jsonb,"
                               " prev_hash text, hash text)")  # fmt: skip
            details = json.dumps({"previous_mass_kg": "10.000", "scale_ref": "S7",
                                  "note": "x" * 200})  # fmt: skip
            while time.monotonic() < deadline:
                connection.execute(
                    "INSERT INTO bare_events VALUES (%s, %s, 'weighed', now(), %s, %s, %s)",
                    [uuid.uuid4(), count, details, "a" * 64, "b" * 64],
                )
                count += 1
        results.put(count)

    results = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=worker, args=(results,)) for _ in range(CLIENTS)]
    for process in processes:
        process.start()
    total = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def percentile(values, share):
    return values[min(len(values) - 1, int(len(values) * share))] if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    url = scratch_database("bench_api")
    key, codes, hot = prepare(lots_per_client=200)
    env = os.environ | {"DATABASE_URL": url, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1",
                        "SECURE_SSL_REDIRECT": "0", "API_THROTTLE_RATE": "1000000/min"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "4",
         "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        cwd=REPO, env=env,
    )  # fmt: skip
    try:
        time.sleep(4)
        bare = bare_inserts(url, 10)
        per_client = [codes[i::CLIENTS] for i in range(CLIENTS)]
        distinct = run_clients(key, per_client, args.seconds)
        hot_lot = run_clients(key, [[hot]] * CLIENTS, args.seconds)
    finally:
        server.terminate()
        server.wait()
    print(f"bare INSERT, 1 commit/row, {CLIENTS} connections: {bare:8,.0f} rows/s")
    for label, (rate, latencies, errors) in [("distinct lots", distinct), ("one hot lot", hot_lot)]:
        p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
        print(f"API, {label:<14} {rate:8,.0f} events/s  x{rate / bare:.3f} bare  "
              f"p50 {p50:5.1f} ms  p99 {p99:5.1f} ms  errors {errors}")  # fmt: skip
    rate, latencies, _ = distinct
    verdict = rate >= 0.10 * bare and percentile(latencies, 0.99) < 0.1
    print(f"targets (distinct: >= 10 % of bare, p99 < 100 ms): {'PASS' if verdict else 'FAIL'}")


if __name__ == "__main__":
    main()
