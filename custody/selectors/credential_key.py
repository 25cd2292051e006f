"""The key that signs the credentials (certificates of origin), and the platform's ``did:web``
identity that publishes it.

Its own key, not the log's (``CREDENTIAL_SIGNING_KEY`` or ``CREDENTIAL_SIGNING_KEY_FILE``, as
``log_key`` reads its own): the DID document may rotate it without touching the log's identity,
and a leak of one key does not forge the other's statements.
"""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from .. import credentials
from .signing_keys import load_key


def configured() -> bool:
    return bool(settings.CREDENTIAL_SIGNING_KEY or settings.CREDENTIAL_SIGNING_KEY_FILE)


def signing_key() -> Ed25519PrivateKey:
    return load_key(
        settings.CREDENTIAL_SIGNING_KEY,
        settings.CREDENTIAL_SIGNING_KEY_FILE,
        setting="CREDENTIAL_SIGNING_KEY",
    )


def base_url() -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/")


def did() -> str:
    return credentials.did_web(base_url())


def kid() -> str:
    """The verification method a credential's header names: the DID document's one key."""
    return f"{did()}#{credentials.KEY_FRAGMENT}"


def did_document() -> dict:
    """What ``/.well-known/did.json`` serves."""
    return credentials.did_document(did(), signing_key().public_key())


def verify_url(certificate_id) -> str:
    """The public verification page of a certificate: the credential's id and the QR code."""
    return f"{base_url()}/verify/{certificate_id}"
