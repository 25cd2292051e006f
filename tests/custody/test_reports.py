"""Reports: a certificate's PDF, the ledger CSV and the audit pack, queued on request, run by
a task that reports its progress, stored with their SHA-256, produced once however often the
task runs; and only of lots the requester may see."""

import base64
import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest

from custody import merkle, notes
from custody.models import Certificate, Report, ReportStatus
from custody.offline.pack import MEMBERS
from custody.selectors import credential_key, log_key
from custody.selectors.audit_pack import _proof_paths
from custody.selectors.certificates import unverified_credential
from custody.services import reports
from custody.services.reports import request_report, requeue_stalled_reports, run_report

from ..conftest import refused


def requested(lot, kind, organization, capture):
    """Request a report and let its task run, as it does once the request commits."""
    with capture(execute=True):
        report = request_report(lot, kind, organization=organization)
    report.refresh_from_db()
    return report


def content(report: Report) -> bytes:
    with report.file.open("rb") as file:
        return file.read()


def test_a_certificate_report_issues_one_certificate_and_stores_its_pdf(
    chain, delivered, django_capture_on_commit_callbacks
):
    report = requested(delivered, "certificate", chain.buyer, django_capture_on_commit_callbacks)

    assert (report.status, report.progress, report.attempts, report.error) == ("done", 100, 1, "")
    data = content(report)
    assert data.startswith(b"%PDF")
    assert report.file.name.endswith(f"certificate-{delivered.code}.pdf")
    assert (report.sha256, report.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert report.certificate == Certificate.objects.get()
    assert report.certificate.organization == chain.buyer

    # The message delivered again (a worker lost after the work): nothing runs twice.
    assert run_report(report.pk) is None
    assert Certificate.objects.count() == 1


def test_progress_is_recorded_stage_by_stage(chain, delivered, monkeypatch):
    report = request_report(delivered, "audit_pack", organization=chain.operator)
    seen = []
    update = reports._update

    def recording(report, **fields):
        if "progress" in fields:
            seen.append(fields["progress"])
        update(report, **fields)

    monkeypatch.setattr(reports, "_update", recording)
    run_report(report.pk)

    assert seen == [5, 40, 60, 80, 95, 100]


def test_a_retry_after_the_certificate_was_written_reuses_it(chain, delivered, monkeypatch):
    """A worker killed between the certificate and the file: the report, still running, is
    run again and ships the certificate it already issued."""
    report = request_report(delivered, "certificate", organization=chain.buyer)

    def killed(issued):
        raise SystemExit("worker killed")

    monkeypatch.setattr(reports, "render", killed)
    with pytest.raises(SystemExit):
        run_report(report.pk)
    report.refresh_from_db()
    assert (report.status, report.progress) == ("running", 60)
    first = Certificate.objects.get()
    assert report.certificate == first

    monkeypatch.undo()
    run_report(report.pk)
    report.refresh_from_db()
    assert (report.status, report.attempts, report.certificate) == ("done", 2, first)
    assert Certificate.objects.count() == 1


def test_the_ledger_csv_report_is_the_export_a_certificate_names(
    chain, delivered, django_capture_on_commit_callbacks
):
    export = requested(delivered, "ledger_csv", chain.buyer, django_capture_on_commit_callbacks)
    pack = requested(delivered, "audit_pack", chain.buyer, django_capture_on_commit_callbacks)

    assert export.file.name.endswith(f"ledger-{delivered.code}.csv")
    assert export.certificate is None
    with zipfile.ZipFile(io.BytesIO(content(pack))) as archive:
        assert archive.read("ledger.csv") == content(export)


def test_the_audit_pack_holds_everything_an_auditor_verifies_offline(
    chain, delivered, django_capture_on_commit_callbacks
):
    report = requested(delivered, "audit_pack", chain.buyer, django_capture_on_commit_callbacks)
    certificate = report.certificate

    with zipfile.ZipFile(io.BytesIO(content(report))) as archive:
        assert sorted(archive.namelist()) == sorted(MEMBERS)
        files = {name: archive.read(name) for name in MEMBERS}
    assert report.file.name.endswith(f"audit-pack-{delivered.code}.zip")
    assert files["certificate.jwt"].decode() == certificate.token
    credential = unverified_credential(certificate.token)
    link = credential["credentialSubject"]["traceabilityInformation"][0]["traceabilityEvent"][0]
    assert hashlib.sha256(files["ledger.csv"]).hexdigest() == link["hashDigest"]
    assert files["checkpoint.note"].decode() == certificate.checkpoint
    assert json.loads(files["did.json"]) == credential_key.did_document()
    assert files["log-key.txt"].decode().strip() == log_key.verifier_key()
    assert files["certificate.pdf"].startswith(b"%PDF")
    readme = files["README.txt"].decode()
    assert "python -m custody.verify --pack" in readme and delivered.code in readme

    checkpoint = notes.open_note(certificate.checkpoint, log_key.verifier_key())
    proofs = json.loads(files["inclusion-proofs.json"])
    rows = files["ledger.csv"].decode().splitlines()[1:]
    assert proofs["tree_size"] == checkpoint.size == certificate.tree_size
    assert len(proofs["proofs"]) == len(rows) == certificate.upstream_events
    for row, proof in zip(rows, proofs["proofs"], strict=True):
        log_index, event_hash = int(row.split(",")[0]), row.split(",")[11]
        assert (proof["leaf_index"], proof["event_hash"]) == (log_index, event_hash)
        assert merkle.verify_inclusion(
            merkle.leaf_hash(bytes.fromhex(event_hash)),
            log_index,
            proofs["tree_size"],
            [base64.b64decode(digest) for digest in proof["hashes"]],
            checkpoint.root_hash,
        )
    evidence = json.loads(files["evidence.json"])
    assert set(evidence) == {"documents"}


def test_the_packs_proofs_take_each_leafs_own_path_in_trees_of_any_size():
    """The pack walks the tree once for all its proofs: each leaf gets the ranges
    ``merkle.inclusion_proof`` folds for it alone, whichever leaves are asked for."""
    for size in range(1, 70):
        for leaves in (range(size), range(0, size, 3), [size - 1]):
            assert _proof_paths(list(leaves), size) == {
                index: merkle.inclusion_ranges(index, size) for index in leaves
            }
    with pytest.raises(ValueError):
        _proof_paths([5], 5)


def test_a_partner_cannot_request_a_report_of_a_lot_it_may_not_see(chain, diamond):
    for kind in ("certificate", "ledger_csv", "audit_pack"):
        with refused("unknown_lot", field="lot"):
            request_report(diamond["p1"], kind, organization=chain.buyer)
    with refused("invalid_report_kind", field="kind"):
        request_report(diamond["p1"], "spreadsheet", organization=chain.operator)
    assert not Report.objects.exists()


def test_a_refusal_at_run_time_fails_the_report_with_its_message(chain, delivered):
    report = request_report(delivered, "certificate", organization=chain.buyer)
    # The buyer's visibility cannot be taken back in the ledger; a report of a lot it may no
    # longer see (here: run for another organization) fails, it is not retried.
    Report.objects.filter(pk=report.pk).update(organization=chain.trader)

    run_report(report.pk)

    report.refresh_from_db()
    assert (report.status, report.certificate) == ("failed", None)
    assert "No lot" in report.error
    assert not Certificate.objects.exists()


def test_the_sweep_queues_again_a_report_left_running(chain, delivered, monkeypatch):
    report = request_report(delivered, "ledger_csv", organization=chain.buyer)
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING, attempts=1, started_at=report.created_at
    )
    sent = []
    monkeypatch.setattr(reports, "_runner", sent.append)

    assert requeue_stalled_reports(older_than=timedelta(hours=1)) == 0
    assert requeue_stalled_reports(older_than=timedelta(0)) == 1
    assert sent == [str(report.pk)]

    Report.objects.filter(pk=report.pk).update(attempts=reports.MAX_ATTEMPTS)
    assert requeue_stalled_reports(older_than=timedelta(0)) == 0
    report.refresh_from_db()
    assert report.status == "failed" and "Gave up" in report.error


def test_the_certificate_pdf_states_the_verdict_the_lot_its_data_centers_findings_and_root(
    chain, delivered, django_capture_on_commit_callbacks
):
    from pypdf import PdfReader

    from custody.selectors.verdicts import assess

    verdict = assess(delivered)
    report = requested(delivered, "certificate", chain.operator, django_capture_on_commit_callbacks)

    pages = PdfReader(io.BytesIO(content(report))).pages
    text = "\n".join(page.extract_text() for page in pages)
    assert verdict.outcome_label in text
    assert delivered.code in text
    assert verdict.data_centers and all(name in text for name, _ in verdict.data_centers)
    assert verdict.findings and all(str(f.code) in text for f in verdict.findings)
    assert report.certificate.upstream_root in text.split("\n")
