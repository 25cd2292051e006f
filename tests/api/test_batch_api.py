"""Batches of lot actions (``POST /api/v1/events/``): recorded in order through the same
services as one action at a time, all or none, idempotent, each refusal named by its index."""

import hashlib
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from custody import services
from custody.errors import DomainError
from custody.models import (
    CustodyEvent,
    IdempotencyRecord,
    Lot,
)
from custody.selectors.verification import verify_ledger

from .test_read_api import key_for
from .test_write_api import keyed, post

URL = "/api/v1/events/"


def stored_events() -> int:
    return CustodyEvent.objects.count()


def test_a_batch_records_each_action_in_order_as_one_at_a_time_would(chain, two_lots):
    first, second = two_lots
    source = keyed(chain.source)
    batch = {
        "events": [
            {"lot": first.code, "action": "weigh", "mass_kg": "2.000", "scale_ref": "S-1"},
            {"lot": second.code, "action": "weigh", "mass_kg": "4.900"},
            {"lot": first.code, "action": "quarantine", "reason": "seal torn"},
            {"lot": first.code, "action": "release", "reason": "resealed"},
            {"lot": first.code, "action": "dispatch", "destination": chain.plant.pk},
        ]
    }
    answered = post(source, URL, batch)
    assert answered.status_code == 201, answered.json()
    events = answered.json()["events"]
    assert [(e["lot"], e["kind"], e["seq"]) for e in events] == [
        (first.code, "weighed", 2),
        (second.code, "weighed", 2),
        (first.code, "quarantined", 3),
        (first.code, "released", 4),
        (first.code, "dispatched", 5),
    ]
    for code in (first.code, second.code):
        stored = source.get(f"/api/v1/lots/{code}/events/").json()["results"]
        assert [e for e in events if e["lot"] == code] == stored[1:]
    first_now = source.get(f"/api/v1/lots/{first.code}/").json()
    assert (first_now["status"], first_now["mass_kg"], first_now["quarantined"]) == (
        "in_transit",
        "2.000",
        False,
    )
    assert first_now["destination"]["id"] == chain.plant.pk
    assert source.get(f"/api/v1/lots/{second.code}/").json()["mass_kg"] == "4.900"
    assert verify_ledger().broken == []


def test_the_destination_receives_and_weighs_an_inbound_lot_in_one_batch(chain, pickup):
    services.dispatch_lot(actor=chain.actor(chain.source), lot=pickup, destination=chain.plant)
    answered = post(
        keyed(chain.recycler),
        URL,
        {
            "events": [
                {
                    "lot": pickup.code,
                    "action": "receive",
                    "measured_mass_kg": "2.000",
                    "seals_intact": True,
                },
                {"lot": pickup.code, "action": "weigh", "mass_kg": "1.990"},
            ]
        },
    )
    assert answered.status_code == 201, answered.json()
    received, weighed = answered.json()["events"]
    assert received["details"]["difference_kg"] == "-0.010"
    assert weighed["facility"]["id"] == chain.plant.pk
    lot = Lot.objects.get(pk=pickup.pk)
    assert (lot.status, lot.custodian_id, lot.mass_kg) == (
        "received",
        chain.plant.pk,
        Decimal("1.990"),
    )


def test_a_batch_is_written_at_its_end_in_one_insert_and_stamped_then(chain, two_lots):
    """Reading a lot's dispatch or quarantine mid-batch reads the pending events, not the
    table: nothing is written before the end, so the record time (which the event feed holds
    events back by) is when the events were written, however long the batch ran."""
    first, _ = two_lots
    started = timezone.now()
    with CaptureQueriesContext(connection) as statements:
        answered = post(
            keyed(chain.source),
            URL,
            {
                "events": [
                    {"lot": first.code, "action": "quarantine", "reason": "seal torn"},
                    {"lot": first.code, "action": "release", "reason": "resealed"},
                    {"lot": first.code, "action": "weigh", "mass_kg": "1.900"},
                ]
            },
        )
    assert answered.status_code == 201, answered.json()
    inserts = [q for q in statements if q["sql"].startswith('INSERT INTO "custody_custodyevent"')]
    assert len(inserts) == 1
    recorded = {event["recorded_at"] for event in answered.json()["events"]}
    assert len(recorded) == 1 and parse_datetime(recorded.pop()) >= started
    assert verify_ledger().broken == []


