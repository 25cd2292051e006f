"""Partner API v1 reads: API keys, least knowledge (404 as if the lot did not exist), problem
documents, filters and the OpenAPI schema."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from custody import services
from custody.services.transparency_log import integrate_log
from recyclers.models import OrganizationAPIKey

from ..conftest import ship

PROBLEM = "application/problem+json"


def key_for(organization, **kwargs) -> str:
    out = StringIO()
    call_command(
        "create_api_key",
        organization.slug,
        "--name",
        "tests",
        stdout=out,
        stderr=StringIO(),
        **kwargs,
    )
    return out.getvalue().strip()


@pytest.fixture
def client_for():
    def build(organization) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_for(organization)}")
        return client

    return build


def lot_url(lot, suffix="") -> str:
    return f"/api/v1/lots/{lot.code}/{suffix}"


class TestKeys:
    def test_a_key_is_shown_once_stored_hashed_and_authenticates(self, chain, pickup):
        key = key_for(chain.source)
        stored = OrganizationAPIKey.objects.get(organization=chain.source)
        assert key.startswith(f"{stored.prefix}.")
        assert key not in stored.hashed_key
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        response = client.get("/api/v1/lots/")
        assert response.status_code == 200
        assert [lot["code"] for lot in response.json()["results"]] == [pickup.code]

    @pytest.mark.parametrize("state", ["missing", "unknown", "revoked", "expired"])
    def test_a_bad_key_is_a_401_problem(self, chain, state):
        key = key_for(chain.source)
        stored = OrganizationAPIKey.objects.get(organization=chain.source)
        client = APIClient()
        if state == "unknown":
            key = f"{stored.prefix}.not-the-secret"
        elif state == "revoked":
            stored.revoked = True
            stored.save()
        elif state == "expired":
            stored.expiry_date = timezone.now() - timedelta(minutes=1)
            stored.save()
        if state != "missing":
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        response = client.get("/api/v1/lots/")
        assert response.status_code == 401
        assert response["Content-Type"] == PROBLEM
        body = response.json()
        assert body["status"] == 401
        assert body["code"] in {"not_authenticated", "authentication_failed"}
        assert response["WWW-Authenticate"] == "Api-Key"

    def test_the_command_refuses_an_unknown_organization(self, db):
        with pytest.raises(Exception, match="No organization 'nobody'"):
            call_command("create_api_key", "nobody", "--name", "x", stdout=StringIO())


LOT_ENDPOINTS = ["", "events/", "trace/", "verdict/"]


class TestLeastKnowledge:
    def test_each_party_sees_what_it_held_or_is_named_to_receive(self, chain, pickup, client_for):
        source, recycler, trader = (
            client_for(o) for o in (chain.source, chain.recycler, chain.trader)
        )
        assert source.get(lot_url(pickup)).status_code == 200
        for suffix in LOT_ENDPOINTS:
            response = recycler.get(lot_url(pickup, suffix))
            assert response.status_code == 404, suffix
            assert response["Content-Type"] == PROBLEM
        services.dispatch_lot(actor=chain.actor(chain.source), lot=pickup, destination=chain.plant)
        for suffix in LOT_ENDPOINTS:
            assert recycler.get(lot_url(pickup, suffix)).status_code == 200, suffix
            assert trader.get(lot_url(pickup, suffix)).status_code == 404, suffix
        assert recycler.get("/api/v1/lots/").json()["results"][0]["code"] == pickup.code
        assert trader.get("/api/v1/lots/").json()["results"] == []
        assert trader.get("/api/v1/events/").json()["results"] == []

    def test_operators_and_auditors_see_everything(self, chain, pickup, client_for):
        for organization in (chain.operator, chain.auditor):
            client = client_for(organization)
            for suffix in LOT_ENDPOINTS:
                assert client.get(lot_url(pickup, suffix)).status_code == 200

    def test_a_buyer_sees_what_was_delivered_to_it(self, chain, pickup, client_for):
        buyer = client_for(chain.buyer)
        assert buyer.get(lot_url(pickup)).status_code == 404
        services.deliver_lot(
            actor=chain.actor(chain.source), lot=pickup, buyer_facility=chain.buyer_plant
        )
        assert buyer.get(lot_url(pickup)).status_code == 200


class TestLotReads:
    def test_lot_detail_events_trace_and_verdict(self, chain, pickup, client_for):
        client = client_for(chain.source)
        lot = client.get(lot_url(pickup)).json()
        assert lot["mass_kg"] == "2.010"
        assert lot["custodian"]["name"] == "DC Ashburn"
        events = client.get(lot_url(pickup, "events/")).json()["results"]
        assert [(e["seq"], e["kind"]) for e in events] == [(1, "registered")]
        assert events[0]["hash"] == pickup.head_hash
        verdict = client.get(lot_url(pickup, "verdict/")).json()
        assert verdict["outcome"] == "verified"
        assert verdict["policy"]["version"] == 1
        trace = client.get(lot_url(pickup, "trace/"), {"direction": "down"}).json()
        assert trace == {"lot": pickup.code, "direction": "down", "lots": [], "links": []}
        bad = client.get(lot_url(pickup, "trace/"), {"direction": "sideways"})
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["field"] == "direction"

    def test_filters(self, chain, pickup, client_for):
        client = client_for(chain.operator)
        services.weigh_lot(actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("2"))
        call_command("assess", pickup.code, stdout=StringIO())
        assert client.get("/api/v1/lots/", {"verdict": "verified"}).json()["results"]
        assert client.get("/api/v1/lots/", {"status": "in_transit"}).json()["results"] == []
        future = (timezone.now() + timedelta(hours=1)).isoformat()
        assert client.get("/api/v1/lots/", {"updated_since": future}).json()["results"] == []
        bad = client.get("/api/v1/lots/", {"status": "lost"})
        assert bad.status_code == 400
        assert bad["Content-Type"] == PROBLEM
        assert bad.json()["errors"][0]["field"] == "status"

    def test_reference_data(self, chain, client_for):
        client = client_for(chain.recycler)
        slugs = {o["slug"] for o in client.get("/api/v1/organizations/").json()["results"]}
        assert {"hyperscaler", "recycler", "magnets"} <= slugs
        malaysian = client.get("/api/v1/facilities/", {"country": "MY"}).json()["results"]
        assert [f["name"] for f in malaysian] == ["Port Klang yard"]


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/lots/{code}/verdict/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_each_key_has_its_own_budget_and_a_429_says_when_to_retry(chain, client_for, monkeypatch):
    from custody.api.throttling import PerKeyThrottle

    monkeypatch.setattr(PerKeyThrottle, "THROTTLE_RATES", {"partner": "2/min"})
    first, second = client_for(chain.source), client_for(chain.source)
    assert [first.get("/api/v1/lots/").status_code for _ in range(2)] == [200, 200]
    throttled = first.get("/api/v1/lots/")
    assert throttled.status_code == 429
    assert throttled["Content-Type"] == PROBLEM
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert second.get("/api/v1/lots/").status_code == 200


def test_a_key_gets_its_budget_back_when_the_window_turns(chain, client_for, monkeypatch):
    from custody.api.throttling import PerKeyThrottle

    monkeypatch.setattr(PerKeyThrottle, "THROTTLE_RATES", {"partner": "2/min"})
    clock = [600.0]  # the start of a one-minute window
    monkeypatch.setattr(PerKeyThrottle, "timer", lambda self: clock[0])
    partner = client_for(chain.source)
    assert [partner.get("/api/v1/lots/").status_code for _ in range(3)] == [200, 200, 429]
    clock[0] = 645.5
    throttled = partner.get("/api/v1/lots/")
    assert (throttled.status_code, throttled["Retry-After"]) == (429, "15")
    clock[0] = 660.0
    assert partner.get("/api/v1/lots/").status_code == 200


def test_updated_since_with_an_exotic_offset_is_read_in_utc(chain, pickup, client_for):
    # Found by schemathesis: PostgreSQL refuses a -19:32 offset that ISO 8601 parsers accept.
    response = client_for(chain.source).get(
        "/api/v1/lots/", {"updated_since": "2000-11-15T04:48:15-19:32"}
    )
    assert response.status_code == 200
    assert [lot["code"] for lot in response.json()["results"]] == [pickup.code]


def test_an_operator_issues_a_key_in_the_admin_and_sees_it_once(admin_client, chain):
    response = admin_client.post(
        "/admin/recyclers/organizationapikey/add/",
        {
            "name": "ERP",
            "organization": chain.recycler.pk,
            "expiry_date_0": "",
            "expiry_date_1": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    stored = OrganizationAPIKey.objects.get(organization=chain.recycler)
    (shown,) = [str(m) for m in response.context["messages"] if "The API key for" in str(m)]
    key = shown.split(" is: ")[1].split(". Please")[0]
    assert key.startswith(f"{stored.prefix}.")
    assert key not in stored.hashed_key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get("/api/v1/lots/").status_code == 200


def test_the_feed_gives_an_event_once_it_is_in_the_log_and_holds_nothing_back(
    chain, pickup, client_for
):
    client = client_for(chain.source)
    assert client.get("/api/v1/events/").json()["results"] == []  # committed, not yet logged
    integrate_log()
    assert [e["seq"] for e in client.get("/api/v1/events/").json()["results"]] == [1]


def test_a_partner_pages_through_its_lots_both_ways_and_meets_only_its_own(chain, client_for):
    """Pages of one lot, forward then back: each page starts where the cursor says (the
    visibility record is read from there), and lots the partner may not see never show."""
    source = chain.actor(chain.source)
    lots = [
        services.register_pickup(
            actor=source,
            facility=chain.data_center,
            material="hdd",
            mass_kg=Decimal("1"),
            assets=[services.AssetLine(category="hdd_3_5", serial=f"P{n}")],
        )
        for n in range(5)
    ]
    for lot in lots[1::2]:
        ship(chain, lot)
    recycler = client_for(chain.recycler)
    url, forward = "/api/v1/lots/?page_size=1", []
    while url:
        page = recycler.get(url).json()
        forward += [lot["code"] for lot in page["results"]]
        previous, url = page["previous"], page["next"]
    assert forward == [lots[3].code, lots[1].code]
    back = recycler.get(previous).json()
    assert [lot["code"] for lot in back["results"]] == [lots[3].code]
