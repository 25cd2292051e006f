"""The transparency log over HTTP: the public checkpoint and key, and proofs that verify
against them, only for events the caller may see."""

import base64

import pytest
from rest_framework.test import APIClient

from custody import merkle, notes, services
from custody.services.transparency_log import integrate_log

from ..conftest import ship
from .test_read_api import PROBLEM, key_for


def unb64(values):
    return [base64.b64decode(value) for value in values]


@pytest.fixture
def client_for():
    def build(organization) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_for(organization)}")
        return client

    return build


@pytest.fixture
def logged(chain, pickup):
    """A lot shipped to the recycler, its three events in the log."""
    ship(chain, pickup)
    integrate_log()
    return pickup


class TestCheckpoint:
    def test_the_checkpoint_and_the_key_are_public_and_verify(self, logged):
        client = APIClient()
        body = client.get("/api/v1/log/checkpoint").json()
        vkey = client.get("/.well-known/ledger-log-key").content.decode().strip()
        assert body["verifier_key"] == vkey
        stated = notes.open_note(body["note"], vkey)
        assert (stated.size, base64.b64encode(stated.root_hash).decode()) == (
            body["tree_size"],
            body["root_hash"],
        )
        assert body["tree_size"] == 3

    def test_the_signed_note_alone_as_text(self, logged):
        response = APIClient().get("/api/v1/log/checkpoint", HTTP_ACCEPT="text/plain")
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode().startswith("ree-custody.example/ledger\n3\n")

    def test_before_the_first_integration_there_is_no_checkpoint(self, chain):
        response = APIClient().get("/api/v1/log/checkpoint")
        assert response.status_code == 409
        assert response["Content-Type"] == PROBLEM
        assert response.json()["code"] == "log_empty"


class TestInclusion:
    def test_an_event_the_caller_may_see_has_a_proof_that_verifies(self, chain, logged, client_for):
        event = logged.events.get(seq=2)
        client = client_for(chain.recycler)
        body = client.get(f"/api/v1/log/proof/inclusion?event={event.uuid}").json()
        checkpoint = client.get("/api/v1/log/checkpoint").json()
        leaf = merkle.leaf_hash(bytes.fromhex(body["event_hash"]))
        assert body["event_hash"] == event.hash
        assert base64.b64decode(body["leaf_hash"]) == leaf
        assert merkle.verify_inclusion(
            leaf,
            body["leaf_index"],
            body["tree_size"],
            unb64(body["hashes"]),
            base64.b64decode(checkpoint["root_hash"]),
        )
        assert body["checkpoint"] == checkpoint["note"]

    def test_an_event_of_a_lot_the_caller_may_not_see_is_as_unknown(
        self, chain, logged, client_for
    ):
        event = logged.events.get(seq=1)
        client = client_for(chain.trader)
        hidden = client.get(f"/api/v1/log/proof/inclusion?event={event.uuid}")
        unknown = client.get(
            "/api/v1/log/proof/inclusion?event=" + "0" * 8 + "-0000-4000-8000-" + "0" * 12
        )
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.json() == unknown.json()

    def test_refusals_name_their_field(self, chain, logged, client_for):
        event = logged.events.get(seq=1)
        client = client_for(chain.source)
        cases = {
            "event=not-a-uuid": (400, "invalid", "event"),
            f"event={event.uuid}&tree_size=4": (422, "tree_size_beyond_checkpoint", "tree_size"),
            f"event={event.uuid}&tree_size=0": (400, "invalid", "tree_size"),
            f"event={event.uuid}&tree_size=x": (400, "invalid", "tree_size"),
        }
        for query, (status, code, field) in cases.items():
            response = client.get(f"/api/v1/log/proof/inclusion?{query}")
            assert response.status_code == status, (query, response.json())
            assert response.json()["code"] == code
            assert response.json()["errors"][0]["field"] == field

    def test_an_event_not_yet_integrated_or_after_the_tree_asked(self, chain, logged, client_for):
        client = client_for(chain.recycler)
        first = logged.events.get(seq=1)
        response = client.get(f"/api/v1/log/proof/inclusion?event={first.uuid}&tree_size=1")
        assert response.status_code == 200
        third = logged.events.get(seq=3)
        response = client.get(f"/api/v1/log/proof/inclusion?event={third.uuid}&tree_size=2")
        assert (response.status_code, response.json()["code"]) == (422, "event_not_in_tree")
        weighed = services.weigh_lot(
            actor=chain.actor(chain.recycler), lot=logged, mass_kg=logged.mass_kg
        )
        response = client.get(f"/api/v1/log/proof/inclusion?event={weighed.uuid}")
        assert (response.status_code, response.json()["code"]) == (409, "event_not_yet_in_log")

    def test_a_proof_needs_an_api_key(self, logged):
        event = logged.events.get(seq=1)
        response = APIClient().get(f"/api/v1/log/proof/inclusion?event={event.uuid}")
        assert response.status_code == 401


class TestConsistency:
    def test_each_checkpoint_extends_the_one_before(self, chain, logged, client_for):
        first = APIClient().get("/api/v1/log/checkpoint").json()
        services.weigh_lot(actor=chain.actor(chain.recycler), lot=logged, mass_kg=logged.mass_kg)
        integrate_log()
        second = APIClient().get("/api/v1/log/checkpoint").json()
        client = client_for(chain.auditor)
        body = client.get(f"/api/v1/log/proof/consistency?first={first['tree_size']}").json()
        assert (body["first"], body["second"]) == (3, 4)
        assert body["first_checkpoint"] == first["note"]
        assert merkle.verify_consistency(
            3,
            4,
            unb64(body["hashes"]),
            base64.b64decode(first["root_hash"]),
            base64.b64decode(second["root_hash"]),
        )

    def test_refusals(self, chain, logged, client_for):
        client = client_for(chain.auditor)
        for query, status, code in (
            ("first=2&second=9", 422, "tree_size_beyond_checkpoint"),
            ("first=3&second=2", 422, "tree_sizes_out_of_order"),
            ("second=2", 400, "invalid"),
            ("first=-1", 400, "invalid"),
        ):
            response = client.get(f"/api/v1/log/proof/consistency?{query}")
            assert (response.status_code, response.json()["code"]) == (status, code), query
