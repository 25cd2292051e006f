"""Celery tasks: thin wrappers around services and selectors. Loading this module (the app's
``ready`` does) connects the webhook outbox and the stored verdicts' refresh to Celery."""

import logging

from celery import shared_task
from django.conf import settings

from .api.serializers import webhook_payload
from .selectors.verification import verify_ledger as verify_all_chains
from .services import reports, stored_verdicts, transparency_log, webhooks

logger = logging.getLogger(__name__)


@shared_task(name="custody.tasks.verify_ledger", ignore_result=False)  # its report is read
def verify_ledger() -> dict:
    """Recompute every chain (scheduled nightly by beat); log each broken lot."""
    report = verify_all_chains()
    for broken in report.broken:
        logger.error("Ledger chain broken: %s", broken)
    logger.info("Ledger verified: %s events in %s lots", report.events, report.lots)
    return {
        "events": report.events,
        "lots": report.lots,
        "broken": [str(broken) for broken in report.broken],
    }


@shared_task(name="custody.tasks.integrate_log")
def integrate_log() -> int:
    """Every LOG_INTEGRATE_SECONDS (beat): what was committed since, into the transparency
    log, with a signed checkpoint; returns the tree size (0: nothing was queued)."""
    checkpoint = transparency_log.integrate_log()
    return checkpoint.tree_size if checkpoint else 0


@shared_task(name="custody.tasks.reassess_verdicts")
def reassess_verdicts(everything: bool = False) -> int:
    """Refresh the stored verdicts (hourly the stale ones, nightly all of them)."""
    return stored_verdicts.reassess_stale_lots(everything=everything)


@shared_task(name="custody.tasks.reassess_lots")
def reassess_lots(lot_ids: list[int]) -> int:
    """After a ledger transaction commits: the stored verdicts of the lots it wrote and of the
    lots downstream of them."""
    return stored_verdicts.reassess_lots(lot_ids=lot_ids)


@shared_task(name="custody.tasks.deliver_webhook")
def deliver_webhook(delivery_id: int) -> bool:
    """Send one delivery, if it is still to be sent and no other worker or sweep holds it.
    (Still a task of its own for the messages queued one per delivery before batches.)"""
    delivery = webhooks.take_delivery(delivery_id)
    if delivery is None:
        return False
    return webhooks.send_delivery(delivery, webhook_payload(delivery.event))


@shared_task(name="custody.tasks.deliver_webhooks")
def deliver_webhooks(delivery_ids: list[int]) -> int:
    """One subscription's deliveries from one transaction, one after the other, in the order of
    their events; those that fail wait for ``send_due_webhooks``, as a single delivery would."""
    return sum(deliver_webhook(delivery_id) for delivery_id in delivery_ids)


@shared_task(name="custody.tasks.send_due_webhooks")
def send_due_webhooks() -> int:
    """Every minute: retries whose backoff ran out, and deliveries a down broker never got."""
    ids = list(webhooks.due_deliveries().order_by("pk").values_list("pk", flat=True)[:500])
    for delivery_id in ids:
        deliver_webhook(delivery_id)
    return len(ids)


# A report that fails for an unexpected reason (the database went away, a bug) is tried again
# with a growing delay: 10 s, 20 s, 40 s...; then given up (failed, with the error).
REPORT_RETRIES = 4


@shared_task(
    name="custody.tasks.run_report",
    bind=True,
    # The message is acknowledged only once the report ran: a worker killed mid-report (even
    # by SIGKILL, reject_on_worker_lost) leaves it to be delivered again, and the report,
    # taken under a row lock, completes once.
    acks_late=True,
    reject_on_worker_lost=True,
)
def run_report(self, report_id: str) -> str | None:
    """Produce one report (certificate PDF, ledger CSV or audit pack)."""
    try:
        report = reports.run_report(report_id)
    except reports.RetryLater as exc:  # an upstream event is not in the log yet
        raise self.retry(
            exc=exc, countdown=settings.LOG_INTEGRATE_SECONDS * 2, max_retries=30
        ) from exc
    except Exception as exc:
        if self.request.retries >= REPORT_RETRIES:
            reports.fail_report(report_id, f"Failed after {self.request.retries + 1} tries: {exc}")
            raise
        raise self.retry(exc=exc, countdown=10 * 2**self.request.retries, max_retries=None) from exc
    return report.status if report else None


@shared_task(name="custody.tasks.requeue_stalled_reports")
def requeue_stalled_reports() -> int:
    """Every five minutes (beat): reports left running by a killed worker whose message was
    lost, or queued while the broker was down, are sent again."""
    return reports.requeue_stalled_reports()


def _run_report(report_id: str) -> None:
    if run_report.app.conf.task_always_eager:
        run_report.apply(args=(report_id,))  # in-process, as _reassess does (apply, not delay)
    else:
        run_report.delay(report_id)


def _publish(delivery_ids: list[int]) -> None:
    deliver_webhooks.delay(delivery_ids)


def _reassess(lot_ids: list[int]) -> None:
    if reassess_lots.app.conf.task_always_eager:
        # In-process (make run, tests): apply(), not delay(). Eager delay() flips a process-wide
        # Celery flag for the task's span, and writers in several threads (runserver, the
        # concurrency tests) interleave and can leave it set: a later result.get() then fails.
        reassess_lots.apply(args=(lot_ids,))
    else:
        reassess_lots.delay(lot_ids)


def _integrate() -> None:
    # With a worker, beat integrates: a write publishes nothing more for the log.
    if integrate_log.app.conf.task_always_eager:
        integrate_log.apply()


webhooks.set_publisher(_publish)
transparency_log.set_integrator(_integrate)
stored_verdicts.set_reassessor(_reassess)
reports.set_runner(_run_report)
