"""System checks of the ledger's settings (``manage.py check --deploy``)."""

from django.core.checks import Error, Tags, register

from .selectors import log_key


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
