"""Least knowledge (DESIGN invariant 8), written three ways for three uses: ``visible_lots``
(lists), ``may_see_lots`` and ``may_see`` (the lots a request names) and ``sees_lot`` (who may
see one lot: webhook audiences). They must agree for every organization at every step of a
lot's life."""

from decimal import Decimal

from custody import services
from custody.selectors.visibility import may_see, may_see_lots, sees_lot, visible_lots
from recyclers.models import Organization

from ..conftest import drive_manifest


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
