"""What every ledger admin shares: read-only model admins, digests for reading, and the
operator membership that the lot actions act under."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html

from recyclers.models import Membership, Role

HASH_PREVIEW = 12


def abbreviate(digest: str, length: int = HASH_PREVIEW) -> str:
    return f"{digest[:length]}…" if len(digest) > length else digest


def monospace_digest(digest: str, length: int = HASH_PREVIEW):
    """A digest abbreviated for reading, the full value in its title (hover, copy, tests)."""
    return format_html(
        '<code class="digest" title="{}">{}</code>', digest, abbreviate(digest, length)
    )


def operator_membership(user) -> Membership | None:
    """The user's membership in an organization with the operator role, if any."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__roles__code=Role.OPERATOR)
        .order_by("-organization__is_active", "organization__name")
        .first()
    )


def operator_or_refuse(modeladmin, request, what: str) -> Membership | None:
    """The user's operator membership; None, with a message saying so, if there is none.
    ``what`` is what they tried: "quarantine lots", "revoke certificates"."""
    membership = operator_membership(request.user)
    if membership is None:
        modeladmin.message_user(
            request,
            f"Only a member of an operator organization can {what}; you are not one, so "
            "nothing was changed.",
            messages.ERROR,
        )
    return membership


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger records are written by ``custody.services`` only: nobody adds, changes or deletes
    them here, superusers included (DESIGN invariants 1 and 2)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        raise PermissionDenied("Ledger records are written only through custody.services.")

    def delete_model(self, request, obj):
        raise PermissionDenied("Ledger records are never deleted.")
