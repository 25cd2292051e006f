"""Dependencies fail, the ledger keeps working: a dead Redis, a dead or silent broker and a
dropped database connection never turn a request into an HTML 500 or a hung worker."""

import gc
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
import tracemalloc
import uuid
from contextlib import contextmanager, suppress
from datetime import timedelta

import psycopg
import pytest
import redis
from django.db import connection

from config.celery import app
from custody.api import throttling
from custody.api.throttling import PerKeyThrottle
from custody.models import DeliveryStatus, EventKind, WebhookDelivery, WebhookSubscription
from custody.services import webhooks

from .api.test_read_api import PROBLEM
from .api.test_write_api import keyed, post


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answering(client):
    """An API client that answers what the server would, instead of raising the exception."""
    client.raise_request_exception = False
    return client


# --- Redis down: the throttle counts in-process -------------------------------------------------


class PrivateRedis:
    """A redis-server of the test's own, on a spare port, that the test may kill."""

    def __init__(self, directory):
        self.port, self.directory, self.process = free_port(), directory, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        options = {"port": self.port, "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        arguments = [part for name, value in options.items() for part in (f"--{name}", str(value))]
        self.process = subprocess.Popen(
            ["redis-server", *arguments, "--dir", str(self.directory)], stdout=subprocess.DEVNULL
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def counts(self) -> dict[str, int]:
        client = redis.Redis(port=self.port)
        return {key.decode(): int(client.get(key)) for key in client.keys("*throttle_partner*")}


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but redis-server is not installed")
        pytest.skip("needs redis-server")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.kill()


def test_with_redis_killed_reads_and_writes_answer_and_the_budget_is_kept_in_process(
    chain, pickup, private_redis, settings, monkeypatch, caplog
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
        }
    }
    monkeypatch.setattr(throttling, "_local", throttling.LocalCounts())
    monkeypatch.setattr(PerKeyThrottle, "THROTTLE_RATES", {"partner": "3/min"})
    monkeypatch.setattr(PerKeyThrottle, "timer", lambda self: 600.0)  # one window throughout
    partner = answering(keyed(chain.source))
    weigh = f"/api/v1/lots/{pickup.code}/weigh/"

    assert partner.get("/api/v1/lots/").status_code == 200
    assert list(private_redis.counts().values()) == [1]  # counted in the shared cache

    private_redis.kill()
    with caplog.at_level(logging.WARNING, logger="custody.api.throttling"):
        answers = [
            partner.get("/api/v1/lots/").status_code,
            post(partner, weigh, {"mass_kg": "1.9"}).status_code,
            partner.get(f"/api/v1/lots/{pickup.code}/").status_code,
            partner.get("/api/v1/lots/").status_code,
        ]
    assert answers == [200, 201, 200, 429]  # the budget of 3 a minute, counted in-process
    assert pickup.events.filter(kind=EventKind.WEIGHED).count() == 1
    warnings = [r for r in caplog.records if r.name == "custody.api.throttling"]
    assert len(warnings) == 1  # once, then the process counts alone for a while
    assert "Throttle cache unavailable (ConnectionError" in warnings[0].getMessage()

    # Redis is back: once the pause is over, counts go to it again.
    private_redis.start()
    monkeypatch.setattr(throttling._local, "shared_down_until", 0.0)
    monkeypatch.setattr(PerKeyThrottle, "timer", lambda self: 660.0)  # the next window
    assert partner.get("/api/v1/lots/").status_code == 200
    assert list(private_redis.counts().values()) == [1]


# --- Broker down (cache up): a committed write answers its 201 at once ------------------------


@contextmanager
def silent_server(hold_seconds: float = 10.0):
    """A port that accepts connections and never answers (a hung broker, or a proxy in front of
    a dead one); each connection is dropped after ``hold_seconds``, so that nothing waits on it
    for ever. Yields the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    held: list[tuple[float, socket.socket]] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            with suppress(TimeoutError):
                held.append((time.monotonic(), listener.accept()[0]))
            while held and time.monotonic() - held[0][0] > hold_seconds:
                held.pop(0)[1].close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for _, held_connection in held:
            held_connection.close()
        listener.close()


@contextmanager
def broker(url: str, queue: str | None = None):
    """Publish tasks to ``url`` (not eagerly) for a while, on a queue of the test's own."""
    conf = app.conf
    saved = (conf.broker_url, conf.task_always_eager, conf.task_default_queue)
    pools = (app._pool, app.amqp._producer_pool)  # the connections to the broker it had
    conf.broker_url, conf.task_always_eager = url, False
    conf.task_default_queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    app._pool = app.amqp._producer_pool = None
    try:
        yield
    finally:
        if url != saved[0]:  # kombu shares the pools of one URL: close only the test's own
            app.pool.force_close_all()
            app.amqp.producer_pool.force_close_all()
        conf.broker_url, conf.task_always_eager, conf.task_default_queue = saved
        app._pool, app.amqp._producer_pool = pools


@pytest.mark.django_db(transaction=True)  # the publish runs on commit, inside the request
@pytest.mark.parametrize("state", ["refusing", "silent"])
def test_with_the_broker_down_a_write_answers_201_at_once_and_waits_for_the_sweeper(
    chain, pickup, state, caplog
):
    WebhookSubscription.objects.create(organization=chain.source, url="http://127.0.0.1:9/")
    partner = answering(keyed(chain.source))
    with (
        silent_server() as silent_port,
        broker(f"redis://127.0.0.1:{silent_port if state == 'silent' else free_port()}/0"),
        caplog.at_level(logging.WARNING, logger="custody.services.webhooks"),
    ):
        started = time.monotonic()
        weighed = post(partner, f"/api/v1/lots/{pickup.code}/weigh/", {"mass_kg": "1.9"})
        seconds = time.monotonic() - started
    assert weighed.status_code == 201, weighed.content
    assert seconds < 4, f"the write waited {seconds:.1f} s on the broker"
    event = pickup.events.get(kind=EventKind.WEIGHED)
    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert f"Broker unavailable; webhook deliveries [{delivery.pk}] wait" in caplog.text
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=delivery.created_at - timedelta(minutes=2)
    )
    assert list(webhooks.due_deliveries()) == [delivery]  # the sweeper's next run sends it


