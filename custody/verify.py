"""The offline verifier of the transparency log: ``python -m custody.verify``.

Standard library and ``cryptography`` only (no Django, no database, no network): a buyer or an
auditor checks what the ledger published with nothing but the log's public key.

    python -m custody.verify checkpoint  --key log.key checkpoint.note
    python -m custody.verify inclusion   --key log.key --checkpoint checkpoint.note proof.json
    python -m custody.verify consistency --key log.key --old old.note --new new.note proof.json
    python -m custody.verify certificate.jwt --key did.json [--events ledger.csv]
                             [--pack audit.zip] [--log-key log-key.txt]
    python -m custody.verify --pack audit.zip [--key did.json] [--log-key log-key.txt]

``--key`` is the verifier key (``/.well-known/ledger-log-key``), as a file or as the text
itself. A checkpoint is the signed note (``GET /api/v1/log/checkpoint?format=note``) or that
endpoint's JSON. A proof is the JSON of ``GET /api/v1/log/proof/inclusion`` or
``/consistency``; when it carries the signed checkpoint(s) of its tree size(s), they may stand
in for ``--checkpoint`` / ``--new``, and are checked with the same key. Exits 0 when everything
verifies, 1 (saying what failed) otherwise.

A certificate of origin (its VC-JWT, the ledger export it names, its audit pack) is checked by
``custody.offline``, here only wired to the command line: ``--key`` is then the issuer's DID
document, and the report prints one ``OK:``/``FAILED:`` line per check and a verdict line. Exit
codes: 0 every check passed, 1 one failed, 2 the command line is wrong.
"""

import argparse
import base64
import json
import sys
from pathlib import Path

from . import merkle, notes
from .offline.certificate import Sources, verify_certificate

LOG_COMMANDS = ("checkpoint", "inclusion", "consistency")
CERTIFICATE_OPTIONS = ("--key", "--events", "--pack", "--log-key")


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


def certificate_parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m custody.verify",
        description="Check a certificate of origin, its ledger export and its audit pack "
        "offline. The log's own proofs: python -m custody.verify --key LOG_KEY "
        f"{{{','.join(LOG_COMMANDS)}}} ... (--help after the command).",
    )
    main.add_argument("certificate", nargs="?", help="the VC-JWT (default: the pack's own)")
    main.add_argument("--key", help="the issuer's DID document, did.json (default: the pack's)")
    main.add_argument("--events", help="the ledger export, ledger.csv")
    main.add_argument("--pack", help="the audit pack, audit-pack-<LOT>.zip (read, never unzipped)")
    main.add_argument("--log-key", help="the log's verifier key (default: the pack's)")
    return main


def _first_argument(argv: list[str]) -> str | None:
    """The first word that is not an option or an option's value: a log command or not."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None)
        if word in CERTIFICATE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


class Unreadable(ValueError):
    """A file given on the command line that cannot be read as text."""


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except UnicodeDecodeError as exc:
        raise Unreadable(f"{path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror}") from None


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror}") from None


def _log_key(value: str) -> str:
    """The verifier key given as a file, or as the text itself (it holds a ``+``)."""
    return value if "+" in value else _read_text(value)


def _sources(args) -> Sources:
    def read(path):
        return (path, _read_text(path)) if path else None

    return Sources(
        did_document=read(args.key),
        token=read(args.certificate),
        events=(args.events, _read_bytes(args.events)) if args.events else None,
        pack=(args.pack, args.pack) if args.pack else None,
        log_key=(f"--log-key {args.log_key}", _log_key(args.log_key)) if args.log_key else None,
    )


def check_certificate(argv: list[str]) -> int:
    command = certificate_parser()
    args = command.parse_args(argv)
    if not (args.certificate or args.pack):
        command.error("give the certificate (certificate.jwt) or --pack")
    if not (args.key or args.pack):
        command.error("give the issuer's DID document: --key did.json")
    try:
        report = verify_certificate(_sources(args))
    except Unreadable as exc:
        print(f"FAILED: {exc}")
        print("NOT VERIFIED: 1 check(s) failed")
        return 1
    print(report.text(), end="")
    return 1 if report.failures else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if _first_argument(argv) not in LOG_COMMANDS:
        return check_certificate(argv)
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
