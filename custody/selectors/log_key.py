"""The key that signs the transparency log's checkpoints, from the settings.

``LOG_SIGNING_KEY`` (base64 of the 32-byte Ed25519 private key) or the file
``LOG_SIGNING_KEY_FILE`` holding the same text. With ``DEBUG=1`` the file defaults to
``log-signing.key`` in the checkout, made on first use (mode 0600), so that ``make run`` signs
without setup; production sets one of the two (a deploy check, ``custody.checks``).
"""

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from .. import notes
from .signing_keys import load_key


def configured() -> bool:
    return bool(settings.LOG_SIGNING_KEY or settings.LOG_SIGNING_KEY_FILE)


def signing_key() -> Ed25519PrivateKey:
    return load_key(
        settings.LOG_SIGNING_KEY, settings.LOG_SIGNING_KEY_FILE, setting="LOG_SIGNING_KEY"
    )


def key_name() -> str:
    """The signer's name in every signature line: the log's origin."""
    return settings.LOG_ORIGIN


def verifier_key() -> str:
    """The public key as a signed-note verifier key, ``<name>+<id>+<key>``."""
    return notes.verifier_key(key_name(), signing_key().public_key())


def public_key_base64() -> str:
    return base64.b64encode(notes.public_bytes(signing_key().public_key())).decode()
