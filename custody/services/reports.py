"""Reports: a certificate's PDF, the upstream ledger's CSV or an audit pack, produced by a
Celery task and tracked by a ``Report`` (status, progress, file with its SHA-256).

A report is requested (queued; its task is sent once the request commits) and run by the task:
``run_report`` takes the report under a row lock, and returns at once if it is already done or
failed, so a message delivered twice produces the report once. A certificate a report issues
is named by the report in the transaction that writes it: a worker killed after that point
leaves a report whose retry reuses the certificate instead of issuing a second one. Files go to
Django's default storage. A refusal (``DomainError``) fails the report with its message; any
other exception is raised again for Celery to retry (``custody.tasks.run_report``), and a
report whose worker died with its message is queued again by ``requeue_stalled_reports``.
"""

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from recyclers.models import Organization

from ..certificate_pdf import render_certificate
from ..errors import DomainError, ErrorCode
from ..models import Lot, OriginPolicy, OriginPolicyVersion, Report, ReportKind, ReportStatus
from ..selectors.audit_pack import audit_pack
from ..selectors.certificates import certificate_document, ledger_csv, upstream_ledger
from ..selectors.policies import applied_version
from ..selectors.transparency_log import latest_checkpoint
from .certificates import issue, logged_rows, reissued, require_visible
from .transparency_log import integrate_log

logger = logging.getLogger(__name__)

# How many times a report runs before it is given up (a worker killed each time, a bug).
MAX_ATTEMPTS = 5
CONTENT_TYPES = {
    ReportKind.CERTIFICATE: "application/pdf",
    ReportKind.LEDGER_CSV: "text/csv; charset=utf-8",
    ReportKind.AUDIT_PACK: "application/zip",
}

_runner: Callable[[str], None] | None = None


def set_runner(run: Callable[[str], None]) -> None:
    """``custody.tasks`` hands in how a report's task is sent (services do not import it)."""
    global _runner
    _runner = run


class RetryLater(Exception):
    """The report cannot run yet (an upstream event is not in the log): try again shortly."""


def request_report(
    lot: Lot,
    kind: str,
    *,
    organization: Organization,
    user=None,
    policy: OriginPolicy | OriginPolicyVersion | None = None,
) -> Report:
    """Queue a report of ``lot`` for ``organization``, which must be allowed to see it (else
    ``unknown_lot``, as for a lot that does not exist). A named policy is pinned to its
    version now; none means the default policy's latest version when the report runs."""
    require_visible(organization, lot)
    if kind not in ReportKind.values:
        raise DomainError(
            ErrorCode.INVALID_REPORT_KIND,
            f"A report is one of {', '.join(ReportKind.values)}.",
            field="kind",
        )
    version = applied_version(policy) if policy is not None else None
    with transaction.atomic():
        report = Report.objects.create(
            kind=kind, lot=lot, organization=organization, requested_by=user, policy=version
        )
        transaction.on_commit(lambda: send(report.pk))
    return report


def send(report_id) -> None:
    """Send the report's task; a broker that is down leaves it queued for the sweep."""
    try:
        if _runner is None:
            raise RuntimeError("no report runner (custody.tasks is not loaded)")
        _runner(str(report_id))
    except Exception:
        logger.exception("Report %s not sent; the sweep will queue it again", report_id)


def run_report(report_id) -> Report | None:
    """Produce the report, once. None if it is already done or failed."""
    report = _start(report_id)
    if report is None:
        return None
    try:
        content, name = _produce(report)
    except DomainError as error:
        if error.code == ErrorCode.EVENTS_NOT_IN_LOG:
            _update(report, status=ReportStatus.QUEUED)
            raise RetryLater(error.message) from error
        _update(report, status=ReportStatus.FAILED, error=error.message, finished_at=timezone.now())
        return report
    _store(report, content, name)
    return report


