"""Verification by anyone: the public page and its JSON say whether a certificate is valid,
revoked, superseded, matched by today's ledger or not, and whether the ledger has moved on;
the credential, its ledger export and the DID document that verifies it are public too. An
audit pack downloaded through the API verifies offline, and one changed byte does not."""

import hashlib
import io
import json
import uuid
import zipfile
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from joserfc import jws
from joserfc.jwk import OKPKey
from rest_framework.test import APIClient

from custody import db_triggers, services
from custody import verify as offline
from custody.api.throttling import PerKeyThrottle
from custody.selectors.certificates import unverified_credential
from custody.services.certificates import (
    issue_certificate,
    revoke_certificate,
    supersede_certificate,
)
from custody.services.transparency_log import integrate_log

from ..custody.test_credentials import EDDSA_NAME_IS_DEPRECATED
from ..factories import MembershipFactory
from .test_reports_api import client_for, request_report  # noqa: F401 (fixtures)


@pytest.fixture
def certificate(chain, delivered):
    return issue_certificate(delivered, organization=chain.buyer)


@pytest.fixture
def operator_user(chain):
    return MembershipFactory(organization=chain.operator).user


def page(certificate_id) -> str:
    response = APIClient().get(f"/verify/{certificate_id}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def status_json(certificate_id) -> dict:
    response = APIClient().get(f"/api/v1/verify/{certificate_id}")
    assert response.status_code == 200
    return response.json()


def test_a_fresh_certificate_is_valid_on_the_page_and_in_json(certificate, delivered):
    html = page(certificate.id)
    assert 'data-verdict="valid"' in html
    assert delivered.code in html and certificate.upstream_root in html
    assert "<script" not in html and "http" not in html.split("<body>")[0].replace("http-equiv", "")
    assert "python -m custody.verify certificate.jwt --key did.json" in html
    body = status_json(certificate.id)
    assert (body["verdict"], body["signature_valid"], body["ledger_matches"]) == (
        "valid",
        True,
        True,
    )
    assert body["log_consistent"] and not body["moved_on"]
    assert body["statement"]["credentialSubject"]["product"]["batchNumber"] == delivered.code


def test_the_page_shows_only_what_the_certificate_states(chain, certificate, diamond):
    html = page(certificate.id)
    # Upstream lots and facilities the buyer never held are not named on the page.
    for hidden in (diamond["p1"].code, diamond["m"].code, "DC Ashburn", "DC Columbus"):
        assert hidden not in html


def test_unknown_and_malformed_ids_are_not_found(certificate):
    client = APIClient()
    for certificate_id in (uuid.uuid4(), "not-a-uuid", "1"):
        missing = client.get(f"/verify/{certificate_id}")
        assert missing.status_code == 404
        assert missing["Content-Type"].startswith("text/html")
        assert "No certificate of origin has this id" in missing.content.decode()
        response = client.get(f"/api/v1/verify/{certificate_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert client.get(f"/verify/{certificate_id}/credential.jwt").status_code == 404


def test_a_revoked_certificate_says_so(certificate, operator_user):
    revoke_certificate(certificate, user=operator_user, reason="Issued to the wrong buyer")
    html = page(certificate.id)
    assert 'data-verdict="revoked"' in html and "Issued to the wrong buyer" in html
    body = status_json(certificate.id)
    assert body["verdict"] == "revoked" and body["act_reason"] == "Issued to the wrong buyer"


def test_a_superseded_certificate_links_to_its_successor(certificate, operator_user):
    successor = supersede_certificate(certificate, user=operator_user, reason="Corrected weight")
    html = page(certificate.id)
    assert 'data-verdict="superseded"' in html
    assert f'href="http://127.0.0.1:8000/verify/{successor.id}"' in html
    assert status_json(certificate.id)["superseded_by"] == str(successor.id)


def test_the_page_says_the_ledger_has_moved_on(chain, certificate, diamond):
    p1 = diamond["p1"]
    services.correct_event(
        actor=chain.actor(chain.source),
        lot=p1,
        corrects=p1.events.get(seq=1),
        reason="The scale was off",
        mass_kg=Decimal("10.100"),
    )
    integrate_log()
    html = page(certificate.id)
    assert 'data-verdict="valid"' in html and 'id="moved-on"' in html
    assert "The ledger has moved on since" in html
    assert status_json(certificate.id)["moved_on"] is True


@pytest.mark.postgres
def test_tampering_upstream_turns_the_page_to_ledger_mismatch(certificate, diamond):
    event = diamond["p2"].events.get(seq=1)
    table = db_triggers.EVENTS
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        cursor.execute(
            f"UPDATE {table} SET occurred_at = occurred_at - interval '1 hour' WHERE id = %s",
            [event.pk],
        )
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")

    html = page(certificate.id)
    assert 'data-verdict="ledger mismatch"' in html and "LEDGER MISMATCH" in html
    assert status_json(certificate.id)["verdict"] == "ledger mismatch"
    # The export the credential names (its times are in it, for every lot) can no longer be
    # given byte for byte.
    response = APIClient().get(f"/verify/{certificate.id}/ledger.csv")
    assert response.status_code == 409
    assert response.json()["code"] == "certificate_ledger_changed"


def test_the_credential_and_its_ledger_export_are_served_as_issued(certificate):
    client = APIClient()
    credential = client.get(f"/verify/{certificate.id}/credential.jwt")
    assert credential["Content-Type"] == "application/vc+jwt"
    assert credential.content.decode() == certificate.token
    export = client.get(f"/verify/{certificate.id}/ledger.csv")
    assert export.status_code == 200 and export["Content-Type"] == "text/csv; charset=utf-8"
    link = unverified_credential(certificate.token)["credentialSubject"]["traceabilityInformation"][
        0
    ]["traceabilityEvent"][0]
    assert link["linkURL"] == f"http://127.0.0.1:8000/verify/{certificate.id}/ledger.csv"
    assert hashlib.sha256(export.content).hexdigest() == link["hashDigest"]


@EDDSA_NAME_IS_DEPRECATED
def test_the_did_document_verifies_a_credential_issued_through_the_api(
    chain,
    delivered,
    client_for,  # noqa: F811
    request_report,  # noqa: F811
):
    client = client_for(chain.buyer)
    body = {"lot": delivered.code, "kind": "certificate"}
    report = client.get(request_report(client, body)["Location"]).json()
    token = APIClient().get(f"/verify/{report['certificate']}/credential.jwt").content.decode()

    response = APIClient().get("/.well-known/did.json")
    assert response["Content-Type"] == "application/did+json"
    document = response.json()
    method = document["verificationMethod"][0]
    key = OKPKey.import_key(method["publicKeyJwk"])
    verified = jws.deserialize_compact(token, key, algorithms=["EdDSA"])
    assert verified.protected["kid"] == method["id"]
    assert json.loads(verified.payload)["id"] == report["verify_url"]


def test_an_audit_pack_from_the_api_verifies_offline_and_a_changed_byte_does_not(
    chain,
    delivered,
    client_for,  # noqa: F811
    request_report,  # noqa: F811
    tmp_path,
):
    client = client_for(chain.buyer)
    body = {"lot": delivered.code, "kind": "audit_pack"}
    report = client.get(request_report(client, body)["Location"]).json()
    pack = b"".join(client.get(report["download_url"]).streaming_content)
    (tmp_path / "audit.zip").write_bytes(pack)
    (tmp_path / "did.json").write_bytes(APIClient().get("/.well-known/did.json").content)
    did = str(tmp_path / "did.json")

    assert offline.main(["--pack", str(tmp_path / "audit.zip"), "--key", did]) == 0

    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    csv = bytearray(files["ledger.csv"])
    last_row = csv.rindex(b"\n", 0, len(csv) - 1) + 1
    csv[last_row] = ord("9") if csv[last_row] != ord("9") else ord("8")  # its log index
    files["ledger.csv"] = bytes(csv)
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    (tmp_path / "tampered.zip").write_bytes(tampered.getvalue())

    assert offline.main(["--pack", str(tmp_path / "tampered.zip"), "--key", did]) == 1


def test_each_address_has_a_budget_of_verifications(certificate, monkeypatch):
    """A verification reads the certificate's whole upstream ledger again: past the budget
    (``VERIFY_THROTTLE_RATE``), an address gets 429 with Retry-After, on the page, the
    export and the JSON alike; the partners' own budget is untouched."""
    rates = PerKeyThrottle.THROTTLE_RATES | {"verification": "3/min"}
    monkeypatch.setattr(PerKeyThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(PerKeyThrottle, "timer", lambda self: 1200.0)  # one window throughout
    cache.clear()
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    paths = [f"/verify/{certificate.id}", f"/verify/{certificate.id}/ledger.csv"]
    assert [client.get(path).status_code for path in paths] == [200, 200]
    assert client.get(f"/api/v1/verify/{certificate.id}").status_code == 200

    for path in [*paths, f"/api/v1/verify/{certificate.id}"]:
        refused = client.get(path)
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) >= 1
    assert client.get(paths[0])["Content-Type"].startswith("text/html")  # a page, for people
    assert client.get(paths[1]).json()["code"] == "throttled"
    assert APIClient(REMOTE_ADDR="198.51.100.9").get(paths[0]).status_code == 200
