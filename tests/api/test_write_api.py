"""Partner API v1 writes: pickups and custody actions through the services, idempotency,
problem documents for bad input, nothing half-written."""

import threading
import uuid

import pytest
from django.db import connections
from rest_framework.test import APIClient

from custody.models import CustodyEvent, IdempotencyRecord, Lot, Transformation
from recyclers.models import OrganizationAPIKey

from .test_read_api import PROBLEM, key_for


def keyed(organization):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_for(organization)}")
    return client


def post(client, url, body, key=None):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def pickup_body(chain, **changes):
    return {
        "facility": chain.data_center.pk,
        "material": "hdd",
        "mass_kg": "1.340",
        "occurred_at": "2026-11-01T09:30:00-05:00",
        "assets": [
            {
                "category": "hdd_3_5",
                "serial": "S1",
                "sanitization_method": "purge",
                "sanitized_at": "2026-10-30T12:00:00Z",
            },
            {
                "category": "hdd_3_5",
                "serial": "S2",
                "sanitization_method": "purge",
                "sanitized_at": "2026-10-30T12:00:00Z",
            },
        ],
    } | changes


def test_an_actions_answer_is_what_reading_the_lot_and_its_events_gives(chain):
    """The answer is built from what the service holds in memory; it must not differ from the
    stored rows in any detail (offsets, decimal places, verdict, facilities)."""
    source = keyed(chain.source)
    code = post(source, "/api/v1/lots/", pickup_body(chain)).json()["code"]
    for action, body in [
        ("weigh", {"mass_kg": "1.3", "occurred_at": "2026-11-02T10:00:00+02:00"}),
        ("dispatch", {"destination": chain.plant.pk, "carrier": "carrier"}),
    ]:
        answered = post(source, f"/api/v1/lots/{code}/{action}/", body)
        assert answered.status_code == 201, answered.json()
        assert answered.json()["lot"] == source.get(f"/api/v1/lots/{code}/").json()
        events = source.get(f"/api/v1/lots/{code}/events/").json()["results"]
        assert answered.json()["event"] == events[-1]
    assert events[-2]["occurred_at"] == "2026-11-02T08:00:00Z"
    assert events[-2]["mass_kg"] == "1.300"


def test_a_pickup_dispatch_and_receipt_over_the_api(chain):
    source, recycler = keyed(chain.source), keyed(chain.recycler)
    created = post(source, "/api/v1/lots/", pickup_body(chain))
    assert created.status_code == 201, created.json()
    code = created.json()["code"]
    lot = Lot.objects.get(code=code)
    assert (str(lot.mass_kg), lot.assets.count()) == ("1.340", 2)
    prefix = OrganizationAPIKey.objects.get(organization=chain.source).prefix
    assert lot.events.get().actor_api_key_prefix == prefix
    dispatched = post(
        source,
        f"/api/v1/lots/{code}/dispatch/",
        {
            "destination": chain.plant.pk,
            "carrier": "carrier",
            "seal_numbers": ["A1"],
        },
    )
    assert dispatched.status_code == 201, dispatched.json()
    assert dispatched.json()["lot"]["status"] == "in_transit"
    received = post(
        recycler,
        f"/api/v1/lots/{code}/receive/",
        {"measured_mass_kg": "1.338", "seals_intact": True},
    )
    assert received.status_code == 201
    assert received.json()["event"]["details"]["difference_kg"] == "-0.002"
    verdict = recycler.get(f"/api/v1/lots/{code}/verdict/").json()
    assert verdict["outcome"] in {"verified", "non_compliant"}


class TestErrors:
    @pytest.mark.parametrize(
        ("changes", "status", "code", "field"),
        [
            ({"mass_kg": "-1"}, 422, "negative_mass", "mass_kg"),
            ({"mass_kg": "1.0001"}, 400, "invalid", "mass_kg"),
            ({"mass_kg": "heavy"}, 400, "invalid", "mass_kg"),
            ({"mass_kg": "1e30"}, 400, "invalid", "mass_kg"),
            ({"facility": 999999}, 400, "invalid", "facility"),
            ({"facility": "0614141000036"}, 400, "invalid", "facility"),
            ({"material": "ndpr_oxide"}, 422, "not_source_material", "material"),
            ({"occurred_at": "2026-11-01T09:30:00"}, 400, "invalid", "occurred_at"),
            ({"occurred_at": "2099-01-01T00:00:00Z"}, 422, "time_in_future", "occurred_at"),
            ({"colour": "red"}, 400, "invalid", "colour"),
            ({"assets": []}, 422, "empty_manifest", "assets"),
        ],
    )
    def test_bad_input_is_a_problem_and_writes_nothing(self, chain, changes, status, code, field):
        response = post(keyed(chain.source), "/api/v1/lots/", pickup_body(chain, **changes))
        assert response.status_code == status, response.json()
        assert response["Content-Type"] == PROBLEM
        body = response.json()
        assert body["code"] == code
        assert field in {error["field"] for error in body.get("errors", [])}
        assert not Lot.objects.exists()
        assert not CustodyEvent.objects.exists()

    def test_malformed_json_is_a_400(self, chain):
        response = keyed(chain.source).post(
            "/api/v1/lots/",
            "{not json",
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="k1",
        )
        assert response.status_code == 400
        assert response.json()["code"] == "parse_error"

    def test_state_conflicts_and_strangers(self, chain, pickup):
        recycler, source = keyed(chain.recycler), keyed(chain.source)
        url = f"/api/v1/lots/{pickup.code}/"
        assert post(recycler, url + "weigh/", {"mass_kg": "2"}).status_code == 404
        refused = post(source, url + "receive/", {"measured_mass_kg": "2", "seals_intact": True})
        assert (refused.status_code, refused.json()["code"]) == (409, "lot_not_in_transit")
        assert (
            post(
                source, url + "dispatch/", {"destination": chain.plant.gln or chain.plant.pk}
            ).status_code
            == 201
        )
        again = post(source, url + "dispatch/", {"destination": chain.plant.pk})
        assert (again.status_code, again.json()["code"]) == (409, "lot_in_transit")
        auditor = keyed(chain.auditor)
        denied = post(auditor, url + "quarantine/", {"reason": "looks odd"})
        assert (denied.status_code, denied.json()["code"]) == (403, "read_only_organization")

    def test_a_correction_names_an_event_of_the_lot(self, chain, pickup):
        source = keyed(chain.source)
        body = {"corrects": str(uuid.uuid4()), "reason": "typo", "mass_kg": "2.000"}
        wrong = post(source, f"/api/v1/lots/{pickup.code}/correct/", body)
        assert (wrong.status_code, wrong.json()["code"]) == (422, "event_not_in_lot")
        right = post(
            source,
            f"/api/v1/lots/{pickup.code}/correct/",
            {
                "corrects": str(pickup.events.get().uuid),
                "reason": "typo",
                "mass_kg": "2.000",
            },
        )
        assert right.status_code == 201
        assert right.json()["lot"]["mass_kg"] == "2.000"


