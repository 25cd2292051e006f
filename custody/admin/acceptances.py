"""Accepted retroactive certifications: listed read-only; a new acceptance is recorded on the
add page, through ``custody.services.accept_certification``, as the user's operator or auditor
organization. Acceptances are never changed or deleted."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from recyclers.models import Certification, Membership, Role

from ..actors import Actor
from ..errors import DomainError
from ..models import CertificationAcceptance
from ..services import accept_certification
from .common import ReadOnlyAdmin

ASSESSOR_ROLES = [Role.OPERATOR, Role.AUDITOR]


class AcceptanceForm(forms.Form):
    certification = forms.ModelChoiceField(
        queryset=Certification.objects.select_related("facility").order_by(
            "facility__name", "scheme", "number"
        ),
        help_text="Accepted as it is recorded now; a later edit needs an acceptance of its own.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why it counts for events recorded before it (kept with the acceptance, "
        "cited by every verdict that relies on it).",
    )


def assessor_membership(user) -> Membership | None:
    """The user's membership in an operator or auditor organization, if any."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__roles__code__in=ASSESSOR_ROLES)
        .order_by("-organization__is_active", "organization__name")
        .first()
    )


@admin.register(CertificationAcceptance)
class CertificationAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["certification", "facility", "accepted_by", "accepted_at", "reason"]
    list_select_related = [
        "certification__facility",
        "accepted_by_organization",
        "accepted_by_user",
    ]
    search_fields = ["certification__number", "certification__facility__name", "reason"]

    def has_add_permission(self, request):
        return request.user.has_perm("custody.add_certificationacceptance")

    @admin.display(description="facility", ordering="certification__facility__name")
    def facility(self, acceptance: CertificationAcceptance):
        return acceptance.certification.facility

    @admin.display(description="accepted by")
    def accepted_by(self, acceptance: CertificationAcceptance) -> str:
        via = acceptance.accepted_by_user or acceptance.accepted_by_api_key_prefix
        organization = acceptance.accepted_by_organization
        return f"{organization} ({via})" if via else str(organization)

    def add_view(self, request, form_url="", extra_context=None):
        """A form of two fields whose submit calls the service, as the user's organization."""
        membership = assessor_membership(request.user)
        initial = {"certification": request.GET.get("certification")}
        form = AcceptanceForm(request.POST or None, initial=initial)
        if membership is not None and request.method == "POST" and form.is_valid():
            try:
                accept_certification(
                    actor=Actor(organization=membership.organization, user=request.user),
                    certification=form.cleaned_data["certification"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(
                    request,
                    f"{form.cleaned_data['certification']} accepted; the verdicts that rely on "
                    "it now cite this acceptance.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:custody_certificationacceptance_changelist")
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Accept a certification recorded after the events it covers",
            "opts": self.model._meta,
            "form": form,
            "organization": membership.organization if membership else None,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/custody/certificationacceptance/add_form.html", context
        )
