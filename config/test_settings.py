"""Test mode: the same settings, with fast password hashing.

``DATABASE_URL`` and ``REDIS_URL`` are honoured as in production: CI runs the suite once against
PostgreSQL and Redis and once against SQLite. Celery stays eager inside the test process; the
one test that needs a real worker starts one itself.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# Static files come straight from the apps in tests; nothing is collected for WhiteNoise.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise.")]  # noqa: F405
# The manifest storage needs collectstatic; tests render the admin straight from the apps.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
ALLOWED_HOSTS = ["*"]
# Tests post webhooks to receivers on 127.0.0.1 over http; the refusal tests turn it off.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
# A fixed key signs the log's checkpoints in tests (production keeps its own, out of the repo).
LOG_SIGNING_KEY = "dGVzdC1vbmx5LWxvZy1zaWduaW5nLWtleS0wMTIzNDU="
# And another fixed key signs the credentials (certificates of origin) in tests.
CREDENTIAL_SIGNING_KEY = "dGVzdC1vbmx5LWNyZWRlbnRpYWwtc2lnbmluZy1rZXk="
# Reports written by the tests go to a directory of their own, not the checkout's media/.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or tempfile.mkdtemp(prefix="ree-test-media-"))
