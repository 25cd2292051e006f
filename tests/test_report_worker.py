"""A worker killed (SIGKILL) in the middle of a report: the message comes back to another
worker, which completes the report, once, with the certificate the first one issued."""

import os
import signal
import subprocess
import time
import uuid

import pytest
from django.conf import settings

from config.celery import app
from custody.models import Certificate, Report
from custody.services.reports import request_report

from .conftest import start_celery_worker
from .custody.genealogy_builders import lot_at_plant

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def start_worker(redis_url: str, queue: str, render_sleep: float) -> subprocess.Popen:
    """A worker whose PDF stage sleeps (``tests.report_worker``), whose lost messages come back
    after 3 s rather than kombu's hour."""
    return start_celery_worker(
        ["tests.report_worker"],
        redis_url,
        queue,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        CELERY_VISIBILITY_TIMEOUT_SECONDS="3",
        REPORT_RENDER_SLEEP=str(render_sleep),
    )


def wait_for(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def queue():
    name = f"test-{uuid.uuid4().hex[:8]}"
    eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, name
    try:
        yield name
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = eager, default_queue


def test_a_report_whose_worker_is_killed_completes_once_on_another(chain, redis_url, queue):
    lot = lot_at_plant(chain, "10.000")
    first = start_worker(redis_url, queue, render_sleep=60)
    second = None
    try:
        report = request_report(lot, "certificate", organization=chain.operator)
        # The first worker issued the certificate and is rendering (slowly): kill it.
        wait_for(lambda: Report.objects.get(pk=report.pk).certificate_id, timeout=60)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert Report.objects.get(pk=report.pk).status == "running"

        second = start_worker(redis_url, queue, render_sleep=0)
        done = wait_for(
            lambda: Report.objects.filter(pk=report.pk, status="done").first(), timeout=90
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
            if process is not None:
                output, _ = process.communicate(timeout=30)
                print(output.decode(errors="replace"))

    assert done.attempts == 2
    assert Certificate.objects.count() == 1 and done.certificate == Certificate.objects.get()
    with done.file.open("rb") as file:
        assert file.read().startswith(b"%PDF")
