#!/usr/bin/env python
"""How many custody events per second can partners post through the API?

Serves the app with gunicorn (4 workers) on a scratch PostgreSQL database ``bench_api`` with
Redis as broker (the webhook outbox is active: one subscription sees every lot), then 4 client
processes post ``weigh`` events (API key, a fresh Idempotency-Key each) for 30 s: first to
distinct lots, then all to one hot lot; then the same as batches of ``--batch`` weighings per
``POST /api/v1/events/``. Baselines, same run: a bare psycopg INSERT of the same event-shaped
rows from 4 connections, one commit per row (PERFORMANCE.md: ~8,000 rows/s) and, like for like
with the batches, ``--batch`` rows per commit; and the stack's own floor, the same 4 clients
asking the same gunicorn for ``GET /healthz`` (one ``SELECT 1``). Each phase also prints the
CPU time per event of the gunicorn workers, PostgreSQL, Redis and the clients: on two cores,
CPU is what runs out.

Usage: .venv/bin/python benchmarks/api_capture.py [--seconds 30] [--batch 20]
Targets: distinct lots >= 10 % of the bare rate (one commit per row), p99 < 100 ms.
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
from pathlib import Path

from _setup import REPO, scratch_database, source_with_pickups

PORT = 8765
CLIENTS = 4
TICKS = os.sysconf("SC_CLK_TCK")


def prepare(lots_per_client: int):
    """The key, the lots the clients write to, and one more: the hot lot."""
    key, codes = source_with_pickups(CLIENTS * lots_per_client + 1)
    return key, codes[:-1], codes[-1]


def mass(n: int) -> str:
    return f"{10 + (n % 1000) / 1000:.3f}"


def api_headers(key) -> dict:
    return {
        "Authorization": f"Api-Key {key}",
        "Idempotency-Key": str(uuid.uuid4()),
        "Content-Type": "application/json",
        "Host": "127.0.0.1",
    }


def weigh_request(key, codes, n):
    body = json.dumps({"mass_kg": mass(n)})
    return "POST", f"/api/v1/lots/{codes[n % len(codes)]}/weigh/", body, api_headers(key), 201


def batch_request(size):
    """``size`` weighings in one ``POST /api/v1/events/``, each of the next lot in turn."""

    def make(key, codes, n):
        events = [
            {"lot": codes[(n * size + i) % len(codes)], "action": "weigh", "mass_kg": mass(i)}
            for i in range(size)
        ]
        return "POST", "/api/v1/events/", json.dumps({"events": events}), api_headers(key), 201

    return make


def healthz_request(key, codes, n):
    return "GET", "/healthz", None, {"Host": "127.0.0.1"}, 200


def client(make_request, key, codes, seconds, results):
    """One partner: a request at a time, a new connection each (as gunicorn's sync workers
    close them), for ``seconds``."""
    latencies, errors = [], 0
    started_cpu = time.process_time()
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        method, path, body, headers, expected = make_request(key, codes, n)
        n += 1
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status == expected:
            latencies.append(time.perf_counter() - started)
        else:
            errors += 1
    results.put((latencies, errors, time.process_time() - started_cpu))


def cpu_by_process(parent: int) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each gunicorn worker, PostgreSQL and Redis process."""
    parts = {"gunicorn": {}, "PostgreSQL": {}, "Redis": {}}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except (FileNotFoundError, ProcessLookupError):
            continue
        name, fields = head.split("(", 1)[1], tail.split()
        part = {"postgres": "PostgreSQL", "redis-server": "Redis"}.get(name)
        if int(fields[1]) == parent:  # ppid
            part = "gunicorn"
        if part:
            parts[part][int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    return parts


def cpu_spent(before, after) -> dict[str, float]:
    """CPU seconds each part spent in between (a process that ended meanwhile is not counted)."""
    return {
        part: sum(used - before[part].get(pid, 0.0) for pid, used in after[part].items())
        for part in after
    }


def run_clients(make_request, key, code_sets, seconds, server, events_per_request=1):
    """Returns (events/s, sorted request latencies, errors, CPU ms per event by part)."""
    before = cpu_by_process(server.pid)
    results = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=client, args=(make_request, key, codes, seconds, results))
        for codes in code_sets
    ]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(value for batch, _, _ in outcomes for value in batch)
    errors = sum(errors for _, errors, _ in outcomes)
    cpu = cpu_spent(before, cpu_by_process(server.pid))
    cpu["clients"] = sum(used for _, _, used in outcomes)
    events = len(latencies) * events_per_request
    per_event = {part: 1000 * used / max(1, events) for part, used in cpu.items()}
    return events / seconds, latencies, errors, per_event


