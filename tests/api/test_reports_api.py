"""Reports over HTTP: a buyer requests a certificate, a ledger export or an audit pack of a lot
it may see (202, Location), follows its status and progress, and downloads the file with its
SHA-256 in ETag and Digest; another organization's report and a lot it may not see do not
exist for it."""

import base64
import hashlib
import uuid

import pytest
from rest_framework.test import APIClient

from custody.models import Report

from .test_read_api import PROBLEM, key_for


@pytest.fixture
def client_for():
    def build(organization) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_for(organization)}")
        return client

    return build


@pytest.fixture
def request_report(django_capture_on_commit_callbacks):
    """POST a report request; its task runs once the request commits (eager Celery)."""

    def post(client, body, key=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/v1/reports/",
                body,
                format="json",
                HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
            )

    return post


def downloaded(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_buyer_requests_polls_and_downloads_a_certificate(
    chain, delivered, client_for, request_report
):
    client = client_for(chain.buyer)
    response = request_report(client, {"lot": delivered.code, "kind": "certificate"})

    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == body["url"]
    assert (body["kind"], body["lot"], body["status"]) == ("certificate", delivered.code, "queued")
    assert body["download_url"] is None

    report = client.get(response["Location"]).json()
    assert (report["status"], report["progress"], report["error"]) == ("done", 100, "")
    assert report["verify_url"].endswith(f"/verify/{report['certificate']}")
    file = client.get(report["download_url"])
    assert file.status_code == 200
    data = downloaded(file)
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == report["sha256"]
    assert len(data) == report["size"]
    assert file["Content-Type"] == "application/pdf"
    assert file["Content-Disposition"] == (
        f'attachment; filename="certificate-{delivered.code}.pdf"'
    )
    assert file["ETag"] == f'"{report["sha256"]}"'
    assert file["Digest"] == "sha-256=" + base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_the_ledger_export_downloads_as_csv(chain, delivered, client_for, request_report):
    client = client_for(chain.buyer)
    location = request_report(client, {"lot": delivered.code, "kind": "ledger_csv"})["Location"]
    report = client.get(location).json()
    file = client.get(report["download_url"])
    assert file["Content-Type"] == "text/csv; charset=utf-8"
    assert downloaded(file).startswith(b"log_index,lot,seq,kind,")
    assert report["certificate"] is None and report["verify_url"] is None


def test_a_report_not_done_is_not_ready(chain, delivered, client_for):
    client = client_for(chain.buyer)
    # Outside a capture, the task never runs: the report stays queued.
    response = client.post(
        "/api/v1/reports/",
        {"lot": delivered.code, "kind": "audit_pack"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="pack-1",
    )
    download = client.get(f"{response['Location']}download")
    assert download.status_code == 409
    assert download["Content-Type"] == PROBLEM
    assert download.json()["code"] == "report_not_ready"


def test_another_organizations_report_does_not_exist_for_a_partner(
    chain, delivered, client_for, request_report
):
    buyer = client_for(chain.buyer)
    location = request_report(buyer, {"lot": delivered.code, "kind": "certificate"})["Location"]
    report_id = location.rstrip("/").rsplit("/", 1)[-1]

    other = client_for(chain.trader)
    for path in (location, f"{location}download"):
        response = other.get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert other.get("/api/v1/reports/").json()["results"] == []
    # Operators and auditors read every report.
    listed = client_for(chain.auditor).get("/api/v1/reports/").json()["results"]
    assert [report["id"] for report in listed] == [report_id]
    assert buyer.get("/api/v1/reports/not-a-uuid/").status_code == 404
    assert buyer.get("/api/v1/reports/not-a-uuid/download").status_code == 404


def test_the_list_is_filtered_and_paginated_newest_first(
    chain, delivered, client_for, request_report
):
    client = client_for(chain.buyer)
    for kind in ("ledger_csv", "certificate", "ledger_csv"):
        request_report(client, {"lot": delivered.code, "kind": kind})
    first = client.get("/api/v1/reports/?page_size=2").json()
    second = client.get(first["next"]).json()
    listed = [report["id"] for report in first["results"] + second["results"]]
    expected = [
        str(pk) for pk in Report.objects.order_by("-created_at").values_list("pk", flat=True)
    ]
    assert listed == expected
    csvs = client.get("/api/v1/reports/?kind=ledger_csv").json()["results"]
    assert [report["kind"] for report in csvs] == ["ledger_csv", "ledger_csv"]
    not_a_time = base64.b64encode(b"p=yesterday").decode()
    bad = client.get(f"/api/v1/reports/?cursor={not_a_time}")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "cursor"


def test_a_lot_the_caller_may_not_see_is_unknown(chain, delivered, diamond, client_for):
    client = client_for(chain.buyer)
    for code in (diamond["p1"].code, "NO-SUCH-LOT"):
        response = client.post(
            "/api/v1/reports/",
            {"lot": code, "kind": "certificate"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"unknown-{code}",
        )
        assert response.status_code == 422
        assert response.json()["code"] == "unknown_lot"
        assert response.json()["errors"][0]["field"] == "lot"
    assert not Report.objects.exists()


def test_a_bad_kind_or_an_unknown_policy_is_refused(chain, delivered, client_for):
    client = client_for(chain.buyer)

    def post(body):
        return client.post(
            "/api/v1/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        )

    bad_kind = post({"lot": delivered.code, "kind": "spreadsheet"})
    assert bad_kind.status_code == 400
    assert bad_kind.json()["errors"][0]["field"] == "kind"
    unknown = post({"lot": delivered.code, "kind": "certificate", "policy": "us-domestic-2027@99"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_policy"
    extra = post({"lot": delivered.code, "kind": "certificate", "color": "blue"})
    assert extra.status_code == 400
    assert not Report.objects.exists()


def test_a_named_policy_version_is_pinned(chain, delivered, client_for, request_report):
    client = client_for(chain.buyer)
    body = {"lot": delivered.code, "kind": "certificate", "policy": "us-domestic-2027@1"}
    report = client.get(request_report(client, body)["Location"]).json()
    assert report["policy"] == "us-domestic-2027@1" and report["status"] == "done"
    certificate = Report.objects.get().certificate
    assert str(certificate.policy) == "us-domestic-2027@1"


def test_a_retried_request_queues_one_report(chain, delivered, client_for, request_report):
    client = client_for(chain.buyer)
    body = {"lot": delivered.code, "kind": "ledger_csv"}
    first = request_report(client, body, key="same")
    again = request_report(client, body, key="same")
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Report.objects.count() == 1


def test_the_openapi_schema_documents_the_reports_and_verification():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert set(paths["/api/v1/reports/"]) >= {"get", "post"}
    assert "202" in paths["/api/v1/reports/"]["post"]["responses"]
    assert "200" in paths["/api/v1/reports/{id}/"]["get"]["responses"]
    download = paths["/api/v1/reports/{id}/download"]["get"]["responses"]
    assert {"200", "404", "409"} <= set(download)
    verify = paths["/api/v1/verify/{certificate_id}"]["get"]
    assert "200" in verify["responses"] and not verify.get("security")  # public
