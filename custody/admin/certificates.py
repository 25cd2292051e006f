"""Certificates of origin and the reports that produce them, in the operator admin.

The lot list's "Issue certificate" action requests a certificate report of each selected lot
for the user's operator organization (``custody.services.reports``); the reports list shows
each report's progress and, once done, a link to its file (a download view under the admin,
for staff only). Certificates are read-only; their "Revoke" and "Supersede" actions ask for a
reason and call ``custody.services.certificates``, which records the act the verification page
shows."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from ..errors import DomainError
from ..models import Certificate, CertificateAct, Report, ReportKind, ReportStatus
from ..selectors.credential_key import verify_url
from ..services.certificates import revoke_certificate, supersede_certificate
from ..services.reports import content_type, download_name, request_report
from .common import ReadOnlyAdmin, operator_or_refuse


@admin.action(description="Issue certificate of selected lots")
def issue_certificates(modeladmin, request, queryset):
    """A certificate report of each lot, for the user's operator organization (which sees
    every lot, and so the whole upstream ledger)."""
    membership = operator_or_refuse(modeladmin, request, "issue certificates")
    if membership is None:
        return
    for lot in queryset.order_by("code"):
        try:
            report = request_report(
                lot, ReportKind.CERTIFICATE, organization=membership.organization, user=request.user
            )
        except DomainError as error:
            modeladmin.message_user(
                request, f"{lot.code}: {error.message} ({error.code})", messages.ERROR
            )
            continue
        url = reverse("admin:custody_report_change", args=[report.pk])
        modeladmin.message_user(
            request,
            format_html('Certificate of {} requested: <a href="{}">its report</a>', lot.code, url),
            messages.SUCCESS,
        )


# --- Reports -----------------------------------------------------------------------------------


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = [
        "lot",
        "kind",
        "status",
        "progress_bar",
        "requested_by",
        "organization",
        "created_at",
        "download_link",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["lot", "organization", "requested_by"]
    search_fields = ["lot__code", "id"]
    readonly_fields = [
        "id",
        "kind",
        "lot",
        "organization",
        "requested_by",
        "policy",
        "status",
        "progress_bar",
        "error",
        "download_link",
        "sha256",
        "size",
        "certificate_link",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
    ]
    fields = readonly_fields

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_view)
        return [
            path("<uuid:report_id>/download/", download, name="custody_report_download"),
            *super().get_urls(),
        ]

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, report: Report):
        return format_html(
            '<progress class="report-progress" max="100" value="{}">{}%</progress> {}%',
            report.progress,
            report.progress,
            report.progress,
        )

    @admin.display(description="file")
    def download_link(self, report: Report):
        if report.status != ReportStatus.DONE:
            return "-"
        url = reverse("admin:custody_report_download", args=[report.pk])
        name = download_name(report)
        return format_html('<a class="report-download" href="{}">{}</a>', url, name)

    @admin.display(description="certificate")
    def certificate_link(self, report: Report):
        if not report.certificate_id:
            return "-"
        url = reverse("admin:custody_certificate_change", args=[report.certificate_id])
        return format_html('<a href="{}">{}</a>', url, report.certificate_id)

    def download_view(self, request, report_id):
        """The report's file, for staff (``admin_view`` requires it)."""
        report = Report.objects.filter(pk=report_id, status=ReportStatus.DONE).first()
        if report is None or not self.has_view_permission(request, report):
            raise Http404("No such report, or it is not done.")
        return FileResponse(
            report.file.open("rb"),
            as_attachment=True,
            filename=download_name(report),
            content_type=content_type(report),
        )


# --- Certificates ------------------------------------------------------------------------------


class ActReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Shown on each certificate's public verification page.",
    )


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["id", "lot", "organization", "outcome", "issued_at", "state", "verify_link"]
    list_filter = ["outcome", "act__action"]
    list_select_related = ["lot", "organization", "act"]
    search_fields = ["lot__code", "id"]
    readonly_fields = [
        "id",
        "verify_link",
        "state",
        "acts",
        "lot",
        "organization",
        "issued_by",
        "issued_at",
        "policy",
        "outcome",
        "assessed_at",
        "kid",
        "tree_size",
        "upstream_events",
        "upstream_root",
        "ledger_sha256",
        "checkpoint",
        "token",
    ]
    fields = readonly_fields
    actions = ["revoke_certificates", "supersede_certificates"]

    @admin.display(description="verification page")
    def verify_link(self, certificate: Certificate):
        url = verify_url(certificate.id)
        return format_html('<a class="verify-link" href="{}">{}</a>', url, url)

    @admin.display(description="state")
    def state(self, certificate: Certificate) -> str:
        try:
            return certificate.act.get_action_display()
        except CertificateAct.DoesNotExist:
            return "Issued"

    @admin.display(description="acts")
    def acts(self, certificate: Certificate):
        found = CertificateAct.objects.filter(certificate=certificate).select_related(
            "acted_by", "superseded_by"
        )
        if not found:
            return "none"
        return format_html_join(
            "",
            '<p class="certificate-act">{} on {} by {}: {}{}</p>',
            (
                (
                    act.get_action_display(),
                    f"{act.acted_at:%Y-%m-%d %H:%M} UTC",
                    act.acted_by,
                    act.reason,
                    f" (by {act.superseded_by_id})" if act.superseded_by_id else "",
                )
                for act in found
            ),
        )

    @admin.action(description="Revoke selected certificates")
    def revoke_certificates(self, request, queryset):
        return self._act(request, queryset, verb="revoke", past="revoked", service=_revoke)

    @admin.action(description="Supersede selected certificates (issue new ones)")
    def supersede_certificates(self, request, queryset):
        return self._act(
            request, queryset, verb="supersede", past="superseded", service=supersede_certificate
        )

    def _act(self, request, queryset, *, verb, past, service):
        if operator_or_refuse(self, request, f"{verb} certificates") is None:
            return None
        form = ActReasonForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._confirmation(request, queryset, form, verb)
        for certificate in queryset.select_related("lot", "organization", "policy"):
            try:
                service(certificate, user=request.user, reason=form.cleaned_data["reason"])
            except DomainError as error:
                self.message_user(
                    request, f"{certificate.id}: {error.message} ({error.code})", messages.ERROR
                )
            else:
                self.message_user(
                    request, f"Certificate {certificate.id} {past}.", messages.SUCCESS
                )
        return None

    def _confirmation(self, request, queryset, form, verb):
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb.capitalize()} certificates",
            "verb": verb,
            "opts": self.model._meta,
            "certificates": list(queryset.select_related("lot", "organization")),
            "form": form,
            "action": request.POST.get("action", ""),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/custody/certificate/action_confirmation.html", context
        )


def _revoke(certificate, *, user, reason):
    return revoke_certificate(certificate, user=user, reason=reason)
