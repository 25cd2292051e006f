"""Ed25519 signing keys from the settings, one loader for each key the platform holds: the
transparency log's (``log_key``) and the credentials' (``credential_key``).

A key is given as base64 of its 32 private bytes, in a setting or in a file holding the same
text. A file that does not exist yet is made on first use (mode 0600): only DEBUG=1 names one
by default, so that ``make run`` signs without setup; production sets its keys (deploy checks,
``custody.checks``).
"""

import base64
import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.exceptions import ImproperlyConfigured


def load_key(value: str, file: str, *, setting: str) -> Ed25519PrivateKey:
    """The key from ``value`` (the setting ``setting``), else from ``file``, made if missing."""
    if value:
        return _key_from(value, setting)
    if not file:
        raise ImproperlyConfigured(f"Set {setting} or {setting}_FILE.")
    path = Path(file)
    if not path.exists():
        _make_key_file(path)
    return _key_from(path.read_text(), setting)


@functools.cache
def _key_from(text: str, setting: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{setting} is base64 of a 32-byte Ed25519 private key."
        ) from exc


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
