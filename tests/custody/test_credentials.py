"""The certificate of origin as a credential: a UNTP Digital Product Passport 0.6.0 that the
official schema accepts, secured as a VC-JWT that a general-purpose JOSE library verifies."""

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import OKPKey
from jsonschema import Draft202012Validator

from custody import credentials
from custody.credentials import InvalidCredential, LedgerCommitment, MaterialOrigin, OriginClaims

# The official schemas stay in ../shared/untp beside the project; CI has them there too.
UNTP = Path(os.environ.get("UNTP_SCHEMAS", Path(__file__).resolve().parents[3] / "shared/untp"))
DPP_SCHEMA = UNTP / "digitalProductPassport-0.6.0.schema.json"
BASE_URL = "https://ledger.example:8443"
# The issue and VC-JOSE-COSE name the algorithm EdDSA; RFC 9864 has since named Ed25519 over
# EdDSA "Ed25519", and joserfc warns about the older name.
EDDSA_NAME_IS_DEPRECATED = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


def claims(**changes) -> OriginClaims:
    values = {
        "certificate_id": "0b7f6a0e-7a4e-4d7e-9a57-1f1c2b3d4e5f",
        "issued_at": datetime(2026, 11, 29, 10, 30, 5, 123456, tzinfo=UTC),
        "base_url": BASE_URL,
        "lot_code": "LOT-2026-000042",
        "lot_name": "NdPr oxide",
        "mass_kg": "120.500",
        "produced_at": "Mountain Pass refinery",
        "produced_at_id": "urn:epc:id:sgln:0614141.00001.0",
        "producer": "Domestic Refining Inc.",
        "country_of_production": "US",
        "production_date": date(2026, 11, 20),
        "materials": (
            MaterialOrigin("NdFeB magnet scrap from data-center drives", "US", 0.75, 1.0),
            MaterialOrigin("NdFeB magnet scrap from data-center drives", "CA", 0.25, 1.0),
        ),
        "policy_slug": "dfars-domestic",
        "policy_version": 3,
        "policy_description": "Custody only in the US and Canada.",
        "outcome": "verified",
        "assessed_at": datetime(2026, 11, 29, 10, 30, tzinfo=UTC),
        "ledger_export_url": f"{BASE_URL}/api/v1/reports/17/download",
        "ledger_export_sha256": "ab" * 32,
        "commitment": LedgerCommitment(
            checkpoint="ledger.example/log\n12\nq83vEjrSf5bJoQ4R0Q7Xn0eH2G5a6s3g1wqv5u0fV8M=\n",
            tree_size=12,
            upstream_root="cd" * 32,
            upstream_events=9,
        ),
    }
    return OriginClaims(**{**values, **changes})


@pytest.fixture(scope="module")
def dpp_validator():
    if not DPP_SCHEMA.exists():
        pytest.fail(f"The official UNTP schema is missing: {DPP_SCHEMA} (set UNTP_SCHEMAS)")
    return Draft202012Validator(json.loads(DPP_SCHEMA.read_text()))


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.generate()


@pytest.mark.parametrize("outcome", ["verified", "unverified", "non_compliant"])
def test_the_passport_validates_against_the_official_untp_schema(dpp_validator, outcome):
    passport = credentials.passport(claims(outcome=outcome))

    errors = [error.message for error in dpp_validator.iter_errors(passport)]
    assert errors == []
    claim = passport["credentialSubject"]["conformityClaim"][0]
    assert claim["conformance"] is (outcome == "verified")
    assert claim["assessmentCriteria"][0]["name"] == "dfars-domestic@3"


def test_the_passport_states_the_lot_its_origins_and_the_ledger_it_was_issued_against():
    subject = credentials.passport(claims())["credentialSubject"]

    assert subject["product"]["batchNumber"] == "LOT-2026-000042"
    assert subject["product"]["countryOfProduction"] == "US"
    assert [(m["originCountry"], m["massFraction"]) for m in subject["materialsProvenance"]] == [
        ("US", 0.75),
        ("CA", 0.25),
    ]
    assert subject["materialsProvenance"][1]["mass"]["value"] == 30.125
    link = subject["traceabilityInformation"][0]["traceabilityEvent"][0]
    assert (link["hashMethod"], link["hashDigest"]) == ("SHA-256", "ab" * 32)
    assert subject["ledgerCommitment"]["upstreamMerkleRoot"] == "cd" * 32
    assert subject["ledgerCommitment"]["treeSize"] == 12


@EDDSA_NAME_IS_DEPRECATED
def test_a_general_purpose_jose_library_verifies_the_signed_credential(key):
    passport = credentials.passport(claims())
    did = credentials.did_web(BASE_URL)
    token = credentials.sign(passport, key, kid=f"{did}#key-1")

    document = credentials.did_document(did, key.public_key())
    jwk = OKPKey.import_key(document["verificationMethod"][0]["publicKeyJwk"])
    verified = jws.deserialize_compact(token, jwk, algorithms=["EdDSA"])

    assert verified.protected["typ"] == "vc+jwt"
    assert verified.protected["kid"] == document["assertionMethod"][0]
    assert json.loads(verified.payload) == passport
    assert credentials.verify(token, key.public_key()) == passport


@EDDSA_NAME_IS_DEPRECATED
def test_one_changed_byte_of_the_credential_fails_verification(key):
    token = credentials.sign(credentials.passport(claims()), key, kid="k")
    header, payload, signature = token.split(".")
    forged_claims = json.loads(credentials._unb64url(payload))
    forged_claims["credentialSubject"]["conformityClaim"][0]["conformance"] = True
    forged_claims["credentialSubject"]["materialsProvenance"][1]["originCountry"] = "US"
    forged = f"{header}.{credentials._b64url(credentials._json(forged_claims))}.{signature}"

    with pytest.raises(InvalidCredential, match="signature"):
        credentials.verify(forged, key.public_key())
    with pytest.raises(BadSignatureError):
        jwk = OKPKey.import_key(credentials.public_jwk(key.public_key()))
        jws.deserialize_compact(forged, jwk, algorithms=["EdDSA"])


def test_another_key_or_a_token_that_is_no_jws_is_refused(key):
    token = credentials.sign(credentials.passport(claims()), key, kid="k")

    with pytest.raises(InvalidCredential, match="signature"):
        credentials.verify(token, Ed25519PrivateKey.generate().public_key())
    for garbage in ("", "a.b", "a.b.c.d", "e30.e30.!!!", token.replace(".", "..", 1)):
        with pytest.raises(InvalidCredential):
            credentials.verify(garbage, key.public_key())


@pytest.mark.parametrize(
    ("base_url", "did"),
    [
        ("https://ledger.example", "did:web:ledger.example"),
        ("https://ledger.example:8443", "did:web:ledger.example%3A8443"),
        ("https://example.com/ree/ledger/", "did:web:example.com:ree:ledger"),
    ],
)
def test_the_issuer_is_the_did_web_identifier_of_the_platform_address(base_url, did):
    assert credentials.did_web(base_url) == did
