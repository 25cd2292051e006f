"""The signer's key of a VC-JWT, from the issuer's DID document: the verification method the
JWT header's ``kid`` names (or the document's only one when the header names none), whose
``publicKeyJwk`` must be an Ed25519 key (``OKP``/``Ed25519``): the only kind our credentials are
signed with, so anything else is refused rather than guessed at."""

import base64
import binascii
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Refused(ValueError):
    """A token or DID document this verifier cannot take a key from."""


def _unb64url(text: str) -> bytes:
    if not isinstance(text, str) or not text.isascii():
        raise Refused(f"{text!r} is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Refused(f"{text[:20]!r} is not base64url: {exc}") from None


def header(token: str) -> dict:
    """The protected header of a compact JWS, unverified: it only says which key to try. Each
    part must be canonical base64url (no padding, no stray bits in the last character), so that
    no two tokens carry the same signed bytes: one changed character is a changed token."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise Refused(f"a compact JWS has 3 parts separated by dots, this one {len(parts)}")
    for name, part in zip(("header", "payload", "signature"), parts, strict=True):
        if base64.urlsafe_b64encode(_unb64url(part)).rstrip(b"=").decode() != part:
            raise Refused(f"its {name} is not canonical base64url")
    try:
        value = json.loads(_unb64url(parts[0]))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refused(f"the header is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Refused("the header is not a JSON object")
    return value


def document(text: str) -> dict:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Refused(f"not JSON: {exc}") from None
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise Refused("not a DID document: a JSON object with an id")
    return value


def signer_key(did_document: dict, kid: str | None) -> tuple[str, Ed25519PublicKey]:
    """The verification method's full id and its public key."""
    methods = did_document.get("verificationMethod")
    if not isinstance(methods, list) or not all(isinstance(m, dict) for m in methods):
        raise Refused(f"{did_document['id']} lists no verificationMethod")
    ids = [_method_id(did_document, method) for method in methods]
    if kid is not None:
        if kid not in ids:
            raise Refused(
                f"the credential's kid {kid!r} names no verification method of "
                f"{did_document['id']} (it has {', '.join(map(str, ids)) or 'none'})"
            )
        method = methods[ids.index(kid)]
    elif len(methods) == 1:
        method = methods[0]
    else:
        raise Refused(f"the credential names no kid and {did_document['id']} has {len(ids)} keys")
    return _method_id(did_document, method), _ed25519(_method_id(did_document, method), method)


def _method_id(did_document: dict, method: dict) -> str:
    """A method's id, a relative ``#fragment`` resolved against the document's DID."""
    value = method.get("id")
    return f"{did_document['id']}{value}" if isinstance(value, str) and value[:1] == "#" else value


def _ed25519(method_id: str, method: dict) -> Ed25519PublicKey:
    jwk = method.get("publicKeyJwk")
    if not isinstance(jwk, dict):
        raise Refused(f"{method_id} publishes no publicKeyJwk")
    if (jwk.get("kty"), jwk.get("crv")) != ("OKP", "Ed25519"):
        raise Refused(
            f"{method_id} is a {jwk.get('kty')}/{jwk.get('crv')} key: this verifier checks "
            "EdDSA signatures with an OKP/Ed25519 key only"
        )
    if "d" in jwk:
        raise Refused(f"{method_id} publishes a private key (d): the issuer's key is compromised")
    raw = _unb64url(jwk.get("x"))
    if len(raw) != 32:
        raise Refused(f"{method_id}'s x is {len(raw)} bytes, an Ed25519 key 32")
    return Ed25519PublicKey.from_public_bytes(raw)
