"""Celery tasks: thin wrappers around services and selectors. Loading this module (the app's
``ready`` does) connects the webhook outbox and the stored verdicts' refresh to Celery."""

import logging

from celery import shared_task

from .api.serializers import webhook_payload
from .selectors.verification import verify_ledger as verify_all_chains
from .services import stored_verdicts, transparency_log, webhooks

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
