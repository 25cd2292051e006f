"""Webhooks: the outbox is written with the event, deliveries are signed, retried with backoff
and logged; only subscribers who may see the lot are told."""

import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from custody import services
from custody.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from custody.selectors.visibility import visible_lots_by_rule
from custody.services import webhooks
from custody.services.webhooks import signature
from custody.tasks import deliver_webhooks, send_due_webhooks
from recyclers.models import Organization

from ..conftest import drive_manifest
from ..factories import OrganizationFactory
from .test_batch_api import URL
from .test_write_api import keyed, post
from .webhook_receiver import Receiver


def verify(secret: str, headers: dict, body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in headers["Webhook-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(parts["v1"], expected.hexdigest())


def test_a_partner_subscribes_over_the_api_and_receives_signed_events(
    chain, pickup, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        subscription = {"url": receiver.url, "event_kinds": ["dispatched", "received"]}
        created = post(keyed(chain.recycler), "/api/v1/webhooks/", subscription)
        assert created.status_code == 201, created.json()
        secret = created.json()["secret"]
        with django_capture_on_commit_callbacks(execute=True):
            services.weigh_lot(actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("2"))
        assert receiver.requests == []  # the recycler may not see the lot yet
        with django_capture_on_commit_callbacks(execute=True):
            services.dispatch_lot(
                actor=chain.actor(chain.source), lot=pickup, destination=chain.plant
            )
        ((headers, body),) = receiver.requests
    assert verify(secret, headers, body)
    event = json.loads(body)["event"]
    assert (event["lot"], event["kind"]) == (pickup.code, "dispatched")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
    )


def test_each_event_goes_to_exactly_the_subscribers_who_may_see_its_lot(chain, pickup):
    everyone = [
        chain.source,
        chain.recycler,
        chain.buyer,
        chain.trader,
        chain.carrier,
        chain.operator,
        chain.auditor,
    ]
    for organization in everyone:
        WebhookSubscription.objects.create(organization=organization, url="http://127.0.0.1:9/")
    source, recycler = chain.actor(chain.source), chain.actor(chain.recycler)
    steps = [
        lambda: services.weigh_lot(actor=source, lot=pickup, mass_kg=Decimal("2")),
        lambda: services.dispatch_lot(actor=source, lot=pickup, destination=chain.plant),
        lambda: services.receive_lot(
            actor=recycler, lot=pickup, measured_mass_kg=Decimal("2"), seals_intact=True
        ),
        lambda: services.weigh_lot(actor=recycler, lot=pickup, mass_kg=Decimal("1.9")),
    ]
    told = []
    for step in steps:
        event = step()
        slugs = event.deliveries.values_list("subscription__organization__slug", flat=True)
        told.append((event.kind, sorted(slugs)))
    watchers = ["auditor", "hyperscaler", "operator"]
    assert told == [
        ("weighed", watchers),
        ("dispatched", [*watchers, "recycler"]),  # on its way to the recycler
        ("received", [*watchers, "recycler"]),
        ("weighed", [*watchers, "recycler"]),  # the source held it once
    ]


def test_a_failing_endpoint_is_retried_with_backoff_then_given_up(
    chain, pickup, django_capture_on_commit_callbacks
):
    with Receiver(status=503) as receiver:
        WebhookSubscription.objects.create(organization=chain.source, url=receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            services.weigh_lot(actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("2"))
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            DeliveryStatus.PENDING,
            1,
            503,
        )
        assert (
            timedelta(seconds=25)
            < delivery.next_attempt_at - timezone.now()
            < timedelta(seconds=35)
        )
        for _ in range(10):
            WebhookDelivery.objects.update(next_attempt_at=timezone.now())
            send_due_webhooks()
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 8)
    assert len(receiver.requests) == 8


def test_a_delivery_written_while_the_broker_was_down_is_sent_later(
    chain, pickup, monkeypatch, django_capture_on_commit_callbacks
):
    from custody.tasks import deliver_webhooks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(deliver_webhooks, "delay", broker_down)
    with Receiver() as receiver:
        WebhookSubscription.objects.create(organization=chain.source, url=receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            services.weigh_lot(actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("2"))
        assert receiver.requests == []
        WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(minutes=2))
        assert send_due_webhooks() == 1
        assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_the_signature_is_hmac_sha256_over_timestamp_and_body():
    assert signature("s3cret", 1700000000, b"{}") == (
        "t=1700000000,v1=" + hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    )


def test_the_delivery_log_in_the_admin_is_read_only(admin_client, chain, pickup):
    subscription = WebhookSubscription.objects.create(
        organization=chain.source, url="http://127.0.0.1:9/nowhere"
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event=pickup.events.get(),
        attempts=3,
        last_error="Connection refused",
    )
    page = admin_client.get("/admin/custody/webhookdelivery/")
    assert page.status_code == 200
    assert "Connection refused" not in page.content.decode()  # detail only
    detail = admin_client.get(f"/admin/custody/webhookdelivery/{delivery.pk}/change/")
    assert "Connection refused" in detail.content.decode()
    assert (
        admin_client.post(f"/admin/custody/webhookdelivery/{delivery.pk}/delete/").status_code
        == 403
    )


# --- Batches: one broker message per subscription, each delivery sent once ---------------


def test_a_batch_queues_its_webhooks_with_one_broker_message(
    chain, two_lots, monkeypatch, django_capture_on_commit_callbacks
):
    WebhookSubscription.objects.create(organization=chain.source, url="http://127.0.0.1:9/")
    published = []
    monkeypatch.setattr(deliver_webhooks, "delay", lambda ids: published.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        answered = post(
            keyed(chain.source),
            URL,
            {"events": [{"lot": lot.code, "action": "weigh", "mass_kg": "2"} for lot in two_lots]},
        )
    assert answered.status_code == 201
    deliveries = WebhookDelivery.objects.order_by("pk")
    assert [d.event.uuid for d in deliveries] == [
        uuid.UUID(e["uuid"]) for e in answered.json()["events"]
    ]
    assert published == [[d.pk for d in deliveries]]


def test_a_worker_and_the_sweeper_never_send_one_delivery_twice(
    chain, two_lots, monkeypatch, django_capture_on_commit_callbacks
):
    """A worker sends one subscription's deliveries one after the other. When its queue ran
    late, the sweeper finds them due and sends those the worker has not reached; the worker
    then skips them. Each is sent once."""
    WebhookSubscription.objects.create(organization=chain.source, url="http://127.0.0.1:9/")
    with django_capture_on_commit_callbacks(execute=False):
        services.record_batch(
            actor=chain.actor(chain.source),
            actions=[
                services.LotAction(lot, "weigh", {"mass_kg": Decimal("2")}) for lot in two_lots
            ],
        )
    WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    sent = []

    def send(delivery, payload):
        sent.append(delivery.pk)
        if len(sent) == 1:  # the sweeper runs while the worker sends its first
            send_due_webhooks()
        delivery.status = DeliveryStatus.DELIVERED
        delivery.save()
        return True

    monkeypatch.setattr(webhooks, "send_delivery", send)
    ids = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
    assert deliver_webhooks(ids) == 1
    assert sorted(sent) == ids
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_each_event_goes_to_the_subscribers_the_rule_lets_see_its_lot_as_of_that_event(
    chain, pickup
):
    """Every organization subscribes; through a lot's life, each event's deliveries go to
    exactly the organizations that, by the rule read from the events (DESIGN invariant 8), may
    see the lot once it is recorded. In a batch, as of each event: the weighing before the
    dispatch that shows the recycler the lot is not sent to it (its feed brings it)."""
    everyone = list(Organization.objects.all())
    for organization in everyone:
        WebhookSubscription.objects.create(organization=organization, url="http://127.0.0.1:9/")
    source, recycler = chain.actor(chain.source), chain.actor(chain.recycler)

    def by_rule(lot) -> set[str]:
        return {o.slug for o in everyone if visible_lots_by_rule(o).filter(pk=lot.pk).exists()}

    def told(event) -> set[str]:
        return set(event.deliveries.values_list("subscription__organization__slug", flat=True))

    steps = [
        lambda: services.dispatch_lot(actor=source, lot=pickup, destination=chain.plant),
        lambda: services.receive_lot(
            actor=recycler, lot=pickup, measured_mass_kg=Decimal("2"), seals_intact=True
        ),
        lambda: services.deliver_lot(actor=recycler, lot=pickup, buyer_facility=chain.buyer_plant),
    ]
    for step in steps:
        event = step()
        assert told(event) == by_rule(pickup), event.kind
    other = services.register_pickup(
        actor=source,
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("1"),
        assets=drive_manifest(1),
    )
    weighed, dispatched = services.record_batch(
        actor=source,
        actions=[
            services.LotAction(other, "weigh", {"mass_kg": Decimal("1.1")}),
            services.LotAction(other, "dispatch", {"destination": chain.plant}),
        ],
    )
    assert told(dispatched) == by_rule(other)
    assert told(weighed) == by_rule(other) - {"recycler"}


def test_a_batch_decides_its_webhook_audience_in_one_query_whatever_the_subscribers(chain):
    """A batch of 20 issues as many statements with one subscribing organization as with ten
    (operators, auditors and partners, each seeing some of the lots or none)."""
    source = chain.actor(chain.source)

    def statements_of_a_batch() -> int:
        lots = [
            services.register_pickup(
                actor=source,
                facility=chain.data_center,
                material="hdd",
                mass_kg=Decimal("1"),
                assets=drive_manifest(1),
            )
            for _ in range(10)
        ]
        actions = [
            services.LotAction(lot, "weigh", {"mass_kg": Decimal("1.1")}) for lot in lots
        ] + [services.LotAction(lot, "dispatch", {"destination": chain.plant}) for lot in lots]
        with CaptureQueriesContext(connection) as statements:
            services.record_batch(actor=source, actions=actions)
        return len(statements)

    WebhookSubscription.objects.create(organization=chain.recycler, url="http://127.0.0.1:9/")
    one = statements_of_a_batch()
    subscribers = [
        chain.source,
        chain.buyer,
        chain.trader,
        chain.carrier,
        chain.operator,
        chain.auditor,
        *(OrganizationFactory(slug=f"partner-{n}", roles=["recycler"]) for n in range(3)),
    ]
    for organization in subscribers:
        WebhookSubscription.objects.create(organization=organization, url="http://127.0.0.1:9/")
    assert WebhookSubscription.objects.values("organization").distinct().count() == 10
    assert statements_of_a_batch() == one
    deliveries = WebhookDelivery.objects.filter(event__kind="dispatched")
    assert {d.subscription.organization.slug for d in deliveries} == {
        "recycler",
        "hyperscaler",
        "operator",
        "auditor",
    }
