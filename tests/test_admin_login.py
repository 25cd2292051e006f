"""The admin's front door: logins are throttled per username and address (django-axes), API
keys are not; and API keys are made in one place, the organization keys' admin."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from .api.test_read_api import key_for

LOGIN = reverse("admin:login")
PASSWORD = "password"  # pytest-django's admin_user


def attempt(password: str, username: str = "admin", address: str = "203.0.113.7"):
    """One login through the admin's form, from ``address``; the client and its answer."""
    client = Client(REMOTE_ADDR=address)
    response = client.post(
        f"{LOGIN}?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=address
    )
    return client, response


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


class TestLoginThrottling:
    def test_the_settings_give_five_failures_and_a_quarter_hour(self):
        assert settings.AXES_FAILURE_LIMIT == 5
        assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
        assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]

    def test_after_five_failures_the_right_password_is_refused_for_a_while(self, admin_user):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            client, response = attempt("wrong")
            assert response.status_code == 200  # the form again, with its error
            assert not logged_in(client)
        client, response = attempt("wrong")  # the fifth failure locks the pair out
        assert response.status_code == 429
        client, response = attempt(PASSWORD)
        assert response.status_code == 429
        assert "too many" in response.content.decode().lower()
        assert not logged_in(client)
        assert client.get("/admin/").status_code == 302  # back to the login page

        # Another address is not locked out; after the cool-off this one is not either.
        client, response = attempt(PASSWORD, address="198.51.100.20")
        assert response.status_code == 302 and logged_in(client)
        locked = AccessAttempt.objects.get(ip_address="203.0.113.7")
        locked.attempt_time -= settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
        locked.save()
        client, response = attempt(PASSWORD)
        assert response.status_code == 302 and logged_in(client)

    def test_the_lockout_is_per_username(self, admin_user, django_user_model):
        django_user_model.objects.create_superuser("second", "second@example.com", PASSWORD)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            attempt("wrong")
        assert attempt(PASSWORD)[1].status_code == 429
        client, response = attempt(PASSWORD, username="second")
        assert response.status_code == 302 and logged_in(client)

    def test_api_keys_are_not_counted_or_locked_out(self, admin_user, chain):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            attempt("wrong", address="127.0.0.1")
        assert attempt(PASSWORD, address="127.0.0.1")[1].status_code == 429
        # Bad keys from the locked-out address are 401, as ever, and lock nothing further.
        bad = APIClient(REMOTE_ADDR="127.0.0.1")
        bad.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
        for _ in range(settings.AXES_FAILURE_LIMIT + 1):
            assert bad.get("/api/v1/lots/").status_code == 401
        good = APIClient(REMOTE_ADDR="127.0.0.1")
        good.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_for(chain.recycler)}")
        assert good.get("/api/v1/lots/").status_code == 200
        assert AccessAttempt.objects.get().failures_since_start == settings.AXES_FAILURE_LIMIT + 1


class TestOneAdminForKeys:
    def test_the_admin_lists_organization_api_keys_only(self, admin_client):
        index = admin_client.get(reverse("admin:index"))
        content = index.content.decode()
        organization_keys = reverse("admin:recyclers_organizationapikey_changelist")
        assert organization_keys in content
        assert "/admin/rest_framework_api_key/" not in content
        assert not any(
            app["app_label"] == "rest_framework_api_key" for app in index.context["app_list"]
        )
        assert admin_client.get("/admin/rest_framework_api_key/apikey/").status_code == 404


@pytest.fixture(autouse=True)
def _db(db):
    """Every test here reads or writes the login attempts."""
