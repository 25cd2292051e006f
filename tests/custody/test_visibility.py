"""Least knowledge (DESIGN invariant 8), written three ways for three uses: ``visible_lots``
(lists), ``may_see_lots`` and ``may_see`` (the lots a request names) and ``lot_audiences`` (who
may see an event: webhook audiences). They must agree for every organization at every step of a
lot's life, and so must the partners' feeds, written as the log integrates."""

import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction

from custody import db_triggers, services
from custody.models import CustodyEvent, FeedEntry, Lot, LotVisibility
from custody.selectors.genealogy import transformation_outputs
from custody.selectors.visibility import (
    lot_audiences,
    may_see,
    may_see_lots,
    visible_lots,
    visible_lots_by_rule,
)
from custody.services.transparency_log import integrate_log
from recyclers.models import Organization

from ..conftest import drive_manifest, ship

REWRITE = importlib.import_module("custody.migrations.0016_feed_in_log_order")


def audience(lot) -> set[int]:
    """Who may see the lot as of its latest event, as a webhook's audience is decided: the
    organizations that see everything, and the partners the record names."""
    latest = lot.events.order_by("-seq").first()
    everyone = Organization.objects.all()
    partners = {o.pk for o in everyone if not o.sees_everything}
    return {o.pk for o in everyone if o.sees_everything} | lot_audiences([latest], partners)[
        latest.pk
    ]


def answers(lot, organizations):
    seeing = set(Organization.objects.filter(pk__in=audience(lot)).values_list("slug", flat=True))
    return {
        organization.slug: (
            may_see(organization, lot),
            visible_lots(organization).filter(pk=lot.pk).exists(),
            organization.slug in seeing,
        )
        for organization in organizations
    }


def test_the_three_forms_of_the_rule_agree_through_a_lots_life(chain, pickup):
    everyone = list(Organization.objects.all())
    source, recycler = chain.actor(chain.source), chain.actor(chain.recycler)
    steps = [
        lambda lot: lot,
        lambda lot: services.dispatch_lot(actor=source, lot=lot, destination=chain.plant).lot,
        lambda lot: (
            services.receive_lot(
                actor=recycler, lot=lot, measured_mass_kg=Decimal("2"), seals_intact=True
            ).lot
        ),
        lambda lot: (
            services.deliver_lot(actor=recycler, lot=lot, buyer_facility=chain.buyer_plant).lot
        ),
    ]
    expected_seers = [
        {"hyperscaler", "operator", "auditor"},
        {"hyperscaler", "operator", "auditor", "recycler"},
        {"hyperscaler", "operator", "auditor", "recycler"},
        {"hyperscaler", "operator", "auditor", "recycler", "magnets"},
    ]
    lot = pickup
    for step, seers in zip(steps, expected_seers, strict=True):
        lot = step(lot)
        for slug, (one, listed, audience) in answers(lot, everyone).items():
            assert one == listed == audience == (slug in seers), (lot.status, slug)


def test_the_lots_a_request_names_are_judged_together_as_one_by_one(chain, pickup):
    source = chain.actor(chain.source)
    at_source = services.register_pickup(
        actor=source,
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("1"),
        assets=drive_manifest(1),
    )
    in_transit = services.dispatch_lot(actor=source, lot=pickup, destination=chain.plant).lot
    lots = [at_source, in_transit]
    for organization in Organization.objects.all():
        one_by_one = {
            lot.pk for lot in lots if visible_lots(organization).filter(pk=lot.pk).exists()
        }
        assert may_see_lots(organization, lots) == one_by_one, organization.slug


# --- The record (LotVisibility, FeedEntry) is the rule ----------------------------------------


def rule(organization) -> set[int]:
    return set(visible_lots_by_rule(organization).values_list("pk", flat=True))


def assert_the_record_is_the_rule(step: str) -> None:
    """For every organization and every lot: the record-based answers are the rule's, and once
    the log has integrated, a partner's feed holds every event of the lots it may see, each
    once, each lot's in its order (operators and auditors have no feed entries: their feed is
    every event)."""
    integrate_log()
    lots = list(Lot.objects.all())
    organizations = list(Organization.objects.all())
    expected = {organization.pk: rule(organization) for organization in organizations}
    for organization in organizations:
        where = (step, organization.slug)
        seen = expected[organization.pk]
        assert set(visible_lots(organization).values_list("pk", flat=True)) == seen, where
        assert may_see_lots(organization, lots) == seen, where
        assert {lot.pk for lot in lots if may_see(organization, lot)} == seen, where
        fed = list(
            FeedEntry.objects.filter(organization=organization)
            .order_by("pk")
            .values_list("event_id", flat=True)
        )
        assert len(fed) == len(set(fed)), where  # each once
        assert in_chain_order(fed), where
        if organization.sees_everything:
            assert fed == [], where
        else:
            events = CustodyEvent.objects.filter(lot__in=seen).values_list("pk", flat=True)
            assert set(fed) == set(events), where
    for lot in lots:
        seeing = audience(lot)
        assert seeing == {pk for pk, seen in expected.items() if lot.pk in seen}, (step, lot.code)


