"""A verdict reads only committed facts (DESIGN invariant 9): a facility's country and name, its
organization's roles and its certifications as they were recorded when each event was, from
the append-only history of reference data; never as an operator edits them afterwards. A
certification recorded after the event it covers counts for it only once accepted."""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from custody import services
from custody.actors import Actor
from custody.demo import data
from custody.documents import verdict_document
from custody.models import Lot, LotVerdict
from custody.selectors.verdicts import assess
from recyclers.models import Certification, CertificationStatus, Organization, OrganizationRole

from ..conftest import days_ago, drive_manifest, ship
from ..factories import CertificationFactory, FacilityFactory


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--force", stdout=StringIO())
    return data.facilities()


def codes(verdict) -> set[str]:
    return {finding.code for finding in verdict.findings}


def everything_said(verdict) -> tuple:
    return (verdict.outcome, verdict.findings, verdict.countries, verdict.facilities)


class TestEditsAfterTheEvents:
    def test_moving_the_baotou_warehouse_to_the_us_keeps_the_china_lot_denied(self, demo):
        china_lot = Lot.objects.get(custodian=demo["baotou"])
        before = assess(china_lot)
        assert "denied_jurisdiction" in codes(before)
        baotou = demo["baotou"]
        baotou.country = "US"
        baotou.save()
        after = assess(china_lot)
        assert everything_said(after) == everything_said(before)
        assert "CN" in after.countries
        services.stored_verdicts.reassess_lot(lot=china_lot)
        assert LotVerdict.objects.get(lot=china_lot).outcome == "non_compliant"

    def test_renaming_and_deactivating_partners_changes_no_verdict(self, demo):
        lots = list(Lot.objects.order_by("pk"))
        before = [everything_said(assess(lot)) for lot in lots]
        for facility in demo.values():
            facility.name = f"Renamed {facility.name}"
            facility.is_active = False
            facility.save()
        Organization.objects.filter(slug="baotou-trading").get().save()  # a no-op save too
        for organization in Organization.objects.all():
            organization.name = f"Renamed {organization.name}"
            organization.is_active = False
            organization.save()
        assert [everything_said(assess(lot)) for lot in lots] == before

    def test_taking_the_yards_recycler_role_away_keeps_it_uncertified(self, demo):
        yard_lot = Lot.objects.get(custodian=demo["nashville"])
        assert "uncertified_custodian" in codes(assess(yard_lot))
        Organization.objects.get(slug="cumberland-scrap").roles.set([])
        assert "uncertified_custodian" in codes(assess(yard_lot))

    def test_an_edit_applies_to_the_events_recorded_after_it(self, chain, pickup):
        # The same yard, moved to China between two shipments: only the second is denied.
        yard = FacilityFactory(organization=chain.carrier, name="Relay yard")
        first = ship(chain, pickup, to=yard)
        yard.country = "CN"
        yard.save()
        second = ship(chain, _pickup(chain), to=yard)
        assert "denied_jurisdiction" not in codes(assess(first))
        assert "denied_jurisdiction" in codes(assess(second))


@pytest.fixture
def auditor(demo):
    return Actor(organization=Organization.objects.get(slug="keystone-assurance"))


def back_dated_r2v3(facility) -> Certification:
    return Certification.objects.create(
        facility=facility,
        scheme="r2v3",
        number="R2V3-BACKDATED",
        issued_by="SERI",
        valid_from=date(2020, 1, 1),
        valid_until=date.today() + timedelta(days=365),
    )


