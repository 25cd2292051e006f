"""Recording many lot actions at once: a partner's scale software or ERP sends a shift's
weighings, receipts and dispatches in one request."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..models import CustodyEvent, Lot
from .chain import lock_lots
from .corrections import correct_event
from .lifecycle import dispose_lot, quarantine_lot, release_lot, weigh_lot
from .movements import deliver_lot, dispatch_lot, receive_lot
from .replays import prefetch_replays
from .transaction import ledger_write

LOT_ACTIONS = {
    "dispatch": dispatch_lot,
    "receive": receive_lot,
    "weigh": weigh_lot,
    "quarantine": quarantine_lot,
    "release": release_lot,
    "deliver": deliver_lot,
    "dispose": dispose_lot,
    "correct": correct_event,
}


@dataclass(frozen=True)
class LotAction:
    """One action of a batch: the name of a lot service and its arguments."""

    lot: Lot
    name: str
    arguments: dict = field(default_factory=dict)


@ledger_write
def record_batch(
    *, actor: Actor, actions: Sequence[LotAction], idempotency_key: str | None = None
) -> list[CustodyEvent]:
    """Run each action through its service, in order, in one transaction: all are recorded or
    none. A later action sees what the earlier ones did to its lot. A refused action raises its
    service's error, naming it (``events[3].mass_kg``).

    The lots are locked together, in id order, so that batches sharing lots cannot deadlock.
    Each action keeps an idempotency key of its own, derived from the batch's, so that a batch
    retried after its key expired still writes nothing twice.
    """
    if not actions:
        raise DomainError(ErrorCode.EMPTY_BATCH, "Send at least one event.", field="events")
    limit = settings.CUSTODY["MAX_BATCH_EVENTS"]
    if len(actions) > limit:
        raise DomainError(
            ErrorCode.BATCH_TOO_LARGE,
            f"At most {limit} events per batch ({len(actions)} sent).",
            field="events",
        )
    keys = [action_key(idempotency_key, index) for index in range(len(actions))]
    lock_lots([action.lot for action in actions])
    if idempotency_key:
        _refuse_another_batch_under(idempotency_key, actor, keys)
    events = []
    for index, (action, key) in enumerate(zip(actions, keys, strict=True)):
        try:
            service = LOT_ACTIONS[action.name]
        except KeyError:
            raise DomainError(
                ErrorCode.UNKNOWN_ACTION,
                f"No action {action.name!r}.",
                field=f"events[{index}].action",
            ) from None
        try:
            events.append(
                service(actor=actor, lot=action.lot, idempotency_key=key, **action.arguments)
            )
        except DomainError as error:
            raise error.within(f"events[{index}]") from None
    return events


def _refuse_another_batch_under(idempotency_key: str, actor: Actor, keys: list[str]) -> None:
    """A batch retried under its key replays every action; one that a key's earlier batch only
    partly covers (it had fewer actions, or more) is another batch."""
    beyond = action_key(idempotency_key, len(keys))
    used = prefetch_replays(actor, [*keys, beyond])
    if used and (beyond in used or len(used) < len(keys)):
        raise DomainError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"Idempotency key {idempotency_key!r} was used for another batch.",
            field="idempotency_key",
        )


# WSGI hands header values over as latin-1 text, so no Idempotency-Key a partner sends can hold
# these: a derived key never equals a partner's own, nor a hashed key a partner's plain one.
KEY_SEPARATOR = "\u241f"
HASHED_KEY_MARK = "\u241e"


def action_key(batch_key: str | None, index: int) -> str | None:
    """The idempotency key of a batch's ``index``-th action; a long batch key is hashed so that
    the derived key fits the column."""
    if not batch_key:
        return None
    if len(batch_key) > 180:
        batch_key = HASHED_KEY_MARK + hashlib.sha256(batch_key.encode()).hexdigest()
    return f"{batch_key}{KEY_SEPARATOR}{index}"