# --- PostgreSQL restarted or the connection dropped mid-request ------------------------------


def terminate_backend(pid: int) -> None:
    """What a restart or a dropped connection does to one request: its backend goes away."""
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_whose_connection_drops_is_a_503_and_its_retry_records_it_once(chain, pickup):
    partner = answering(keyed(chain.source))
    weigh, key = f"/api/v1/lots/{pickup.code}/weigh/", str(uuid.uuid4())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    dropped = []

    def drop_before_the_event_is_written(execute, sql, params, many, context):
        if not dropped and sql.startswith('INSERT INTO "custody_custodyevent"'):
            terminate_backend(backend)
            dropped.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(drop_before_the_event_is_written):
        cut_off = post(partner, weigh, {"mass_kg": "1.9"}, key=key)
    assert dropped
    assert cut_off.status_code == 503, cut_off.content
    assert cut_off["Content-Type"] == PROBLEM
    assert cut_off.json()["code"] == "database_unavailable"
    assert int(cut_off["Retry-After"]) > 0
    assert not pickup.events.filter(kind=EventKind.WEIGHED).exists()

    retried = post(partner, weigh, {"mass_kg": "1.9"}, key=key)
    assert retried.status_code == 201, retried.content
    assert "Idempotent-Replayed" not in retried
    replayed = post(partner, weigh, {"mass_kg": "1.9"}, key=key)
    assert (replayed.status_code, replayed["Idempotent-Replayed"]) == (201, "true")
    assert replayed.json() == retried.json()
    assert pickup.events.filter(kind=EventKind.WEIGHED).count() == 1


# --- A web process's memory stays flat over many writes ----------------------------------------


@pytest.mark.redis
def test_publishing_after_commit_retains_no_memory(chain, pickup, redis_url):
    """What every write does once it commits, 2,000 times over one process: hand its webhook
    deliveries to the real broker. Storing results nobody reads subscribed the process to one
    result channel per publish, and kept it (about 260 bytes each)."""
    WebhookSubscription.objects.create(organization=chain.source, url="http://127.0.0.1:9/")
    delivery = WebhookDelivery.objects.create(
        subscription=WebhookSubscription.objects.get(), event=pickup.events.get()
    )
    queue = f"test-{uuid.uuid4().hex[:8]}"
    publishes = 2000
    with broker(redis_url, queue=queue):
        try:
            for _ in range(200):  # warm up: connections, pools, caches
                webhooks.publish_after_commit([delivery])
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(publishes):
                webhooks.publish_after_commit([delivery])
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
            queued = redis.Redis.from_url(redis_url)
            published = queued.llen(queue)
            queued.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    assert published == 200 + publishes  # each publish reached the broker
    assert grown / publishes < 25, f"{grown / publishes:.0f} bytes retained per publish"
