"""Checkpoints of the transparency log as C2SP signed notes, with Ed25519. Pure: the standard
library and ``cryptography``, so that the offline verifier uses it as is.

A checkpoint (C2SP tlog-checkpoint) is the note text::

    <origin>
    <tree size, decimal>
    <root hash, base64>
    time <UTC, RFC 3339>          (an extension line: when the log signed it)

signed as a C2SP signed note: after the text, an empty line, then one line per signature,
``— <key name> <base64(key id || Ed25519 signature of the text)>``, where the key id is the
first 4 bytes of ``SHA-256(<key name> || 0x0A || 0x01 || <32-byte public key>)``. The verifier
key is written ``<key name>+<key id, hex>+<base64(0x01 || public key)>`` (the note format's
vkey), so that Go's ``golang.org/x/mod/sumdb/note`` reads it too.
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space


class InvalidNote(ValueError):
    """A note or checkpoint that does not parse, or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    time: datetime

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode()
        moment = self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{self.origin}\n{self.size}\n{root}\ntime {moment}\n"


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """The vkey text: ``<name>+<key id hex>+<base64(0x01 || public key)>``."""
    raw = public_bytes(key)
    return f"{name}+{key_id(name, raw).hex()}+{base64.b64encode(ED25519 + raw).decode()}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    try:
        name, key_hash, encoded = vkey.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise InvalidNote("not a verifier key <name>+<id>+<key>") from exc
    if raw[:1] != ED25519 or len(raw) != 33 or key_id(name, raw[1:]).hex() != key_hash:
        raise InvalidNote("the verifier key is not an Ed25519 key of this name")
    return name, bytes.fromhex(key_hash), Ed25519PublicKey.from_public_bytes(raw[1:])


def sign(checkpoint: Checkpoint, name: str, key: Ed25519PrivateKey) -> str:
    """The signed note of ``checkpoint``."""
    text = checkpoint.text()
    signature = key_id(name, public_bytes(key.public_key())) + key.sign(text.encode())
    return f"{text}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, vkey: str) -> Checkpoint:
    """The checkpoint a signed note states, once the signature of ``vkey``'s key verifies."""
    name, key_hash, public_key = parse_verifier_key(vkey)
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not text:
        raise InvalidNote("a signed note is its text, an empty line and its signatures")
    text += "\n"
    for line in signatures.splitlines():
        signer, _, encoded = line.removeprefix(SIGNATURE_PREFIX).rpartition(" ")
        if not line.startswith(SIGNATURE_PREFIX) or signer != name:
            continue
        try:
            signature = base64.b64decode(encoded, validate=True)
            if signature[:4] != key_hash:
                continue
            public_key.verify(signature[4:], text.encode())
        except (ValueError, InvalidSignature):
            raise InvalidNote(f"the signature of {name} does not verify") from None
        return parse_checkpoint(text)
    raise InvalidNote(f"the note carries no signature of {name}")


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    try:
        origin, size, root, *extensions = lines[:-1]
        if not origin or size != str(int(size)) or int(size) < 0:
            raise ValueError
        root_hash = base64.b64decode(root, validate=True)
        moment = next(line[5:] for line in extensions if line.startswith("time "))
        time = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (ValueError, StopIteration):
        raise InvalidNote("not a checkpoint: origin, size, root hash, time") from None
    if len(root_hash) != 32 or lines[-1] != "":
        raise InvalidNote("not a checkpoint: the root hash is 32 bytes, the text ends a line")
    return Checkpoint(origin, int(size), root_hash, time)
