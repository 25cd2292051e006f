"""What the public verification page (``/verify/<id>``) says of a certificate, checked today:
its own statement, whether its signature verifies, whether an operator revoked or superseded
it, whether today's ledger still gives the Merkle root it states, whether today's log is
consistent with the checkpoint it names, and whether the ledger has moved on since."""

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field

from ... import credentials, merkle, notes, tiles
from ...models import Certificate, CertificateAct, CertificateAction
from .. import credential_key, log_key
from ..transparency_log import consistency_proof, latest_checkpoint, widest_tiles
from ..verdicts import assess
from .ledger import RecomputedEvent, recomputed_upstream, upstream_root


@dataclass
class CertificateStatus:
    certificate_id: str
    verify_url: str
    statement: dict | None  # the credential as it states itself (None: unreadable)
    signature_valid: bool
    revoked: bool = False
    superseded: bool = False
    superseded_by: str | None = None
    act_reason: str = ""
    acted_at: str | None = None
    ledger_matches: bool = False
    ledger_problem: str = ""  # "ledger mismatch: ..." when it does not match
    events_changed: int = 0
    events_missing: int = 0
    log_consistent: bool = False
    log_problem: str = ""
    moved_on: bool = False
    moved_on_reasons: list[str] = field(default_factory=list)
    outcome_at_issue: str = ""
    outcome_today: str = ""

    @property
    def verdict(self) -> str:
        """One word for the page's banner."""
        if self.revoked:
            return "revoked"
        if self.superseded:
            return "superseded"
        if not self.signature_valid:
            return "invalid signature"
        if not self.ledger_matches:
            return "ledger mismatch"
        if not self.log_consistent:
            return "log inconsistent"
        return "valid"

    def as_dict(self) -> dict:
        return asdict(self) | {"verdict": self.verdict}


def certificate_status(certificate: Certificate) -> CertificateStatus:
    status = CertificateStatus(
        certificate_id=str(certificate.id),
        verify_url=credential_key.verify_url(certificate.id),
        statement=unverified_credential(certificate.token),
        signature_valid=signature_valid(certificate.token),
        outcome_at_issue=certificate.outcome,
    )
    _acts(status, certificate)
    recomputed = recomputed_upstream(certificate.lot)
    _ledger(status, certificate, recomputed)
    _log(status, certificate)
    later = [
        event
        for event in recomputed
        if event.log_index is None or event.log_index >= certificate.tree_size
    ]
    if later:
        status.moved_on_reasons.append(
            f"{len(later)} upstream event(s) were recorded after the certificate's checkpoint"
        )
    status.outcome_today = assess(certificate.lot, certificate.policy).outcome
    if status.outcome_today != certificate.outcome:
        status.moved_on_reasons.append(
            f"today's verdict under {certificate.policy} is {status.outcome_today}, "
            f"not {certificate.outcome}"
        )
    status.moved_on = bool(status.moved_on_reasons)
    return status


def unverified_credential(token: str) -> dict | None:
    """The credential a VC-JWT carries, its signature not checked (``signature_valid`` says)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return None


def signature_valid(token: str) -> bool:
    """Whether the token verifies with the key the DID document publishes today."""
    try:
        credentials.verify(token, credential_key.signing_key().public_key())
    except credentials.InvalidCredential:
        return False
    return True


def _acts(status: CertificateStatus, certificate: Certificate) -> None:
    act = CertificateAct.objects.filter(certificate=certificate).first()
    if act is None:
        return
    status.revoked = act.action == CertificateAction.REVOKED
    status.superseded = act.action == CertificateAction.SUPERSEDED
    status.superseded_by = str(act.superseded_by_id) if act.superseded_by_id else None
    status.act_reason = act.reason
    status.acted_at = act.acted_at.isoformat()


def _ledger(status: CertificateStatus, certificate: Certificate, events) -> None:
    """Today's events up to the certificate's tree size, each hash recomputed from the row's
    content, must give the root the certificate states."""
    in_tree = [
        event
        for event in events
        if event.log_index is not None and event.log_index < certificate.tree_size
    ]
    root = upstream_root([event.recomputed_hash for event in in_tree])
    status.events_missing = max(certificate.upstream_events - len(in_tree), 0)
    if root == certificate.upstream_root and len(in_tree) == certificate.upstream_events:
        status.ledger_matches = True
        return
    status.events_changed = len(_changed(in_tree))
    parts = []
    if status.events_changed:
        parts.append(f"{status.events_changed} event(s) no longer match their logged hash")
    if status.events_missing:
        parts.append(f"{status.events_missing} event(s) are missing")
    if not parts:
        parts.append("the upstream events no longer give the certificate's Merkle root")
    status.ledger_problem = "ledger mismatch: " + "; ".join(parts)


def _changed(events: list[RecomputedEvent]) -> list[RecomputedEvent]:
    """The events whose content today does not give the leaf the log holds for them (the
    level-0 tiles, read in one statement)."""
    positions = {(0, event.log_index // tiles.TILE_WIDTH) for event in events}
    found = widest_tiles(positions)
    changed = []
    for event in events:
        tile, offset = divmod(event.log_index, tiles.TILE_WIDTH)
        logged = found.get((0, tile), b"")[offset * tiles.HASH : (offset + 1) * tiles.HASH]
        if logged != merkle.leaf_hash(merkle.event_leaf(event.recomputed_hash)):
            changed.append(event)
    return changed


def _log(status: CertificateStatus, certificate: Certificate) -> None:
    """The certificate's checkpoint verifies with the log's key, and today's latest checkpoint
    extends it (an RFC 9162 consistency proof from its tree size)."""
    try:
        checkpoint = notes.open_note(certificate.checkpoint, log_key.verifier_key())
    except notes.InvalidNote as exc:
        status.log_problem = f"the certificate's checkpoint does not verify: {exc}"
        return
    latest = latest_checkpoint()
    if latest is None or latest.tree_size < checkpoint.size:
        status.log_problem = "the log is shorter today than the certificate's checkpoint"
        return
    proof = consistency_proof(checkpoint.size, latest.tree_size)
    if not merkle.verify_consistency(
        checkpoint.size,
        latest.tree_size,
        proof.hashes,
        checkpoint.root_hash,
        bytes(latest.root_hash),
    ):
        status.log_problem = (
            f"today's log (checkpoint of {latest.tree_size}) is not consistent with the "
            f"certificate's checkpoint of {checkpoint.size}"
        )
        return
    status.log_consistent = True
