"""The operator admin for the ledger: thin, and read-only except through ``custody.services``.

Lots, assets and events are never added, changed or deleted here (DESIGN invariants 1 and 2).
The only writes are the lot actions (quarantine, release, reassess the verdicts, issue a
certificate), the acts on certificates (revoke, supersede) and the acceptance of a retroactive
certification, which call the services; quarantine and release act
as the user's operator organization, an acceptance as their operator or auditor organization.
Pages read through ``custody.selectors`` and only add links and HTML: opening a page writes
nothing.

One module per concept; importing them registers their admins.
"""

from . import acceptances, certificates, events, lots, policies, transformations, webhooks  # noqa: F401
