"""The ledger itself: canonical hashing, append-only triggers, concurrency, verification."""

import itertools
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, connections, transaction

from custody import db_triggers, services
from custody.hashing import (
    NotCanonical,
    canonical_bytes,
    content_hash,
    format_mass,
    format_time,
    hash_event,
    ledger_json,
)
from custody.models import CustodyEvent, EventKind, Lot
from custody.selectors.verification import verify_ledger
from custody.tasks import verify_ledger as verify_ledger_task

from ..conftest import days_ago, ship


class TestCanonicalSerialization:
    def test_keys_are_sorted_and_compact_and_unicode_kept(self):
        assert canonical_bytes({"b": 1, "a": {"d": "é", "c": None}}) == (
            '{"a":{"c":null,"d":"é"},"b":1}'.encode()
        )

    def test_times_are_utc_with_microseconds(self):
        moment = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
        assert format_time(moment) == "2026-03-01T14:30:00.000000Z"
        with pytest.raises(NotCanonical):
            format_time(datetime(2026, 3, 1))

    def test_masses_are_strings_to_the_gram(self):
        assert format_mass(Decimal("12.5")) == "12.500"
        assert format_mass(Decimal("1E+3")) == "1000.000"
        assert format_mass(None) is None

    def test_details_refuse_what_jsonb_would_change(self):
        assert ledger_json({"mass": Decimal("1.5"), "at": datetime(2026, 1, 1, tzinfo=UTC)}) == {
            "mass": "1.500",
            "at": "2026-01-01T00:00:00.000000Z",
        }
        for bad in (1.5, "a\x00b", "\ud800", object()):
            with pytest.raises(NotCanonical):
                ledger_json({"x": bad})

    def test_the_hash_is_sha256_of_the_documented_bytes(self, pickup):
        event = pickup.events.get()
        content = {
            "v": 1,
            "uuid": str(event.uuid),
            "lot": pickup.code,
            "seq": 1,
            "kind": "registered",
            "occurred_at": format_time(event.occurred_at),
            "recorded_at": format_time(event.recorded_at),
            "actor_organization": event.actor_organization_id,
            "actor_user": None,
            "actor_api_key": None,
            "facility": event.facility_id,
            "counterparty_facility": None,
            "mass_kg": "2.010",
            "details": event.details,
            "evidence": [],
            "corrects": None,
            "prev_hash": "0" * 64,
        }
        assert content_hash(content) == event.hash


def test_hashes_survive_a_round_trip_through_the_database(chain, pickup):
    """jsonb reorders keys and drops whitespace; the hash is over our own bytes, so a row read
    back hashes to the stored value. Details deliberately hold nested objects, unicode, big
    integers and keys that jsonb sorts differently (by length first)."""
    lot = Lot.objects.get(pk=pickup.pk)
    services.dispatch_lot(
        actor=chain.actor(chain.source),
        lot=lot,
        destination=chain.plant,
        seal_numbers=["Ω-1", "sceau-2"],
        note='Fork-lift "B" — 2ⁿᵈ dock {"x": 1}',
        evidence=["ab" * 32],
    )
    services.correct_event(
        actor=chain.actor(chain.source),
        lot=lot,
        corrects=lot.events.get(seq=2),
        reason="Extra facts",
        corrections={"seal_numbers": ["Ω-1", "sceau-2", "ü-3"], "note": "2ⁿᵈ dock, ü"},
    )
    services.correct_event(
        actor=chain.actor(chain.source),
        lot=lot,
        corrects=lot.events.get(seq=1),
        reason="Count",
        corrections={"item_count": 2**31 - 1},
    )
    for event in CustodyEvent.objects.select_related("lot", "corrects").order_by("id"):
        assert hash_event(event) == event.hash
    assert verify_ledger().ok


