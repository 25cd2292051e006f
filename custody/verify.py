"""The offline verifier of the transparency log: ``python -m custody.verify``.

Standard library and ``cryptography`` only (no Django, no database, no network): a buyer or an
auditor checks what the ledger published with nothing but the log's public key.

    python -m custody.verify checkpoint  --key log.key checkpoint.note
    python -m custody.verify inclusion   --key log.key --checkpoint checkpoint.note proof.json
    python -m custody.verify consistency --key log.key --old old.note --new new.note proof.json

``--key`` is the verifier key (``/.well-known/ledger-log-key``), as a file or as the text
itself. A checkpoint is the signed note (``GET /api/v1/log/checkpoint?format=note``) or that
endpoint's JSON. A proof is the JSON of ``GET /api/v1/log/proof/inclusion`` or
``/consistency``; when it carries the signed checkpoint(s) of its tree size(s), they may stand
in for ``--checkpoint`` / ``--new``, and are checked with the same key. Exits 0 when everything
verifies, 1 (saying what failed) otherwise.
"""

import argparse
import base64
import json
import sys
from pathlib import Path

from . import merkle, notes


class Failed(Exception):
    """What did not verify."""


def _text(value: str) -> str:
    """The file ``value`` names, or ``value`` itself when it is the text (a key, a note)."""
    if "\n" in value or "+" in value:
        return value
    return Path(value).read_text()


def _checkpoint(source: str, vkey: str) -> notes.Checkpoint:
    text = _text(source)
    if text.lstrip().startswith("{"):
        text = json.loads(text)["note"]
    return _opened(text, vkey)


def _opened(note: str, vkey: str) -> notes.Checkpoint:
    try:
        return notes.open_note(note, vkey)
    except notes.InvalidNote as exc:
        raise Failed(f"checkpoint: {exc}") from None


def _hashes(values: list[str]) -> list[bytes]:
    return [base64.b64decode(value, validate=True) for value in values]


def check_checkpoint(args) -> str:
    checkpoint = _checkpoint(args.checkpoint_file, args.vkey)
    return (
        f"checkpoint of {checkpoint.origin} verifies: {checkpoint.size} leaves, root "
        f"{checkpoint.root_hash.hex()}, signed at {checkpoint.time:%Y-%m-%dT%H:%M:%SZ}"
    )


def check_inclusion(args) -> str:
    proof = json.loads(_text(args.proof))
    if args.checkpoint:
        checkpoint = _checkpoint(args.checkpoint, args.vkey)
    elif proof.get("checkpoint"):
        checkpoint = _opened(proof["checkpoint"], args.vkey)
    else:
        raise Failed("no checkpoint: give --checkpoint")
    if args.event_hash and args.event_hash != proof["event_hash"]:
        raise Failed(f"the proof is for event hash {proof['event_hash']}, not {args.event_hash}")
    if checkpoint.size != proof["tree_size"]:
        raise Failed(
            f"the proof is for a tree of {proof['tree_size']} leaves, the checkpoint of "
            f"{checkpoint.size}: ask for the proof at the checkpoint's tree size"
        )
    leaf = merkle.leaf_hash(merkle.event_leaf(proof["event_hash"]))
    index = proof["leaf_index"]
    if not merkle.verify_inclusion(
        leaf, index, checkpoint.size, _hashes(proof["hashes"]), checkpoint.root_hash
    ):
        raise Failed(f"event hash {proof['event_hash']} is not leaf {index} of this checkpoint")
    return (
        f"event hash {proof['event_hash']} is leaf {index} of the checkpoint of "
        f"{checkpoint.size} leaves"
    )


def check_consistency(args) -> str:
    proof = json.loads(_text(args.proof))
    old = _checkpoint(args.old, args.vkey)
    if args.new:
        new = _checkpoint(args.new, args.vkey)
    elif proof.get("second_checkpoint"):
        new = _opened(proof["second_checkpoint"], args.vkey)
    else:
        raise Failed("no newer checkpoint: give --new")
    if (old.size, new.size) != (proof["first"], proof["second"]):
        raise Failed(
            f"the proof is from {proof['first']} to {proof['second']} leaves, the checkpoints "
            f"are of {old.size} and {new.size}"
        )
    hashes = _hashes(proof["hashes"])
    if not merkle.verify_consistency(old.size, new.size, hashes, old.root_hash, new.root_hash):
        raise Failed(
            f"the checkpoint of {new.size} leaves does not extend the one of {old.size}: "
            "the log was rewritten"
        )
    return f"the checkpoint of {new.size} leaves extends the one of {old.size}"


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m custody.verify",
        description="Check the transparency log's checkpoints and proofs offline.",
    )
    main.add_argument("--key", dest="vkey", required=True, help="verifier key: file or text")
    commands = main.add_subparsers(dest="command", required=True)
    checkpoint = commands.add_parser("checkpoint", help="a checkpoint's signature")
    checkpoint.add_argument("checkpoint_file")
    checkpoint.set_defaults(check=check_checkpoint)
    inclusion = commands.add_parser("inclusion", help="an event is a leaf of a checkpoint")
    inclusion.add_argument("proof", help="the inclusion proof's JSON (file)")
    inclusion.add_argument("--checkpoint", help="default: the one the proof carries")
    inclusion.add_argument("--event-hash", help="the event hash you expect (hex)")
    inclusion.set_defaults(check=check_inclusion)
    consistency = commands.add_parser("consistency", help="a checkpoint extends an older one")
    consistency.add_argument("proof", help="the consistency proof's JSON (file)")
    consistency.add_argument("--old", required=True, help="the checkpoint you held")
    consistency.add_argument("--new", help="default: the one the proof carries")
    consistency.set_defaults(check=check_consistency)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.vkey = _text(args.vkey).strip()
        print(f"OK: {args.check(args)}")
    except (Failed, KeyError, ValueError, OSError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
