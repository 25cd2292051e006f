"""Reading what certificates of origin are made of and what they say today: the upstream
ledger a certificate commits to and its CSV (``ledger``), the PDF's input (``document``), and
the public verification of an issued certificate (``status``)."""

from .document import certificate_document, iso_time
from .ledger import (
    CSV_COLUMNS,
    LedgerRow,
    RecomputedEvent,
    issued_ledger,
    issued_ledger_csv,
    ledger_csv,
    recomputed_upstream,
    sha256,
    upstream_ledger,
    upstream_lot_ids,
    upstream_root,
)
from .status import CertificateStatus, certificate_status, signature_valid, unverified_credential

__all__ = [
    "CSV_COLUMNS",
    "CertificateStatus",
    "LedgerRow",
    "RecomputedEvent",
    "certificate_document",
    "certificate_status",
    "iso_time",
    "issued_ledger",
    "issued_ledger_csv",
    "ledger_csv",
    "recomputed_upstream",
    "sha256",
    "signature_valid",
    "unverified_credential",
    "upstream_ledger",
    "upstream_lot_ids",
    "upstream_root",
]