@pytest.mark.postgres
def test_details_come_back_from_jsonb_reordered_yet_hash_the_same(chain, pickup):
    services.correct_event(
        actor=chain.actor(chain.source),
        lot=pickup,
        corrects=pickup.events.get(),
        reason="ordering",
        corrections={"item_count": 4, "external_ref": "ERP-ü-7"},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT details::text FROM custody_custodyevent WHERE kind = %s", [EventKind.CORRECTED]
        )
        stored_text = cursor.fetchone()[0]
    event = CustodyEvent.objects.select_related("lot").get(kind=EventKind.CORRECTED)
    # jsonb stores keys shortest first, with spaces: the text is not what we hashed ...
    assert stored_text != canonical_bytes(event.details).decode()
    assert stored_text.index('"reason"') < stored_text.index('"corrected_kind"')
    # ... but the content read back still hashes to the stored hash.
    assert hash_event(event) == event.hash


class TestAppendOnly:
    def test_the_orm_cannot_update_or_delete_an_event(self, pickup):
        event = pickup.events.get()
        event.mass_kg = Decimal("1")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            event.save()
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            CustodyEvent.objects.filter(pk=event.pk).delete()
        assert CustodyEvent.objects.get(pk=event.pk).mass_kg == Decimal("2.010")

    def test_raw_sql_update_and_delete_fail(self, pickup):
        for statement in (
            "UPDATE custody_custodyevent SET mass_kg = 0",
            "DELETE FROM custody_custodyevent",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement)
        assert CustodyEvent.objects.filter(mass_kg=Decimal("2.010")).count() == 1


@pytest.fixture
def tamper():
    """Change a row behind the trigger's back, as an attacker with the table owner's rights
    could, and put the trigger back."""

    def run(sql: str, params=()):
        db_triggers.drop(connection)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        finally:
            db_triggers.install(connection)

    return run


