"""The log's storage: tiles of 256 hashes that grow by fuller rows, events mapped to leaves by
runs of ids, and transactions that commit out of id order integrated later, never skipped."""

import hashlib
import random
import threading

import pytest
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor

from custody import merkle
from custody.models import CustodyEvent, LogCheckpoint, LogEntry, LogTile
from custody.selectors import transparency_log as log
from custody.selectors.verification import verify_ledger
from custody.services import transparency_log as log_service
from custody.services.transparency_log import integrate_log

from ..conftest import register_pickup


def enter(first_id: int, count: int) -> list[bytes]:
    """Entries for events ``first_id`` onwards, as the trigger writes them; their leaf hashes."""
    digests = [hashlib.sha256(str(first_id + n).encode()).hexdigest() for n in range(count)]
    LogEntry.objects.bulk_create(
        LogEntry(id=first_id + n, hash=digest) for n, digest in enumerate(digests)
    )
    return [merkle.leaf_hash(bytes.fromhex(digest)) for digest in digests]


@pytest.mark.django_db
def test_tiles_grow_by_fuller_rows_and_every_proof_verifies():
    rng = random.Random(12)
    leaves, roots, next_id = [], {}, 1
    while len(leaves) < 700:
        count = rng.choice([1, 3, 40, 255, 256, 300])
        leaves += enter(next_id, count)
        next_id += count
        while checkpoint := integrate_log(max_events=rng.choice([7, 200, 1000])):
            roots[checkpoint.tree_size] = bytes(checkpoint.root_hash)
    memory = merkle.leaf_source(leaves)
    for size, root in roots.items():
        assert merkle.root(size, memory) == root
        for index in rng.sample(range(size), min(size, 20)):
            proof = merkle.inclusion_proof(index, size, log.node_source)
            assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
    for first in roots:
        proof = log.consistency_proof(first, len(leaves)).hashes
        assert merkle.verify_consistency(
            first, len(leaves), proof, roots[first], roots[len(leaves)]
        )
    for (level, index), blob in log.widest_tiles(
        (row.level, row.index) for row in LogTile.objects.all()
    ).items():
        for row in LogTile.objects.filter(level=level, index=index):
            assert blob.startswith(bytes(row.hashes))  # a narrower row is a prefix
    assert LogTile.objects.filter(level=1).exists()  # 700 leaves: roots of 256 stored above
    assert [log.log_index(event_id) for event_id in (1, 256, 700)] == [0, 255, 699]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_after_a_later_id_is_integrated_later_never_skipped(chain, monkeypatch):
    monkeypatch.setattr(log_service, "_integrator", None)  # beat integrates, as in production
    written, release = threading.Event(), threading.Event()
    late = []

    def slow_writer():
        try:
            with transaction.atomic():
                late.append(register_pickup(chain))
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert written.wait(10)
    early = register_pickup(chain)  # a larger id, committed first
    first = integrate_log()
    assert first.tree_size == 1
    release.set()
    writer.join(10)
    (late_event,) = late[0].events.all()
    assert log.log_index(late_event.pk) is None
    assert integrate_log().tree_size == 2
    assert log.log_index(late_event.pk) > log.log_index(early.events.get().pk)
    assert not any(
        first <= late_event.pk <= last for first, last, _ in log.latest_batch().open_gaps
    )
    assert verify_ledger().ok
    assert LogCheckpoint.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_id_rolled_back_leaves_a_gap_that_closes(chain, monkeypatch):
    monkeypatch.setattr(log_service, "_integrator", None)
    before = register_pickup(chain).events.get().pk
    with pytest.raises(RuntimeError), transaction.atomic():
        register_pickup(chain)
        raise RuntimeError("the write fails after its event was inserted")
    after = register_pickup(chain).events.get().pk
    assert integrate_log().tree_size == 2
    # The rolled-back ids stay open until the integrator knows no transaction can commit them.
    assert [before + 1, after - 1] in [gap[:2] for gap in log.latest_batch().open_gaps]
    register_pickup(chain)
    # Every transaction running when the gap was seen has ended (on a shared server some other
    # database's may still run, which would only keep it open longer).
    monkeypatch.setattr(log_service, "_oldest_running", lambda: 2**62)
    assert integrate_log().tree_size == 3
    assert log.latest_batch().open_gaps == []  # no event came: the gap closed
    assert verify_ledger().ok


def migrate(target: list[tuple[str, str]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(target or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_the_log_into_tiles_and_back_keeping_its_tree(chain, monkeypatch):
    monkeypatch.setattr(log_service, "_integrator", None)
    lots = [register_pickup(chain) for _ in range(3)]
    integrate_log(max_events=2)
    integrate_log()
    pending = register_pickup(chain)
    checkpoint = log.latest_checkpoint()
    indexes = log.log_indexes(CustodyEvent.objects.values_list("pk", flat=True))
    migrate([("custody", "0011_transparency_log")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_id FROM custody_logleaf ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == sorted(indexes, key=indexes.get)
        cursor.execute("SELECT event_id FROM custody_logqueue")
        assert [row[0] for row in cursor.fetchall()] == [pending.events.get().pk]
    migrate()
    assert log.log_size() == checkpoint.tree_size == 3
    assert merkle.root(3, log.node_source) == bytes(checkpoint.root_hash)
    assert log.log_indexes(indexes) == indexes
    assert integrate_log().tree_size == 4  # the event queued before is taken
    assert log.log_index(lots[0].events.get().pk) == 0
    assert verify_ledger().ok