def in_chain_order(event_ids: list[int]) -> bool:
    """Lots interleave in a feed, but each lot's events come in the order of its chain."""
    seqs = dict(CustodyEvent.objects.filter(pk__in=event_ids).values_list("pk", "seq"))
    lots = dict(CustodyEvent.objects.filter(pk__in=event_ids).values_list("pk", "lot_id"))
    by_lot = {}
    for pk in event_ids:
        by_lot.setdefault(lots[pk], []).append(seqs[pk])
    return all(seq == list(range(1, len(seq) + 1)) for seq in by_lot.values())


def test_the_record_is_the_rule_for_everyone_at_every_step_of_a_lots_life(chain, pickup):
    """Pickup, dispatch, receipt, a transformation's outputs, a dispatch abroad and its receipt,
    a delivery: after each, every organization's answers come from the record and equal the
    rule read from the events."""
    source, recycler, trader = (
        chain.actor(o) for o in (chain.source, chain.recycler, chain.trader)
    )
    other = services.register_pickup(
        actor=source,
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("1"),
        assets=drive_manifest(1),
    )
    assert_the_record_is_the_rule("pickups")
    services.dispatch_lot(actor=source, lot=pickup, destination=chain.plant)
    assert_the_record_is_the_rule("dispatched to the recycler")
    services.receive_lot(
        actor=recycler, lot=pickup, measured_mass_kg=Decimal("2"), seals_intact=True
    )
    assert_the_record_is_the_rule("received by the recycler")
    made = services.process_lots(
        actor=recycler,
        inputs=[services.Consume(pickup, Decimal("1.5"))],
        outputs=[
            services.Produce("ndfeb_magnets", Decimal("0.1")),
            services.Produce("shredded_hdd", Decimal("1.3")),
        ],
    )
    magnets, shred = transformation_outputs(made)
    assert_the_record_is_the_rule("transformation outputs")
    services.dispatch_lot(actor=recycler, lot=magnets, destination=chain.trader_yard)
    assert_the_record_is_the_rule("outputs dispatched abroad")
    services.receive_lot(
        actor=trader, lot=magnets, measured_mass_kg=Decimal("0.1"), seals_intact=True
    )
    services.weigh_lot(actor=trader, lot=magnets, mass_kg=Decimal("0.099"))
    assert_the_record_is_the_rule("received and weighed abroad")
    services.deliver_lot(actor=trader, lot=magnets, buyer_facility=chain.buyer_plant)
    services.deliver_lot(actor=recycler, lot=shred, buyer_facility=chain.buyer_plant)
    assert_the_record_is_the_rule("delivered")
    services.correct_event(
        actor=chain.actor(chain.operator),
        lot=other,
        corrects=other.events.get(),
        reason="scale",
        mass_kg=Decimal("1.1"),
    )
    assert_the_record_is_the_rule("corrected by the operator")
    assert rule(chain.trader) == {magnets.pk}
    assert rule(chain.buyer) == {magnets.pk, shred.pk}


def test_the_migration_rewrites_the_feeds_as_the_integrator_writes_them(chain, pickup):
    """Migration 0015, run over the same ledger and log, writes the same feeds, each partner's
    in the same order; an event not yet in the log gets its entries when it enters it."""
    source, recycler = chain.actor(chain.source), chain.actor(chain.recycler)
    later = services.register_pickup(
        actor=source,
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("1"),
        assets=drive_manifest(1),
    )
    services.weigh_lot(actor=source, lot=pickup, mass_kg=Decimal("2.001"))
    integrate_log()
    for lot in (later, pickup):  # the recycler sees pickup's history after later's events
        ship(chain, lot)
        integrate_log()
    made = services.split_lot(actor=recycler, lot=pickup, masses=[Decimal("1"), Decimal("1.001")])
    first, _ = transformation_outputs(made)
    integrate_log()
    services.deliver_lot(actor=recycler, lot=first, buyer_facility=chain.buyer_plant)

    def feeds():
        return {
            organization.pk: list(
                FeedEntry.objects.filter(organization=organization)
                .order_by("pk")
                .values_list("event_id", flat=True)
            )
            for organization in Organization.objects.all()
        }

    by_integrator = feeds()
    db_triggers.drop(connection, tables=[db_triggers.FEED_ENTRIES])
    try:
        REWRITE.rewrite(django_apps, SimpleNamespace(connection=connection))
    finally:
        db_triggers.install(connection, tables=[db_triggers.FEED_ENTRIES])
    assert feeds() == by_integrator
    assert by_integrator[chain.recycler.pk][:2] == list(
        later.events.order_by("seq").values_list("pk", flat=True)[:2]
    )
    delivered = first.events.get(kind="delivered").pk
    assert delivered not in by_integrator[chain.buyer.pk]  # not in the log yet
    integrate_log()
    assert feeds()[chain.buyer.pk][-1] == delivered


def test_the_record_and_the_feed_are_append_only(chain, pickup):
    integrate_log()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LotVisibility.objects.all().delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        FeedEntry.objects.update(event_id=pickup.events.get().pk)
