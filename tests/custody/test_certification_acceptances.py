"""Accepting a certification recorded after the events it covers: only an operator or an
auditor, with a reason, once per recorded version; in the admin as the user's organization;
append-only."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from custody import services
from custody.errors import DomainError
from custody.models import CertificationAcceptance
from recyclers.models import Membership

from ..factories import CertificationFactory

ADD_PAGE = reverse("admin:custody_certificationacceptance_add")
LIST_PAGE = reverse("admin:custody_certificationacceptance_changelist")


@pytest.fixture
def certification(chain):
    return CertificationFactory(facility=chain.plant, number="R2-LATE")


def refused_acceptance(code: str, **call):
    with pytest.raises(DomainError) as caught:
        services.accept_certification(**call)
    assert caught.value.code == code
    assert not CertificationAcceptance.objects.exists()
    return caught.value


class TestService:
    def test_an_auditor_accepts_with_a_reason(self, chain, certification):
        acceptance = services.accept_certification(
            actor=chain.actor(chain.auditor), certification=certification, reason="  Seen  "
        )
        assert acceptance.accepted_by_organization == chain.auditor
        assert acceptance.reason == "Seen"
        assert acceptance.certification_version == certification.history.latest()

    def test_a_partner_may_not_accept(self, chain, certification):
        error = refused_acceptance(
            "not_an_assessor",
            actor=chain.actor(chain.recycler),
            certification=certification,
            reason="Trust us",
        )
        assert error.http_status == 403

    def test_a_reason_is_required(self, chain, certification):
        error = refused_acceptance(
            "reason_required",
            actor=chain.actor(chain.operator),
            certification=certification,
            reason=" ",
        )
        assert error.field == "reason"

    def test_an_inactive_operator_may_not_accept(self, chain, certification):
        chain.operator.is_active = False
        chain.operator.save()
        refused_acceptance(
            "organization_inactive",
            actor=chain.actor(chain.operator),
            certification=certification,
            reason="Seen",
        )

    def test_a_version_is_accepted_once_and_an_edit_needs_its_own(self, chain, certification):
        accept = dict(actor=chain.actor(chain.operator), certification=certification, reason="Ok")
        services.accept_certification(**accept)
        with pytest.raises(DomainError) as caught:
            services.accept_certification(**accept)
        assert (caught.value.code, caught.value.http_status) == (
            "certification_already_accepted",
            409,
        )
        certification.issued_by = "Another registrar"
        certification.save()
        services.accept_certification(**accept)
        assert CertificationAcceptance.objects.count() == 2

    def test_acceptances_are_never_changed_or_deleted(self, chain, certification):
        acceptance = services.accept_certification(
            actor=chain.actor(chain.operator), certification=certification, reason="Seen"
        )
        acceptance.reason = "Something else"
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            acceptance.save()
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            CertificationAcceptance.objects.all().delete()
        assert CertificationAcceptance.objects.get().reason == "Seen"


class TestAdmin:
    def test_an_operator_records_an_acceptance_on_the_add_page(
        self, admin_client, admin_user, chain, certification
    ):
        Membership.objects.create(user=admin_user, organization=chain.operator)
        page = admin_client.get(ADD_PAGE, {"certification": certification.pk})
        assert page.status_code == 200
        assert "as <strong>Operator</strong>" in page.content.decode()
        response = admin_client.post(
            ADD_PAGE, {"certification": certification.pk, "reason": "Registrar's letter seen"}
        )
        assert response.status_code == 302
        acceptance = CertificationAcceptance.objects.get()
        assert (acceptance.accepted_by_organization, acceptance.accepted_by_user) == (
            chain.operator,
            admin_user,
        )
        listing = admin_client.get(LIST_PAGE).content.decode()
        assert "Registrar&#x27;s letter seen" in listing
        change = reverse("admin:custody_certificationacceptance_change", args=[acceptance.pk])
        assert 'name="_save"' not in admin_client.get(change).content.decode()
        delete = reverse("admin:custody_certificationacceptance_delete", args=[acceptance.pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
        assert CertificationAcceptance.objects.count() == 1

    def test_a_refusal_is_shown_on_the_form_and_nothing_is_written(
        self, admin_client, admin_user, chain, certification
    ):
        Membership.objects.create(user=admin_user, organization=chain.operator)
        post = {"certification": certification.pk, "reason": "Seen"}
        admin_client.post(ADD_PAGE, post)
        again = admin_client.post(ADD_PAGE, post)
        assert again.status_code == 200
        assert "already accepted" in again.content.decode()
        assert CertificationAcceptance.objects.count() == 1

    def test_without_an_operator_or_auditor_membership_nothing_is_accepted(
        self, admin_client, certification
    ):
        assert "you are\n      not one" in admin_client.get(ADD_PAGE).content.decode()
        admin_client.post(ADD_PAGE, {"certification": certification.pk, "reason": "Seen"})
        assert not CertificationAcceptance.objects.exists()
