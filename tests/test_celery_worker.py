"""A real Celery worker, on the real Redis broker, runs a ledger task against the test database."""

import json
import time
import uuid

import pytest

from config.celery import app
from custody import services
from custody.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from custody.tasks import verify_ledger

from .api.test_webhooks import verify
from .api.webhook_receiver import Receiver
from .conftest import start_celery_worker

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(redis_url):
    """A worker process on a queue of its own, reading the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    # The receivers listen on 127.0.0.1, over http.
    process = start_celery_worker(
        ["celery", "-A", "config"], redis_url, queue, WEBHOOK_ALLOW_PRIVATE_NETWORKS="1"
    )
    eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    try:
        yield queue
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = eager, default_queue
        process.terminate()
        output, _ = process.communicate(timeout=30)
        print(output.decode(errors="replace"))


def test_a_worker_verifies_the_ledger_over_redis(pickup, worker):
    result = verify_ledger.apply_async(queue=worker).get(timeout=60)
    assert result == {"events": 1, "lots": 1, "broken": []}


def test_a_worker_delivers_a_signed_webhook_after_commit(chain, pickup, worker):
    with Receiver() as receiver:
        subscription = WebhookSubscription.objects.create(
            organization=chain.recycler, url=receiver.url, event_kinds=["dispatched"]
        )
        services.dispatch_lot(actor=chain.actor(chain.source), lot=pickup, destination=chain.plant)
        deadline = time.monotonic() + 60
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.2)
        ((headers, body),) = receiver.requests
    assert verify(subscription.secret, headers, body)
    assert json.loads(body)["event"]["kind"] == "dispatched"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        delivery = WebhookDelivery.objects.get()
        if delivery.status == DeliveryStatus.DELIVERED:
            break
        time.sleep(0.2)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


def test_a_worker_delivers_a_batchs_webhooks_in_order(chain, pickup, worker):
    with Receiver() as receiver:
        subscription = WebhookSubscription.objects.create(
            organization=chain.source, url=receiver.url
        )
        weighings = [
            services.LotAction(lot=pickup, name="weigh", arguments={"mass_kg": mass})
            for mass in ("2.001", "2.002", "2.003")
        ]
        services.record_batch(actor=chain.actor(chain.source), actions=weighings)
        deadline = time.monotonic() + 60
        while len(receiver.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
    events = [json.loads(body)["event"] for _, body in receiver.requests]
    assert [event["mass_kg"] for event in events] == ["2.001", "2.002", "2.003"]
    assert all(verify(subscription.secret, headers, body) for headers, body in receiver.requests)
