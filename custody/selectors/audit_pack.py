"""The audit pack: one zip with everything an auditor needs to check a certificate of origin
offline, with ``python -m custody.verify`` (the standard library and ``cryptography``): the
credential, its PDF, the ledger CSV it hashes, the checkpoint it was issued against, the keys,
an inclusion proof for every upstream event and the evidence documents' digests.

The inclusion proofs of tens of thousands of events are built from the log's tiles read once:
one statement per tile level for every tile any proof needs (its widest row), each tile folded
once into the subtrees it holds.
"""

import io
import json
import zipfile
from collections.abc import Iterable, Sequence

from django.db.models import OuterRef, Subquery

from .. import merkle, tiles
from ..models import Certificate, LogTile
from ..offline.pack import MEMBERS
from ..offline.readme import pack_readme
from . import credential_key, log_key
from .certificates import LedgerRow, iso_time
from .transparency_log import b64


def audit_pack(
    certificate: Certificate, *, rows: Sequence[LedgerRow], csv: bytes, pdf: bytes
) -> bytes:
    """The zip (deflated, files at its root) for ``certificate``: ``rows`` and ``csv`` the
    upstream ledger it commits to, ``pdf`` its rendering."""
    proofs = inclusion_proofs([row.log_index for row in rows], certificate.tree_size)
    contents = {
        "certificate.jwt": certificate.token,
        "certificate.pdf": pdf,
        "ledger.csv": csv,
        "checkpoint.note": certificate.checkpoint,
        "log-key.txt": f"{log_key.verifier_key()}\n",
        "did.json": _json(credential_key.did_document()),
        "inclusion-proofs.json": _json(
            {
                "tree_size": certificate.tree_size,
                "proofs": [
                    {
                        "event_hash": row.event_hash,
                        "leaf_index": row.log_index,
                        "hashes": [b64(digest) for digest in proof],
                    }
                    for row, proof in zip(rows, proofs, strict=True)
                ],
            }
        ),
        "evidence.json": _json({"documents": list(_evidence(rows))}),
        "README.txt": readme(certificate),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in MEMBERS:
            archive.writestr(_entry(name, certificate), contents[name])
    return buffer.getvalue()


def _entry(name: str, certificate: Certificate) -> zipfile.ZipInfo:
    """Every entry dated at the certificate's issue: the same certificate packs the same way."""
    moment = certificate.issued_at
    info = zipfile.ZipInfo(name, date_time=(moment.year, *moment.timetuple()[1:6]))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _json(value) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False) + "\n"


def _evidence(rows: Iterable[LedgerRow]):
    for row in rows:
        for digest in row.evidence:
            yield {"lot": row.lot, "seq": row.seq, "event_hash": row.event_hash, "sha256": digest}


def inclusion_proofs(leaf_indexes: Sequence[int], tree_size: int) -> list[list[bytes]]:
    """The RFC 9162 inclusion proof of each leaf in the tree of ``tree_size`` leaves."""
    needed = {
        node
        for index in leaf_indexes
        for start, end in merkle.inclusion_ranges(index, tree_size)
        for node in merkle.complete_subtrees(start, end)
    }
    folded = _folded_tiles({tiles.needed(node)[0] for node in needed})

    def source(nodes: list[merkle.Node]) -> list[bytes]:
        return [_node(folded, node) for node in nodes]

    return [merkle.inclusion_proof(index, tree_size, source) for index in leaf_indexes]


def _folded_tiles(positions: set[tiles.Position]) -> dict[tiles.Position, list[list[bytes]]]:
    """Each tile's hashes and every complete subtree above them within the tile, by height."""
    by_level: dict[int, list[int]] = {}
    for level, index in positions:
        by_level.setdefault(level, []).append(index)
    widest = (
        LogTile.objects.filter(level=OuterRef("level"), index=OuterRef("index"))
        .order_by("-width")
        .values("width")[:1]
    )
    folded = {}
    for level, indexes in by_level.items():
        rows = LogTile.objects.filter(level=level, index__in=indexes, width=Subquery(widest))
        for index, blob in rows.values_list("index", "hashes"):
            folded[level, index] = _heights(tiles.hashes_of(bytes(blob)))
    return folded


def _heights(hashes: list[bytes]) -> list[list[bytes]]:
    heights = [hashes]
    while len(hashes) > 1:
        hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
        heights.append(hashes)
    return heights


def _node(folded: dict, node: merkle.Node) -> bytes:
    level, index = node
    span = level % tiles.TILE_HEIGHT
    tile_index, offset = divmod(index << span, tiles.TILE_WIDTH)
    try:
        return folded[level // tiles.TILE_HEIGHT, tile_index][span][offset >> span]
    except (KeyError, IndexError):
        raise LookupError(f"the log does not hold the node {node}") from None


def readme(certificate: Certificate) -> str:
    return pack_readme(
        certificate.lot.code,
        str(certificate.id),
        issued_at=iso_time(certificate.issued_at),
        outcome=certificate.outcome,
        policy=str(certificate.policy),
        did=credential_key.did(),
        events=certificate.upstream_events,
        tree_size=certificate.tree_size,
        base_url=credential_key.base_url(),
        verify_url=credential_key.verify_url(certificate.id),
        organization=certificate.organization.name,
    )
