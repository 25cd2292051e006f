"""OpenAPI: every operation documents its problem responses (RFC 9457)."""

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable, machine-readable error code."},
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
}
WRITE_ERRORS = {
    **READ_ERRORS,
    "400": "Malformed or invalid input, or a missing Idempotency-Key.",
    "409": "The lot's state does not allow it now.",
    "422": "A custody rule refuses it, or the Idempotency-Key was used for another request.",
}


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            errors = WRITE_ERRORS if method in {"post", "put", "patch", "delete"} else READ_ERRORS
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
