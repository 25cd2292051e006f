"""The pack's proofs about the exported events: each row's inclusion proof against the signed
checkpoint (the event is a leaf of the log the checkpoint commits to, at its log index), and the
evidence manifest against the rows' evidence digests."""

import binascii

from .. import merkle, notes
from .ledger import Row, capped


class Malformed(ValueError):
    """A proof or manifest that is not in the shape the pack's contract gives it."""


def inclusion_problems(document, rows: list[Row], checkpoint: notes.Checkpoint) -> list[str]:
    """``inclusion-proofs.json``: ``{"tree_size": N, "proofs": [{"event_hash", "leaf_index",
    "hashes": [base64, ...]}, ...]}``, one proof per row, in the rows' order."""
    if not isinstance(document, dict) or not isinstance(document.get("proofs"), list):
        return ["not an object with a list of proofs"]
    if document.get("tree_size") != checkpoint.size:
        return [
            f"the proofs are for a tree of {document.get('tree_size')} leaves, the checkpoint "
            f"of {checkpoint.size}"
        ]
    proofs = document["proofs"]
    problems = []
    if len(proofs) != len(rows):
        problems.append(f"{len(proofs)} proofs for {len(rows)} rows")
    # The proofs of neighbouring leaves share their upper siblings: each text is decoded once
    # (a third of the time for 80,000 proofs).
    digests: dict[str, bytes] = {}
    for row, proof in zip(rows, proofs, strict=False):
        try:
            problems += _row_problems(row, proof, checkpoint, digests)
        except Malformed as exc:
            problems.append(f"{row.where()}: the proof does not parse: {exc}")
    return capped(problems)


def _row_problems(row: Row, proof, checkpoint: notes.Checkpoint, digests: dict) -> list[str]:
    if not isinstance(proof, dict) or not isinstance(proof.get("hashes"), list):
        raise Malformed("not an object with a list of hashes")
    if proof.get("event_hash") != row.event_hash:
        return [
            f"{row.where()}: the proof is for event hash {proof.get('event_hash')}, the row's "
            f"is {row.event_hash}"
        ]
    if proof.get("leaf_index") != row.log_index:
        return [f"{row.where()}: the proof is for leaf {proof.get('leaf_index')}, not this one"]
    leaf = merkle.leaf_hash(merkle.event_leaf(row.event_hash))
    if not all(isinstance(value, str) for value in proof["hashes"]):
        raise Malformed("its hashes are not all base64 strings")
    path = [digests.get(value) or _digest(value, digests) for value in proof["hashes"]]
    if not merkle.verify_inclusion(
        leaf, row.log_index, checkpoint.size, path, checkpoint.root_hash
    ):
        return [
            f"{row.where()}: event hash {row.event_hash} is not leaf {row.log_index} of the "
            f"checkpoint of {checkpoint.size} leaves"
        ]
    return []


def _digest(value, digests: dict) -> bytes:
    try:
        digest = binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, TypeError, ValueError):
        raise Malformed(f"{str(value)[:20]!r} is not base64") from None
    if len(digest) != merkle.HASH_SIZE:
        raise Malformed(f"a hash of {len(digest)} bytes")
    digests[value] = digest
    return digest


def evidence_problems(document, rows: list[Row]) -> list[str]:
    """``evidence.json``: ``{"documents": [{"lot", "seq", "event_hash", "sha256"}, ...]}``,
    exactly the evidence digests the rows name."""
    documents = document.get("documents") if isinstance(document, dict) else None
    if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
        return ["not an object with a list of documents"]
    keys = ("lot", "seq", "event_hash", "sha256")
    listed = {tuple(entry.get(key) for key in keys) for entry in documents}
    named = {
        (row.lot, row.seq, row.event_hash, digest): row for row in rows for digest in row.evidence
    }
    problems = [
        f"lists evidence {sha256} of lot {lot} seq {seq} that no row names"
        for lot, seq, _, sha256 in sorted(listed - named.keys(), key=str)
    ]
    problems += [
        f"lacks evidence {key[3]} of {row.where()}"
        for key, row in named.items()
        if key not in listed
    ]
    return capped(problems)
