"""System checks of the ledger's settings (``manage.py check --deploy``)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .selectors import credential_key, log_key

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@register(Tags.security, deploy=True)
def log_signing_key_is_set(app_configs, **kwargs):
    """Production signs the transparency log's checkpoints with its own key, kept out of the
    repository; only DEBUG=1 makes one on first use."""
    if log_key.configured():
        return []
    return [
        Error(
            "The transparency log has no signing key.",
            hint="Set LOG_SIGNING_KEY (base64 of a 32-byte Ed25519 private key) or "
            "LOG_SIGNING_KEY_FILE (a file holding it); README, Configuration.",
            id="custody.E001",
        )
    ]


@register(Tags.security, deploy=True)
def credential_signing_key_is_set(app_configs, **kwargs):
    """Certificates of origin are signed with a key of their own, not the log's, kept out of
    the repository like it."""
    if credential_key.configured():
        return []
    return [
        Error(
            "The certificates of origin have no signing key.",
            hint="Set CREDENTIAL_SIGNING_KEY (base64 of a 32-byte Ed25519 private key) or "
            "CREDENTIAL_SIGNING_KEY_FILE (a file holding it); README, Configuration.",
            id="custody.E002",
        )
    ]


@register(Tags.security, deploy=True)
def public_base_url_is_https(app_configs, **kwargs):
    """Every credential names the platform by its public address (its did:web issuer, the
    verification URL in the QR code): the default names a developer's machine, and http lets
    anyone on the way serve another DID document."""
    url = settings.PUBLIC_BASE_URL
    if url.rstrip("/") == DEFAULT_BASE_URL:
        problem = "PUBLIC_BASE_URL is left at its default, a developer's machine."
    elif urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
        problem = f"PUBLIC_BASE_URL ({url}) is not an https address."
    else:
        return []
    return [
        Warning(
            problem,
            hint="Set PUBLIC_BASE_URL to the platform's public https address "
            "(https://ledger.example.com): certificates name their issuer and verification "
            "page by it.",
            id="custody.W001",
        )
    ]
