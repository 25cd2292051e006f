"""The lot actions, the admin's only writes: quarantine and release through the services as the
user's operator organization."""

import pytest

from custody import services
from custody.models import EventKind
from recyclers.models import Membership

from ..factories import MembershipFactory
from .admin_pages import LOT_LIST, action_post, message_texts, new_pickup


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
