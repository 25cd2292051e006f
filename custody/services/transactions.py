"""The transaction every service runs in."""

import functools

from django.db import IntegrityError, transaction

from .ledger import collecting_writes, pending_writes


def ledger_write(service):
    """Run ``service`` in one transaction; nothing it wrote survives a ``DomainError``.

    What the service appends is written when it returns, before the commit. A service called
    from within another (a batch) joins its transaction: the batch writes all or nothing.

    Two concurrent calls with one idempotency key can both pass the replay check before either
    commits; the loser then trips the unique index on the key. Running it once more finds the
    winner's event and returns it, as a replay should.
    """

    @functools.wraps(service)
    def run(*args, **kwargs):
        if pending_writes() is not None:
            return service(*args, **kwargs)
        try:
            return _in_transaction(service, args, kwargs)
        except IntegrityError as exc:
            if not kwargs.get("idempotency_key") or "idempotency" not in str(exc).lower():
                raise
        return _in_transaction(service, args, kwargs)

    return run


def _in_transaction(service, args, kwargs):
    with transaction.atomic(), collecting_writes() as writes:
        result = service(*args, **kwargs)
        writes.finish()
        return result
