"""Reference data for tests. Lots and events are made through ``custody.services``, never here."""

from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model

from recyclers.models import (
    Certification,
    CertificationScheme,
    Facility,
    FacilityKind,
    Membership,
    Organization,
    OrganizationRole,
)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organization {n}")
    country = "US"

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.roles.set(OrganizationRole.objects.filter(code__in=extracted))


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Facility {n}")
    kind = FacilityKind.WAREHOUSE
    country = "US"
    region = "TN"
    city = "Knoxville"


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    facility = factory.SubFactory(FacilityFactory)
    scheme = CertificationScheme.R2V3
    number = factory.Sequence(lambda n: f"R2-{n:05d}")
    issued_by = "SERI"
    valid_from = factory.LazyFunction(lambda: date.today() - timedelta(days=365))
    valid_until = factory.LazyFunction(lambda: date.today() + timedelta(days=365))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
