"""A certificate of origin and its audit pack built with the pure core alone (no database): a
few lots with chained events, a log of 20 leaves that holds them among others, the checkpoint
signed over it, the credential signed over the export. What the report task would write, small
enough to change one byte of at a time."""

import base64
import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from custody import credentials, merkle, notes
from custody.credentials import LedgerCommitment, MaterialOrigin, OriginClaims
from custody.offline.ledger import HEADER
from custody.offline.readme import pack_readme

BASE_URL = "https://ledger.example"
DID = credentials.did_web(BASE_URL)
KID = f"{DID}#{credentials.KEY_FRAGMENT}"
CERTIFICATE_ID = "6f1d3c2a-9b8e-4f7a-8c6d-5e4f3a2b1c0d"
LOT = "BATCH-0042"
LOG_ORIGIN = "ledger.example/log"
TREE_SIZE = 20
EVIDENCE = hashlib.sha256(b"weighbridge ticket 17").hexdigest()
# (log index, lot, kind, facility country): the upstream events; seq follows per lot.
EVENTS = [
    (2, "SRC-001", "registered", "US"),
    (3, "SRC-002", "registered", "CA"),
    (5, "SRC-001", "dispatched", "US"),
    (8, "SRC-002", "dispatched", "CA"),
    (9, "SRC-001", "transformed", "US"),
    (11, "SRC-002", "transformed", "US"),
    (12, LOT, "transformed", "US"),
    (17, LOT, "weighed", "US"),
]


def event_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ledger_rows() -> list[list[str]]:
    """The export's rows, each lot's events chained by prev_hash."""
    rows, heads = [], {}
    for log_index, lot, kind, country in EVENTS:
        seq = sum(1 for row in rows if row[1] == lot) + 1
        digest = event_hash(f"{lot}/{seq}")
        time = f"2026-11-{10 + log_index:02d}T08:00:00.000000Z"
        evidence = EVIDENCE if kind == "weighed" else ""
        facility = "Mountain Pass refinery" if lot == LOT else f"{lot} site"
        rows.append(
            [str(log_index), lot, str(seq), kind, time, time, facility, "", country, "",
             "120.500", digest, heads.get(lot, ""), evidence]
        )  # fmt: skip
        heads[lot] = digest
    return rows


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def log_leaves(rows: list[list[str]]) -> list[bytes]:
    """The log's leaf hashes: the rows' events at their log index, other lots' events between."""
    hashes = {int(row[0]): row[11] for row in rows}
    return [
        merkle.leaf_hash(merkle.event_leaf(hashes.get(index) or event_hash(f"other/{index}")))
        for index in range(TREE_SIZE)
    ]


def checkpoint_note(leaves: list[bytes], key: Ed25519PrivateKey) -> str:
    checkpoint = notes.Checkpoint(
        origin=LOG_ORIGIN,
        size=len(leaves),
        root_hash=merkle.root(len(leaves), merkle.leaf_source(leaves)),
        time=datetime(2026, 11, 29, 10, 30, tzinfo=UTC),
    )
    return notes.sign(checkpoint, LOG_ORIGIN, key)


def upstream_root(rows: list[list[str]]) -> str:
    leaves = [merkle.leaf_hash(merkle.event_leaf(row[11])) for row in rows]
    return merkle.root(len(leaves), merkle.leaf_source(leaves)).hex()


def claims(export: bytes, rows, note: str) -> OriginClaims:
    return OriginClaims(
        certificate_id=CERTIFICATE_ID,
        issued_at=datetime(2026, 11, 29, 10, 31, tzinfo=UTC),
        base_url=BASE_URL,
        lot_code=LOT,
        lot_name="NdPr oxide",
        mass_kg="120.500",
        produced_at="Mountain Pass refinery",
        produced_at_id=f"{BASE_URL}/facilities/7",
        producer="Domestic Refining Inc.",
        country_of_production="US",
        production_date=date(2026, 11, 22),
        materials=(
            MaterialOrigin("NdFeB magnet scrap", "US", 0.6, 1.0),
            MaterialOrigin("NdFeB magnet scrap", "CA", 0.4, 1.0),
        ),
        policy_slug="dfars-domestic",
        policy_version=3,
        policy_description="Custody only in the US and Canada.",
        outcome="verified",
        assessed_at=datetime(2026, 11, 29, 10, 30, tzinfo=UTC),
        ledger_export_url=f"{BASE_URL}/api/v1/reports/1/download",
        ledger_export_sha256=hashlib.sha256(export).hexdigest(),
        commitment=LedgerCommitment(note, TREE_SIZE, upstream_root(rows), len(rows)),
    )


def proofs_document(rows, leaves: list[bytes]) -> dict:
    source = merkle.leaf_source(leaves)

    def proof(row):
        hashes = merkle.inclusion_proof(int(row[0]), len(leaves), source)
        return {
            "event_hash": row[11],
            "leaf_index": int(row[0]),
            "hashes": [base64.b64encode(digest).decode() for digest in hashes],
        }

    return {"tree_size": len(leaves), "proofs": [proof(row) for row in rows]}


def evidence_document(rows) -> dict:
    return {
        "documents": [
            {"lot": row[1], "seq": int(row[2]), "event_hash": row[11], "sha256": row[13]}
            for row in rows
            if row[13]
        ]
    }


@dataclass(frozen=True)
class Artifacts:
    """The files of one certificate, by their names in the pack."""

    files: dict[str, bytes] = field(default_factory=dict)
    signing_key: Ed25519PrivateKey | None = None
    log_key: Ed25519PrivateKey | None = None

    def changed(self, changes: dict[str, bytes | None]) -> "Artifacts":
        """These files changed (None: left out of the pack)."""
        files = {**self.files, **changes}
        return replace(self, files={name: data for name, data in files.items() if data is not None})

    def zip(self, extra: dict[str, bytes] | None = None) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as pack:
            for name, data in {**self.files, **(extra or {})}.items():
                pack.writestr(name, data)
        return out.getvalue()


def artifacts() -> Artifacts:
    signing_key, log_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    rows = ledger_rows()
    export, leaves = csv_bytes(rows), log_leaves(rows)
    note = checkpoint_note(leaves, log_key)
    credential = credentials.passport(claims(export, rows, note))
    did_document = credentials.did_document(DID, signing_key.public_key())
    files = {
        "certificate.jwt": credentials.sign(credential, signing_key, kid=KID).encode(),
        "certificate.pdf": b"%PDF-1.4 (the PDF is not checked offline)",
        "ledger.csv": export,
        "checkpoint.note": note.encode(),
        "log-key.txt": notes.verifier_key(LOG_ORIGIN, log_key.public_key()).encode(),
        "did.json": json.dumps(did_document, indent=2).encode(),
        "inclusion-proofs.json": json.dumps(proofs_document(rows, leaves)).encode(),
        "evidence.json": json.dumps(evidence_document(rows)).encode(),
        "README.txt": pack_readme(
            LOT,
            CERTIFICATE_ID,
            issued_at="2026-11-29T10:30:05Z",
            organization="Acme Magnets",
            outcome="verified",
            policy="dfars-domestic@3",
            events=len(rows),
            tree_size=len(leaves),
            base_url=BASE_URL,
            did=DID,
            verify_url=f"{BASE_URL}/verify/{CERTIFICATE_ID}",
        ).encode(),
    }
    return Artifacts(files, signing_key, log_key)
