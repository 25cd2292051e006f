"""Every API error as an RFC 9457 problem document (``application/problem+json``):
``type``, ``title``, ``status``, ``detail``, a stable ``code`` and, for invalid input, the
field ``errors``. Domain errors keep the code their service raised.

The views raise through ``problem_exception_handler``; what fails outside them (or in them
unexpectedly) reaches Django's error handlers, which ``config/urls.py`` points at the pages
below: under ``/api/`` they are problem documents too, never HTML. A database that cannot be
reached (restarted, connection dropped) is a ``503 database_unavailable`` with ``Retry-After``:
a retry with the same ``Idempotency-Key`` records the write once."""

import logging
import sys

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from ..errors import PROBLEM_JSON, DomainError, problem_body

logger = logging.getLogger(__name__)

# What a lost database connection raises: the server restarted, the connection was dropped.
DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 5


def problem(status_code: int, code: str, detail: str, errors=None, headers=None) -> Response:
    body = problem_body(status_code, code, detail, errors)
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_JSON
    return response


def database_unavailable(exc: Exception) -> tuple[int, str, str, dict]:
    logger.error("Database unavailable: %s", exc, exc_info=exc)
    detail = (
        "The database could not be reached. Retry with the same Idempotency-Key: a write is "
        "recorded once."
    )
    return 503, "database_unavailable", detail, {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}


def problem_exception_handler(exc, context):
    if isinstance(exc, DATABASE_ERRORS):
        status_code, code, detail, headers = database_unavailable(exc)
        return problem(status_code, code, detail, headers=headers)
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
        return None  # an unexpected error: Django logs it and answers with server_error below
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


# --- Django's error handlers (``config/urls.py``): problem documents under /api/ -------------


def is_api(request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def problem_page(status_code: int, code: str, detail: str, headers=None) -> JsonResponse:
    return JsonResponse(
        problem_body(status_code, code, detail),
        status=status_code,
        content_type=PROBLEM_JSON,
        headers=headers,
    )


def bad_request(request, exception=None):
    if is_api(request) and isinstance(exception, RequestDataTooBig):  # DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem_page(413, "body_too_large", "The request body is too large.")
    if is_api(request):
        return problem_page(400, "bad_request", "The request could not be read.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api(request):
        return problem_page(403, "permission_denied", "You do not have permission to do this.")
    return defaults.permission_denied(request, exception)


def not_found(request, exception=None):
    """API paths answer with a problem document, even when no route matches."""
    if is_api(request):
        return problem_page(404, "not_found", "No such resource.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    """An exception no view handled (Django has logged it with its traceback): a 500 problem
    document, or a 503 if it was the database's."""
    if not is_api(request):
        return defaults.server_error(request)
    exc = sys.exc_info()[1]  # Django calls this while handling the exception
    if isinstance(exc, DATABASE_ERRORS):
        status_code, code, detail, headers = database_unavailable(exc)
        return problem_page(status_code, code, detail, headers)
    return problem_page(500, "server_error", "An unexpected error occurred; it has been logged.")
