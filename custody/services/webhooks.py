"""The webhook outbox (DESIGN invariant 7): deliveries are written in the event's transaction
and sent after commit; a broker that is down delays them and loses none."""

import hashlib
import hmac
import http.client
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from recyclers.models import SEES_EVERYTHING, Organization

from ..models import CustodyEvent, DeliveryStatus, WebhookDelivery, WebhookSubscription
from ..selectors.visibility import lot_audiences
from . import webhook_http
from .webhook_targets import TargetRefused, resolve_target

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def queue_deliveries(events: Sequence[CustodyEvent]) -> list[WebhookDelivery]:
    """Write one delivery per event and subscription that wants its kind and may see its lot
    as of that event (an event before the one that showed a partner the lot is not sent to
    it: the lot's history comes in its feed). A deactivated organization's subscriptions stop
    with its keys. Three statements whatever the number of events and subscribers: the
    subscriptions, with whether their organization sees everything; who of the others may
    see the events' lots, from the visibility record; the deliveries."""
    everything = Organization.roles.through.objects.filter(
        organization=OuterRef("organization_id"), organizationrole__in=SEES_EVERYTHING
    )
    subscriptions = list(
        WebhookSubscription.objects.filter(is_active=True, organization__is_active=True).annotate(
            sees_everything=Exists(everything)
        )
    )
    if not subscriptions:
        return []
    partners = {s.organization_id for s in subscriptions if not s.sees_everything}
    audiences = lot_audiences(events, partners)
    deliveries = [
        WebhookDelivery(subscription=subscription, event=event)
        for event in events
        for subscription in subscriptions
        if subscription.wants(event.kind)
        and (subscription.sees_everything or subscription.organization_id in audiences[event.pk])
    ]
    return WebhookDelivery.objects.bulk_create(deliveries)


# How the outbox hands a transaction's deliveries to Celery: ``custody.tasks`` sets it when it
# loads, so that no service imports a task.
_publisher: Callable[[list[int]], None] | None = None


def set_publisher(publish: Callable[[list[int]], None]) -> None:
    """``publish(delivery_ids)`` queues one subscription's deliveries for sending."""
    global _publisher
    _publisher = publish


def publish_after_commit(deliveries: Sequence[WebhookDelivery]) -> None:
    """One message to the broker per subscription, with its deliveries in the order of their
    events; the request that wrote them does not wait for a publish per delivery."""
    by_subscription = defaultdict(list)
    for delivery in deliveries:
        by_subscription[delivery.subscription_id].append(delivery.pk)
    for delivery_ids in by_subscription.values():
        try:
            _publisher(delivery_ids)
        except Exception:  # the broker is down (or no publisher): the sweeper sends them later
            logger.warning("Broker unavailable; webhook deliveries %s wait", delivery_ids)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``Webhook-Signature: t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def send_delivery(delivery: WebhookDelivery, payload: dict) -> bool:
    """POST ``payload`` (the event as the API shows it), signed, to the address its URL resolves
    to now, if that is still one a webhook may reach; record the outcome and when to try again.
    A refused URL is given up at once; a subscription or organization switched off since the
    delivery was queued gets nothing."""
    subscription = delivery.subscription
    if not (subscription.is_active and subscription.organization.is_active):
        whose = "subscription" if not subscription.is_active else "organization"
        return _give_up(delivery, f"Not sent: the {whose} is deactivated.")
    body = json.dumps(payload, sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "Webhook-Signature": signature(subscription.secret, timestamp, body),
        "Webhook-Id": str(delivery.pk),
        "User-Agent": "ree-custody-webhooks/1",
    }
    delivery.attempts += 1
    try:
        status, reason = webhook_http.post(resolve_target(subscription.url), body, headers)
    except TargetRefused as refused:
        if refused.permanent:
            return _give_up(delivery, f"Refused: {refused.message}")
        delivery.last_error = refused.message
    except (OSError, http.client.HTTPException) as error:
        delivery.last_error = str(error) or type(error).__name__
    else:
        delivery.last_status_code = status
        if 200 <= status < 300:
            delivery.status, delivery.delivered_at, delivery.last_error = (
                DeliveryStatus.DELIVERED,
                timezone.now(),
                "",
            )
        else:
            redirect = " (redirects are not followed)" if 300 <= status < 400 else ""
            delivery.last_error = f"HTTP {status} {reason}".strip() + redirect
    if delivery.status != DeliveryStatus.DELIVERED:
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        else:  # 30 s, 1 min, 2 min ... about two hours in all
            delivery.next_attempt_at = timezone.now() + timedelta(
                seconds=30 * 2 ** (delivery.attempts - 1)
            )
    delivery.save()
    return delivery.status == DeliveryStatus.DELIVERED


def _give_up(delivery: WebhookDelivery, reason: str) -> bool:
    delivery.status, delivery.last_error, delivery.next_attempt_at = (
        DeliveryStatus.FAILED,
        reason,
        None,
    )
    delivery.save()
    return False


# How long a sender holds a delivery it took: more than one send may last (the name's lookup,
# then at most the sender's deadline).
SEND_LEASE = timedelta(seconds=2 * webhook_http.DEADLINE_SECONDS + 30)


def take_delivery(delivery_id: int) -> WebhookDelivery | None:
    """Take a pending delivery that is due (or was never tried) for one send: its next attempt
    moves past the time a send may take, in one conditional UPDATE, so that no other worker or
    sweep sends it meanwhile. None if it is sent, not due, or another sender holds it."""
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    taken = WebhookDelivery.objects.filter(due, pk=delivery_id, status=DeliveryStatus.PENDING)
    if not taken.update(next_attempt_at=now + SEND_LEASE):
        return None
    return WebhookDelivery.objects.select_related("subscription__organization", "event").get(
        pk=delivery_id
    )


def due_deliveries():
    """Pending deliveries whose backoff ran out, or that no worker took within a minute."""
    now = timezone.now()
    never_sent = Q(next_attempt_at__isnull=True, created_at__lte=now - timedelta(minutes=1))
    return WebhookDelivery.objects.filter(
        Q(next_attempt_at__lte=now) | never_sent, status=DeliveryStatus.PENDING
    )
