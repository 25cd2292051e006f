"""Everything the operator admin's lot page shows, read in one place and in a bounded number of
queries: the lot's events, whether its chain verifies, its manifest counts, its direct genealogy
and data-center shares, and its verdict under the default policy.

Only reads: the verdict is assessed, not stored (the hourly task and the admin's "Reassess"
action store it through ``custody.services.stored_verdicts``).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from django.db.models import Count, Q

from recyclers.models import Organization

from ..models import DRIVE_CATEGORIES, AssetCategory, CustodyEvent, Lot, Transformation
from .genealogy import Contributions, contributions
from .verdicts import Finding, Verdict, assess
from .verification import VerificationReport, verify_ledger


@dataclass(frozen=True)
class ManifestCategory:
    category: str
    label: str
    lines: int
    sanitized: int  # lines with a sanitization record
    is_drive: bool


@dataclass(frozen=True)
class ManifestSummary:
    """Counts of the manifest by category: a pickup can list thousands of drives."""

    categories: list[ManifestCategory]

    @property
    def lines(self) -> int:
        return sum(row.lines for row in self.categories)

    @property
    def drives(self) -> int:
        return sum(row.lines for row in self.categories if row.is_drive)

    @property
    def unsanitized_drives(self) -> int:
        return sum(row.lines - row.sanitized for row in self.categories if row.is_drive)


class GenealogyLink(NamedTuple):
    lot: Lot  # the parent, or the child
    mass_kg: Decimal
    transformation: Transformation


@dataclass(frozen=True)
class Genealogy:
    parents: list[GenealogyLink]
    children: list[GenealogyLink]
    contributions: Contributions | None  # None for a lot without parents


@dataclass(frozen=True)
class LotPage:
    lot: Lot
    events: list[CustodyEvent]  # by seq, with their actors and facilities
    # The carriers the events' details name: by slug, or by id in events recorded before slugs.
    carriers: dict[int | str, Organization]
    chain: VerificationReport
    manifest: ManifestSummary
    genealogy: Genealogy
    verdict: Verdict
    finding_events: dict[str, int]  # a finding's event uuid (as the finding has it) -> event pk

    def finding_event_pk(self, finding: Finding) -> int | None:
        """The primary key of the event ``finding`` points at, if it has one."""
        return self.finding_events.get(finding.event) if finding.event else None


def lot_page(lot: Lot) -> LotPage:
    events = list(
        lot.events.select_related(
            "actor_organization", "actor_user", "facility", "counterparty_facility"
        ).order_by("seq")
    )
    verdict = assess(lot)
    return LotPage(
        lot=lot,
        events=events,
        carriers=_carriers(events),
        chain=verify_ledger(lot_codes=[lot.code]),
        manifest=manifest_summary(lot),
        genealogy=genealogy(lot),
        verdict=verdict,
        finding_events=_finding_events(verdict.findings),
    )


def _carriers(events: list[CustodyEvent]) -> dict[int | str, Organization]:
    """A dispatch names its carrier by slug; one recorded before that, by id. One query."""
    named = [event.details.get("carrier") for event in events]
    ids = {value for value in named if isinstance(value, int) and not isinstance(value, bool)}
    slugs = {value for value in named if isinstance(value, str) and value}
    if not ids and not slugs:
        return {}
    carriers: dict[int | str, Organization] = {}
    for organization in Organization.objects.filter(Q(pk__in=ids) | Q(slug__in=slugs)):
        if organization.pk in ids:
            carriers[organization.pk] = organization
        if organization.slug in slugs:
            carriers[organization.slug] = organization
    return carriers


def manifest_summary(lot: Lot) -> ManifestSummary:
    """Lines per category, and how many carry a sanitization record: one query."""
    rows = (
        lot.assets.values("category")
        .annotate(lines=Count("id"), sanitized=Count("id", filter=~Q(sanitization_method="")))
        .order_by("category")
    )
    return ManifestSummary(
        categories=[
            ManifestCategory(
                category=row["category"],
                label=AssetCategory(row["category"]).label,
                lines=row["lines"],
                sanitized=row["sanitized"],
                is_drive=row["category"] in DRIVE_CATEGORIES,
            )
            for row in rows
        ]
    )


def genealogy(lot: Lot) -> Genealogy:
    """Direct parents and children with the mass that flowed, and the share of the lot's mass
    from each data center (through every split, merge and process upstream)."""
    parents = lot.parent_links.select_related("parent", "transformation").order_by("parent_id")
    children = lot.child_links.select_related("child", "transformation").order_by("child_id")
    return Genealogy(
        parents=[GenealogyLink(li.parent, li.mass_kg, li.transformation) for li in parents],
        children=[GenealogyLink(li.child, li.mass_kg, li.transformation) for li in children],
        contributions=contributions(lot) if parents else None,
    )


def _finding_events(findings: list[Finding]) -> dict[str, int]:
    uuids = {finding.event: UUID(finding.event) for finding in findings if finding.event}
    if not uuids:
        return {}
    pks = dict(CustodyEvent.objects.filter(uuid__in=set(uuids.values())).values_list("uuid", "pk"))
    return {text: pks[uuid] for text, uuid in uuids.items() if uuid in pks}
