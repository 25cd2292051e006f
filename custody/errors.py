"""The one error type of the custody domain, with stable machine-readable codes.

Services raise ``DomainError``; the admin shows its message and the API turns it into a problem
document whose HTTP status comes from ``HTTP_STATUS`` (422 unless listed).
"""

FORBIDDEN = 403
CONFLICT = 409
UNPROCESSABLE = 422

HTTP_STATUS: dict[str, int] = {
    # who may act
    "not_custodian": FORBIDDEN,
    "not_destination": FORBIDDEN,
    "not_facility_owner": FORBIDDEN,
    "not_event_author": FORBIDDEN,
    "not_quarantine_author": FORBIDDEN,
    "read_only_organization": FORBIDDEN,
    "organization_inactive": FORBIDDEN,
    # the lot's state does not allow it now
    "lot_in_transit": CONFLICT,
    "lot_not_in_transit": CONFLICT,
    "lot_quarantined": CONFLICT,
    "lot_not_quarantined": CONFLICT,
    "lot_closed": CONFLICT,
    "lot_left_source": CONFLICT,
    "time_before_previous_event": CONFLICT,
}


class DomainError(Exception):
    """An illegal move. Nothing has been written when it is raised."""

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, UNPROCESSABLE)

    def within(self, prefix: str) -> "DomainError":
        """The same error, for a part of a larger request: ``events[3]`` names the fourth."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return DomainError(self.code, f"{prefix}: {self.message}", field=field)

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r}, field={self.field!r})"
