"""API-key authentication: the key's organization is who acts."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_api_key.permissions import KeyParser

from recyclers.models import Membership, Organization, OrganizationAPIKey

from ..actors import Actor


@dataclass(frozen=True)
class KeyHolder:
    """``request.user`` for a call made with an API key: the organization, no person."""

    organization: Organization
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_active: bool = True
    pk: None = None

    def __str__(self) -> str:
        return f"API key of {self.organization}"


class OrganizationAPIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        key = KeyParser().get(request)
        if not key:
            return None
        prefix = key.partition(".")[0]
        api_key = (
            OrganizationAPIKey.objects.select_related("organization").filter(prefix=prefix).first()
        )
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if api_key.revoked:
            raise exceptions.AuthenticationFailed("This API key was revoked.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not api_key.organization.is_active:
            raise exceptions.AuthenticationFailed("The key's organization is not active.")
        return KeyHolder(api_key.organization), api_key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = OrganizationAPIKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, as issued by an operator or `create_api_key`.",
        }


def request_actor(request) -> Actor:
    """Who acts: the key's organization, or the session user's organization (looked up once
    per request)."""
    actor = getattr(request, "_custody_actor", None)
    if actor is None:
        actor = request._custody_actor = _resolve_actor(request)
    return actor


def _resolve_actor(request) -> Actor:
    if isinstance(request.user, KeyHolder):
        return Actor(organization=request.user.organization, api_key_prefix=request.auth.prefix)
    if isinstance(request.user, AnonymousUser) or not request.user.is_authenticated:
        raise exceptions.NotAuthenticated()
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=request.user, organization__is_active=True)
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise exceptions.PermissionDenied("Your account is not a member of any organization.")
    return Actor(organization=membership.organization, user=request.user)
