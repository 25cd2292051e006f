"""``/reports/``: a partner's certificates of origin (PDF), ledger exports (CSV) and audit packs
(zip). A request is queued (202, with the report's address in ``Location``); the report says
its status and progress; once done, ``download`` streams the file from storage with its
SHA-256 as ``ETag`` and ``Digest``. Another organization's report answers as an unknown one."""

import base64

from django.http import FileResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, pagination, serializers, viewsets
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.response import Response

from ..errors import DomainError, ErrorCode
from ..models import Report, ReportKind, ReportStatus
from ..selectors.credential_key import verify_url
from ..selectors.policies import policy_version
from ..selectors.reports import report_named, visible_reports
from ..selectors.visibility import lots_named, unknown_lots
from ..services.reports import content_type, download_name, request_report
from .auth import request_actor
from .common import parsed
from .idempotency import idempotent
from .inputs import Strict
from .pagination import CursorPagination


class ReportInput(Strict):
    lot = serializers.CharField(max_length=100, help_text="The lot's code.")
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    policy = serializers.CharField(
        max_length=100,
        required=False,
        help_text="`SLUG` (its latest version) or `SLUG@VERSION`; by default the default "
        "policy's latest version when the report runs.",
    )


class ReportSerializer(serializers.ModelSerializer):
    lot = serializers.CharField(source="lot.code")
    policy = serializers.SerializerMethodField()
    certificate = serializers.UUIDField(source="certificate_id", allow_null=True)
    verify_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "url",
            "kind",
            "lot",
            "policy",
            "status",
            "progress",
            "error",
            "sha256",
            "size",
            "certificate",
            "verify_url",
            "download_url",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_policy(self, report: Report) -> str | None:
        return str(report.policy) if report.policy_id else None

    def get_verify_url(self, report: Report) -> str | None:
        return verify_url(report.certificate_id) if report.certificate_id else None

    def get_url(self, report: Report) -> str:
        return self._absolute(reverse("report-detail", args=[report.pk]))

    def get_download_url(self, report: Report) -> str | None:
        if report.status != ReportStatus.DONE:
            return None
        return self._absolute(reverse("report-download", args=[report.pk]))

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ReportFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ReportKind.choices)
    status = filters.ChoiceFilter(choices=ReportStatus.choices)
    lot = filters.CharFilter(field_name="lot__code")

    class Meta:
        model = Report
        fields = ["kind", "status", "lot"]


class ReportPagination(CursorPagination):
    """Newest first, by ``created_at`` (reports have no integer column): a cursor's position is
    a time, and one that is not a time is a 400 at ``cursor`` like any cursor the API did not
    give."""

    ordering = "-created_at"

    def decode_cursor(self, request):
        try:
            cursor = pagination.CursorPagination.decode_cursor(self, request)
        except NotFound:
            cursor = False
        if cursor is not False and (
            cursor is None or cursor.position is None or _is_time(cursor.position)
        ):
            return cursor
        message = ErrorDetail("Not a cursor this API gave.", code="invalid_cursor")
        raise ValidationError({self.cursor_query_param: [message]})


def _is_time(text: str) -> bool:
    try:
        return parse_datetime(text) is not None
    except ValueError:
        return False


class ReportViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's reports of lots (operators and auditors: everyone's)."""

    # ``download`` is routed as ``reports/{id}/download``, without the router's trailing
    # slash, by ``DOWNLOAD`` below (config/api_urls.py).

    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    pagination_class = ReportPagination
    lookup_value_regex = "[^/]+"  # any id: a malformed one is a 404, as an unknown one

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Report.objects.none()
        return visible_reports(request_actor(self.request).organization)

    def get_object(self):
        report = report_named(request_actor(self.request).organization, self.kwargs["pk"])
        if report is None:
            raise NotFound()
        return report

    @extend_schema(
        request=ReportInput,
        responses={202: ReportSerializer},
        description="Queue a report of a lot the caller may see (else `unknown_lot`): "
        "`certificate` (a certificate of origin, PDF), `ledger_csv` (every upstream event) or "
        "`audit_pack` (zip: the signed credential, PDF, CSV, checkpoint, inclusion proofs, "
        "evidence digests). Poll the report at `Location` until `status` is `done`.",
    )
    @idempotent
    def create(self, request):
        actor = request_actor(request)
        data = parsed(ReportInput, request)
        lot = lots_named(actor.organization, [data["lot"]]).get(data["lot"])
        if lot is None:
            raise unknown_lots([data["lot"]], field="lot")
        policy = policy_version(data["policy"]) if "policy" in data else None
        report = request_report(
            lot, data["kind"], organization=actor.organization, user=actor.user, policy=policy
        )
        report = visible_reports(actor.organization).get(pk=report.pk)
        body = ReportSerializer(report, context={"request": request}).data
        return Response(body, status=202, headers={"Location": body["url"]})

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file: `application/pdf`, `text/csv` or `application/zip`, "
                "with `ETag` (its SHA-256, hex) and `Digest: sha-256=<base64>`.",
            )
        },
        operation_id="reports_download",
    )
    def download(self, request, pk=None):
        """The report's file; `409 report_not_ready` until the report is done."""
        report = self.get_object()
        if report.status != ReportStatus.DONE:
            raise DomainError(
                ErrorCode.REPORT_NOT_READY,
                f"The report is {report.status} ({report.progress}%): download it once its "
                "status is done.",
            )
        response = FileResponse(
            report.file.open("rb"),
            as_attachment=True,
            filename=download_name(report),
            content_type=content_type(report),
        )
        response["ETag"] = f'"{report.sha256}"'
        response["Digest"] = "sha-256=" + base64.b64encode(bytes.fromhex(report.sha256)).decode()
        return response


DOWNLOAD = ReportViewSet.as_view(
    {"get": "download"}, detail=True, pagination_class=None, filterset_class=None
)
