"""The codes of verdict findings, each carrying the severity of the rule it names.

A finding's ``code`` and ``severity`` are stable strings in the API, the stored verdicts and
the certificates; the README's table of verdict rules lists every code.
"""

from enum import StrEnum


class Severity(StrEnum):
    """How a finding weighs on the verdict: any violation makes it ``non_compliant``; missing
    evidence alone leaves it ``unverified``."""

    VIOLATION = "violation"
    MISSING_EVIDENCE = "missing_evidence"


class FindingCode(StrEnum):
    """Which rule a finding is about, with the severity of breaking it (``code.severity``).

    One code has two severities: ``open_handoff`` is a violation once a dispatch has gone
    unreceived past the policy's transit limit (or took longer than it), and only missing evidence
    while the lot is still within the limit. The member carries ``violation``, the severity of the
    broken rule; the rule passes ``missing_evidence`` explicitly in that one case.
    """

    def __new__(cls, value: str, severity: Severity):
        member = str.__new__(cls, value)
        member._value_ = value
        member.severity = severity
        return member

    FOREIGN_CUSTODY = "foreign_custody", Severity.VIOLATION
    DENIED_JURISDICTION = "denied_jurisdiction", Severity.VIOLATION
    OPEN_HANDOFF = "open_handoff", Severity.VIOLATION
    SEAL_BROKEN = "seal_broken", Severity.VIOLATION
    TRANSIT_LOSS = "transit_loss", Severity.VIOLATION
    UNBALANCED_TRANSFORMATION = "unbalanced_transformation", Severity.VIOLATION
    YIELD_SHORTFALL = "yield_shortfall", Severity.VIOLATION
    YIELD_EXCESS = "yield_excess", Severity.VIOLATION
    UNCERTIFIED_CUSTODIAN = "uncertified_custodian", Severity.VIOLATION
    UNSANITIZED_MEDIA = "unsanitized_media", Severity.VIOLATION
    BROKEN_CHAIN = "broken_chain", Severity.VIOLATION
    UNKNOWN_ORIGIN = "unknown_origin", Severity.MISSING_EVIDENCE
    # A certification recorded after the event it would cover: not proof until accepted.
    RETROACTIVE_CERTIFICATION = "retroactive_certification", Severity.MISSING_EVIDENCE
