"""A lot's stored verdict (the admin list's badge and filter) is refreshed after every write
that commits, by a Celery task (eager here), for the lots written and the lots downstream of
them; nobody has to open a page. A broker that is down fails no write."""

import logging
import threading
import uuid

import pytest
from celery._state import task_join_will_block
from django.db import connections
from kombu.exceptions import OperationalError

from custody import tasks
from custody.models import CustodyEvent, EventKind, Lot, LotVerdict
from custody.selectors.verdicts import assess
from custody.services import stored_verdicts
from custody.services.stored_verdicts import reassess_lot

from ..custody.admin_pages import LOT_LIST
from .test_write_api import keyed, pickup_body, post


def stored(lot: Lot) -> LotVerdict:
    return LotVerdict.objects.get(lot=lot)


def codes(verdict: LotVerdict) -> set[str]:
    return {finding["code"] for finding in verdict.findings}


def assert_stored_is_fresh(lot: Lot, written: CustodyEvent) -> LotVerdict:
    """The lot's stored verdict was assessed after ``written`` was recorded, and says what
    assessing the lot now says."""
    verdict = stored(lot)
    assert verdict.assessed_at >= written.recorded_at
    now = assess(lot)
    assert verdict.outcome == now.outcome
    assert verdict.findings == [finding.as_dict() for finding in now.findings]
    return verdict


def test_writes_through_the_api_refresh_the_stored_verdicts(
    chain, pickup, django_capture_on_commit_callbacks
):
    source, recycler = keyed(chain.source), keyed(chain.recycler)
    lots = f"/api/v1/lots/{pickup.code}"
    assert not LotVerdict.objects.filter(lot=pickup).exists()

    with django_capture_on_commit_callbacks(execute=True):
        dispatched = post(source, f"{lots}/dispatch/", {"destination": chain.plant.pk})
        received = post(
            recycler, f"{lots}/receive/", {"measured_mass_kg": "2.010", "seals_intact": False}
        )
    assert (dispatched.status_code, received.status_code) == (201, 201)
    receipt = pickup.events.get(kind=EventKind.RECEIVED)
    before = assert_stored_is_fresh(pickup, receipt)
    assert before.outcome == "non_compliant" and "seal_broken" in codes(before)

    # A weighing: the stored verdict is assessed again, after it.
    with django_capture_on_commit_callbacks(execute=True):
        weighed = post(recycler, f"{lots}/weigh/", {"mass_kg": "2.005"})
    assert weighed.status_code == 201
    weighing = pickup.events.get(kind=EventKind.WEIGHED)
    after = assert_stored_is_fresh(pickup, weighing)
    assert after.assessed_at > before.assessed_at

    # A split: its outputs get a stored verdict at once, inheriting the broken seal.
    with django_capture_on_commit_callbacks(execute=True):
        split = post(
            recycler,
            "/api/v1/transformations/",
            {"kind": "split", "lot": pickup.code, "masses": ["1.000", "1.005"]},
        )
    assert split.status_code == 201, split.json()
    halves = list(Lot.objects.filter(code__in=split.json()["outputs"]).order_by("code"))
    for half in halves:
        verdict = assert_stored_is_fresh(half, half.events.get())
        assert "seal_broken" in codes(verdict)

    # The receipt is corrected on the consumed pickup: no event is written on the halves, yet
    # their stored verdicts, downstream of it, no longer carry the broken seal.
    with django_capture_on_commit_callbacks(execute=True):
        corrected = post(
            recycler,
            f"{lots}/correct/",
            {
                "corrects": str(receipt.uuid),
                "reason": "The seal was intact; the clerk ticked the wrong box.",
                "corrections": {"seals_intact": True},
            },
        )
    assert corrected.status_code == 201, corrected.json()
    correction = pickup.events.get(kind=EventKind.CORRECTED)
    assert "seal_broken" not in codes(assert_stored_is_fresh(pickup, correction))
    for half in halves:
        assert half.events.count() == 1
        assert "seal_broken" not in codes(assert_stored_is_fresh(half, correction))


def test_a_broker_that_is_down_fails_no_write_and_the_hourly_task_catches_up(
    chain, pickup, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    reassess_lot(lot=pickup)
    assessed = stored(pickup).assessed_at

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    # With a broker (not eager), the task is queued with delay(); the broker refuses it.
    conf = tasks.reassess_lots.app.conf
    monkeypatch.setattr(tasks.reassess_lots, "delay", broker_down)
    eager, conf.task_always_eager = conf.task_always_eager, False
    try:
        with (
            caplog.at_level(logging.WARNING, logger="custody.services.stored_verdicts"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            weighed = post(
                keyed(chain.source), f"/api/v1/lots/{pickup.code}/weigh/", {"mass_kg": "2"}
            )
    finally:
        conf.task_always_eager = eager
    assert weighed.status_code == 201
    weighing = pickup.events.get(kind=EventKind.WEIGHED)
    assert stored(pickup).assessed_at == assessed  # not refreshed: the broker was down
    assert f"Verdicts of lots [{pickup.pk}] not refreshed" in caplog.text
    assert "Connection refused" in caplog.text

    assert tasks.reassess_verdicts() >= 1  # the hourly task
    assert_stored_is_fresh(pickup, weighing)


def test_one_refresh_per_write_and_none_for_a_replay(
    chain, pickup, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(stored_verdicts, "_reassessor", queued.append)
    source = keyed(chain.source)
    key = str(uuid.uuid4())
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            answer = post(source, f"/api/v1/lots/{pickup.code}/weigh/", {"mass_kg": "2"}, key=key)
        assert answer.status_code == 201
    assert queued == [[pickup.pk]]


def test_a_lot_registered_through_the_api_is_in_the_admins_verdict_filter_at_once(
    admin_client, chain, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = post(keyed(chain.source), "/api/v1/lots/", pickup_body(chain))
    assert answer.status_code == 201, answer.json()
    lot = Lot.objects.get(code=answer.json()["code"])
    verdict = assert_stored_is_fresh(lot, lot.events.get())
    listed = admin_client.get(LOT_LIST, {"verdict__outcome__exact": verdict.outcome})
    assert lot.code in [row.code for row in listed.context["cl"].result_list]


@pytest.mark.django_db(transaction=True)
def test_refreshes_from_concurrent_threads_leave_celery_able_to_wait_for_a_result(chain, pickup):
    """Writers in several threads (runserver, the concurrency tests) each refresh after commit.
    Run eagerly through delay(), Celery marks the whole process as inside a task for each
    refresh, and interleaved threads can leave that mark set: a later ``result.get()`` (the real
    worker's test) then refuses to wait."""
    start = threading.Barrier(4)

    def refresh():
        start.wait()
        try:
            for _ in range(5):
                stored_verdicts.reassess_after_commit([pickup.pk])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stored(pickup).outcome
    assert not task_join_will_block()