def bare_inserts(url, seconds, rows_per_commit=1) -> float:
    """4 connections INSERT event-shaped rows, ``rows_per_commit`` in each transaction."""
    import psycopg

    def worker(results):
        count, deadline = 0, time.monotonic() + seconds
        with psycopg.connect(url, autocommit=True) as connection:
            details = json.dumps(
                {"previous_mass_kg": "10.000", "scale_ref": "S7", "note": "x" * 200}
            )
            while time.monotonic() < deadline:
                rows = [
                    [uuid.uuid4(), count + i, details, "a" * 64, "b" * 64]
                    for i in range(rows_per_commit)
                ]
                with connection.transaction(), connection.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO bare_events VALUES (%s, %s, 'weighed', now(), %s, %s, %s)",
                        rows,
                    )
                count += rows_per_commit
        results.put(count)

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS bare_events (id uuid, lot_id bigint,"
            " kind text, occurred_at timestamptz, details jsonb,"
            " prev_hash text, hash text)"
        )
    results = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=worker, args=(results,)) for _ in range(CLIENTS)]
    for process in processes:
        process.start()
    total = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def wait_until_serving(server, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited ({server.returncode}); is port {PORT} taken?")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer /healthz")


def percentile(values, share):
    return values[min(len(values) - 1, int(len(values) * share))] if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=20, help="events per batch request")
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    url = scratch_database("bench_api")
    key, codes, hot = prepare(lots_per_client=200)
    # Connections that outlive the run: a backend that ends takes its CPU count with it.
    env = os.environ | {
        "DATABASE_URL": url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "API_THROTTLE_RATE": "1000000/min",
        "DB_CONN_MAX_AGE": "3600",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    try:
        wait_until_serving(server)
        bare = bare_inserts(url, 10)
        bare_batched = bare_inserts(url, 10, rows_per_commit=args.batch)
        per_client = [codes[i::CLIENTS] for i in range(CLIENTS)]
        batches, size = batch_request(args.batch), args.batch
        phases = {
            "GET /healthz (floor)": run_clients(healthz_request, key, [[]] * CLIENTS, 10, server),
            "weigh, distinct lots": run_clients(
                weigh_request, key, per_client, args.seconds, server
            ),
            "weigh, one hot lot": run_clients(
                weigh_request, key, [[hot]] * CLIENTS, args.seconds, server
            ),
            f"batch of {size}, distinct lots": run_clients(
                batches, key, per_client, args.seconds, server, size
            ),
            f"batch of {size}, one hot lot": run_clients(
                batches, key, [[hot]] * CLIENTS, args.seconds, server, size
            ),
        }
    finally:
        server.terminate()
        server.wait()
    print(f"bare INSERT, {CLIENTS} connections, 1 row/commit:  {bare:8,.0f} rows/s")
    print(f"bare INSERT, {CLIENTS} connections, {size} rows/commit: {bare_batched:8,.0f} rows/s")
    for label, (rate, latencies, errors, cpu) in phases.items():
        p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
        spent = ", ".join(f"{part} {ms:.2f}" for part, ms in cpu.items())
        like = bare_batched if label.startswith("batch") else bare
        print(
            f"{label:<28} {rate:7,.0f} events/s  x{rate / bare:.3f} bare  "
            f"x{rate / like:.3f} like-for-like  p50 {p50:5.1f} ms  p99 {p99:5.1f} ms/request  "
            f"errors {errors}  CPU ms/event: {spent}"
        )
    for label in ("weigh, distinct lots", f"batch of {size}, distinct lots"):
        rate, latencies, _, _ = phases[label]
        verdict = rate >= 0.10 * bare and percentile(latencies, 0.99) < 0.1
        print(f"targets ({label}: >= 10 % of bare, p99 < 100 ms): {'PASS' if verdict else 'FAIL'}")


if __name__ == "__main__":
    main()
