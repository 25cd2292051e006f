"""The operator admin for the ledger: thin, and read-only except through ``custody.services``.

Lots, assets and events are never added, changed or deleted here (DESIGN invariants 1 and 2).
The only writes are the quarantine and release actions on lots, which call the services as the
user's operator organization.

One module per concept; importing them registers their admins.
"""

from . import events, lots, policies, transformations, webhooks  # noqa: F401
