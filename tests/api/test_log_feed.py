"""The event feed's order is the log's (``GET /api/v1/events/``, also ``?order=log``): commit
order, so nothing is held back, and a transaction that commits late still comes after the
reader's cursor, for an operator (by log index) and for a partner (by feed entry, which the
integrator writes in log order)."""

import pytest
from django.db import connection

from custody import db_triggers, services
from custody.models import LogEntry
from custody.services.transparency_log import integrate_log

from ..conftest import ship
from .test_event_feed import read_to_the_end, register
from .test_write_api import keyed

FEED = "/api/v1/events/?order=log"


@pytest.mark.parametrize("who", ["operator", "source"])
def test_the_feed_holds_nothing_back_and_waits_only_for_the_log(chain, who):
    reader = keyed(getattr(chain, who))
    lot = register(chain)
    assert reader.get(FEED).json()["results"] == []  # committed, not yet in the log
    seen, cursor = read_to_the_end(reader, FEED)  # integrates first
    assert seen == [(lot.code, 1, "registered")]
    assert read_to_the_end(reader, cursor)[0] == []


@pytest.mark.parametrize("who", ["operator", "source"])
def test_an_event_that_commits_after_the_cursor_moved_past_its_id_still_comes(chain, who):
    """The event with the smaller id enters the log last (its transaction committed late): a
    feed by id with no hold-back would skip it; the feed in log order gives it after the
    cursor, across integrations."""
    reader = keyed(getattr(chain, who))
    late, early = register(chain, "1.000"), register(chain, "2.000")
    late_row = LogEntry.objects.get(pk=late.events.get().pk)
    db_triggers.drop(connection)
    try:  # not committed yet, as far as the log knows
        LogEntry.objects.filter(pk=late_row.pk).delete()
    finally:
        db_triggers.install(connection)
    integrate_log()
    seen, cursor = read_to_the_end(reader, FEED)
    assert seen == [(early.code, 1, "registered")]
    LogEntry.objects.create(pk=late_row.pk, hash=late_row.hash)  # now it commits
    integrate_log()
    assert read_to_the_end(reader, cursor)[0] == [(late.code, 1, "registered")]


def test_a_partner_gets_a_lot_s_history_right_before_the_event_that_shows_it(chain):
    reader = keyed(chain.recycler)
    early = register(chain, "1.000")
    other = register(chain, "2.000")
    ship(chain, other)
    integrate_log()
    seen, cursor = read_to_the_end(reader, FEED)
    assert [seq for code, seq, _ in seen if code == other.code] == [1, 2, 3]
    assert early.code not in {code for code, _, _ in seen}
    services.dispatch_lot(actor=chain.actor(chain.source), lot=early, destination=chain.plant)
    integrate_log()
    later, cursor = read_to_the_end(reader, cursor)
    assert later == [(early.code, 1, "registered"), (early.code, 2, "dispatched")]
    assert read_to_the_end(reader, cursor)[0] == []


def test_each_event_carries_its_log_index_and_the_order_is_checked(chain, pickup):
    integrate_log()
    reader = keyed(chain.source)
    body = reader.get(FEED).json()
    assert [event["log_index"] for event in body["results"]] == [0]
    response = reader.get("/api/v1/events/?order=sideways")
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, "order")
