"""A real Celery worker, on the real Redis broker, runs a ledger task against the test database."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app
from custody.tasks import verify_ledger

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but REDIS_URL is not set")
        pytest.skip("needs a Redis broker (set REDIS_URL)")
    return url


@pytest.fixture
def worker(redis_url):
    """A worker process on a queue of its own, reading the test database."""
    database = connection.settings_dict
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        ),
        "REDIS_URL": redis_url,
        "SECRET_KEY": "worker-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", queue, "--loglevel", "warning", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        app.conf.task_always_eager = eager
        process.terminate()
        output, _ = process.communicate(timeout=30)
        print(output.decode(errors="replace"))


def test_a_worker_verifies_the_ledger_over_redis(pickup, worker):
    result = verify_ledger.apply_async(queue=worker).get(timeout=60)
    assert result == {"events": 1, "lots": 1, "broken": []}
