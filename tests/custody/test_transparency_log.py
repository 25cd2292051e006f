"""The transparency log over every event: integration in commit order, signed checkpoints,
proofs from the store, and what verify_ledger finds when the log and the ledger disagree."""

import threading
import time
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.apps import apps
from django.db import DatabaseError, connection, connections, transaction

from custody import db_triggers, merkle, notes, services, tasks
from custody.hashing import hash_event
from custody.models import CustodyEvent, LogCheckpoint, LogEntry, LogRun, LogTile, Lot
from custody.selectors import log_key
from custody.selectors import transparency_log as log
from custody.selectors.log_verification import queued_entries
from custody.selectors.verification import verify_ledger
from custody.services import transparency_log as log_service
from custody.services.transparency_log import integrate_log, sign_checkpoint

from ..conftest import days_ago, register_pickup, ship


def register(chain, count: int = 1) -> list[Lot]:
    return [register_pickup(chain) for _ in range(count)]


def open_checkpoint(checkpoint: LogCheckpoint) -> notes.Checkpoint:
    return notes.open_note(checkpoint.note, log_key.verifier_key())


class TestIntegration:
    def test_every_event_is_queued_as_it_is_written_and_integrated_in_order(self, chain, pickup):
        ship(chain, pickup)
        events = list(CustodyEvent.objects.order_by("pk"))
        assert list(LogEntry.objects.order_by("pk").values_list("pk", flat=True)) == [
            event.pk for event in events
        ]
        checkpoint = integrate_log()
        assert checkpoint.tree_size == len(events) == 3
        assert [log.log_index(event.pk) for event in events] == [0, 1, 2]
        assert queued_entries() == []
        assert integrate_log() is None  # nothing queued: no new checkpoint

    def test_a_checkpoint_is_a_signed_note_over_the_leaves(self, chain, pickup):
        ship(chain, pickup)
        checkpoint = integrate_log()
        stated = open_checkpoint(checkpoint)
        hashes = [
            merkle.leaf_hash(bytes.fromhex(e.hash)) for e in CustodyEvent.objects.order_by("pk")
        ]
        assert stated.size == 3
        assert stated.root_hash == merkle.root(3, merkle.leaf_source(hashes))
        assert checkpoint.note.splitlines()[:2] == ["ree-custody.example/ledger", "3"]

    def test_proofs_from_the_store_verify_across_many_integrations(self, chain):
        sizes = []
        for batch in (1, 5, 17, 2, 40):
            register(chain, batch)
            sizes.append(integrate_log(max_events=7 if batch == 40 else None).tree_size)
        while checkpoint := integrate_log(max_events=7):
            sizes.append(checkpoint.tree_size)
        size = log.log_size()
        assert size == 65 and sizes[-1] == 65
        assert max(LogTile.objects.filter(level=0, index=0).values_list("width", flat=True)) == 65
        hashes = [log.leaf_hash(index) for index in range(size)]
        roots = {c.tree_size: bytes(c.root_hash) for c in LogCheckpoint.objects.all()}
        for index in range(size):
            for tree_size in (index + 1, 33, size):
                if tree_size <= index or tree_size not in roots:
                    continue
                proof = merkle.inclusion_proof(index, tree_size, log.node_source)
                assert merkle.verify_inclusion(
                    hashes[index], index, tree_size, proof, roots[tree_size]
                )
        for first in sorted(roots):
            for second in sorted(roots):
                if first <= second:
                    proof = log.consistency_proof(first, second).hashes
                    assert merkle.verify_consistency(
                        first, second, proof, roots[first], roots[second]
                    )

    def test_a_lot_keeps_its_chain_order_in_the_log(self, chain):
        lots = register(chain, 3)
        for lot in lots:
            ship(chain, lot)
        integrate_log()
        for lot in lots:
            indexes = [
                log.log_index(pk) for pk in lot.events.order_by("seq").values_list("pk", flat=True)
            ]
            assert indexes == sorted(indexes)

    def test_with_eager_celery_a_write_is_in_a_checkpoint_once_it_commits(
        self, chain, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            (lot,) = register(chain)
        assert log.latest_checkpoint().tree_size == 1
        assert log.log_index(lot.events.get().pk) == 0
        assert queued_entries() == []

    def test_a_failed_integration_never_fails_the_committed_write(
        self, chain, settings, django_capture_on_commit_callbacks
    ):
        settings.LOG_SIGNING_KEY, settings.LOG_SIGNING_KEY_FILE = "", ""  # cannot sign
        with django_capture_on_commit_callbacks(execute=True):
            (lot,) = register(chain)
        assert lot.events.exists() and len(queued_entries()) == 1  # queued for the next one

    def test_the_beat_task_integrates_what_is_queued(self, chain):
        register(chain, 2)
        assert tasks.integrate_log.apply().get() == 2
        assert tasks.integrate_log.apply().get() == 0

    def test_the_signing_key_is_made_on_first_use_when_none_is_set(self, settings, tmp_path):
        settings.LOG_SIGNING_KEY = ""
        settings.LOG_SIGNING_KEY_FILE = str(tmp_path / "log-signing.key")
        first = log_key.verifier_key()
        assert (tmp_path / "log-signing.key").stat().st_mode & 0o777 == 0o600
        assert log_key.verifier_key() == first


class TestSignedNotes:
    def test_a_changed_note_or_another_key_does_not_verify(self):
        key = Ed25519PrivateKey.generate()
        checkpoint = notes.Checkpoint("example.org/log", 5, bytes(range(32)), days_ago(0))
        note = notes.sign(checkpoint, "example.org/log", key)
        vkey = notes.verifier_key("example.org/log", key.public_key())
        assert notes.open_note(note, vkey).root_hash == bytes(range(32))
        with pytest.raises(notes.InvalidNote):
            notes.open_note(note.replace("\n5\n", "\n6\n"), vkey)
        other = notes.verifier_key("example.org/log", Ed25519PrivateKey.generate().public_key())
        with pytest.raises(notes.InvalidNote):
            notes.open_note(note, other)


def delete_lot_behind_the_triggers(lot: Lot, *, with_leaves: bool) -> None:
    """Delete every row of one lot, its events and what points at them, as the table owner can
    once the append-only triggers are off: the attack the chains alone cannot see."""
    event_ids = list(lot.events.values_list("pk", flat=True))
    db_triggers.drop(connection)
    try:
        with connection.cursor() as cursor:
            for model in apps.get_app_config("custody").get_models():
                for field in model._meta.get_fields():
                    target = getattr(field, "related_model", None)
                    if not field.concrete or target not in (Lot, CustodyEvent):
                        continue
                    if model is CustodyEvent:
                        continue
                    ids = [lot.pk] if target is Lot else event_ids
                    placeholders = ", ".join(["%s"] * len(ids))
                    cursor.execute(
                        f"DELETE FROM {model._meta.db_table} "
                        f"WHERE {field.column} IN ({placeholders})",
                        ids,
                    )
            cursor.execute("DELETE FROM custody_custodyevent WHERE lot_id = %s", [lot.pk])
            cursor.execute("DELETE FROM custody_lot WHERE id = %s", [lot.pk])
        if with_leaves:
            remove_from_log(event_ids)
    finally:
        db_triggers.install(connection)


def remove_from_log(event_ids: list[int]) -> None:
    """Take these events out of the map of events to leaves (the runs rewritten around them)
    and, when they are the log's last leaves, out of its tiles too (its one tile of leaves
    rewritten narrower): what an owner deleting them from the log would write."""
    gone, size = log.log_indexes(event_ids), log.log_size()
    leaves = [log.leaf_hash(index) for index in range(size)]
    runs = list(LogRun.objects.values_list("first_event_id", "last_event_id", "first_index"))
    LogRun.objects.all().delete()
    LogRun.objects.bulk_create(
        LogRun(first_event_id=event_id, last_event_id=event_id, first_index=at + event_id - first)
        for first, last, at in runs
        for event_id in range(first, last + 1)
        if event_id not in gone
    )
    first_gone = min(gone.values())
    if sorted(gone.values()) == list(range(first_gone, size)):
        LogTile.objects.filter(level=0, width__gt=first_gone).delete()
        LogTile.objects.get_or_create(
            level=0, index=0, width=first_gone, hashes=b"".join(leaves[:first_gone])
        )


class TestVerifyLedgerChecksTheLog:
    def test_an_intact_ledger_and_log_verify(self, chain, pickup):
        ship(chain, pickup)
        integrate_log()
        report = verify_ledger()
        assert report.ok, report.log.problems
        assert report.log.leaves == 3

    def test_a_whole_deleted_lot_is_named_by_the_leaves_it_left(self, chain):
        _kept, deleted = register(chain, 2)
        ship(chain, deleted)
        integrate_log()
        gone = set(log.log_indexes(deleted.events.values_list("pk", flat=True)).values())
        delete_lot_behind_the_triggers(deleted, with_leaves=False)
        report = verify_ledger()
        assert report.broken == []  # every remaining chain is intact ...
        assert not report.ok  # ... but the log knows what is missing
        assert {int(p.split()[2].rstrip(":")) for p in report.log.problems} == gone
        assert all("is gone from the ledger" in p for p in report.log.problems)

    def test_a_lot_deleted_with_its_leaves_leaves_a_gap_the_checkpoint_names(self, chain):
        _first, deleted, _last = register(chain, 3)
        integrate_log()
        delete_lot_behind_the_triggers(deleted, with_leaves=True)
        report = verify_ledger()
        assert report.broken == []
        assert "log leaves 1 to 1 are missing" in " ".join(report.log.problems)

    def test_the_latest_leaves_deleted_are_named_from_the_checkpoint(self, chain):
        _first, deleted = register(chain, 2)
        integrate_log()
        delete_lot_behind_the_triggers(deleted, with_leaves=True)
        problems = verify_ledger().log.problems
        assert any("leaves 1 to 1 are gone (the log was truncated)" in p for p in problems)

    def test_an_event_rewritten_with_its_chain_no_longer_matches_its_leaf(self, chain, pickup):
        integrate_log()
        event = pickup.events.get()
        event.mass_kg = Decimal("1.000")
        forged = hash_event(event)
        db_triggers.drop(connection)
        try:
            CustodyEvent.objects.filter(pk=event.pk).update(mass_kg=event.mass_kg, hash=forged)
            Lot.objects.filter(pk=pickup.pk).update(head_hash=forged)
        finally:
            db_triggers.install(connection)
        report = verify_ledger()
        assert report.broken == []  # the chain was rewritten consistently
        assert report.log.problems == [
            f"{pickup.code} event #1: its hash is not the one log leaf 0 committed to "
            "(the event was rewritten)"
        ]

    def test_an_event_never_integrated_nor_queued_is_named(self, chain, pickup):
        db_triggers.drop(connection)
        try:
            LogEntry.objects.all().delete()
        finally:
            db_triggers.install(connection)
        event = pickup.events.get()
        assert verify_ledger().log.problems == [
            f"{pickup.code} event #1 ({event.uuid}) is not in the log"
        ]

    def test_a_checkpoint_over_another_history_does_not_extend_the_log(self, chain):
        register(chain, 3)
        integrate_log()
        sign_checkpoint(5, bytes(32))  # signed with the log's key, over leaves it never held
        problems = verify_ledger().log.problems
        assert any("leaves 3 to 4 are gone" in p for p in problems)

    def test_a_rewritten_log_does_not_match_its_earlier_checkpoint(self, chain):
        register(chain, 2)
        integrate_log()
        register(chain, 1)
        integrate_log()
        db_triggers.drop(connection)
        try:
            for tile in LogTile.objects.filter(level=0, index=0):
                forged = bytes(32) + bytes(tile.hashes)[32:]
                LogTile.objects.filter(pk=tile.pk).update(hashes=forged)
        finally:
            db_triggers.install(connection)
        problems = verify_ledger().log.problems
        assert any("does not match the log's leaves" in p for p in problems)

    def test_a_forged_checkpoint_signature_is_reported(self, chain, pickup):
        integrate_log()
        forger = Ed25519PrivateKey.generate()
        note = notes.sign(
            notes.Checkpoint("ree-custody.example/ledger", 1, bytes(32), days_ago(0)),
            "ree-custody.example/ledger",
            forger,
        )
        forged = LogCheckpoint.objects.create(
            tree_size=9, root_hash=bytes(32), note=note, signed_at=days_ago(0)
        )
        problems = verify_ledger().log.problems
        assert problems == [
            f"checkpoint {forged.pk} (9 leaves): the note carries no signature of "
            "ree-custody.example/ledger"
        ]


@pytest.mark.postgres
class TestOnPostgres:
    def test_a_whole_lot_deleted_by_the_table_owner_with_triggers_disabled_is_reported(self, chain):
        _kept, deleted = register(chain, 2)
        ship(chain, deleted)
        integrate_log()
        gone = sorted(log.log_indexes(deleted.events.values_list("pk", flat=True)).values())
        tables = [model._meta.db_table for model in apps.get_app_config("custody").get_models()]
        with connection.cursor() as cursor:
            # The test's transaction still holds the deferred foreign-key checks of its writes.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            event_ids = list(deleted.events.values_list("pk", flat=True))
            for table, column, ids in (
                ("custody_feedentry", "event_id", event_ids),
                ("custody_lotvisibility", "lot_id", [deleted.pk]),
                ("custody_lotverdict", "lot_id", [deleted.pk]),
                ("custody_webhookdelivery", "event_id", event_ids),
                ("custody_custodyevent", "lot_id", [deleted.pk]),
                ("custody_asset", "lot_id", [deleted.pk]),
                ("custody_lot", "id", [deleted.pk]),
            ):
                cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [ids])
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        assert not Lot.objects.filter(pk=deleted.pk).exists()
        report = verify_ledger()
        assert report.broken == []
        named = sorted(int(p.split()[2].rstrip(":")) for p in report.log.problems)
        assert named == gone

    @pytest.mark.django_db(transaction=True)
    def test_writers_never_wait_for_the_integrator_and_integrators_queue(self, chain, monkeypatch):
        # As in production: beat integrates, the writes do not.
        monkeypatch.setattr(log_service, "_integrator", None)
        first, second = register(chain, 2)
        signing, release = threading.Event(), threading.Event()
        real_sign = log_service.sign_checkpoint

        def slow_sign(size, root_hash):
            signing.set()
            release.wait(10)
            return real_sign(size, root_hash)

        monkeypatch.setattr(log_service, "sign_checkpoint", slow_sign)
        sizes = []

        def integrator():
            try:
                checkpoint = integrate_log()
                sizes.append(checkpoint.tree_size if checkpoint else 0)
            finally:
                connections.close_all()

        holder = threading.Thread(target=integrator)
        holder.start()
        assert signing.wait(10)  # the integrator holds its lock and the queue rows it took
        waiter = threading.Thread(target=integrator)
        waiter.start()
        started = time.monotonic()
        services.weigh_lot(actor=chain.actor(chain.source), lot=first, mass_kg=Decimal("2"))
        assert time.monotonic() - started < 2  # the writer did not wait
        release.set()
        holder.join(10)
        waiter.join(10)
        assert sorted(sizes) == [2, 3]  # the second integrator waited, then took the write
        assert verify_ledger().ok
        assert log.log_index(second.events.get().pk) < log.log_index(first.events.get(seq=2).pk)

    @pytest.mark.parametrize(
        "table",
        [
            db_triggers.EVENTS,
            *db_triggers.LOG_TABLES,
            db_triggers.LOT_LINKS,
            db_triggers.FEED_ENTRIES,
        ],
    )
    def test_truncate_is_refused(self, chain, pickup, table):
        integrate_log()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending checks
        with (
            pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"TRUNCATE {table} CASCADE")
        assert CustodyEvent.objects.count() == LogEntry.objects.count() == log.log_size() == 1
