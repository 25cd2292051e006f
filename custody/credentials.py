"""The certificate of origin as a W3C Verifiable Credential: a UN Transparency Protocol (UNTP)
Digital Product Passport 0.6.0, secured as a VC-JWT (VC-JOSE-COSE: a compact JWS with
``typ`` ``vc+jwt`` whose payload is the credential itself), signed with Ed25519 (``EdDSA``).

The issuer is the platform's ``did:web`` identifier; its DID document publishes the public key
as a JWK. Pure: the standard library and ``cryptography``, so that the offline verifier uses it
without Django.
"""

import base64
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://test.uncefact.org/vocabulary/untp/dpp/0.6.0/",
]
MEDIA_TYPE = "application/vc+jwt"
KEY_FRAGMENT = "key-1"
# DFARS 252.225-7052: the US restriction on magnets and rare-earth material from covered countries.
DFARS = {
    "type": ["Regulation"],
    "id": "https://www.acquisition.gov/dfars/252.225-7052-restriction-acquisition-certain-magnets-tantalum-and-tungsten.",
    "name": "DFARS 252.225-7052 Restriction on the acquisition of certain magnets, "
    "tantalum, and tungsten",
    "jurisdictionCountry": "US",
    "administeredBy": {"id": "https://www.defense.gov/", "name": "U.S. Department of Defense"},
}
CONFORMITY_TOPIC = "governance.compliance"


class InvalidCredential(ValueError):
    """A VC-JWT that does not parse, is not ours, or whose signature does not verify."""


@dataclass(frozen=True)
class MaterialOrigin:
    """One material of the lot by country of origin: its share of the lot's mass."""

    name: str
    origin_country: str  # ISO 3166-1 alpha-2
    mass_fraction: float
    recycled_fraction: float


@dataclass(frozen=True)
class LedgerCommitment:
    """What the certificate was issued against: a signed checkpoint of the transparency log and
    the Merkle root (RFC 6962) over the hashes of every event upstream of the lot, in log-index
    order."""

    checkpoint: str  # the signed note, as the log serves it
    tree_size: int
    upstream_root: str  # hex
    upstream_events: int


@dataclass(frozen=True)
class OriginClaims:
    """Everything a certificate of origin states, gathered by the service that issues it."""

    certificate_id: str
    issued_at: datetime
    base_url: str  # the platform's public address: https://ledger.example
    lot_code: str
    lot_name: str
    mass_kg: str
    produced_at: str  # the facility's name
    produced_at_id: str  # its URI (a GLN URI when it has one)
    producer: str  # its organization's name
    country_of_production: str
    production_date: date
    materials: tuple[MaterialOrigin, ...]
    policy_slug: str
    policy_version: int
    policy_description: str
    outcome: str
    assessed_at: datetime
    ledger_export_url: str
    ledger_export_sha256: str
    commitment: LedgerCommitment


def did_web(base_url: str) -> str:
    """``did:web`` of a host (RFC 3986 host, port percent-encoded, paths as ``:``-segments)."""
    parts = urlsplit(base_url)
    host = quote(parts.netloc, safe="")
    path = ":".join(segment for segment in parts.path.split("/") if segment)
    return f"did:web:{host}:{path}" if path else f"did:web:{host}"


def public_jwk(key: Ed25519PublicKey) -> dict:
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def did_document(did: str, key: Ed25519PublicKey) -> dict:
    """The DID document served at ``/.well-known/did.json``: one Ed25519 key, as a JWK, that
    asserts credentials."""
    method = f"{did}#{KEY_FRAGMENT}"
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": method,
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": public_jwk(key),
            }
        ],
        "assertionMethod": [method],
    }


def passport(claims: OriginClaims) -> dict:
    """The credential: a UNTP Digital Product Passport whose product is the lot."""
    issuer = did_web(claims.base_url)
    return {
        "@context": CONTEXT,
        "type": ["DigitalProductPassport", "VerifiableCredential"],
        "id": f"{claims.base_url}/verify/{claims.certificate_id}",
        "issuer": {"type": ["CredentialIssuer"], "id": issuer, "name": "Rare-earth custody ledger"},
        "validFrom": _time(claims.issued_at),
        "credentialSubject": {
            "type": ["ProductPassport"],
            "id": f"{claims.base_url}/lots/{claims.lot_code}",
            "granularityLevel": "batch",
            "product": _product(claims),
            "materialsProvenance": [_material(claims, material) for material in claims.materials],
            "conformityClaim": [_claim(claims)],
            "traceabilityInformation": [_traceability(claims)],
            "ledgerCommitment": _commitment(claims.commitment),
        },
    }


