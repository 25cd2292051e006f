"""The transaction every service runs in."""

import functools

from django.db import IntegrityError, transaction


def ledger_write(service):
    """Run ``service`` in one transaction; nothing it wrote survives a ``DomainError``.

    Two concurrent calls with one idempotency key can both pass the replay check before either
    commits; the loser then trips the unique index on the key. Running it once more finds the
    winner's event and returns it, as a replay should.
    """

    @functools.wraps(service)
    def run(*args, **kwargs):
        try:
            with transaction.atomic():
                return service(*args, **kwargs)
        except IntegrityError as exc:
            if not kwargs.get("idempotency_key") or "idempotency" not in str(exc).lower():
                raise
        with transaction.atomic():
            return service(*args, **kwargs)

    return run
