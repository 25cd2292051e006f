"""The API's lots and events read the same through ``PlainRepresentation`` as through DRF's own
``to_representation``: in every state a lot's fields take (in transit, delivered, with and
without a stored verdict) and for every kind of event, loaded as the views load them."""

from decimal import Decimal

from rest_framework import serializers

from custody import services
from custody.api.common import LOT_RELATIONS
from custody.api.serializers import (
    EventSerializer,
    LotSerializer,
    attach_event_relations,
    attach_lot_relations,
    with_log_index,
)
from custody.models import CustodyEvent, Lot
from custody.services.stored_verdicts import reassess_lot
from custody.services.transparency_log import integrate_log

from ..conftest import ship

# Every relation an event's representation reads, joined.
EVENT_RELATIONS = (
    "lot",
    "actor_organization",
    "facility__organization",
    "counterparty_facility__organization",
    "corrects",
)


def drf(serializer_class, objects) -> list[dict]:
    """What DRF's own ``Serializer.to_representation`` answers."""
    child = serializer_class()
    return [serializers.Serializer.to_representation(child, obj) for obj in objects]


def a_ledger(chain, pickup, two_lots) -> None:
    """Lots in every state a field of theirs can take, events of every kind."""
    _, other = two_lots
    ship(chain, pickup)
    services.weigh_lot(actor=chain.actor(chain.recycler), lot=pickup, mass_kg=Decimal("2.500"))
    services.correct_event(
        actor=chain.actor(chain.recycler),
        lot=pickup,
        corrects=pickup.events.get(seq=4),
        reason="The scale was off",
        mass_kg=Decimal("2.400"),
    )
    pickup.refresh_from_db()
    services.deliver_lot(
        actor=chain.actor(chain.recycler), lot=pickup, buyer_facility=chain.buyer_plant
    )
    services.dispatch_lot(
        actor=chain.actor(chain.source), lot=other, destination=chain.plant
    )  # in transit: no custodian, a destination
    reassess_lot(lot=other)
    integrate_log()


def test_a_page_of_lots_reads_as_drf_reads_it(chain, pickup, two_lots, django_assert_num_queries):
    a_ledger(chain, pickup, two_lots)
    joined = list(Lot.objects.order_by("-id").select_related(*LOT_RELATIONS))
    page = list(Lot.objects.order_by("-id"))
    with django_assert_num_queries(2):  # the facilities, the verdicts
        attach_lot_relations(*page)
    with django_assert_num_queries(0):
        plain = LotSerializer(page, many=True).data
    assert [dict(lot) for lot in plain] == drf(LotSerializer, joined)
    assert {lot["status"] for lot in plain} >= {"in_transit", "delivered"}
    assert any(lot["verdict"] for lot in plain) and any(not lot["verdict"] for lot in plain)
    assert any(lot["custodian"] is None for lot in plain)


def test_one_lot_as_its_detail_loads_it_reads_as_drf_reads_it(chain, pickup, two_lots):
    a_ledger(chain, pickup, two_lots)
    for lot in Lot.objects.select_related(*LOT_RELATIONS):
        assert LotSerializer(lot).data == drf(LotSerializer, [lot])[0]


def test_events_of_every_kind_read_as_drf_reads_them(chain, pickup, two_lots):
    a_ledger(chain, pickup, two_lots)
    events = list(with_log_index(CustodyEvent.objects.select_related(*EVENT_RELATIONS)))
    plain = EventSerializer(events, many=True).data
    assert [dict(event) for event in plain] == drf(EventSerializer, events)
    assert {"registered", "dispatched", "received", "weighed", "corrected", "delivered"} <= {
        event["kind"] for event in plain
    }
    assert any(event["corrects"] for event in plain)


def test_events_with_their_relations_attached_read_as_joined(
    chain, pickup, two_lots, django_assert_num_queries
):
    """The feed and a lot's events attach their page's relations after reading it."""
    a_ledger(chain, pickup, two_lots)
    joined = list(with_log_index(CustodyEvent.objects.select_related(*EVENT_RELATIONS)))
    events = list(with_log_index(CustodyEvent.objects.all()))
    with django_assert_num_queries(4):  # facilities, lots, actors, corrected events
        attach_event_relations(*events)
    with django_assert_num_queries(0):
        attached = EventSerializer(events, many=True).data
    assert attached == EventSerializer(joined, many=True).data
    own = list(pickup.events.all())
    with django_assert_num_queries(3):  # the lot is known: facilities, actors, corrected
        attach_event_relations(*own)