def test_a_later_action_is_checked_against_what_the_earlier_ones_did(chain, two_lots):
    first, second = two_lots
    before = stored_events()
    refused = post(
        keyed(chain.source),
        URL,
        {
            "events": [
                {"lot": second.code, "action": "weigh", "mass_kg": "4.900"},
                {"lot": first.code, "action": "quarantine", "reason": "seal torn"},
                {"lot": first.code, "action": "dispatch", "destination": chain.plant.pk},
            ]
        },
    )
    assert refused.status_code == 409
    problem = refused.json()
    assert (problem["code"], problem["errors"][0]["field"]) == ("lot_quarantined", "events[2]")
    assert problem["detail"].startswith("events[2]: ")
    assert stored_events() == before
    assert Lot.objects.get(pk=first.pk).quarantined is False
    assert Lot.objects.get(pk=second.pk).mass_kg == Decimal("5")


@pytest.mark.parametrize(
    "event, status, code, field",
    [
        ({"action": "teleport"}, 400, "invalid_choice", "events[1].action"),
        ({"action": "weigh", "mass_kg": "-1"}, 422, "negative_mass", "events[1].mass_kg"),
        ({"action": "weigh", "mass_kg": "abc"}, 400, "invalid", "events[1].mass_kg"),
        (
            {"action": "weigh", "mass_kg": "1", "colour": "red"},
            400,
            "unknown_field",
            "events[1].colour",
        ),
        ({"action": "weigh"}, 400, "required", "events[1].mass_kg"),
        (
            {"action": "receive", "measured_mass_kg": "1", "seals_intact": True},
            409,
            "lot_not_in_transit",
            "events[1]",
        ),
        (
            {"action": "weigh", "mass_kg": "1", "occurred_at": "2020-01-01T00:00:00Z"},
            409,
            "time_before_previous_event",
            "events[1].occurred_at",
        ),
    ],
)
def test_a_refused_event_is_named_and_nothing_is_written(chain, pickup, event, status, code, field):
    before = stored_events()
    batch = {
        "events": [
            {"lot": pickup.code, "action": "weigh", "mass_kg": "2"},
            {"lot": pickup.code, **event},
        ]
    }
    refused = post(keyed(chain.source), URL, batch)
    assert refused.status_code == status, refused.json()
    error = refused.json()["errors"][0]
    assert (error["code"], error["field"]) == (code, field)
    assert stored_events() == before


def test_the_shape_of_a_batch_is_checked(chain, pickup):
    source = keyed(chain.source)
    weigh = {"lot": pickup.code, "action": "weigh", "mass_kg": "2"}
    for body, code, field in [
        ({"events": []}, "min_length", "events"),
        ({}, "required", "events"),
        ({"events": [weigh, 1]}, "not_a_dict", "events[1]"),
        ({"events": [weigh, None]}, "not_a_dict", "events[1]"),
        ({"events": "weigh"}, "not_a_list", "events"),
        ({"events": {"0": weigh}}, "not_a_list", "events"),
        ({"events": [{**weigh, "action": ["weigh"]}]}, "invalid_choice", "events[0].action"),
        ({"events": [{**weigh, "action": {"a": 1}}]}, "invalid_choice", "events[0].action"),
        ({"events": [{"lot": pickup.code}]}, "invalid_choice", "events[0].action"),
        ({"events": [{**weigh, "lot": ["x"]}]}, "invalid", "events[0].lot"),
        ({"events": [weigh], "extra": 1}, "unknown_field", "extra"),
    ]:
        refused = post(source, URL, body)
        assert refused.status_code == 400, body
        assert {"code": code, "field": field} in [
            {"code": error["code"], "field": error["field"]} for error in refused.json()["errors"]
        ], refused.json()
    limit = 500
    too_many = [{"lot": pickup.code, "action": "weigh", "mass_kg": "2"}] * (limit + 1)
    refused = post(source, URL, {"events": too_many})
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, "max_length")


def test_lots_the_caller_may_not_see_are_unknown_and_read_only_callers_write_nothing(chain, pickup):
    weigh = {"lot": pickup.code, "action": "weigh", "mass_kg": "2"}
    for stranger in (chain.recycler, chain.trader):
        refused = post(keyed(stranger), URL, {"events": [weigh]})
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (
            422,
            "events[0].lot",
        )
        assert refused.json()["code"] == "unknown_lot"
    missing = post(keyed(chain.source), URL, {"events": [weigh, {**weigh, "lot": "NOPE"}]})
    assert (missing.json()["code"], missing.json()["errors"][0]["field"]) == (
        "unknown_lot",
        "events[1].lot",
    )
    auditor = post(keyed(chain.auditor), URL, {"events": [weigh]})
    assert (auditor.status_code, auditor.json()["code"]) == (403, "read_only_organization")
    assert pickup.events.count() == 1


