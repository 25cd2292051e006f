"""A dispatch names its carrier by slug, as the request did. Events recorded before that name it
by the organization's id: they still verify, and the lot page still names the carrier."""

from custody.selectors.verification import verify_ledger
from custody.services import movements

from ..api.test_write_api import keyed, post
from ..conftest import ship
from .admin_pages import lot_page


def dispatch_details(lot):
    return lot.events.get(kind="dispatched").details


def test_a_dispatch_through_the_api_stores_the_carriers_slug(admin_client, chain, pickup):
    answer = post(
        keyed(chain.source),
        f"/api/v1/lots/{pickup.code}/dispatch/",
        {"destination": chain.plant.pk, "carrier": chain.carrier.slug},
    )
    assert answer.status_code == 201, answer.json()
    assert dispatch_details(pickup)["carrier"] == "carrier"
    events = keyed(chain.source).get(f"/api/v1/lots/{pickup.code}/events/").json()["results"]
    assert events[-1]["details"]["carrier"] == "carrier"
    assert verify_ledger(lot_codes=[pickup.code]).ok
    dispatched = admin_client.get(lot_page(pickup)).context["timeline"][1]
    assert ("carrier", "Carrier", "") in dispatched["summary"]


def test_a_dispatch_recorded_with_the_carriers_id_still_verifies_and_reads(
    admin_client, chain, pickup, monkeypatch
):
    def as_before(**event):  # the dispatch as it was recorded before slugs
        if event["kind"] == "dispatched":
            event["details"]["carrier"] = chain.carrier.pk
        return append_event(**event)

    append_event = movements.append_event
    monkeypatch.setattr(movements, "append_event", as_before)
    old = ship(chain, pickup, carrier=chain.carrier)
    monkeypatch.undo()
    assert dispatch_details(old)["carrier"] == chain.carrier.pk
    new = ship(chain, old, to=chain.buyer_plant, carrier=chain.carrier)
    carriers = [event.details["carrier"] for event in new.events.filter(kind="dispatched")]
    assert carriers == [chain.carrier.pk, "carrier"]

    assert verify_ledger().ok
    timeline = admin_client.get(lot_page(new)).context["timeline"]
    named = [
        text
        for row in timeline
        for label, text, _ in row["summary"]
        if label == "carrier" and row["event"].kind == "dispatched"
    ]
    assert named == ["Carrier", "Carrier"]
