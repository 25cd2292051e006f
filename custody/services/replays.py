"""Idempotency (DESIGN invariant 4): a retried write finds what its first call wrote under the
same key and returns it, writing nothing. Keys are unique per organization, in the database."""

from collections.abc import Iterable

from ..actors import Actor
from ..errors import DomainError, ErrorCode
from ..models import CustodyEvent, Lot, Transformation
from .transaction import pending_writes


def prefetch_replays(actor: Actor, idempotency_keys: Iterable[str]) -> set[str]:
    """Read the events written earlier under any of these keys in one query; ``find_replay``
    then answers for them without asking again. Returns the keys that were used."""
    writes = pending_writes()
    keys = [key for key in idempotency_keys if key]
    earlier = CustodyEvent.objects.filter(
        actor_organization=actor.organization, idempotency_key__in=keys
    )
    writes.known_keys = {event.idempotency_key: event for event in earlier}
    return set(writes.known_keys)


def find_replay(
    actor: Actor,
    idempotency_key: str | None,
    *,
    kind: str,
    lot: Lot | None = None,
    record: type[CustodyEvent | Transformation] = CustodyEvent,
) -> CustodyEvent | Transformation | None:
    """What an earlier call with this idempotency key wrote: an event, or a ``Transformation``
    with ``record=Transformation``. A key used for another kind of write, or (given ``lot``)
    on another lot, is refused."""
    if not idempotency_key:
        return None
    earlier = _earlier_write(actor, idempotency_key, record)
    if earlier is None:
        return None
    if earlier.kind != kind:
        what = earlier.kind
        if record is CustodyEvent:
            what = f"{what} event on {earlier.lot.code}"
        raise _reused(f"{idempotency_key!r} was already used for a {what}.")
    if lot is not None and earlier.lot_id != lot.pk:
        raise _reused(f"{idempotency_key!r} was already used on {earlier.lot.code}.")
    return earlier


def _earlier_write(actor: Actor, idempotency_key: str, record):
    writes = pending_writes()
    if record is CustodyEvent and writes is not None and writes.known_keys is not None:
        return writes.known_keys.get(idempotency_key)
    return record.objects.filter(
        actor_organization=actor.organization, idempotency_key=idempotency_key
    ).first()


def _reused(message: str) -> DomainError:
    return DomainError(
        ErrorCode.IDEMPOTENCY_KEY_REUSED, f"Idempotency key {message}", field="idempotency_key"
    )
