"""Certificates of origin issued from the ledger: a credential the official UNTP schema accepts
and a JOSE library verifies, committed to every upstream event (CSV, Merkle root, a signed
checkpoint), disclosed as the requester may know it, and checked again by anyone, any day."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from joserfc import jws
from joserfc.jwk import OKPKey
from jsonschema import Draft202012Validator

from custody import db_triggers, merkle, services
from custody.models import Certificate, CertificateAct, CustodyEvent
from custody.selectors import credential_key
from custody.selectors.certificates import (
    CSV_COLUMNS,
    certificate_document,
    certificate_status,
    ledger_csv,
    unverified_credential,
    upstream_ledger,
)
from custody.selectors.disclosure import verdict_for
from custody.services.certificates import (
    issue_certificate,
    revoke_certificate,
    supersede_certificate,
)
from custody.services.transparency_log import integrate_log

from ..conftest import refused
from ..factories import MembershipFactory
from .test_credentials import DPP_SCHEMA, EDDSA_NAME_IS_DEPRECATED


@pytest.fixture
def operator_user(chain):
    return MembershipFactory(organization=chain.operator).user


def rows_of(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def credential_of(certificate: Certificate) -> dict:
    return unverified_credential(certificate.token)


@EDDSA_NAME_IS_DEPRECATED
def test_an_issued_credential_validates_against_untp_and_verifies_with_a_jose_library(
    chain, delivered
):
    certificate = issue_certificate(delivered, organization=chain.buyer)

    validator = Draft202012Validator(json.loads(DPP_SCHEMA.read_text()))
    key = OKPKey.import_key(credential_key.did_document()["verificationMethod"][0]["publicKeyJwk"])
    verified = jws.deserialize_compact(certificate.token, key, algorithms=["EdDSA"])
    credential = json.loads(verified.payload)
    assert [error.message for error in validator.iter_errors(credential)] == []
    assert verified.protected["kid"] == certificate.kid == f"{credential_key.did()}#key-1"
    subject = credential["credentialSubject"]
    assert subject["product"]["batchNumber"] == delivered.code
    assert credential["id"] == credential_key.verify_url(certificate.id)
    materials = subject["materialsProvenance"]
    assert sum(material["massFraction"] for material in materials) == pytest.approx(1)
    assert {material["originCountry"] for material in materials} == {"US"}
    assert all(material["recycledMassFraction"] == 1.0 for material in materials)
    commitment = subject["ledgerCommitment"]
    assert commitment["upstreamMerkleRoot"] == certificate.upstream_root
    assert commitment["checkpoint"] == certificate.checkpoint
    assert commitment["treeSize"] == certificate.tree_size
    assert certificate.id.version == 4


def test_the_certificate_commits_to_every_upstream_event_in_log_order(chain, delivered):
    certificate = issue_certificate(delivered, organization=chain.operator)
    rows = [r for r in upstream_ledger(delivered, chain.operator) if r.log_index is not None]
    data = ledger_csv(rows)

    lines = rows_of(data)
    assert data.decode().splitlines()[0] == ",".join(CSV_COLUMNS)
    assert b"\r" not in data
    upstream = CustodyEvent.objects.filter(lot__code__in={row["lot"] for row in lines})
    assert len(lines) == certificate.upstream_events == upstream.count()
    indexes = [int(row["log_index"]) for row in lines]
    assert indexes == sorted(indexes) and max(indexes) < certificate.tree_size
    leaves = [merkle.leaf_hash(bytes.fromhex(row["event_hash"])) for row in lines]
    assert merkle.root(len(leaves), merkle.leaf_source(leaves)).hex() == certificate.upstream_root
    credential = credential_of(certificate)
    link = credential["credentialSubject"]["traceabilityInformation"][0]["traceabilityEvent"][0]
    assert link["hashDigest"] == certificate.ledger_sha256
    # Each lot's rows chain: the first has no previous hash, every other the one before.
    by_lot = {}
    for row in lines:
        assert row["prev_hash"] == by_lot.get(row["lot"], "")
        by_lot[row["lot"]] = row["event_hash"]
    pickup = next(row for row in lines if row["kind"] == "registered")
    assert (pickup["facility"], pickup["country"]) == ("DC Ashburn", "US")


def test_a_partner_learns_nothing_of_upstream_lots_it_never_held(chain, delivered, diamond):
    partner = {row.lot: row for row in upstream_ledger(delivered, chain.buyer)}
    operator = {row.lot: row for row in upstream_ledger(delivered, chain.operator)}
    hidden = diamond["p1"].code

    assert partner[hidden].facility == "" and partner[hidden].mass_kg == ""
    assert partner[hidden].facility_gln == ""
    assert partner[hidden].country == "US"  # countries, hashes and indexes stay
    assert operator[hidden].facility and operator[hidden].mass_kg
    assert partner[delivered.code].mass_kg == operator[delivered.code].mass_kg
    partner_csv = ledger_csv(upstream_ledger(delivered, chain.buyer)).decode()
    assert "DC Ashburn" not in partner_csv and "Knoxville plant" in partner_csv


def test_a_partner_cannot_certify_a_lot_it_may_not_see(chain, diamond):
    with refused("unknown_lot"):
        issue_certificate(diamond["f"], organization=chain.buyer)
    assert not Certificate.objects.exists()


def test_the_pdf_document_names_data_centers_findings_and_the_root(chain, delivered):
    certificate = issue_certificate(delivered, organization=chain.buyer)
    verdict = verdict_for(chain.buyer, delivered, certificate.policy)
    document = certificate_document(
        certificate, verdict=verdict, rows=upstream_ledger(delivered, chain.buyer)
    )

    json.dumps(document)  # JSON-able
    assert document["lot"]["code"] == delivered.code
    assert document["buyer"]["name"] == chain.buyer.name
    assert {entry["data_center"] for entry in document["contributions"]} == {
        "DC Ashburn",
        "DC Columbus",
    }
    assert sum(entry["share_percent"] for entry in document["contributions"]) == pytest.approx(100)
    # The buyer never held the pickups: no masses of them.
    assert all(p["mass_kg"] is None for e in document["contributions"] for p in e["pickups"])
    assert document["ledger"]["upstream_root"] == certificate.upstream_root
    assert document["verdict"]["outcome"] == certificate.outcome
    assert document["genealogy"]["nodes"][0]["depth"] == 0
    assert {step["kind"] for step in document["mass_balance"]} >= {"split", "process"}


def test_a_fresh_certificate_verifies_and_a_correction_upstream_moves_the_ledger_on(
    chain, delivered, diamond
):
    certificate = issue_certificate(delivered, organization=chain.buyer)
    status = certificate_status(certificate)
    assert (status.verdict, status.signature_valid, status.ledger_matches) == (
        "valid",
        True,
        True,
    )
    assert status.log_consistent and not status.moved_on
    assert status.statement["credentialSubject"]["product"]["batchNumber"] == delivered.code

    p1 = diamond["p1"]
    services.correct_event(
        actor=chain.actor(chain.source),
        lot=p1,
        corrects=p1.events.get(seq=1),
        reason="The scale was off",
        mass_kg=Decimal("10.100"),
    )
    integrate_log()
    status = certificate_status(certificate)
    assert status.ledger_matches and status.log_consistent
    assert status.moved_on and "1 upstream event" in status.moved_on_reasons[0]


def test_an_operator_revokes_a_certificate_once_with_a_reason(chain, delivered, operator_user):
    certificate = issue_certificate(delivered, organization=chain.buyer)
    partner_user = MembershipFactory(organization=chain.buyer).user

    with refused("not_an_operator"):
        revoke_certificate(certificate, user=partner_user, reason="No longer valid")
    with refused("reason_required", field="reason"):
        revoke_certificate(certificate, user=operator_user, reason="  ")
    assert not CertificateAct.objects.exists()

    revoke_certificate(certificate, user=operator_user, reason="Issued in error")
    status = certificate_status(certificate)
    assert status.revoked and status.verdict == "revoked"
    assert status.act_reason == "Issued in error"
    with refused("certificate_already_revoked"):
        revoke_certificate(certificate, user=operator_user, reason="Again")
    assert CertificateAct.objects.count() == 1


def test_a_superseded_certificate_names_its_successor(chain, delivered, operator_user):
    certificate = issue_certificate(delivered, organization=chain.buyer)

    successor = supersede_certificate(certificate, user=operator_user, reason="New policy text")

    assert (successor.lot, successor.organization, successor.policy) == (
        certificate.lot,
        certificate.organization,
        certificate.policy,
    )
    status = certificate_status(certificate)
    assert status.superseded and status.superseded_by == str(successor.id)
    assert certificate_status(successor).verdict == "valid"
    with refused("certificate_already_revoked"):
        supersede_certificate(certificate, user=operator_user, reason="Twice")
    assert Certificate.objects.count() == 2


def test_certificates_and_their_acts_are_append_only(chain, delivered, operator_user):
    certificate = issue_certificate(delivered, organization=chain.buyer)
    revoke_certificate(certificate, user=operator_user, reason="Issued in error")
    for model in (Certificate, CertificateAct):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            model.objects.update(
                **({"outcome": "verified"} if model is Certificate else {"reason": "x"})
            )
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            model.objects.all().delete()


@pytest.mark.postgres
def test_tampering_with_an_upstream_event_turns_the_certificate_to_ledger_mismatch(
    chain, delivered, diamond
):
    certificate = issue_certificate(delivered, organization=chain.buyer)
    event = diamond["p2"].events.get(seq=1)
    table = db_triggers.EVENTS
    with connection.cursor() as cursor:
        # The test's transaction still holds the deferred foreign-key checks of its writes.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        cursor.execute(f"UPDATE {table} SET mass_kg = mass_kg + 1 WHERE id = %s", [event.pk])
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")

    status = certificate_status(certificate)

    assert not status.ledger_matches and status.verdict == "ledger mismatch"
    assert status.events_changed == 1
    assert "1 event(s) no longer match" in status.ledger_problem
    assert status.signature_valid and status.log_consistent


@pytest.mark.postgres
def test_a_deleted_upstream_event_is_a_ledger_mismatch_too(chain, delivered):
    certificate = issue_certificate(delivered, organization=chain.buyer)
    last = delivered.events.order_by("-seq").first()
    tables = (db_triggers.FEED_ENTRIES, db_triggers.VISIBILITY, db_triggers.EVENTS)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for table, column in zip(tables, ("event_id", "granted_by_id", "id"), strict=True):
            cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [last.pk])
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

    status = certificate_status(certificate)

    assert status.verdict == "ledger mismatch" and status.events_missing == 1
    assert "1 event(s) are missing" in status.ledger_problem
