"""Least knowledge (DESIGN invariant 8), written three ways for three uses: ``visible_lots``
(lists), ``may_see`` (one lot) and ``sees_lot`` (who may see one lot: webhook audiences).
They must agree for every organization at every step of a lot's life."""

from decimal import Decimal

from custody import services
from custody.selectors.visibility import may_see, sees_lot, visible_lots
from recyclers.models import Organization


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
        lambda lot: services.dispatch(actor=source, lot=lot, destination=chain.plant).lot,
        lambda lot: (
            services.receive(
                actor=recycler, lot=lot, measured_mass_kg=Decimal("2"), seals_intact=True
            ).lot
        ),
        lambda lot: services.deliver(actor=recycler, lot=lot, buyer_facility=chain.buyer_plant).lot,
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
