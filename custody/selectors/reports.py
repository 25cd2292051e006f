"""Which reports an organization may read, and the certificates anyone may look up by id.

A report is its requester's: another organization's report does not exist for a partner (a
404, as for a lot it may not see); operators and auditors read every report. A certificate is
looked up by its random id only (the public verification page): a malformed id names nothing.
"""

import uuid

from django.db.models import QuerySet

from recyclers.models import Organization

from ..models import Certificate, Report

REPORT_RELATIONS = ("lot", "organization", "policy__policy", "certificate")


def visible_reports(organization: Organization) -> QuerySet[Report]:
    reports = Report.objects.select_related(*REPORT_RELATIONS)
    if organization.sees_everything:
        return reports
    return reports.filter(organization=organization)


def report_named(organization: Organization, report_id) -> Report | None:
    """The report, if ``organization`` may read it; None for a malformed or unknown id."""
    parsed = as_uuid(report_id)
    if parsed is None:
        return None
    return visible_reports(organization).filter(pk=parsed).first()


def certificate_named(certificate_id) -> Certificate | None:
    parsed = as_uuid(certificate_id)
    if parsed is None:
        return None
    return (
        Certificate.objects.select_related("lot", "organization", "policy__policy")
        .filter(pk=parsed)
        .first()
    )


def as_uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None
