"""A Celery worker for the report test: its reports render slowly (``REPORT_RENDER_SLEEP``
seconds, so that the test can kill it mid-report), and it restores unacknowledged messages
every second, past the visibility timeout the test sets (``CELERY_VISIBILITY_TIMEOUT_SECONDS``).

    python -m tests.report_worker worker --pool solo --queues Q
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from config.celery import app  # noqa: E402
from custody.services import reports  # noqa: E402

render = reports.render


def slow_render(issued):
    time.sleep(float(os.environ.get("REPORT_RENDER_SLEEP", "0")))
    return render(issued)


reports.render = slow_render
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

if __name__ == "__main__":
    app.worker_main(sys.argv[1:])
