"""Least knowledge (DESIGN invariant 8), written three ways for three uses: ``visible_lots``
(lists), ``may_see_lots`` and ``may_see`` (the lots a request names) and ``sees_lot`` (who may
see one lot: webhook audiences). They must agree for every organization at every step of a
lot's life."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction

from custody import db_triggers, services
from custody.models import CustodyEvent, FeedEntry, Lot, LotVisibility
from custody.selectors.genealogy import transformation_outputs
from custody.selectors.visibility import (
    may_see,
    may_see_lots,
    sees_lot,
    visible_lots,
    visible_lots_by_rule,
)
from recyclers.models import Organization

from ..conftest import drive_manifest, ship

BACKFILL = importlib.import_module("custody.migrations.0010_lot_visibility_and_feed")


def answers(lot, organizations):
    seeing = set(Organization.objects.filter(sees_lot(lot, "pk")).values_list("slug", flat=True))
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
    """For every organization and every lot: the record-based answers are the rule's, and a
    partner's feed holds every event of the lots it may see, each once (operators and auditors
    have no feed entries: their feed is every event)."""
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
            FeedEntry.objects.filter(organization=organization).values_list("event_id", flat=True)
        )
        assert len(fed) == len(set(fed)), where  # each once
        if organization.sees_everything:
            assert fed == [], where
        else:
            events = CustodyEvent.objects.filter(lot__in=seen).values_list("pk", flat=True)
            assert set(fed) == set(events), where
    for lot in lots:
        seeing = set(Organization.objects.filter(sees_lot(lot, "pk")).values_list("pk", flat=True))
        assert seeing == {pk for pk, seen in expected.items() if lot.pk in seen}, (step, lot.code)


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


def test_the_migration_backfills_what_the_services_write(chain, pickup):
    """The data migration, run over the same ledger, writes the same record and the same feeds,
    each partner's in the same order."""
    source, recycler = chain.actor(chain.source), chain.actor(chain.recycler)
    later = services.register_pickup(
        actor=source,
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("1"),
        assets=drive_manifest(1),
    )
    services.weigh_lot(actor=source, lot=pickup, mass_kg=Decimal("2.001"))
    for lot in (later, pickup):  # the recycler sees pickup's history after later's events
        ship(chain, lot)
    made = services.split_lot(actor=recycler, lot=pickup, masses=[Decimal("1"), Decimal("1.001")])
    first, _ = transformation_outputs(made)
    services.deliver_lot(actor=recycler, lot=first, buyer_facility=chain.buyer_plant)

    def written():
        grants = set(
            LotVisibility.objects.values_list("organization_id", "lot_id", "granted_by_id")
        )
        feeds = {
            organization.pk: list(
                FeedEntry.objects.filter(organization=organization)
                .order_by("pk")
                .values_list("event_id", flat=True)
            )
            for organization in Organization.objects.all()
        }
        return grants, feeds

    by_services = written()
    tables = [db_triggers.VISIBILITY, db_triggers.FEED_ENTRIES]
    db_triggers.drop(connection, tables=tables)
    try:
        FeedEntry.objects.all().delete()
        LotVisibility.objects.all().delete()
    finally:
        db_triggers.install(connection, tables=tables)
    BACKFILL.backfill(django_apps, None)
    assert written() == by_services
    assert by_services[1][chain.recycler.pk][:2] == list(
        later.events.order_by("seq").values_list("pk", flat=True)[:2]
    )


def test_the_record_and_the_feed_are_append_only(chain, pickup):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LotVisibility.objects.all().delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        FeedEntry.objects.update(recorded_at=pickup.created_at)
