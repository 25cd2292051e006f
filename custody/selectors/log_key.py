"""The key that signs the transparency log's checkpoints, from the settings.

``LOG_SIGNING_KEY`` (base64 of the 32-byte Ed25519 private key) or the file
``LOG_SIGNING_KEY_FILE`` holding the same text. With ``DEBUG=1`` the file defaults to
``log-signing.key`` in the checkout, made on first use (mode 0600), so that ``make run`` signs
without setup; production sets one of the two (a deploy check, ``custody.checks``).
"""

import base64
import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .. import notes


def configured() -> bool:
    return bool(settings.LOG_SIGNING_KEY or settings.LOG_SIGNING_KEY_FILE)


@functools.cache
def _key_from(text: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "LOG_SIGNING_KEY is base64 of a 32-byte Ed25519 private key."
        ) from exc


def signing_key() -> Ed25519PrivateKey:
    if settings.LOG_SIGNING_KEY:
        return _key_from(settings.LOG_SIGNING_KEY)
    if not settings.LOG_SIGNING_KEY_FILE:
        raise ImproperlyConfigured("Set LOG_SIGNING_KEY or LOG_SIGNING_KEY_FILE.")
    path = Path(settings.LOG_SIGNING_KEY_FILE)
    if not path.exists():
        _make_key_file(path)
    return _key_from(path.read_text())


def _make_key_file(path: Path) -> None:
    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return
    with os.fdopen(descriptor, "w") as file:
        file.write(base64.b64encode(raw).decode() + "\n")


def key_name() -> str:
    """The signer's name in every signature line: the log's origin."""
    return settings.LOG_ORIGIN


def verifier_key() -> str:
    """The public key as a signed-note verifier key, ``<name>+<id>+<key>``."""
    return notes.verifier_key(key_name(), signing_key().public_key())


def public_key_base64() -> str:
    return base64.b64encode(notes.public_bytes(signing_key().public_key())).decode()
