from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from recyclers.gs1 import gs1_check_digit, is_valid_gln, validate_gln
from recyclers.models import CertificationStatus, Facility

from ..factories import CertificationFactory, FacilityFactory, OrganizationFactory


class TestGLN:
    def test_check_digit_of_gs1_examples(self):
        # The EAN-13 on a Stabilo pen (Wikipedia's example): same mod-10 as a GLN.
        assert gs1_check_digit("400638133393") == 1
        assert is_valid_gln("4006381333931")
        assert is_valid_gln("0614141000036")
        assert not is_valid_gln("0614141000013")

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("061414100003", "invalid_gln"),
            ("06141410000361", "invalid_gln"),
            ("06141410000A6", "invalid_gln"),
            ("\uff10614141000036", "invalid_gln"),  # a full-width digit
            ("0614141000037", "invalid_gln_check_digit"),
        ],
    )
    def test_invalid_glns_say_why(self, value, code):
        with pytest.raises(ValidationError) as caught:
            validate_gln(value)
        assert caught.value.code == code

    def test_facility_validation_reports_the_expected_check_digit(self, db):
        facility = FacilityFactory.build(organization=OrganizationFactory(), gln="0614141000037")
        with pytest.raises(ValidationError) as caught:
            facility.full_clean()
        assert "expected 6" in str(caught.value.message_dict["gln"])

    def test_glns_are_unique_but_blank_is_allowed_many_times(self, db):
        FacilityFactory(gln="0614141000036")
        FacilityFactory(gln="")
        FacilityFactory(gln="")
        with pytest.raises(IntegrityError), transaction.atomic():
            FacilityFactory(gln="0614141000036")
        assert Facility.objects.filter(gln="").count() == 2


class TestCertification:
    def test_valid_only_when_active_and_in_its_dates(self, db):
        certification = CertificationFactory(
            valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31)
        )
        assert certification.is_valid_on(date(2026, 6, 1))
        assert not certification.is_valid_on(date(2027, 1, 1))
        certification.status = CertificationStatus.SUSPENDED
        assert not certification.is_valid_on(date(2026, 6, 1))

    def test_validity_range_is_enforced_by_the_database(self, db):
        with pytest.raises(IntegrityError), transaction.atomic():
            CertificationFactory(valid_from=date(2026, 2, 1), valid_until=date(2026, 1, 1))


def test_roles(db):
    organization = OrganizationFactory(roles=["recycler", "carrier"])
    assert organization.has_role("carrier")
    assert not organization.has_role("buyer")
    assert not organization.sees_everything
    assert OrganizationFactory(roles=["auditor"]).sees_everything
