"""Every error page under /api/ is a problem document, whatever failed and wherever: in a view,
before any view, or where no view matches. Never Django's HTML."""

import json
import logging

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import OperationalError
from django.test import RequestFactory
from django.urls import get_resolver

from custody.api.lots import LotViewSet

from .test_read_api import PROBLEM
from .test_write_api import keyed


def answering(client):
    client.raise_request_exception = False  # answer as the server would
    return client


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"].endswith(f"/{code}") and body["title"] and body["detail"]
    return body


def test_an_unexpected_exception_in_a_view_is_a_logged_500_problem(chain, monkeypatch, caplog):
    def broken(self, request, *args, **kwargs):
        raise RuntimeError("a bug in a view")

    monkeypatch.setattr(LotViewSet, "list", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = answering(keyed(chain.source)).get("/api/v1/lots/")
    body = assert_problem(response, 500, "server_error")
    assert "a bug in a view" not in body["detail"]  # nothing of the inside is shown
    (logged,) = [record for record in caplog.records if record.name == "django.request"]
    assert logged.levelno == logging.ERROR
    assert "RuntimeError: a bug in a view" in caplog.text  # with its traceback


@pytest.mark.parametrize(
    ("where", "method"),
    [(LotViewSet, "initial"), (SessionMiddleware, "process_request")],
    ids=["in a view", "before any view"],
)
def test_a_lost_database_is_a_503_problem_wherever_it_is_noticed(chain, where, method, monkeypatch):
    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(where, method, database_gone)
    response = answering(keyed(chain.source)).get("/api/v1/lots/")
    assert_problem(response, 503, "database_unavailable")
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/v2/lots/", "/api/v1/lots/X/y/"])
def test_an_unknown_url_under_api_is_a_404_problem(chain, method, path):
    response = getattr(answering(keyed(chain.source)), method)(path)
    assert_problem(response, 404, "not_found")


def test_a_method_a_resource_does_not_allow_is_a_405_problem(chain):
    response = answering(keyed(chain.source)).delete("/api/v1/lots/")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_a_request_refused_before_any_view_is_a_400_problem(chain, settings):
    settings.ALLOWED_HOSTS = ["ledger.example.com"]
    response = answering(keyed(chain.source)).get("/api/v1/lots/", HTTP_HOST="evil.example")
    assert_problem(response, 400, "bad_request")


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "bad_request"), (403, "permission_denied"), (404, "not_found"), (500, "server_error")],
)
def test_each_of_djangos_error_handlers_answers_a_problem_under_api_and_html_elsewhere(
    status, code
):
    handler = get_resolver().resolve_error_handler(status)
    arguments = () if status == 500 else (Exception("refused"),)
    for path, api in [("/api/v1/lots/", True), ("/admin/", False)]:
        response = handler(RequestFactory().get(path), *arguments)
        assert response.status_code == status
        if api:
            assert_problem(response, status, code)
        else:
            assert response["Content-Type"].startswith("text/html")


def test_the_health_check_answers_a_503_problem_when_the_database_is_gone(db, client, monkeypatch):
    """Load balancers and probes read /healthz: a lost database is a 503 they can act on, not
    Django's HTML 500."""
    from config import urls

    class Gone:
        def cursor(self):
            raise OperationalError("could not connect to server")

    assert client.get("/healthz").json() == {"status": "ok"}
    monkeypatch.setattr(urls, "connection", Gone())
    response = answering(client).get("/healthz")
    assert_problem(response, 503, "database_unavailable")
    assert int(response["Retry-After"]) > 0


def test_the_schema_documents_the_500_and_503_problems(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in schema["paths"].values():
        for operation in path.values():
            assert {"500", "503"} <= set(operation["responses"]), operation["operationId"]