def _start(report_id) -> Report | None:
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("lot", "organization", "policy", "certificate")
            .get(pk=report_id)
        )
        if report.status in (ReportStatus.DONE, ReportStatus.FAILED):
            return None
        report.status = ReportStatus.RUNNING
        report.attempts += 1
        report.progress = 0
        report.error = ""
        report.started_at = timezone.now()
        report.save(update_fields=["status", "attempts", "progress", "error", "started_at"])
        return report


def _update(report: Report, **fields) -> None:
    Report.objects.filter(pk=report.pk).update(**fields)
    for name, value in fields.items():
        setattr(report, name, value)


def _produce(report: Report) -> tuple[bytes, str]:
    def progress(percent: int) -> None:
        _update(report, progress=percent)

    code = report.lot.code
    if report.kind == ReportKind.LEDGER_CSV:
        require_visible(report.organization, report.lot)
        integrate_log()
        progress(5)
        rows = logged_rows(upstream_ledger(report.lot, report.organization), latest_checkpoint())
        progress(40)
        return ledger_csv(rows), f"ledger-{code}.csv"
    if report.certificate_id:
        require_visible(report.organization, report.lot)
        issued = reissued(report.certificate)
    else:
        issued = issue(
            report.lot,
            organization=report.organization,
            user=report.requested_by,
            policy=report.policy,
            on_progress=progress,
            report=report,
        )
    report.certificate = issued.certificate
    pdf = render(issued)
    progress(80)
    if report.kind == ReportKind.CERTIFICATE:
        return pdf, f"certificate-{code}.pdf"
    pack = audit_pack(issued.certificate, rows=issued.rows, csv=issued.csv, pdf=pdf)
    progress(95)
    return pack, f"audit-pack-{code}.zip"


def render(issued) -> bytes:
    """The certificate's PDF (a seam the worker test slows down)."""
    document = certificate_document(
        issued.certificate, verdict=issued.verdict, rows=issued.rows, origin=issued.origin
    )
    return render_certificate(document)


def _store(report: Report, content: bytes, name: str) -> None:
    # Under the report's id: the file keeps its own name (the download's), and no two reports'
    # files collide.
    report.file.save(f"{report.pk}/{name}", ContentFile(content), save=False)
    _update(
        report,
        file=report.file.name,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        status=ReportStatus.DONE,
        progress=100,
        finished_at=timezone.now(),
    )


def download_name(report: Report) -> str:
    """The file's own name: ``certificate-<LOT>.pdf``, ``ledger-<LOT>.csv``,
    ``audit-pack-<LOT>.zip``."""
    return report.file.name.rsplit("/", 1)[-1]


def content_type(report: Report) -> str:
    return CONTENT_TYPES[report.kind]


def fail_report(report_id, error: str) -> None:
    """Give a report up (its task ran out of retries)."""
    Report.objects.filter(pk=report_id).exclude(status=ReportStatus.DONE).update(
        status=ReportStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def requeue_stalled_reports(older_than: timedelta | None = None) -> int:
    """Queue again the reports stuck in ``running`` (their worker was killed and the message
    lost with it) or ``queued`` (the broker was down when it was sent) for longer than
    ``REPORT_STALLED_SECONDS``; give up those that ran ``MAX_ATTEMPTS`` times."""
    age = (
        older_than if older_than is not None else timedelta(seconds=settings.REPORT_STALLED_SECONDS)
    )
    cutoff = timezone.now() - age
    stalled = Report.objects.filter(status__in=[ReportStatus.RUNNING, ReportStatus.QUEUED]).filter(
        started_at__lt=cutoff
    ) | Report.objects.filter(
        status=ReportStatus.QUEUED, started_at__isnull=True, created_at__lt=cutoff
    )
    sent = 0
    for report_id, attempts in stalled.values_list("pk", "attempts"):
        if attempts >= MAX_ATTEMPTS:
            fail_report(report_id, f"Gave up after {attempts} attempts.")
            continue
        send(report_id)
        sent += 1
    return sent
