"""Idempotent partner writes: ``Idempotency-Key`` on every POST made with an API key.

A replay with the same key and body returns the first response (status and body) and writes
nothing; the same key with another body is ``422 idempotency_key_reused``. Requests with one key
run one at a time (a transaction-scoped advisory lock on PostgreSQL; SQLite writers queue
anyway), so concurrent retries cannot both write. Records expire after ``IDEMPOTENCY_TTL``.
"""

import functools
import hashlib
import json

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from ..models import IdempotencyRecord
from .auth import KeyHolder, request_actor
from .errors import PROBLEM_JSON, problem

HEADER = "Idempotency-Key"


def idempotent(view_method):
    """Wrap a DRF view method that writes."""

    @functools.wraps(view_method)
    def run(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            if isinstance(request.user, KeyHolder):
                detail = f"Every POST made with an API key needs an {HEADER} header."
                return problem(400, "idempotency_key_missing", detail)
            return view_method(self, request, *args, **kwargs)
        if len(key) > 200:
            return problem(400, "idempotency_key_too_long", f"{HEADER} is at most 200 characters.")
        organization = request_actor(request).organization
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            _serialize_on(organization.pk, key)
            fresh_after = timezone.now() - settings.IDEMPOTENCY_TTL
            record = IdempotencyRecord.objects.filter(organization=organization, key=key).first()
            if record is not None and record.created_at < fresh_after:
                record.delete()
                record = None
            if record is not None:
                if record.fingerprint != fingerprint:
                    return problem(
                        422,
                        "idempotency_key_reused",
                        f"{HEADER} {key!r} was used for another request.",
                    )
                replay = Response(
                    json.loads(record.body),
                    status=record.status,
                    headers={"Idempotent-Replayed": "true"},
                )
                if record.status >= 400:
                    replay.content_type = PROBLEM_JSON
                return replay
            try:
                response = view_method(self, request, *args, **kwargs)
            except Exception as exc:  # a refused write is an answer too: keep it for replays
                response = self.handle_exception(exc)
            if response.status_code < 500:
                IdempotencyRecord.objects.create(
                    organization=organization,
                    key=key,
                    fingerprint=fingerprint,
                    status=response.status_code,
                    body=json.dumps(response.data, cls=JSONEncoder),
                )
            return response

    return run


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str).encode()
    return hashlib.sha256(
        b"\n".join([request.method.encode(), request.path.encode(), body])
    ).hexdigest()


def _serialize_on(organization_id: int, key: str) -> None:
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"{organization_id}:{key}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
        )
