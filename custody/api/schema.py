"""OpenAPI: every operation documents its problem responses (RFC 9457), and the schema lists
every code a refused custody action answers with, with its HTTP status."""

from ..errors import ErrorCode

# Codes the API layer itself answers with, besides a refused custody action's ``ErrorCode``.
REQUEST_CODES = {
    "invalid": "400: the body, a query parameter or the cursor is malformed (see ``errors``)",
    "parse_error": "400: the body is not JSON (or CSV where CSV is expected)",
    "idempotency_key_missing": "400: a POST made with an API key has no Idempotency-Key",
    "idempotency_key_too_long": "400: the Idempotency-Key is over 200 characters",
    "not_authenticated": "401: no credentials",
    "authentication_failed": "401: unknown, revoked or expired API key",
    "permission_denied": "403",
    "not_found": "404: no such resource, or not one the caller may see",
    "method_not_allowed": "405",
    "not_acceptable": "406",
    "length_required": "411: a chunked body the server cannot read to its end",
    "body_too_large": "413: the body is larger than API_MAX_BODY_BYTES",
    "unsupported_media_type": "415",
    "throttled": "429: see Retry-After",
}

ERROR_CODE_SCHEMA = {
    "type": "string",
    "enum": [code.value for code in ErrorCode],
    "description": "Why a custody action was refused, with the HTTP status it answers: "
    + "; ".join(f"`{code.value}` ({code.http_status})" for code in ErrorCode)
    + ".",
}

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {
            "type": "string",
            "description": "Stable, machine-readable error code: an `ErrorCode` when a custody "
            "rule refuses the request, otherwise one of: "
            + "; ".join(f"`{code}` ({meaning})" for code, meaning in REQUEST_CODES.items())
            + ".",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

READ_ERRORS = {
    "400": "Invalid filter or cursor.",
    "401": "Missing, unknown, revoked or expired API key.",
    "403": "Not allowed.",
    "404": "No such resource, or not one the caller may see.",
    "429": "Too many requests; see Retry-After.",
    "500": "An unexpected error; it has been logged.",
    "503": "The database could not be reached; see Retry-After. Retry a write with the same "
    "Idempotency-Key: it is recorded once.",
}
WRITE_ERRORS = {
    **READ_ERRORS,
    "400": "Malformed or invalid input, or a missing Idempotency-Key.",
    "409": "The lot's state does not allow it now.",
    "413": "The body is larger than API_MAX_BODY_BYTES.",
    "422": "A custody rule refuses it, the JSON nests too deep (`too_deep`), or the "
    "Idempotency-Key was used for another request.",
}

# Reads that answer more than READ_ERRORS, by operation id.
MORE_READ_ERRORS = {
    "reports_download": {"409": "`report_not_ready`: the report is not done yet."},
    "log_checkpoint": {"409": "`log_empty`: no event has been integrated into the log yet."},
    "log_inclusion_proof": {
        "409": "`log_empty`, or `event_not_yet_in_log`: committed, not yet integrated; ask "
        "again in a few seconds.",
        "422": "`tree_size_beyond_checkpoint`, or `event_not_in_tree`: the event is a later "
        "leaf than the tree asked for.",
    },
    "log_consistency_proof": {
        "409": "`log_empty`.",
        "422": "`tree_size_beyond_checkpoint`, or `tree_sizes_out_of_order`.",
    },
}


def add_problem_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ErrorCode"] = ERROR_CODE_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            errors = WRITE_ERRORS if method in {"post", "put", "patch", "delete"} else READ_ERRORS
            errors = {**errors, **MORE_READ_ERRORS.get(operation.get("operationId"), {})}
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(status, {"description": description, "content": problem})
            if method == "post":
                operation.setdefault("parameters", []).append(
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Required with an API key: a retry with the same key "
                        "and body gets the first response back.",
                        "schema": {"type": "string", "maxLength": 200},
                    }
                )
    return result
