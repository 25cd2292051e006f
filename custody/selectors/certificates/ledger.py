"""Every event upstream of a lot, as a certificate commits to it and the ledger export lists it.

The upstream events of a lot are its own and those of every lot ``genealogy.upstream`` returns,
in log-index order. One query reads them whatever their number (each event's log index from
the log's runs, as a subquery), three more the history of the facilities they name: a row's
country is its facility's as recorded when the event was. The Merkle root (RFC 6962) over their
hashes in that order is what a certificate states; the CSV is what its ``SecureLink`` hashes.
"""

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.db.models import OuterRef

from recyclers.models import Organization

from ... import merkle
from ...errors import DomainError, ErrorCode
from ...hashing import content_hash, event_content, format_mass, format_time
from ...models import Certificate, CustodyEvent, Lot
from ...offline.ledger import HEADER as CSV_COLUMNS  # the format the offline verifier reads
from ..genealogy import upstream
from ..transparency_log import log_index_of
from ..verdicts.reference import ReferenceData
from ..visibility import may_see_lot_ids


class LedgerRow(NamedTuple):
    """One upstream event as the requesting organization may learn it: ``facility``,
    ``facility_gln`` and ``mass_kg`` are empty for a lot it may not see (``visible``)."""

    event_id: int
    log_index: int | None  # None while the event is not in the log yet
    lot_id: int
    lot: str
    seq: int
    kind: str
    occurred_at: str  # canonical text (hashing.format_time)
    recorded_at: str
    facility_id: int | None
    facility: str
    facility_gln: str
    country: str
    counterparty_country: str
    mass_kg: str
    event_hash: str
    prev_hash: str  # empty for a lot's first event
    evidence: tuple[str, ...]
    visible: bool

    def csv_values(self) -> list:
        return [
            self.log_index,
            self.lot,
            self.seq,
            self.kind,
            self.occurred_at,
            self.recorded_at,
            self.facility,
            self.facility_gln,
            self.country,
            self.counterparty_country,
            self.mass_kg,
            self.event_hash,
            self.prev_hash,
            ";".join(self.evidence),
        ]


def upstream_lot_ids(lot: Lot) -> list[int]:
    """The lot and every lot upstream of it (the genealogy only grows downstream: an issued
    certificate's lot has the same upstream lots forever)."""
    return [lot.pk, *upstream(lot)]


_FIELDS = (
    "id",
    "log_index",
    "lot_id",
    "lot__code",
    "seq",
    "kind",
    "occurred_at",
    "recorded_at",
    "facility_id",
    "counterparty_facility_id",
    "mass_kg",
    "evidence",
    "hash",
    "prev_hash",
)


def _events(lot_ids: Iterable[int], *fields: str):
    return (
        CustodyEvent.objects.filter(lot_id__in=list(lot_ids))
        .annotate(log_index=log_index_of(OuterRef("pk")))
        .values_list(*fields)
    )


def _in_log_order(rows: list) -> list:
    """By log index (events not yet in the log last, by id: the order they will take)."""
    rows.sort(key=lambda row: (row.log_index is None, row.log_index or 0, row.event_id))
    return rows


def upstream_ledger(lot: Lot, organization: Organization) -> list[LedgerRow]:
    """Every upstream event of ``lot`` in log-index order, as ``organization`` may learn it."""
    lot_ids = upstream_lot_ids(lot)
    visible = may_see_lot_ids(organization, lot_ids)
    events = list(_events(lot_ids, *_FIELDS))
    reference = ReferenceData.load(
        {facility for event in events for facility in event[8:10] if facility}
    )
    rows = [_row(event, reference, visible) for event in events]
    return _in_log_order(rows)


