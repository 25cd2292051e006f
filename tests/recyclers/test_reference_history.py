"""The history of reference data: every change to an organization (its roles too), a facility,
a certification or a membership is kept with who, when, old and new values; the admin shows
it and cannot change, delete or revert it; PostgreSQL refuses to rewrite it."""

import importlib
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from recyclers.models import Certification, Facility, Membership, Organization, OrganizationRole

from ..factories import CertificationFactory, FacilityFactory, OrganizationFactory

BASELINE = importlib.import_module("recyclers.migrations.0004_reference_data_history")


def facility_form(facility: Facility, **changes) -> dict:
    """The facility's admin change form as posted, with ``changes``, and no certification."""
    return {
        "organization": facility.organization_id,
        "name": facility.name,
        "kind": facility.kind,
        "gln": facility.gln,
        "is_active": "on",
        "country": facility.country.code,
        "region": facility.region,
        "city": facility.city,
        "address": facility.address,
        "certifications-TOTAL_FORMS": "0",
        "certifications-INITIAL_FORMS": "0",
        "certifications-MIN_NUM_FORMS": "0",
        "certifications-MAX_NUM_FORMS": "1000",
        **changes,
    }


class TestHistory:
    def test_an_admin_edit_keeps_who_when_and_the_old_and_new_value(self, admin_client, admin_user):
        warehouse = FacilityFactory(name="Baotou bonded warehouse", country="CN")
        response = admin_client.post(
            reverse("admin:recyclers_facility_change", args=[warehouse.pk]),
            facility_form(warehouse, country="US"),
        )
        assert response.status_code == 302
        created, changed = warehouse.history.order_by("history_date", "history_id")
        assert (created.country.code, changed.country.code) == ("CN", "US")
        assert changed.history_user_id == admin_user.pk
        assert changed.history_type == "~"
        delta = changed.diff_against(created)
        assert [(c.field, str(c.old), str(c.new)) for c in delta.changes] == [
            ("country", "CN", "US")
        ]

        page = admin_client.get(
            reverse("admin:recyclers_facility_history", args=[warehouse.pk])
        ).content.decode()
        changes = " ".join(page.split())  # the Changes column: "field: old -> new"
        assert "<strong>Country:</strong> CN &nbsp;&rarr;&nbsp;&nbsp;US" in changes
        assert admin_user.username in page

    def test_roles_are_kept_with_each_version_of_the_organization(self, db):
        organization = OrganizationFactory(roles=["recycler"])
        organization.roles.set(OrganizationRole.objects.filter(code="buyer"))
        versions = organization.history.order_by("history_date", "history_id")
        roles = [sorted(role.organizationrole_id for role in v.roles.all()) for v in versions]
        assert roles[0] == [] and roles[-1] == ["buyer"]
        assert ["recycler"] in roles

    def test_the_organization_history_page_shows_its_roles_changing(self, admin_client):
        organization = OrganizationFactory(name="Cumberland Scrap Metals", roles=["recycler"])
        organization.roles.set([])
        page = admin_client.get(
            reverse("admin:recyclers_organization_history", args=[organization.pk])
        )
        assert page.status_code == 200
        assert "<strong>roles:</strong>" in " ".join(page.content.decode().split()).lower()

    def test_certifications_and_memberships_keep_their_history_even_when_deleted(
        self, db, admin_user
    ):
        certification = CertificationFactory()
        membership = Membership.objects.create(
            user=admin_user, organization=certification.facility.organization
        )
        certification_id, membership_id = certification.pk, membership.pk
        certification.delete()
        membership.delete()
        assert list(
            Certification.history.filter(id=certification_id).values_list("history_type", flat=True)
        ) == ["-", "+"]
        assert Membership.history.filter(id=membership_id).count() == 2

    def test_the_history_can_be_read_but_not_reverted_in_the_admin(self, admin_client):
        facility = FacilityFactory(country="CN")
        facility.country = "US"
        facility.save()
        first = facility.history.earliest()
        url = reverse(
            "admin:recyclers_facility_simple_history", args=[facility.pk, first.history_id]
        )
        assert admin_client.get(url).status_code == 200
        assert admin_client.post(url, facility_form(facility, country="CN")).status_code == 403
        facility.refresh_from_db()
        assert facility.country.code == "US"
        assert facility.history.count() == 2

    def test_running_the_demo_twice_records_no_change(self, db):
        call_command("seed_demo", "--force", stdout=StringIO())
        counts = [model.history.count() for model in (Organization, Facility, Certification)]
        call_command("seed_demo", "--force", stdout=StringIO())
        assert [model.history.count() for model in (Organization, Facility, Certification)] == (
            counts
        )


def test_the_migration_gives_existing_rows_a_baseline_dated_when_they_were_created(db):
    """Rows written before history began (here: without the ORM's signals) get one record each,
    with their roles, dated by their own ``created_at``."""
    organization = Organization.objects.bulk_create(
        [Organization(slug="old", name="Old Metals", country="US")]
    )[0]
    organization.roles.through.objects.create(
        organization=organization, organizationrole_id="recycler"
    )
    facility = Facility.objects.bulk_create(
        [Facility(organization=organization, name="Old yard", kind="warehouse", country="US")]
    )[0]
    BASELINE.create_baseline(django_apps, None)
    (record,) = organization.history.all()
    assert record.history_date == organization.created_at
    assert [role.organizationrole_id for role in record.roles.all()] == ["recycler"]
    (record,) = facility.history.all()
    assert (record.history_date, record.name) == (facility.created_at, "Old yard")


@pytest.mark.postgres
def test_postgresql_refuses_to_rewrite_or_delete_history(db):
    recycler = OrganizationFactory(roles=["recycler"])
    facility = FacilityFactory(organization=recycler, country="CN")
    for statement in (
        "UPDATE recyclers_historicalfacility SET country = 'US'",
        "DELETE FROM recyclers_historicalfacility",
        "DELETE FROM recyclers_historicalorganization_roles",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert facility.history.get().country.code == "CN"
    assert recycler.history.latest().roles.count() == 1