def sign(credential: dict, key: Ed25519PrivateKey, *, kid: str) -> str:
    """The compact JWS (``application/vc+jwt``) enveloping the credential."""
    header = {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": kid}
    signing_input = f"{_b64url(_json(header))}.{_b64url(_json(credential))}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64url(signature)}"


def verify(token: str, key: Ed25519PublicKey) -> dict:
    """The credential a VC-JWT carries, once its EdDSA signature verifies with ``key``."""
    try:
        header_part, payload_part, signature_part = token.strip().split(".")
        header = json.loads(_unb64url(header_part))
        credential = json.loads(_unb64url(payload_part))
        signature = _unb64url(signature_part)
    except ValueError as exc:
        raise InvalidCredential(f"not a compact JWS: {exc}") from exc
    if header.get("alg") != "EdDSA" or header.get("typ") != "vc+jwt":
        raise InvalidCredential(f"expected an EdDSA vc+jwt, got {header}")
    try:
        key.verify(signature, f"{header_part}.{payload_part}".encode("ascii"))
    except InvalidSignature as exc:
        raise InvalidCredential("the signature does not verify") from exc
    return credential


def _product(claims: OriginClaims) -> dict:
    return {
        "type": ["Product"],
        "id": f"{claims.base_url}/lots/{claims.lot_code}",
        "name": claims.lot_name,
        "batchNumber": claims.lot_code,
        "producedByParty": {"id": f"{claims.produced_at_id}#party", "name": claims.producer},
        "producedAtFacility": {"id": claims.produced_at_id, "name": claims.produced_at},
        "productionDate": claims.production_date.isoformat(),
        "countryOfProduction": claims.country_of_production,
    }


def _material(claims: OriginClaims, material: MaterialOrigin) -> dict:
    return {
        "type": ["Material"],
        "name": material.name,
        "originCountry": material.origin_country,
        "massFraction": material.mass_fraction,
        "mass": {
            "type": ["Measure"],
            "value": round(float(claims.mass_kg) * material.mass_fraction, 3),
            "unit": "KGM",
        },
        "recycledMassFraction": material.recycled_fraction,
        "hazardous": False,
    }


def _claim(claims: OriginClaims) -> dict:
    policy = f"{claims.policy_slug}@{claims.policy_version}"
    return {
        "type": ["Claim", "Declaration"],
        "id": f"{claims.base_url}/verify/{claims.certificate_id}#origin",
        "description": f"Domestic origin under policy {policy}: {claims.outcome}.",
        "referenceRegulation": DFARS,
        "assessmentCriteria": [
            {
                "type": ["Criterion"],
                "id": f"{claims.base_url}/policies/{claims.policy_slug}/{claims.policy_version}",
                "name": policy,
                "description": claims.policy_description or f"Origin policy {policy}.",
                "conformityTopic": CONFORMITY_TOPIC,
                "status": "active",
            }
        ],
        "assessmentDate": claims.assessed_at.astimezone(UTC).date().isoformat(),
        "conformance": claims.outcome == "verified",
        "conformityTopic": CONFORMITY_TOPIC,
    }


def _traceability(claims: OriginClaims) -> dict:
    return {
        "type": ["TraceabilityPerformance"],
        "valueChainProcess": "Chain of custody from data-center pickup to this lot",
        "verifiedRatio": 1.0 if claims.outcome == "verified" else 0.0,
        "traceabilityEvent": [
            {
                "type": ["SecureLink", "Link"],
                "linkURL": claims.ledger_export_url,
                "linkName": f"Every custody event upstream of {claims.lot_code} (CSV)",
                "linkType": "text/csv",
                "hashDigest": claims.ledger_export_sha256,
                "hashMethod": "SHA-256",
                "encryptionMethod": "none",
            }
        ],
    }


def _commitment(commitment: LedgerCommitment) -> dict:
    return {
        "checkpoint": commitment.checkpoint,
        "treeSize": commitment.tree_size,
        "upstreamMerkleRoot": commitment.upstream_root,
        "upstreamEvents": commitment.upstream_events,
        "hashMethod": "RFC 6962 Merkle tree over SHA-256 event hashes, in log-index order",
    }


def _time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}Z"


def _json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    padded = (text + "=" * (-len(text) % 4)).replace("-", "+").replace("_", "/")
    return base64.b64decode(padded, validate=True)
