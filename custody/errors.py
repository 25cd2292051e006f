"""The one error type of the custody domain, with stable machine-readable codes.

Services raise ``DomainError`` with an ``ErrorCode``; the admin shows its message and the API
turns it into a problem document whose HTTP status the code carries.
"""

from enum import StrEnum

BAD_REQUEST = 400
FORBIDDEN = 403
CONFLICT = 409
UNPROCESSABLE = 422


class ErrorCode(StrEnum):
    """Why a custody action was refused. 400: a query parameter names nothing; 403: who may act;
    409: the lot's state does not allow it now; 422: the request breaks a custody rule."""

    def __new__(cls, value: str, http_status: int = UNPROCESSABLE):
        member = str.__new__(cls, value)
        member._value_ = value
        member.http_status = http_status
        return member

    # who may act
    NOT_CUSTODIAN = "not_custodian", FORBIDDEN
    NOT_DESTINATION = "not_destination", FORBIDDEN
    NOT_FACILITY_OWNER = "not_facility_owner", FORBIDDEN
    NOT_EVENT_AUTHOR = "not_event_author", FORBIDDEN
    NOT_QUARANTINE_AUTHOR = "not_quarantine_author", FORBIDDEN
    READ_ONLY_ORGANIZATION = "read_only_organization", FORBIDDEN
    ORGANIZATION_INACTIVE = "organization_inactive", FORBIDDEN
    NOT_AN_ASSESSOR = "not_an_assessor", FORBIDDEN
    NOT_AN_OPERATOR = "not_an_operator", FORBIDDEN
    # the lot's state does not allow it now
    LOT_IN_TRANSIT = "lot_in_transit", CONFLICT
    LOT_NOT_IN_TRANSIT = "lot_not_in_transit", CONFLICT
    LOT_QUARANTINED = "lot_quarantined", CONFLICT
    LOT_NOT_QUARANTINED = "lot_not_quarantined", CONFLICT
    LOT_CLOSED = "lot_closed", CONFLICT
    LOT_LEFT_SOURCE = "lot_left_source", CONFLICT
    TIME_BEFORE_PREVIOUS_EVENT = "time_before_previous_event", CONFLICT
    TIME_AFTER_NEXT_EVENT = "time_after_next_event", CONFLICT
    # the lots, facilities and organizations named
    UNKNOWN_LOT = "unknown_lot"
    UNKNOWN_POLICY = "unknown_policy", BAD_REQUEST
    EVENT_NOT_IN_LOT = "event_not_in_lot"
    UNKNOWN_FACILITY = "unknown_facility"
    FACILITY_INACTIVE = "facility_inactive"
    SAME_FACILITY = "same_facility"
    NOT_A_CARRIER = "not_a_carrier"
    NOT_A_BUYER = "not_a_buyer"
    NOT_SOURCE_FACILITY = "not_source_facility"
    NOT_A_PICKUP = "not_a_pickup"
    INPUTS_AT_DIFFERENT_FACILITIES = "inputs_at_different_facilities"
    DUPLICATE_INPUT = "duplicate_input"
    # masses
    INVALID_MASS = "invalid_mass"
    NEGATIVE_MASS = "negative_mass"
    ZERO_MASS = "zero_mass"
    MASS_TOO_LARGE = "mass_too_large"
    MASS_PRECISION = "mass_precision"
    MASS_NOT_CONSERVED = "mass_not_conserved"
    MASS_NOT_CORRECTABLE = "mass_not_correctable"
    CONSUMED_EXCEEDS_MASS = "consumed_exceeds_mass"
    # times
    NAIVE_TIME = "naive_time"
    TIME_IN_FUTURE = "time_in_future"
    TIME_OUT_OF_RANGE = "time_out_of_range"
    INVALID_TIME = "invalid_time"
    # what a request declares
    INVALID_MATERIAL = "invalid_material"
    NOT_SOURCE_MATERIAL = "not_source_material"
    MIXED_MATERIALS = "mixed_materials"
    INVALID_ITEM_COUNT = "invalid_item_count"
    INVALID_COUNTRY = "invalid_country"
    INVALID_EVIDENCE = "invalid_evidence"
    INVALID_TEXT = "invalid_text"
    TEXT_TOO_LONG = "text_too_long"
    INVALID_DETAILS = "invalid_details"
    TOO_DEEP = "too_deep"
    INVALID_SEAL_NUMBERS = "invalid_seal_numbers"
    INVALID_SEALS_INTACT = "invalid_seals_intact"
    INVALID_RESIDUE_KIND = "invalid_residue_kind"
    REASON_REQUIRED = "reason_required"
    METHOD_REQUIRED = "method_required"
    SUPPLIER_REQUIRED = "supplier_required"
    NOTHING_TO_CORRECT = "nothing_to_correct"
    # corrections
    UNKNOWN_CORRECTION_FIELD = "unknown_correction_field"
    FIELD_NOT_CORRECTABLE = "field_not_correctable"
    MANIFEST_AMENDMENT_ONLY = "manifest_amendment_only"
    # manifests
    EMPTY_MANIFEST = "empty_manifest"
    MANIFEST_TOO_LARGE = "manifest_too_large"
    INVALID_CATEGORY = "invalid_category"
    INVALID_SANITIZATION_METHOD = "invalid_sanitization_method"
    SANITIZED_AFTER_PICKUP = "sanitized_after_pickup"
    DUPLICATE_SERIAL = "duplicate_serial"
    # transformations
    NO_INPUTS = "no_inputs"
    NO_OUTPUTS = "no_outputs"
    TOO_FEW_INPUTS = "too_few_inputs"
    TOO_FEW_OUTPUTS = "too_few_outputs"
    # batches and retries
    EMPTY_BATCH = "empty_batch"
    BATCH_TOO_LARGE = "batch_too_large"
    UNKNOWN_ACTION = "unknown_action"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    # the transparency log
    LOG_EMPTY = "log_empty", CONFLICT
    EVENT_NOT_YET_IN_LOG = "event_not_yet_in_log", CONFLICT
    EVENT_NOT_IN_TREE = "event_not_in_tree"
    TREE_SIZE_BEYOND_CHECKPOINT = "tree_size_beyond_checkpoint"
    TREE_SIZES_OUT_OF_ORDER = "tree_sizes_out_of_order"
    # accepting a retroactive certification
    CERTIFICATION_ALREADY_ACCEPTED = "certification_already_accepted", CONFLICT
    # certificates of origin and reports
    EVENTS_NOT_IN_LOG = "events_not_in_log", CONFLICT
    CERTIFICATE_ALREADY_REVOKED = "certificate_already_revoked", CONFLICT
    CERTIFICATE_LEDGER_CHANGED = "certificate_ledger_changed", CONFLICT
    INVALID_REPORT_KIND = "invalid_report_kind"
    REPORT_NOT_READY = "report_not_ready", CONFLICT


class DomainError(Exception):
    """An illegal move. Nothing has been written when it is raised."""

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.field = field

    @property
    def http_status(self) -> int:
        return self.code.http_status

    def within(self, prefix: str) -> "DomainError":
        """The same error, for a part of a larger request: ``events[3]`` names the fourth."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return DomainError(self.code, f"{prefix}: {self.message}", field=field)

    def __repr__(self) -> str:
        return f"DomainError({self.code.value!r}, {self.message!r}, field={self.field!r})"


# An error as an RFC 9457 problem document, for the API and the public pages alike.
PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    411: "Length required",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_body(status_code: int, code: str, detail: str, errors=None) -> dict:
    body = {
        "type": f"https://ledger.example/problems/{code}",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body