class TestRetroactiveCertifications:
    def test_a_back_dated_r2v3_leaves_the_uncertified_yard_unverified_until_accepted(
        self, demo, auditor, django_capture_on_commit_callbacks
    ):
        yard_lot = Lot.objects.get(custodian=demo["nashville"])
        assert assess(yard_lot).outcome == "non_compliant"
        certification = back_dated_r2v3(demo["nashville"])

        verdict = assess(yard_lot)
        assert verdict.outcome == "unverified"
        (finding,) = verdict.findings
        assert (finding.code, finding.severity) == ("retroactive_certification", "missing_evidence")
        received = yard_lot.events.get(kind="received")
        assert (finding.lot, finding.event, finding.seq) == (
            yard_lot.code,
            str(received.uuid),
            received.seq,
        )
        assert "Nashville scrap yard (US)" in finding.message
        assert "R2v3 R2V3-BACKDATED" in finding.message
        assert verdict.accepted_certifications == []

        with django_capture_on_commit_callbacks(execute=True):
            services.accept_certification(
                actor=auditor,
                certification=certification,
                reason="The registrar's audit report of 2020 was seen on site.",
            )
        assert LotVerdict.objects.get(lot=yard_lot).outcome == "verified"  # refreshed
        verdict = assess(yard_lot)
        assert (verdict.outcome, verdict.findings) == ("verified", [])
        (cited,) = verdict.accepted_certifications
        assert cited.facility == "Nashville scrap yard (US)"
        assert cited.certification == "R2v3 R2V3-BACKDATED"
        assert cited.accepted_by == "Keystone Assurance"
        assert cited.reason == "The registrar's audit report of 2020 was seen on site."
        document = verdict_document(verdict)
        assert document["accepted_certifications"][0]["certification"] == "R2v3 R2V3-BACKDATED"

    def test_an_acceptance_covers_the_version_accepted_not_a_later_edit(self, demo, auditor):
        yard_lot = Lot.objects.get(custodian=demo["nashville"])
        certification = back_dated_r2v3(demo["nashville"])
        services.accept_certification(actor=auditor, certification=certification, reason="Seen")
        certification.status = CertificationStatus.SUSPENDED
        certification.save()
        certification.status = CertificationStatus.ACTIVE
        certification.number = "R2V3-OTHER"
        certification.save()
        assert assess(yard_lot).outcome == "verified"  # the accepted version still covers
        certification.valid_from = date.today()  # the accepted version stays what it was
        certification.save()
        assert assess(yard_lot).outcome == "verified"

    def test_a_certification_withdrawn_after_the_events_still_counts_for_them(self, chain):
        plant_certification = CertificationFactory(facility=chain.plant, scheme="r2v3")
        lot = _received_at_plant(chain)
        assert assess(lot).outcome == "verified"
        plant_certification.status = CertificationStatus.WITHDRAWN
        plant_certification.save()
        assert assess(lot).outcome == "verified"
        plant_certification.delete()
        assert assess(lot).outcome == "verified"

    def test_a_certification_edited_to_reach_back_is_retroactive(self, chain):
        plant_certification = CertificationFactory(
            facility=chain.plant, scheme="r2v3", valid_from=date.today()
        )
        lot = _received_at_plant(chain)  # received days ago: before the certificate's start
        assert codes(assess(lot)) == {"uncertified_custodian"}
        plant_certification.valid_from = date(2020, 1, 1)
        plant_certification.save()
        verdict = assess(lot)
        assert (verdict.outcome, codes(verdict)) == ("unverified", {"retroactive_certification"})

    def test_a_role_added_after_the_events_requires_nothing_of_them(self, chain):
        # The buyer became a recycler after its lot arrived: that lot was not held by one.
        lot = _received_at(chain, chain.buyer_plant)
        assert assess(lot).outcome == "verified"
        chain.buyer.roles.add(OrganizationRole.objects.get(code="recycler"))
        assert assess(lot).outcome == "verified"


def _pickup(chain) -> Lot:
    return services.register_pickup(
        actor=chain.actor(chain.source),
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("2.010"),
        assets=drive_manifest(),
        occurred_at=days_ago(10),
    )


def _received_at_plant(chain) -> Lot:
    return _received_at(chain, chain.plant)


def _received_at(chain, facility) -> Lot:
    return ship(
        chain, _pickup(chain), to=facility, dispatched_at=days_ago(9), received_at=days_ago(8)
    )


def test_the_lot_page_and_assess_cite_the_acceptance(demo, auditor, admin_client):
    yard_lot = Lot.objects.get(custodian=demo["nashville"])
    certification = back_dated_r2v3(demo["nashville"])
    services.accept_certification(actor=auditor, certification=certification, reason="Seen")
    page = admin_client.get(reverse("admin:custody_lot_change", args=[yard_lot.pk]))
    cited = page.content.decode()
    assert 'id="accepted-certifications"' in cited
    assert (
        "R2v3 R2V3-BACKDATED at Nashville scrap yard (US), accepted by Keystone Assurance" in cited
    )
    out = StringIO()
    call_command("assess", yard_lot.code, stdout=out)
    assert "R2v3 R2V3-BACKDATED at Nashville scrap yard (US)" in out.getvalue()