class TestIdempotency:
    def test_a_key_is_required_with_an_api_key(self, chain):
        response = keyed(chain.source).post("/api/v1/lots/", pickup_body(chain), format="json")
        assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_missing")

    def test_a_replay_returns_the_first_response_and_writes_nothing(self, chain):
        source = keyed(chain.source)
        first = post(source, "/api/v1/lots/", pickup_body(chain), key="erp-1")
        again = post(source, "/api/v1/lots/", pickup_body(chain), key="erp-1")
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert again["Idempotent-Replayed"] == "true"
        assert Lot.objects.count() == 1
        other = post(source, "/api/v1/lots/", pickup_body(chain, mass_kg="9"), key="erp-1")
        assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")

    def test_a_refusal_is_replayed_too(self, chain, pickup):
        source = keyed(chain.source)
        url = f"/api/v1/lots/{pickup.code}/receive/"
        body = {"measured_mass_kg": "2", "seals_intact": True}
        first = post(source, url, body, key="r-1")
        again = post(source, url, body, key="r-1")
        assert first.status_code == again.status_code == 409
        assert again["Content-Type"] == PROBLEM
        assert IdempotencyRecord.objects.filter(key="r-1").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_replays_write_one_event(chain, pickup):
    key = key_for(chain.source)
    start = threading.Barrier(20)
    statuses, bodies = [], []

    def replay():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        try:
            start.wait()
            response = client.post(
                f"/api/v1/lots/{pickup.code}/weigh/",
                {"mass_kg": "2.222"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="scale-77",
            )
            statuses.append(response.status_code)
            bodies.append(response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=replay) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 20
    assert len({body["event"]["uuid"] for body in bodies}) == 1
    assert pickup.events.filter(kind="weighed").count() == 1


class TestTransformations:
    def test_process_split_and_merge_over_the_api(self, chain):
        from custody.selectors.genealogy import transformation_outputs

        from ..custody.genealogy_builders import lot_at_plant

        drives = lot_at_plant(chain, "10.000")
        recycler = keyed(chain.recycler)
        made = post(
            recycler,
            "/api/v1/transformations/",
            {
                "kind": "process",
                "inputs": [{"lot": drives.code}],
                "outputs": [{"material": "ndfeb_magnets", "mass_kg": "0.200"}],
                "residues": [{"kind": "steel", "mass_kg": "9.700", "destination": "Mill"}],
            },
        )
        assert made.status_code == 201, made.json()
        (magnets,) = made.json()["outputs"]
        split = post(
            recycler,
            "/api/v1/transformations/",
            {"kind": "split", "lot": magnets, "masses": ["0.120", "0.080"]},
        )
        assert split.status_code == 201
        halves = split.json()["outputs"]
        merged = post(recycler, "/api/v1/transformations/", {"kind": "merge", "lots": halves})
        assert merged.status_code == 201
        assert merged.json()["output_kg"] == "0.200"
        (final,) = transformation_outputs(Transformation.objects.get(uuid=merged.json()["uuid"]))
        assert (
            keyed(chain.recycler)
            .get(f"/api/v1/lots/{final.code}/trace/")
            .json()["contributions"][0]["pickup"]
            == drives.code
        )

    def test_refusals(self, chain, pickup):
        from ..custody.genealogy_builders import lot_at_plant

        drives = lot_at_plant(chain, "10.000")
        recycler = keyed(chain.recycler)
        url = "/api/v1/transformations/"
        missing = post(recycler, url, {"kind": "split", "lot": drives.code})
        assert (missing.status_code, missing.json()["errors"][0]["field"]) == (400, "masses")
        hidden = post(recycler, url, {"kind": "split", "lot": pickup.code, "masses": ["1", "1"]})
        assert (hidden.status_code, hidden.json()["code"]) == (422, "unknown_lot")
        too_much = post(
            recycler,
            url,
            {
                "kind": "process",
                "inputs": [{"lot": drives.code}],
                "outputs": [{"material": "shredded_hdd", "mass_kg": "11"}],
            },
        )
        assert (too_much.status_code, too_much.json()["code"]) == (422, "mass_not_conserved")
