"""Every offline check of a certificate of origin, gathered in a report: one line per check,
each saying what it compared (which file, which row, which lot, which leaf).

The signer's key comes from the DID document (``/.well-known/did.json``). The credential's
claims then tie it to the ledger: the export's SHA-256 and row count, the Merkle root over its
events, the lot, the origin countries, the signed checkpoint; the pack's inclusion proofs put
each exported event in that checkpoint's tree. A check that cannot run for want of its input
(no ledger export given, no log key) is left out of the report, not passed.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field

from .. import credentials, notes
from . import did, ledger, proofs
from .pack import MEMBERS, Pack, Unreadable

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass
class Report:
    """The checks' lines, in order, and what the certificate states once they all pass."""

    lines: list[tuple[bool, str]] = field(default_factory=list)
    statement: str = ""

    def check(self, ok: str, problems: list[str]) -> bool:
        self.lines += [(False, problem) for problem in problems] or [(True, ok)]
        return not problems

    def fail(self, problem: str) -> None:
        self.lines.append((False, problem))

    @property
    def failures(self) -> int:
        return sum(not ok for ok, _ in self.lines)

    def text(self) -> str:
        lines = [f"{'OK' if ok else 'FAILED'}: {message}" for ok, message in self.lines]
        if self.failures:
            lines.append(f"NOT VERIFIED: {self.failures} check(s) failed")
        else:
            lines.append(f"VERIFIED: {self.statement}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Statement:
    """What the credential states that the checks compare."""

    certificate_id: str
    lot_code: str
    outcome: str
    policy: str
    ledger_sha256: str
    upstream_events: int
    upstream_root: str
    checkpoint: str
    tree_size: int
    origin_countries: tuple[str, ...]

    def summary(self) -> str:
        return (
            f"certificate {self.certificate_id} for lot {self.lot_code}, {self.outcome} "
            f"under {self.policy}"
        )


@dataclass(frozen=True)
class Sources:
    """What the auditor gave, each as (the name the report calls it by, its content); the pack
    as (its name, a path or a binary file), read here."""

    did_document: tuple[str, str] | None = None
    token: tuple[str, str] | None = None
    events: tuple[str, bytes] | None = None
    pack: tuple[str, object] | None = None
    log_key: tuple[str, str] | None = None


def verify_certificate(sources: Sources) -> Report:
    report = Report()
    pack = _open_pack(report, sources.pack)
    token = _given_or_packed(report, sources.token, pack, "certificate.jwt")
    did_document = sources.did_document or _packed(report, pack, "did.json")
    if token is None or did_document is None:
        if not report.failures:
            report.fail("no certificate.jwt and DID document to verify")
        return report
    statement = _credential(report, token, did_document)
    if statement is None:
        return report
    report.statement = statement.summary()
    events = _given_or_packed(report, sources.events, pack, "ledger.csv")
    rows = _ledger(report, statement, events) if events else None
    checkpoint = _checkpoint(report, statement, pack, sources.log_key)
    if pack and rows and checkpoint:
        _pack_proofs(report, pack, rows, checkpoint)
    return report


def _open_pack(report: Report, source) -> Pack | None:
    if source is None:
        return None
    label, opened = source
    try:
        pack = Pack(opened, label=label)
    except Unreadable as exc:
        report.fail(str(exc))
        return None
    report.check(f"{label} holds {', '.join(MEMBERS)}", pack.problems())
    return pack


def _packed(report: Report, pack: Pack | None, name: str):
    """A member as (label, text), or None when there is no pack or it lacks the member (which
    the pack's own check has said)."""
    if pack is None or not pack.has(name):
        return None
    try:
        data = pack.read(name)
        return f"{name} in {pack.label}", data if name == "ledger.csv" else data.decode()
    except Unreadable as exc:
        report.fail(str(exc))
    except UnicodeDecodeError as exc:
        report.fail(f"{name} in {pack.label} is not UTF-8: {exc}")
    return None


def _given_or_packed(report: Report, given, pack: Pack | None, name: str):
    """The file given, checked to be the pack's own when there is a pack too; else the pack's."""
    packed = _packed(report, pack, name)
    if given is None or packed is None:
        return given or packed
    same = given[1].strip() == packed[1].strip() if name.endswith(".jwt") else given[1] == packed[1]
    report.check(
        f"{packed[0]} is the same file as {given[0]}",
        [] if same else [f"{packed[0]} differs from {given[0]}"],
    )
    return given


def _credential(report: Report, token, did_document) -> Statement | None:
    """The credential's statement, once its signature verifies with the DID document's key."""
    (token_label, token_text), (did_label, did_text) = token, did_document
    try:
        kid = did.header(token_text).get("kid")
        document = did.document(did_text)
        method, key = did.signer_key(document, kid)
    except did.Refused as exc:
        report.fail(f"no key to check {token_label} with in {did_label}: {exc}")
        return None
    try:
        credential = credentials.verify(token_text, key)
        statement = _statement(credential)
    except credentials.InvalidCredential as exc:
        report.fail(f"{token_label} does not verify with {method} of {did_label}: {exc}")
        return None
    except KeyError as exc:
        report.fail(f"{token_label} does not state a certificate of origin: no {exc}")
        return None
    except (IndexError, TypeError, ValueError, RecursionError) as exc:
        report.fail(f"{token_label} does not state a certificate of origin: {exc}")
        return None
    issuer = _issuer(credential)
    report.check(
        f"{token_label} is signed by {method} (Ed25519) of {did_label}",
        []
        if issuer == document["id"]
        else [f"{token_label} is issued by {issuer}, not by {document['id']} whose key signed it"],
    )
    return statement


def _issuer(credential: dict):
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _statement(credential: dict) -> Statement:
    subject = credential["credentialSubject"]
    commitment = subject["ledgerCommitment"]
    claim = subject["conformityClaim"][0]
    link = subject["traceabilityInformation"][0]["traceabilityEvent"][0]
    policy = claim["assessmentCriteria"][0]["name"]
    stated = re.search(r": (\w+)\.$", str(claim.get("description", "")))
    outcome = stated[1] if stated else ("conformant" if claim["conformance"] else "not conformant")
    statement = Statement(
        certificate_id=str(credential["id"]).rsplit("/", 1)[-1],
        lot_code=subject["product"]["batchNumber"],
        outcome=outcome,
        policy=policy,
        ledger_sha256=link["hashDigest"],
        upstream_events=commitment["upstreamEvents"],
        upstream_root=commitment["upstreamMerkleRoot"],
        checkpoint=commitment["checkpoint"],
        tree_size=commitment["treeSize"],
        origin_countries=tuple(m["originCountry"] for m in subject["materialsProvenance"]),
    )
    if not (
        _HEX64.fullmatch(statement.ledger_sha256) and _HEX64.fullmatch(statement.upstream_root)
    ):
        raise ValueError("its hashDigest and upstreamMerkleRoot are not 64 hex digits")
    if type(statement.upstream_events) is not int or type(statement.tree_size) is not int:
        raise ValueError("its upstreamEvents and treeSize are not integers")
    return statement


def _ledger(report: Report, statement: Statement, events) -> list[ledger.Row] | None:
    """The export's checks against the credential: the file, its rows, their chains and root."""
    label, data = events
    digest = hashlib.sha256(data).hexdigest()
    report.check(
        f"{label} has the SHA-256 the credential names: {digest}",
        []
        if digest == statement.ledger_sha256
        else [
            f"{label} has the SHA-256 {digest}, the credential names "
            f"{statement.ledger_sha256}: it is not the export the certificate was issued with"
        ],
    )
    rows, problems = ledger.parse(data)
    if not report.check(
        f"{label} is a CSV of the documented columns, every hash 64 hex digits",
        [f"{label}: {problem}" for problem in problems],
    ):
        return None
    _rows(report, statement, label, rows)
    return rows


def _rows(report: Report, statement: Statement, label: str, rows: list[ledger.Row]) -> None:
    count, root = len(rows), ledger.upstream_root(rows)
    report.check(
        f"{label} has {count} rows, the credential's upstreamEvents",
        []
        if count == statement.upstream_events
        else [
            f"{label} has {count} rows, the credential states {statement.upstream_events} events"
        ],
    )
    report.check(
        f"the rows of {label} are in log-index order", _in(label, ledger.order_problems(rows))
    )
    report.check(
        f"the Merkle root over the {count} event hashes of {label} is the credential's: {root}",
        []
        if root == statement.upstream_root
        else [
            f"the Merkle root over the event hashes of {label} is {root}, the credential's "
            f"{statement.upstream_root}"
        ],
    )
    lots = {row.lot for row in rows}
    report.check(
        f"the rows of each of the {len(lots)} lots in {label} chain from seq 1",
        _in(label, ledger.chain_problems(rows)),
    )
    report.check(
        f"{label} holds the events of lot {statement.lot_code}, the credential's batch number",
        []
        if statement.lot_code in lots
        else [f"{label} holds no event of lot {statement.lot_code}, the credential's batch number"],
    )
    _origins(report, statement, label, rows)


def _origins(report: Report, statement: Statement, label: str, rows: list[ledger.Row]) -> None:
    pickups = ledger.pickup_countries(rows)
    stray = sorted(set(statement.origin_countries) - pickups)
    report.check(
        f"every origin country the credential states ({', '.join(statement.origin_countries)}) "
        f"is a pickup's country in {label}",
        [
            f"the credential states origin country {country}, where no pickup in {label} is "
            f"(pickups are in {', '.join(sorted(pickups)) or 'no country'})"
            for country in stray
        ],
    )


def _in(label: str, problems: list[str]) -> list[str]:
    return [f"{label} {problem}" for problem in problems]


def _checkpoint(report: Report, statement: Statement, pack, log_key) -> notes.Checkpoint | None:
    """The checkpoint the credential was issued against, once the log's key verifies it: the
    key given (``--log-key``), else the pack's ``log-key.txt``; the report says which."""
    packed = _packed(report, pack, "checkpoint.note")
    if packed is not None:
        report.check(
            f"{packed[0]} is the checkpoint the credential was issued against",
            []
            if packed[1] == statement.checkpoint
            else [f"{packed[0]} is not the checkpoint the credential was issued against"],
        )
    log_key = log_key or _packed(report, pack, "log-key.txt")
    if log_key is None:
        return None
    try:
        checkpoint = notes.open_note(statement.checkpoint, log_key[1].strip())
    except notes.InvalidNote as exc:
        report.fail(
            f"the credential's checkpoint does not verify with the log key of {log_key[0]}: {exc}"
        )
        return None
    report.check(
        f"the credential's checkpoint verifies with the log key of {log_key[0]}: "
        f"{checkpoint.origin}, {checkpoint.size} leaves, root {checkpoint.root_hash.hex()}",
        []
        if checkpoint.size == statement.tree_size
        else [
            f"the credential's checkpoint has {checkpoint.size} leaves, its treeSize says "
            f"{statement.tree_size}"
        ],
    )
    return checkpoint


def _pack_proofs(report: Report, pack: Pack, rows, checkpoint: notes.Checkpoint) -> None:
    for name, ok, check in (
        (
            "inclusion-proofs.json",
            f"each of the {len(rows)} rows' events is a leaf of the checkpoint at its log index",
            lambda document: proofs.inclusion_problems(document, rows, checkpoint),
        ),
        (
            "evidence.json",
            "lists exactly the evidence digests of the rows",
            lambda document: proofs.evidence_problems(document, rows),
        ),
    ):
        packed = _packed(report, pack, name)
        if packed is None:
            continue
        try:
            document = json.loads(packed[1])
        except (ValueError, RecursionError) as exc:
            report.fail(f"{packed[0]} is not JSON: {exc}")
            continue
        report.check(f"{packed[0]}: {ok}", [f"{packed[0]}: {p}" for p in check(document)])