class TestVerifyLedger:
    def journey(self, chain, pickup):
        ship(chain, pickup, measured_kg=Decimal("2"))
        services.weigh_lot(actor=chain.actor(chain.recycler), lot=pickup, mass_kg=Decimal("2.001"))
        return pickup

    def test_an_intact_ledger_verifies(self, chain, pickup):
        self.journey(chain, pickup)
        out = StringIO()
        call_command("verify_ledger", "--no-progress", stdout=out)
        assert "Ledger verified: 4 events in 1 lots" in out.getvalue()

    def test_a_tampered_row_is_named(self, chain, pickup, tamper):
        lot = self.journey(chain, pickup)
        clean = services.register_pickup(
            actor=chain.actor(chain.source),
            facility=chain.data_center,
            material="hdd",
            mass_kg=Decimal("5"),
            assets=[services.AssetLine(category="hdd_3_5", serial="X1")],
        )
        received = lot.events.get(seq=3)
        tamper("UPDATE custody_custodyevent SET mass_kg = 1.5 WHERE id = %s", [received.pk])
        err = StringIO()
        with pytest.raises(CommandError, match="1 broken chain"):
            call_command("verify_ledger", "--no-progress", stdout=StringIO(), stderr=err)
        assert f"BROKEN {lot.code} event #3 ({received.uuid})" in err.getvalue()
        assert "altered" in err.getvalue()
        assert clean.code not in err.getvalue()

    def test_a_deleted_event_and_a_lost_tail_are_found(self, chain, pickup, tamper):
        lot = self.journey(chain, pickup)
        tamper("DELETE FROM custody_custodyevent WHERE lot_id = %s AND seq = 2", [lot.pk])
        report = verify_ledger()
        assert [(b.lot_code, b.seq) for b in report.broken] == [(lot.code, 3)]
        assert report.broken[0].reason == "expected event #2; the chain skips to #3"

        tamper("DELETE FROM custody_custodyevent WHERE lot_id = %s AND seq >= 2", [lot.pk])
        report = verify_ledger()
        assert [(b.lot_code, b.seq) for b in report.broken] == [(lot.code, 2)]
        assert "head is event #4" in report.broken[0].reason

    def test_a_rewritten_chain_does_not_match_the_next_prev_hash(self, chain, pickup, tamper):
        lot = self.journey(chain, pickup)
        first = lot.events.get(seq=1)
        tamper("UPDATE custody_custodyevent SET hash = %s WHERE id = %s", ["f" * 64, first.pk])
        report = verify_ledger([lot.code])
        assert [(b.seq, b.event_uuid) for b in report.broken] == [(1, str(first.uuid))]

    def test_the_nightly_task_reports_broken_chains(self, chain, pickup, tamper):
        tamper("UPDATE custody_custodyevent SET kind = 'weighed' WHERE lot_id = %s", [pickup.pk])
        result = verify_ledger_task.delay().get()
        assert result["events"] == 1
        assert result["broken"] == [
            f"{pickup.code} event #1 ({pickup.events.get().uuid}): "
            "content does not match its hash (the row was altered)"
        ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_threads_appending_to_one_lot_make_one_unforked_chain(chain, pickup):
    weighings_per_thread = 5
    errors = []
    start = threading.Barrier(8)

    def worker(number: int):
        try:
            start.wait()
            for attempt in range(weighings_per_thread):
                services.weigh_lot(
                    actor=chain.actor(chain.source),
                    lot=Lot(pk=pickup.pk),
                    mass_kg=Decimal(f"{number}.{attempt:03d}") + 1,
                    idempotency_key=f"thread-{number}-{attempt}",
                )
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    events = list(CustodyEvent.objects.filter(lot=pickup).order_by("seq"))
    assert [event.seq for event in events] == list(range(1, 2 + 8 * weighings_per_thread))
    assert {event.idempotency_key for event in events[1:]} == {
        f"thread-{n}-{a}" for n in range(8) for a in range(weighings_per_thread)
    }
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    lot = Lot.objects.get(pk=pickup.pk)
    assert (lot.head_seq, lot.head_hash) == (events[-1].seq, events[-1].hash)
    assert verify_ledger().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_verification_covers_every_lot_and_names_the_broken_one(chain, tamper):
    lots = [
        services.register_pickup(
            actor=chain.actor(chain.source),
            facility=chain.data_center,
            material="hdd",
            mass_kg=Decimal("1"),
            assets=[services.AssetLine(category="hdd_3_5", serial=f"P{number}")],
        )
        for number in range(7)
    ]
    for lot in lots[:3]:
        services.weigh_lot(actor=chain.actor(chain.source), lot=lot, mass_kg=Decimal("1.5"))
    tamper(
        "UPDATE custody_custodyevent SET mass_kg = 9 WHERE lot_id = %s AND seq = 2", [lots[1].pk]
    )
    serial = verify_ledger(workers=1)
    parallel = verify_ledger(workers=3)
    assert (parallel.events, parallel.lots) == (serial.events, serial.lots) == (10, 7)
    assert [str(b) for b in parallel.broken] == [str(b) for b in serial.broken]
    assert [(b.lot_code, b.seq) for b in parallel.broken] == [(lots[1].code, 2)]


def test_occurred_at_before_previous_is_refused_but_recorded_at_is_ours(chain, pickup):
    event = services.weigh_lot(
        actor=chain.actor(chain.source),
        lot=pickup,
        mass_kg=Decimal("2"),
        occurred_at=days_ago(10),
    )
    assert event.recorded_at > event.occurred_at


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_pickup_register_one_lot(chain):
    start = threading.Barrier(8)
    lots, errors = [], []

    def retry():
        try:
            start.wait()
            lots.append(
                services.register_pickup(
                    actor=chain.actor(chain.source),
                    facility=chain.data_center,
                    material="hdd",
                    mass_kg=Decimal("0.670"),
                    assets=[services.AssetLine(category="hdd_3_5", serial="ONE")],
                    idempotency_key="erp-pickup-77",
                )
            )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {lot.pk for lot in lots} == {Lot.objects.get().pk}
    assert CustodyEvent.objects.count() == 1
