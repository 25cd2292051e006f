"""The event feed (``GET /api/v1/events/``): every event the caller may see, each once, resumable
from its cursor, including the history of a lot that becomes visible to it after it read past
that history (the usual case: registered at the pickup, dispatched to the recycler later).
Its order is the transparency log's (``test_log_feed``): the reader here lets the log integrate
first, as beat does every few seconds."""

import base64
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from custody import services
from custody.models import CustodyEvent
from custody.services.transparency_log import integrate_log

from ..conftest import drive_manifest, ship
from .test_write_api import keyed

FEED = "/api/v1/events/"


def read_to_the_end(client, url=FEED) -> tuple[list[tuple[str, int, str]], str]:
    """Every page from ``url`` on, once the log has integrated what was committed: the events
    as (lot, seq, kind), and the cursor to resume from (the feed's ``next`` is never null: at
    the end it is where to poll from)."""
    integrate_log()
    events = []
    while True:
        page = client.get(url)
        assert page.status_code == 200, page.json()
        body = page.json()
        assert body["next"], body
        events += [(event["lot"], event["seq"], event["kind"]) for event in body["results"]]
        url = body["next"]
        if not body["results"]:
            return events, url


def register(chain, mass="1.000"):
    return services.register_pickup(
        actor=chain.actor(chain.source),
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal(mass),
        assets=drive_manifest(1),
    )


def test_a_lot_dispatched_after_the_reader_read_to_the_end_brings_its_registration(chain):
    """The exact sequence: register, the reader reads its feed to the end, dispatch to the
    reader, the reader resumes from its cursor: the registration and the dispatch, once each."""
    reader = keyed(chain.recycler)
    lot = register(chain)
    before, cursor = read_to_the_end(reader)
    assert before == []
    services.dispatch_lot(actor=chain.actor(chain.source), lot=lot, destination=chain.plant)
    after, cursor = read_to_the_end(reader, cursor)
    assert after == [(lot.code, 1, "registered"), (lot.code, 2, "dispatched")]
    assert read_to_the_end(reader, cursor)[0] == []


def test_the_history_comes_even_when_the_cursor_is_past_it(chain):
    """The reader's cursor stands past the lot's registration (it read younger events of
    another lot); the lot dispatched to it later still brings its registration."""
    reader = keyed(chain.recycler)
    early = register(chain, "1.000")
    other = register(chain, "2.000")
    ship(chain, other)
    seen, cursor = read_to_the_end(reader)
    assert [seq for code, seq, _ in seen if code == other.code] == [1, 2, 3]
    assert CustodyEvent.objects.get(lot=early).pk < CustodyEvent.objects.filter(lot=other)[2].pk
    ship(chain, early)
    later, cursor = read_to_the_end(reader, cursor)
    assert later == [
        (early.code, 1, "registered"),
        (early.code, 2, "dispatched"),
        (early.code, 3, "received"),
    ]
    assert read_to_the_end(reader, cursor)[0] == []


def test_each_feed_has_each_event_it_may_see_once_and_operators_read_every_event(chain, pickup):
    source, recycler, buyer = (keyed(o) for o in (chain.source, chain.recycler, chain.buyer))
    feeds = {name: read_to_the_end(client) for name, client in [("source", source)]}
    ship(chain, pickup)
    services.weigh_lot(actor=chain.actor(chain.recycler), lot=pickup, mass_kg=Decimal("2"))
    services.deliver_lot(
        actor=chain.actor(chain.recycler), lot=pickup, buyer_facility=chain.buyer_plant
    )
    everything = [
        (pickup.code, seq, kind) for seq, kind in pickup.events.values_list("seq", "kind")
    ]
    assert read_to_the_end(source)[0] == everything
    assert feeds["source"][0] + read_to_the_end(source, feeds["source"][1])[0] == everything
    assert read_to_the_end(recycler)[0] == everything
    assert read_to_the_end(buyer)[0] == everything
    operator, _ = read_to_the_end(keyed(chain.operator))
    assert operator == [  # in log order, which for writes one after the other is id order
        (event.lot.code, event.seq, event.kind) for event in CustodyEvent.objects.order_by("pk")
    ]
    assert read_to_the_end(keyed(chain.trader))[0] == []


def test_written_and_log_name_the_one_order_and_a_cursor_from_before_is_refused(chain, pickup):
    reader = keyed(chain.source)
    ship(chain, pickup)
    orders = {
        order: read_to_the_end(reader, f"{FEED}?order={order}&page_size=1")[0]
        for order in ("log", "written")
    }
    assert orders["log"] == orders["written"] == read_to_the_end(reader)[0]
    assert len(orders["log"]) == 3
    # A cursor the feed gave before migration 0015: a bare entry id or log position.
    for position in ("1", "4294967296"):
        old = base64.b64encode(f"p={position}".encode()).decode()
        response = reader.get(f"{FEED}?cursor={old}")
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert (error["field"], error["code"]) == ("cursor", "stale_cursor")
        assert "without a cursor" in error["message"]
    garbled = base64.b64encode(b"p=Lx").decode()
    response = reader.get(f"{FEED}?cursor={garbled}")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (
        400,
        "invalid_cursor",
    )


def test_a_batch_of_twenty_writes_its_visibility_in_a_few_statements_and_no_feed(chain):
    """The ledger transaction writes the visibility record; the feed entries are the log's
    integrator's to write, in commit order."""
    lots = [register(chain, f"1.{n:03d}") for n in range(20)]
    actions = [services.LotAction(lot, "dispatch", {"destination": chain.plant}) for lot in lots]
    with CaptureQueriesContext(connection) as statements:
        services.record_batch(actor=chain.actor(chain.source), actions=actions)
    touching = [
        q["sql"]
        for q in statements
        if "custody_lotvisibility" in q["sql"] or "custody_feedentry" in q["sql"]
    ]
    assert len(touching) <= 3, touching
    assert not any("custody_feedentry" in sql for sql in touching)
    fed, _ = read_to_the_end(keyed(chain.recycler))
    assert len(fed) == 40  # each lot's registration and dispatch
