#!/usr/bin/env python
"""Does a web process's memory stay flat over many thousands of writes, with Redis as broker?

In one process, on a scratch PostgreSQL database ``bench_publish_memory`` with Redis as broker
and result backend (``REDIS_URL``, default ``redis://127.0.0.1:6379/0``): N partner writes
(``POST /api/v1/lots/{code}/weigh/`` with an API key and an Idempotency-Key, through Django's
whole request handling, as a gunicorn worker runs them), each of which hands its webhook
delivery to the broker once it commits. No worker consumes them: they go to a queue of the
benchmark's own, deleted at the end. After a warm-up, prints every tenth of the run the
process's RSS and, with ``--tracemalloc`` (three times slower), the memory Python holds, and
what each write left behind since the first line.

``--keep-results`` stores the delivery task's results as the ledger did before
``CELERY_TASK_IGNORE_RESULT``: each publish then subscribed the process to a result channel that
nothing reads, for good.

Usage: .venv/bin/python benchmarks/publish_memory.py [--writes 5000] [--keep-results]
       [--tracemalloc]
Target: RSS flat; under 25 bytes held per write (with ``--tracemalloc``).
"""

import argparse
import gc
import json
import os
import time
import tracemalloc
import uuid

from _setup import scratch_database, source_with_pickups

TARGET_BYTES_PER_WRITE = 25
LOTS = 50
WARM_UP = 200


def prepare() -> tuple[str, list[str]]:
    return source_with_pickups(LOTS)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=5000)
    parser.add_argument("--keep-results", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true", help="count what Python holds")
    arguments = parser.parse_args()

    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("API_THROTTLE_RATE", "1000000/min")  # one key writes it all
    scratch_database("bench_publish_memory")
    import redis
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    from config.celery import app
    from custody.tasks import deliver_webhooks

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    if arguments.keep_results:
        deliver_webhooks.ignore_result = False
    key, codes = prepare()
    # What gunicorn calls for each request (Django's test client keeps a little of each).
    application, requests = WSGIHandler(), RequestFactory(HTTP_AUTHORIZATION=f"Api-Key {key}")

    def write(n: int) -> None:
        environ = requests.post(
            f"/api/v1/lots/{codes[n % LOTS]}/weigh/",
            json.dumps({"mass_kg": f"{10 + (n % 1000) / 1000:.3f}"}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        ).environ
        answered = []
        body = b"".join(application(environ, lambda status, headers: answered.append(status)))
        assert answered == ["201 Created"], (answered, body)

    try:
        for n in range(WARM_UP):
            write(n)
        if arguments.tracemalloc:
            tracemalloc.start()
        print(
            f"results stored: {arguments.keep_results}; {arguments.writes} writes after a "
            f"warm-up of {WARM_UP}; growth counted from the first line"
        )
        print(f"{'writes':>7} {'RSS MB':>8} {'RSS +KB':>8} {'held +KB':>9} {'held B/write':>13}")
        step = max(1, arguments.writes // 10)
        first = None
        started = time.perf_counter()
        for n in range(1, arguments.writes + 1):
            write(WARM_UP + n)
            if n % step:
                continue
            gc.collect()
            now = (n, rss_bytes(), tracemalloc.get_traced_memory()[0])
            first = first or now
            writes, rss, held = (now[i] - first[i] for i in range(3))
            per_write = f"{held / writes:>13.1f}" if writes and arguments.tracemalloc else ""
            print(
                f"{n:>7} {now[1] / 2**20:>8.1f} {rss / 1024:>8.0f} {held / 1024:>9.1f}{per_write}"
            )
        seconds = time.perf_counter() - started
        print(f"{arguments.writes / seconds:.0f} writes/s")
        if arguments.tracemalloc and writes:
            verdict = "ok" if held / writes < TARGET_BYTES_PER_WRITE else "OVER TARGET"
            print(f"held per write: target < {TARGET_BYTES_PER_WRITE} bytes: {verdict}")
    finally:
        tracemalloc.stop()
        broker = redis.Redis.from_url(os.environ["REDIS_URL"])
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


if __name__ == "__main__":
    main()
