"""What a certificate's PDF shows (``custody.certificate_pdf.render_certificate``'s input): a
JSON-able dict built for the organization the certificate was issued to, which tells it no
more than ``disclosure`` does (facilities of lots it may not see by country only, no masses of
theirs)."""

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings

from recyclers.models import Organization

from ...hashing import format_mass
from ...models import Certificate, EventKind, Lot, Material
from ..credential_key import verify_url
from ..disclosure import trace_for
from ..genealogy import Contributions, contributions
from ..verdicts import Verdict
from .ledger import LedgerRow


def certificate_document(
    certificate: Certificate,
    *,
    verdict: Verdict,
    rows: list[LedgerRow],
    origin: Contributions | None = None,
) -> dict:
    """The PDF's input: ``verdict`` as ``verdict_for`` gave it to the certificate's
    organization, ``rows`` the upstream ledger the certificate commits to, ``origin`` the
    lot's contributions if the caller walked them already (else they are walked here)."""
    lot, organization = certificate.lot, certificate.organization
    visible = {lot.pk} | {row.lot_id for row in rows if row.visible}
    first_events = {row.lot_id: row for row in rows if row.seq == 1}
    return {
        "certificate_id": str(certificate.id),
        "issued_at": iso_time(certificate.issued_at),
        "verify_url": verify_url(certificate.id),
        "status": "issued",
        "lot": _lot(lot, first_events.get(lot.pk)),
        "buyer": _buyer(lot, organization),
        "verdict": {
            "outcome": verdict.outcome,
            "outcome_label": verdict.outcome_label,
            "policy": str(verdict.policy),
            "policy_name": verdict.policy.name,
            "assessed_at": iso_time(verdict.assessed_at),
        },
        "contributions": _contributions(origin or contributions(lot), visible, first_events),
        "genealogy": _genealogy(lot, organization),
        "route": _route(rows),
        "mass_balance": [_step(step) for step in verdict.mass_balance],
        "findings": [
            {
                "code": str(finding.code),
                "severity": str(finding.severity),
                "lot": finding.lot,
                "seq": finding.seq,
                "message": finding.message,
            }
            for finding in verdict.findings
        ],
        "ledger": {
            "upstream_root": certificate.upstream_root,
            "upstream_events": certificate.upstream_events,
            "tree_size": certificate.tree_size,
            "checkpoint": certificate.checkpoint,
            "log_origin": settings.LOG_ORIGIN,
            "credential_sha256": hashlib.sha256(certificate.token.encode()).hexdigest(),
        },
    }


def iso_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}Z"


def _lot(lot: Lot, first: LedgerRow | None) -> dict:
    return {
        "code": lot.code,
        "material": Material(lot.material).label,
        "mass_kg": format_mass(lot.mass_kg),
        "facility": first.facility if first else "",
        "country": first.country if first else "",
        "produced_on": first.occurred_at[:10] if first else None,
    }


def _buyer(lot: Lot, organization: Organization) -> dict:
    """The organization of the buyer facility the lot was delivered to, else the requester."""
    delivery = (
        lot.events.filter(kind=EventKind.DELIVERED, counterparty_facility__isnull=False)
        .select_related("counterparty_facility__organization")
        .order_by("-seq")
        .first()
    )
    buyer = delivery.counterparty_facility.organization if delivery else organization
    return {"name": buyer.name, "country": buyer.country.code}


def _contributions(origin: Contributions, visible: set[int], first_events: dict) -> list[dict]:
    by_data_center: dict[int, dict] = {}
    for pickup in origin.pickups:
        facility = pickup.lot.source_facility
        entry = by_data_center.setdefault(
            facility.pk,
            {
                "data_center": facility.name,
                "country": facility.country.code,
                "share_percent": 0.0,
                "mass_kg": Decimal(0),
                "pickups": [],
            },
        )
        seen = pickup.lot.pk in visible
        first = first_events.get(pickup.lot.pk)
        entry["share_percent"] += pickup.share * 100
        if entry["mass_kg"] is not None:
            entry["mass_kg"] = entry["mass_kg"] + pickup.mass_kg if seen else None
        entry["pickups"].append(
            {
                "lot": pickup.lot.code,
                "picked_up_on": first.occurred_at[:10] if first else None,
                "share_percent": round(pickup.share * 100, 4),
                "mass_kg": format_mass(pickup.mass_kg) if seen else None,
            }
        )
    result = sorted(by_data_center.values(), key=lambda entry: -entry["share_percent"])
    for entry in result:
        entry["share_percent"] = round(entry["share_percent"], 4)
        entry["mass_kg"] = format_mass(entry["mass_kg"]) if entry["mass_kg"] is not None else None
    return result


def _genealogy(lot: Lot, organization: Organization) -> dict:
    genealogy = trace_for(organization, lot)
    codes = {node.id: node.code for node in genealogy.nodes} | {lot.pk: lot.code}
    root = {"code": lot.code, "material": Material(lot.material).label, "depth": 0}
    root["country"] = lot.custodian.country.code if lot.custodian_id else None
    return {
        "nodes": [
            root,
            *(
                {
                    "code": node.code,
                    "material": Material(node.material).label,
                    "depth": node.depth,
                    "country": node.country,
                }
                for node in genealogy.nodes
            ),
        ],
        "links": [
            {
                "parent": codes[parent],
                "child": codes[child],
                "mass_kg": format_mass(mass) if mass is not None else None,
            }
            for parent, child, mass in genealogy.links
        ],
    }


def _route(rows: Iterable[LedgerRow]) -> list[dict]:
    """Each stay of each lot at a facility (by country where the requester may not know it),
    with its first and last dates and what happened there, lot by lot in log order."""
    stays: list[dict] = []
    current: dict[int, tuple] = {}
    for row in rows:
        if not row.country:
            continue
        place = (row.facility_id, row.country)
        stay = current.get(row.lot_id)
        day = row.occurred_at[:10]
        if stay is None or stay[0] != place:
            entry = {
                "lot": row.lot,
                "facility": row.facility or None,
                "country": row.country,
                "first": day,
                "last": day,
                "kinds": [row.kind],
            }
            stays.append(entry)
            current[row.lot_id] = (place, entry)
            continue
        entry = stay[1]
        entry["first"], entry["last"] = min(entry["first"], day), max(entry["last"], day)
        if row.kind not in entry["kinds"]:
            entry["kinds"].append(row.kind)
    return stays


def _step(step) -> dict:
    loss = None
    if None not in (step.mass_in_kg, step.mass_out_kg, step.residue_kg):
        loss = step.mass_in_kg - step.mass_out_kg - step.residue_kg
    return {
        "kind": step.kind,
        "facility": step.facility,
        "date": step.occurred_at.astimezone(UTC).date().isoformat(),
        "lots_in": list(step.lots_in),
        "lots_out": list(step.lots_out),
        "mass_in_kg": format_mass(step.mass_in_kg),
        "mass_out_kg": format_mass(step.mass_out_kg),
        "residue_kg": format_mass(step.residue_kg),
        "loss_kg": format_mass(loss),
        "loss_percent": round(float(loss / step.mass_in_kg * 100), 2)
        if loss is not None and step.mass_in_kg
        else None,
    }
