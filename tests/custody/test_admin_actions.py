"""The lot actions, the admin's only writes: quarantine and release through the services as the
user's operator organization, and storing fresh verdicts."""

from decimal import Decimal

import pytest

from custody import services
from custody.models import EventKind, LotVerdict
from custody.selectors.verdicts import assess
from recyclers.models import Membership

from ..factories import MembershipFactory
from .admin_pages import LOT_LIST, action_post, message_texts, new_pickup, ship_to_plant


@pytest.fixture
def operator_admin(admin_user, chain):
    Membership.objects.create(user=admin_user, organization=chain.operator)
    return admin_user


class TestQuarantineActions:
    def test_without_an_operator_membership_nothing_happens(
        self, admin_client, admin_user, chain, pickup
    ):
        # A superuser, and a member of a partner organization, but not of the operator.
        MembershipFactory(user=admin_user, organization=chain.recycler)
        response = admin_client.post(
            LOT_LIST, action_post("quarantine_lots", [pickup], reason="suspicious"), follow=True
        )
        assert response.status_code == 200
        assert any("operator organization" in text for text in message_texts(response))
        pickup.refresh_from_db()
        assert pickup.quarantined is False
        assert list(pickup.events.values_list("kind", flat=True)) == [EventKind.REGISTERED]

    def test_the_action_asks_for_a_reason_first(self, admin_client, operator_admin, pickup):
        response = admin_client.post(LOT_LIST, action_post("quarantine_lots", [pickup]))
        assert response.status_code == 200
        assert response.templates[0].name == "admin/custody/lot/action_confirmation.html"
        content = response.content.decode()
        assert pickup.code in content and 'name="reason"' in content
        response = admin_client.post(LOT_LIST, action_post("quarantine_lots", [pickup], reason=" "))
        assert response.status_code == 200
        assert response.context["form"].errors["reason"]
        pickup.refresh_from_db()
        assert pickup.quarantined is False

    def test_quarantine_and_release_go_through_the_services(
        self, admin_client, operator_admin, chain, pickup
    ):
        other = new_pickup(chain, 1)
        response = admin_client.post(
            LOT_LIST,
            action_post("quarantine_lots", [pickup, other], reason="seal mismatch"),
            follow=True,
        )
        assert response.redirect_chain[-1][0].endswith(LOT_LIST)
        for lot in (pickup, other):
            lot.refresh_from_db()
            assert lot.quarantined is True
            event = lot.events.get(kind=EventKind.QUARANTINED)
            assert event.actor_organization == chain.operator
            assert event.actor_user == operator_admin
            assert event.details["reason"] == "seal mismatch"
            assert lot.head_hash == event.hash
        assert any("2 lots quarantined" in text for text in message_texts(response))

        # A lot already quarantined is reported by its error code; the others still go through.
        services.release_lot(actor=chain.actor(chain.operator), lot=other, reason="cleared")
        response = admin_client.post(
            LOT_LIST, action_post("quarantine_lots", [pickup, other], reason="again"), follow=True
        )
        texts = message_texts(response)
        assert any(pickup.code in text and "(lot_quarantined)" in text for text in texts)
        assert any(f"1 lot quarantined: {other.code}" in text for text in texts)

        response = admin_client.post(
            LOT_LIST, action_post("release_lots", [pickup], reason="inspected"), follow=True
        )
        pickup.refresh_from_db()
        assert pickup.quarantined is False
        assert pickup.events.order_by("-seq").first().kind == EventKind.RELEASED


class TestReassessAction:
    def test_it_stores_the_verdict_of_each_selected_lot(
        self, admin_client, operator_admin, chain, pickup
    ):
        broken = ship_to_plant(chain, new_pickup(chain, 1), seals_intact=False)
        untouched = new_pickup(chain, 2)
        response = admin_client.post(
            LOT_LIST, action_post("reassess_verdicts", [pickup, broken]), follow=True
        )
        assert response.redirect_chain[-1][0].endswith(LOT_LIST)
        stored = {verdict.lot_id: verdict for verdict in LotVerdict.objects.all()}
        assert set(stored) == {pickup.pk, broken.pk}
        assert untouched.pk not in stored
        for lot in (pickup, broken):
            fresh = assess(lot)
            assert stored[lot.pk].outcome == fresh.outcome
            assert stored[lot.pk].findings == [f.as_dict() for f in fresh.findings]
        assert stored[broken.pk].outcome == "non_compliant"
        assert "seal_broken" in {f["code"] for f in stored[broken.pk].findings}
        texts = message_texts(response)
        assert any(
            text.startswith("2 lots reassessed:") and f"{broken.code} (Non-compliant)" in text
            for text in texts
        )
        # The list's badge and filter now read the stored verdict.
        listed = admin_client.get(LOT_LIST, {"verdict__outcome": "non_compliant"})
        assert [lot.code for lot in listed.context["cl"].result_list] == [broken.code]

    def test_it_refreshes_a_verdict_the_ledger_has_moved_past(
        self, admin_client, operator_admin, chain, pickup
    ):
        admin_client.post(LOT_LIST, action_post("reassess_verdicts", [pickup]))
        before = LotVerdict.objects.get(lot=pickup)
        ship_to_plant(chain, pickup, seals_intact=False)
        response = admin_client.post(
            LOT_LIST, action_post("reassess_verdicts", [pickup]), follow=True
        )
        after = LotVerdict.objects.get(lot=pickup)
        assert after.pk == before.pk  # the lot's one stored verdict, updated
        assert after.assessed_at > before.assessed_at
        assert after.outcome == "non_compliant"
        assert any(f"1 lot reassessed: {pickup.code}" in t for t in message_texts(response))

    def test_without_an_operator_membership_nothing_is_stored(
        self, admin_client, admin_user, chain, pickup
    ):
        MembershipFactory(user=admin_user, organization=chain.recycler)
        response = admin_client.post(
            LOT_LIST, action_post("reassess_verdicts", [pickup]), follow=True
        )
        assert response.status_code == 200
        assert any("operator organization" in text for text in message_texts(response))
        assert not LotVerdict.objects.exists()
        services.weigh_lot(actor=chain.actor(chain.source), lot=pickup, mass_kg=Decimal("2.000"))
        assert not LotVerdict.objects.exists()
