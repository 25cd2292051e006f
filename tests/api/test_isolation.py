"""The isolation matrix: every lot endpoint against every organization that may not see or act.
A stranger gets 404 everywhere (the lot does not exist for it; a lot named in a request body is
an ``unknown_lot``, as a code that was never issued) and no list or feed names it; an auditor
reads but writes nothing; only the destination receives."""

from decimal import Decimal

import pytest

from custody import services
from custody.selectors.genealogy import transformation_outputs
from custody.services.transparency_log import integrate_log

from .test_write_api import keyed, post

READS = ["", "events/", "trace/", "verdict/"]
WRITES = {
    "dispatch": {"destination": None},
    "receive": {"measured_mass_kg": "2.000", "seals_intact": True},
    "weigh": {"mass_kg": "2.000"},
    "quarantine": {"reason": "check"},
    "release": {"reason": "checked"},
    "deliver": {"buyer_facility": None},
    "dispose": {"method": "landfill"},
    "correct": {"corrects": None, "reason": "typo", "mass_kg": "2.000"},
}


@pytest.fixture
def shipped(chain, pickup):
    services.dispatch_lot(actor=chain.actor(chain.source), lot=pickup, destination=chain.plant)
    pickup.refresh_from_db()
    return pickup


def bodies(chain, lot):
    filled = dict(WRITES)
    filled["dispatch"] = {"destination": chain.plant.pk}
    filled["deliver"] = {"buyer_facility": chain.buyer_plant.pk}
    filled["correct"] = {**WRITES["correct"], "corrects": str(lot.events.first().uuid)}
    return filled


def test_strangers_get_404_everywhere_and_no_list_names_the_lot(chain, shipped):
    integrate_log()  # the feeds hold what the log has taken
    leaks = []
    for stranger in (chain.buyer, chain.trader, chain.carrier):
        client = keyed(stranger)
        for suffix in READS:
            response = client.get(f"/api/v1/lots/{shipped.code}/{suffix}")
            if response.status_code != 404 or shipped.code in response.content.decode():
                leaks.append((stranger.slug, "GET", suffix, response.status_code))
        for action, body in bodies(chain, shipped).items():
            response = post(client, f"/api/v1/lots/{shipped.code}/{action}/", body)
            if response.status_code != 404:
                leaks.append((stranger.slug, "POST", action, response.status_code))
        for listing in ("/api/v1/lots/", "/api/v1/events/"):
            if shipped.code in client.get(listing).content.decode():
                leaks.append((stranger.slug, "GET", listing, 200))
        for action, body in bodies(chain, shipped).items():
            batch = {"events": [{"lot": shipped.code, "action": action, **body}]}
            response = post(client, "/api/v1/events/", batch)
            if response.json().get("code") != "unknown_lot":
                leaks.append((stranger.slug, "POST", f"events {action}", response.status_code))
        split = post(
            client,
            "/api/v1/transformations/",
            {"kind": "split", "lot": shipped.code, "masses": ["1", "1"]},
        )
        if split.json().get("code") != "unknown_lot":
            leaks.append((stranger.slug, "POST", "transformations", split.status_code))
    assert leaks == []
    assert shipped.events.count() == 2


def test_an_auditor_reads_everything_and_writes_nothing(chain, shipped):
    client = keyed(chain.auditor)
    for suffix in READS:
        assert client.get(f"/api/v1/lots/{shipped.code}/{suffix}").status_code == 200
    for action, body in bodies(chain, shipped).items():
        response = post(client, f"/api/v1/lots/{shipped.code}/{action}/", body)
        assert (response.status_code, response.json()["code"]) == (403, "read_only_organization")
        batch = {"events": [{"lot": shipped.code, "action": action, **body}]}
        response = post(client, "/api/v1/events/", batch)
        assert (response.status_code, response.json()["code"]) == (403, "read_only_organization")
    assert shipped.events.count() == 2


def test_only_the_destination_receives_and_nobody_acts_on_a_lot_in_transit(chain, shipped):
    source, recycler = keyed(chain.source), keyed(chain.recycler)
    receipt = bodies(chain, shipped)["receive"]
    refused = post(source, f"/api/v1/lots/{shipped.code}/receive/", receipt)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_destination")
    batch = {"events": [{"lot": shipped.code, "action": "receive", **receipt}]}
    refused = post(source, "/api/v1/events/", batch)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_destination")
    for action in ("dispatch", "weigh", "deliver", "dispose"):
        response = post(
            recycler, f"/api/v1/lots/{shipped.code}/{action}/", bodies(chain, shipped)[action]
        )
        assert (response.status_code, response.json()["code"]) == (409, "lot_in_transit"), action
    assert post(recycler, f"/api/v1/lots/{shipped.code}/receive/", receipt).status_code == 201
    after = post(source, f"/api/v1/lots/{shipped.code}/weigh/", {"mass_kg": "1"})
    assert (after.status_code, after.json()["code"]) == (403, "not_custodian")


def test_a_trace_names_the_lots_the_caller_never_held_by_code_only(chain):
    from ..custody.genealogy_builders import lot_at_plant

    drives = lot_at_plant(chain, "10.000")
    recycler = chain.actor(chain.recycler)
    made = services.process_lots(
        actor=recycler,
        inputs=[services.Consume(drives)],
        outputs=[services.Produce(material="ndfeb_magnets", mass_kg=Decimal("10.000"))],
    )
    (magnets,) = transformation_outputs(made)
    services.deliver_lot(actor=recycler, lot=magnets, buyer_facility=chain.buyer_plant)

    def traced(organization) -> dict:
        document = keyed(organization).get(f"/api/v1/lots/{magnets.code}/trace/").json()
        return {node["code"]: node["custodian"] is not None for node in document["lots"]}

    assert traced(chain.recycler) == {drives.code: True}  # it received the drives
    assert traced(chain.buyer) == {drives.code: False}  # the magnets alone were delivered to it
