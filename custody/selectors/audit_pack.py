"""The audit pack: one zip with everything an auditor needs to check a certificate of origin
offline, with ``python -m custody.verify`` (the standard library and ``cryptography``): the
credential, its PDF, the ledger CSV it hashes, the checkpoint it was issued against, the keys,
an inclusion proof for every upstream event and the evidence documents' digests.

The inclusion proofs of tens of thousands of events are built from the log's tiles read once:
one statement per tile level for every tile any proof needs (its widest row), each tile folded
once into the subtrees it holds.
"""

import bisect
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

# Deflate's fastest level: the proofs' base64 hardly compresses, and at 50,000 events level 6
# took twice as long (0.9 s against 0.4 s) for a pack a tenth smaller.
COMPRESS_LEVEL = 1


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
        "inclusion-proofs.json": _proofs_json(certificate.tree_size, rows, proofs),
        "evidence.json": _json({"documents": list(_evidence(rows))}),
        "README.txt": readme(certificate),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in MEMBERS:
            archive.writestr(
                _entry(name, certificate), contents[name], compresslevel=COMPRESS_LEVEL
            )
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


def _proofs_json(tree_size: int, rows: Sequence[LedgerRow], proofs: list[list[bytes]]) -> str:
    """``{"tree_size": N, "proofs": [...]}``, one proof a line: tens of thousands of proofs
    through the C encoder (``json.dumps`` with an indent falls back to pure Python), each
    distinct hash encoded once."""
    encoded: dict[bytes, str] = {}
    lines = [
        json.dumps(
            {
                "event_hash": row.event_hash,
                "leaf_index": row.log_index,
                "hashes": [
                    encoded.get(digest) or encoded.setdefault(digest, b64(digest))
                    for digest in proof
                ],
            }
        )
        for row, proof in zip(rows, proofs, strict=True)
    ]
    return f'{{"tree_size": {json.dumps(tree_size)}, "proofs": [\n' + ",\n".join(lines) + "\n]}\n"


def _evidence(rows: Iterable[LedgerRow]):
    for row in rows:
        for digest in row.evidence:
            yield {"lot": row.lot, "seq": row.seq, "event_hash": row.event_hash, "sha256": digest}


def inclusion_proofs(leaf_indexes: Sequence[int], tree_size: int) -> list[list[bytes]]:
    """The RFC 9162 inclusion proof of each leaf in the tree of ``tree_size`` leaves (what
    ``merkle.inclusion_proof`` gives, leaf by leaf). Neighbouring leaves share most of their
    proofs: the paths come from one walk down the tree, and each range they name is folded
    once."""
    paths = _proof_paths(sorted(set(leaf_indexes)), tree_size)
    spans = {span for path in paths.values() for span in path}
    subtrees = {span: merkle.complete_subtrees(*span) for span in spans}
    folded = _folded_tiles({tiles.needed(node)[0] for nodes in subtrees.values() for node in nodes})
    hashes = {
        span: merkle.fold([_node(folded, node) for node in nodes])
        for span, nodes in subtrees.items()
    }
    return [[hashes[span] for span in paths[index]] for index in leaf_indexes]


def _proof_paths(leaves: list[int], size: int) -> dict[int, list[tuple[int, int]]]:
    """Each leaf's ``merkle.inclusion_ranges``, from one descent of the tree: a range's
    leaves split at its split point, each half taking the other as its sibling."""
    for index in (leaves[0], leaves[-1]) if leaves else ():
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
    paths: dict[int, list[tuple[int, int]]] = {}

    def descend(first: int, last: int, start: int, end: int, above: tuple) -> None:
        if end - start == 1:
            paths[leaves[first]] = list(reversed(above))
            return
        split = start + (1 << ((end - start - 1).bit_length() - 1))
        middle = bisect.bisect_left(leaves, split, first, last)
        if first < middle:
            descend(first, middle, start, split, (*above, (split, end)))
        if middle < last:
            descend(middle, last, split, end, (*above, (start, split)))

    if leaves:
        descend(0, len(leaves), 0, size, ())
    return paths


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