def _row(event: tuple, reference: ReferenceData, visible: set[int]) -> LedgerRow:
    (event_id, log_index, lot_id, code, seq, kind, occurred_at, recorded_at) = event[:8]
    facility_id, counterparty_id, mass, evidence, event_hash, prev_hash = event[8:]
    at = format_time(recorded_at)
    here = _place(reference, facility_id, at)
    there = _place(reference, counterparty_id, at)
    seen = lot_id in visible
    return LedgerRow(
        event_id=event_id,
        log_index=log_index,
        lot_id=lot_id,
        lot=code,
        seq=seq,
        kind=kind,
        occurred_at=format_time(occurred_at),
        recorded_at=at,
        facility_id=facility_id,
        facility=here.name if here and seen else "",
        facility_gln=here.gln if here and seen else "",
        country=here.country if here else "",
        counterparty_country=there.country if there else "",
        mass_kg=(format_mass(mass) or "") if seen else "",
        event_hash=event_hash,
        prev_hash="" if seq == 1 else prev_hash,
        evidence=tuple(evidence or ()),
        visible=seen,
    )


def _place(reference: ReferenceData, facility_id: int | None, at: str):
    if not facility_id:
        return None
    return reference.unchanged.get(facility_id) or reference.facility(facility_id, at)


def ledger_csv(rows: Iterable[LedgerRow]) -> bytes:
    """The ledger export: UTF-8, ``\\n`` line ends, a header, one row per event."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(row.csv_values() for row in rows)
    return buffer.getvalue().encode()


def upstream_root(event_hashes: Sequence[str]) -> str:
    """The RFC 6962 Merkle root (hex) over the events' hashes, in the order given (log
    order); the empty tree's for none."""
    leaves = [merkle.leaf_hash(merkle.event_leaf(digest)) for digest in event_hashes]
    return merkle.root(len(leaves), merkle.leaf_source(leaves)).hex()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def issued_ledger(certificate: Certificate) -> tuple[list[LedgerRow], bytes]:
    """The upstream rows a certificate was issued with and their export, rebuilt from the
    ledger for its organization and tree size. Bytes that no longer hash as the credential
    says are refused (``certificate_ledger_changed``): different bytes under the same link, or
    in a retried report, would read as the certificate's own."""
    rows = [
        row
        for row in upstream_ledger(certificate.lot, certificate.organization)
        if row.log_index is not None and row.log_index < certificate.tree_size
    ]
    data = ledger_csv(rows)
    if sha256(data) != certificate.ledger_sha256:
        raise DomainError(
            ErrorCode.CERTIFICATE_LEDGER_CHANGED,
            "The upstream ledger as this organization may see it no longer gives the export "
            "this certificate names: see its verification page, and request a new certificate.",
        )
    return rows, data


def issued_ledger_csv(certificate: Certificate) -> bytes:
    """The ledger export a certificate names (its ``SecureLink``)."""
    return issued_ledger(certificate)[1]


class RecomputedEvent(NamedTuple):
    """An upstream event's hash recomputed from its content today, beside the stored one."""

    event_id: int
    log_index: int | None
    lot: str
    seq: int
    stored_hash: str
    recomputed_hash: str


_CONTENT = (
    "id",
    "log_index",
    "uuid",
    "lot__code",
    "seq",
    "kind",
    "occurred_at",
    "recorded_at",
    "actor_organization_id",
    "actor_user_id",
    "actor_api_key_prefix",
    "facility_id",
    "counterparty_facility_id",
    "mass_kg",
    "details",
    "evidence",
    "corrects__uuid",
    "prev_hash",
    "hash",
)


def recomputed_upstream(lot: Lot) -> list[RecomputedEvent]:
    """Every upstream event of ``lot`` today, in log order, its hash recomputed from what the
    row holds now: a row rewritten behind the append-only trigger no longer gives its hash."""
    rows = []
    for values in _events(upstream_lot_ids(lot), *_CONTENT):
        (event_id, log_index, uuid, code, seq, kind, occurred_at, recorded_at) = values[:8]
        organization, user, api_key, facility, counterparty, mass, details = values[8:15]
        evidence, corrects, prev_hash, stored = values[15:]
        content = event_content(
            uuid=uuid,
            lot_code=code,
            seq=seq,
            kind=kind,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            actor_organization_id=organization,
            actor_user_id=user,
            actor_api_key=api_key,
            facility_id=facility,
            counterparty_facility_id=counterparty,
            mass_kg=mass,
            details=details,
            evidence=evidence,
            corrects_uuid=corrects,
            prev_hash=prev_hash,
        )
        rows.append(RecomputedEvent(event_id, log_index, code, seq, stored, content_hash(content)))
    return _in_log_order(rows)
