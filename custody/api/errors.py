"""Every API error as an RFC 9457 problem document (``application/problem+json``):
``type``, ``title``, ``status``, ``detail``, a stable ``code`` and, for invalid input, the
field ``errors``. Domain errors keep the code their service raised."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from ..errors import DomainError

PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
}


def problem(status_code: int, code: str, detail: str, errors=None, headers=None) -> Response:
    body = {
        "type": f"https://ledger.example/problems/{code}",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_JSON
    return response


def problem_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        errors = (
            [{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else None
        )
        return problem(exc.http_status, exc.code, exc.message, errors)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500, logged
    headers = {key: value for key, value in response.headers.items() if key != "Content-Type"}
    if isinstance(exc, exceptions.ValidationError):
        return problem(
            status.HTTP_400_BAD_REQUEST,
            "invalid",
            "The request is not valid.",
            _field_errors(exc.detail),
            headers,
        )
    code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
    return problem(response.status_code, code, str(exc.detail), headers=headers)


def _field_errors(detail, prefix: str = "") -> list[dict]:
    """Flatten DRF's nested error detail into ``[{field, code, message}]``."""
    if isinstance(detail, dict):
        return [
            error
            for key, value in detail.items()
            for error in _field_errors(value, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            return [
                {"field": prefix or None, "code": item.code, "message": str(item)}
                for item in detail
            ]
        return [
            error
            for index, item in enumerate(detail)
            for error in _field_errors(item, f"{prefix}[{index}]")
        ]
    return [
        {
            "field": prefix or None,
            "code": getattr(detail, "code", "invalid"),
            "message": str(detail),
        }
    ]