def test_a_replay_returns_the_first_answer_even_after_the_key_expired(chain, pickup):
    source = keyed(chain.source)
    batch = {
        "events": [
            {"lot": pickup.code, "action": "weigh", "mass_kg": "2"},
            {"lot": pickup.code, "action": "weigh", "mass_kg": "2.1"},
        ]
    }
    first = post(source, URL, batch, key="shift-7")
    again = post(source, URL, batch, key="shift-7")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    IdempotencyRecord.objects.all().delete()  # as if a day had passed
    late = post(source, URL, batch, key="shift-7")
    assert late.status_code == 201
    assert [e["uuid"] for e in late.json()["events"]] == [e["uuid"] for e in first.json()["events"]]
    assert pickup.events.count() == 3
    other = post(source, URL, {"events": batch["events"][:1]}, key="shift-7")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    IdempotencyRecord.objects.all().delete()
    for events in (batch["events"][:1], [*batch["events"], batch["events"][0]]):
        other = post(source, URL, {"events": events}, key="shift-7")
        assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert pickup.events.count() == 3


def test_a_batchs_keys_never_meet_a_partners_own(chain, pickup):
    """A partner may send any key, ``shift-8#0`` included: a batch's actions get keys no
    request can carry."""
    source = keyed(chain.source)
    alone = post(source, f"/api/v1/lots/{pickup.code}/weigh/", {"mass_kg": "1"}, key="shift-8#0")
    batch = post(
        source,
        URL,
        {"events": [{"lot": pickup.code, "action": "weigh", "mass_kg": "2"}]},
        key="shift-8",
    )
    assert (alone.status_code, batch.status_code) == (201, 201)
    assert batch.json()["events"][0]["uuid"] != alone.json()["event"]["uuid"]
    assert Lot.objects.get(pk=pickup.pk).mass_kg == Decimal("2")
    long_key = "k" * 190  # hashed to fit; its hash sent as a key of its own is another key
    weigh = {"events": [{"lot": pickup.code, "action": "weigh", "mass_kg": "3"}]}
    hashed = hashlib.sha256(long_key.encode()).hexdigest()
    assert post(source, URL, weigh, key=long_key).status_code == 201
    assert post(source, URL, weigh, key=hashed).status_code == 201
    assert pickup.events.filter(kind="weighed").count() == 4


def test_the_service_refuses_an_empty_or_oversized_batch(chain, pickup, settings):
    actor = chain.actor(chain.source)
    weigh = services.LotAction(lot=pickup, name="weigh", arguments={"mass_kg": Decimal("2")})
    with pytest.raises(DomainError) as empty:
        services.record_batch(actor=actor, actions=[])
    assert empty.value.code == "empty_batch"
    settings.CUSTODY = {**settings.CUSTODY, "MAX_BATCH_EVENTS": 2}
    with pytest.raises(DomainError) as large:
        services.record_batch(actor=actor, actions=[weigh] * 3)
    assert large.value.code == "batch_too_large"
    with pytest.raises(DomainError) as unknown:
        services.record_batch(actor=actor, actions=[weigh, services.LotAction(pickup, "melt")])
    assert (unknown.value.code, unknown.value.field) == ("unknown_action", "events[1].action")
    assert pickup.events.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_sharing_lots_in_any_order_neither_deadlock_nor_fork_a_chain(chain, two_lots):
    """Each batch locks its lots together in id order, whatever order it names them in."""
    key = key_for(chain.source)
    codes = [lot.code for lot in two_lots]
    start = threading.Barrier(8)
    statuses = []

    def send(order):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        try:
            start.wait()
            for _ in range(5):
                events = [{"lot": code, "action": "weigh", "mass_kg": "2"} for code in order]
                statuses.append(post(client, URL, {"events": events}).status_code)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=send, args=(codes[:: 1 if n % 2 else -1],)) for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 40
    for lot in two_lots:
        assert list(lot.events.values_list("seq", flat=True).order_by("seq")) == list(range(1, 42))
    assert verify_ledger().broken == []
