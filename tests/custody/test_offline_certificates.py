"""``python -m custody.verify`` on a certificate of origin, its ledger export and its audit pack:
everything the platform wrote verifies with nothing but the files; any changed byte, row, proof
or key, and any hostile pack (a name outside its root, a member too large), fails with a line
that says what and where, and exit code 1."""

import base64
import io
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from custody import credentials, merkle, notes, verify
from custody.offline import pack as pack_module
from custody.offline.certificate import Sources, verify_certificate

from .offline_artifacts import CERTIFICATE_ID, DID, KID, LOG_ORIGIN, LOT, Artifacts, artifacts

REPO = Path(__file__).resolve().parents[2]
VERIFIED = f"VERIFIED: certificate {CERTIFICATE_ID} for lot {LOT}, verified under dfars-domestic@3"


MADE = artifacts()


@pytest.fixture
def made() -> Artifacts:
    return MADE


class Run:
    """The verifier run in this process on files written to a folder."""

    def __init__(self, folder: Path, capsys):
        self.folder, self.capsys = folder, capsys

    def __call__(self, *args: str, files: dict[str, bytes] | None = None) -> tuple[int, list]:
        for name, data in (files or {}).items():
            (self.folder / name).write_bytes(data)
        code = verify.main([str(self.folder / a) if "." in a else a for a in args])
        return code, self.capsys.readouterr().out.splitlines()

    def pack(self, made: Artifacts, extra=None, *args: str) -> tuple[int, list]:
        return self("--pack", "audit.zip", "--key", "did.json", *args, files={
            "audit.zip": made.zip(extra), "did.json": made.files["did.json"]
        })  # fmt: skip


@pytest.fixture
def run(tmp_path, capsys) -> Run:
    return Run(tmp_path, capsys)


def failed(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAILED: ")]


def test_the_pack_verifies_every_check_with_the_files_alone(run, made):
    code, lines = run.pack(made)

    assert code == 0, lines
    assert lines[-1] == VERIFIED
    assert all(line.startswith("OK: ") for line in lines[:-1])
    checks = "\n".join(lines)
    for stated in (
        f"signed by {KID} (Ed25519)",
        "has the SHA-256 the credential names",
        "has 8 rows, the credential's upstreamEvents",
        "are in log-index order",
        "the rows of each of the 3 lots",
        f"the events of lot {LOT}",
        "every origin country the credential states (US, CA)",
        "checkpoint.note in",
        "log key of log-key.txt in",  # the pack's key, said so
        "each of the 8 rows' events is a leaf of the checkpoint",
        "evidence.json in",
    ):
        assert stated in checks, stated


def test_the_credential_alone_with_its_export_and_the_log_key_verifies(run, made):
    files = {name: made.files[name] for name in ("certificate.jwt", "did.json", "ledger.csv")}
    files["log.key"] = made.files["log-key.txt"]
    code, lines = run(
        "certificate.jwt", "--key", "did.json", "--events", "ledger.csv", "--log-key", "log.key",
        files=files,
    )  # fmt: skip

    assert code == 0, lines
    assert lines[-1] == VERIFIED
    assert any("log key of --log-key" in line for line in lines)


def test_a_given_certificate_is_checked_against_the_pack(run, made):
    other = artifacts()  # another certificate of the same lot, signed by another key
    files = {"certificate.jwt": other.files["certificate.jwt"], "audit.zip": made.zip()}
    code, lines = run("certificate.jwt", "--key", "did.json", "--pack", "audit.zip", files={
        **files, "did.json": made.files["did.json"]
    })  # fmt: skip

    assert code == 1
    assert f"FAILED: certificate.jwt in {run.folder / 'audit.zip'} differs from " in lines[1]


def _changed_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = credentials._unb64url(payload).replace(LOT.encode(), b"BATCH-0043", 1)
    return f"{header}.{credentials._b64url(claims)}.{signature}"


def test_one_changed_byte_of_the_credential_fails_its_signature(run, made):
    token = _changed_payload(made.files["certificate.jwt"].decode()).encode()
    code, lines = run.pack(made.changed({"certificate.jwt": token}))

    assert code == 1
    assert failed(lines) == [
        f"FAILED: certificate.jwt in {run.folder / 'audit.zip'} does not verify with {KID} of "
        f"{run.folder / 'did.json'}: the signature does not verify"
    ]
    assert lines[-1] == "NOT VERIFIED: 1 check(s) failed"


def _rows(made: Artifacts) -> list[str]:
    return made.files["ledger.csv"].decode().splitlines(keepends=True)


def test_a_changed_mass_fails_the_export_digest(run, made):
    rows = _rows(made)
    rows[3] = rows[3].replace("120.500", "120.501")
    code, lines = run.pack(made.changed({"ledger.csv": "".join(rows).encode()}))

    assert code == 1
    assert len(failed(lines)) == 1
    assert "has the SHA-256" in failed(lines)[0] and "the credential names" in failed(lines)[0]


def test_a_changed_event_hash_fails_the_root_the_chain_and_its_proof(run, made):
    rows = _rows(made)
    old = rows[1].split(",")[11]  # SRC-001 seq 1, at log index 2
    rows[1] = rows[1].replace(old, "f" * 64)
    code, lines = run.pack(made.changed({"ledger.csv": "".join(rows).encode()}))

    assert code == 1
    problems = "\n".join(failed(lines))
    assert "the Merkle root over" in problems
    assert "row 3 (lot SRC-001 seq 2, log index 5): prev_hash" in problems
    assert "row 1 (lot SRC-001 seq 1, log index 2): the proof is for event hash" in problems


def test_reordered_rows_fail_the_log_index_order(run, made):
    rows = _rows(made)
    rows[2], rows[3] = rows[3], rows[2]
    code, lines = run.pack(made.changed({"ledger.csv": "".join(rows).encode()}))

    assert code == 1
    assert any(
        "row 3 (lot SRC-002 seq 1, log index 3) comes after log index 5" in line
        for line in failed(lines)
    )


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda text: text.replace("SRC-002", "SRC\x00002", 1), "is a NUL"),
        (lambda text: text.replace("log_index,", "index,", 1), "the header is not"),
        (lambda text: text.replace(text.split(",")[24], "z" * 64, 1), "is not 64 hex digits"),
        (lambda text: text.replace("\n2,", "\n2,extra,", 1), "row 1: 15 fields, not 14"),
    ],
)
def test_a_malformed_export_is_a_failed_line_not_a_traceback(run, made, change, problem):
    export = change(made.files["ledger.csv"].decode()).encode()
    files = {"certificate.jwt": made.files["certificate.jwt"], "did.json": made.files["did.json"]}
    code, lines = run("certificate.jwt", "--key", "did.json", "--events", "ledger.csv",
                      files={**files, "ledger.csv": export})  # fmt: skip

    assert code == 1
    assert any(problem in line for line in failed(lines)), lines


def test_a_pack_whose_checkpoint_is_not_the_credentials_fails(run, made):
    leaves = [merkle.leaf_hash(bytes(32))] * 21
    note = notes.sign(
        notes.Checkpoint(LOG_ORIGIN, 21, merkle.root(21, merkle.leaf_source(leaves)),
                         notes.parse_checkpoint(made.files["checkpoint.note"].decode()
                                                .split("\n\n")[0] + "\n").time),
        LOG_ORIGIN, made.log_key,
    )  # fmt: skip
    code, lines = run.pack(made.changed({"checkpoint.note": note.encode()}))

    assert code == 1
    assert failed(lines) == [
        f"FAILED: checkpoint.note in {run.folder / 'audit.zip'} is not the checkpoint the "
        "credential was issued against"
    ]


def _did(key) -> bytes:
    return json.dumps(credentials.did_document(DID, key)).encode()


def _p256_did() -> bytes:
    document = json.loads(_did(Ed25519PrivateKey.generate().public_key()))
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    x = base64.urlsafe_b64encode(numbers.x.to_bytes(32, "big")).rstrip(b"=").decode()
    document["verificationMethod"][0]["publicKeyJwk"] = {"kty": "EC", "crv": "P-256", "x": x}
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "did_json, problem",
    [
        (lambda: _did(Ed25519PrivateKey.generate().public_key()), "the signature does not verify"),
        (_p256_did, "is a EC/P-256 key: this verifier checks EdDSA signatures with an OKP/Ed25519"),
        (lambda: _did(Ed25519PrivateKey.generate().public_key()).replace(b"#key-1", b"#key-2"),
         f"the credential's kid '{KID}' names no verification method of {DID}"),
    ],
)  # fmt: skip
def test_a_did_document_with_another_key_fails(run, made, did_json, problem):
    files = {"certificate.jwt": made.files["certificate.jwt"], "did.json": did_json()}
    code, lines = run("certificate.jwt", "--key", "did.json", files=files)

    assert code == 1
    assert len(failed(lines)) == 1 and problem in failed(lines)[0], lines


def test_a_proof_of_another_leaf_fails_for_its_row(run, made):
    document = json.loads(made.files["inclusion-proofs.json"])
    document["proofs"][4]["hashes"] = document["proofs"][5]["hashes"]
    code, lines = run.pack(made.changed({"inclusion-proofs.json": json.dumps(document).encode()}))

    assert code == 1
    assert len(failed(lines)) == 1
    assert "row 5 (lot SRC-001 seq 3, log index 9): event hash" in failed(lines)[0]
    assert "is not leaf 9 of the checkpoint of 20 leaves" in failed(lines)[0]


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            lambda doc: doc["proofs"][0].update(hashes=[[1]]),
            "row 1 (lot SRC-001 seq 1, log index 2",
        ),
        (lambda doc: doc["proofs"][0].update(hashes=["AA=="]), "a hash of 1 bytes"),
        (lambda doc: doc.update(tree_size=19), "a tree of 19 leaves, the checkpoint of 20"),
        (lambda doc: doc.update(proofs={}), "not an object with a list of proofs"),
        (lambda doc: doc["proofs"].pop(), "7 proofs for 8 rows"),
    ],
)
def test_malformed_proofs_are_failed_lines(run, made, change, problem):
    document = json.loads(made.files["inclusion-proofs.json"])
    change(document)
    code, lines = run.pack(made.changed({"inclusion-proofs.json": json.dumps(document).encode()}))

    assert code == 1
    assert len(failed(lines)) == 1 and problem in failed(lines)[0], lines


def test_a_pack_without_its_proofs_fails(run, made):
    code, lines = run.pack(made.changed({"inclusion-proofs.json": None}))

    assert code == 1
    assert failed(lines) == [f"FAILED: {run.folder / 'audit.zip'} lacks inclusion-proofs.json"]


def test_a_member_named_outside_the_pack_is_reported_and_never_written(run, made, tmp_path):
    code, lines = run.pack(made, {"../escaped.txt": b"owned", "/etc/escaped": b"owned"})

    assert code == 1
    assert [line.split("holds ")[1] for line in failed(lines)] == [
        "a member named '../escaped.txt', outside its root: not read",
        "a member named '/etc/escaped', outside its root: not read",
    ]
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_a_member_over_the_size_cap_is_not_read(run, made, monkeypatch):
    monkeypatch.setattr(pack_module, "MEMBER_LIMIT", 2**20)
    bomb = b'{"documents": [' + b" " * (8 * 2**20) + b"]}"  # 8 MB that deflate to 8 KB
    code, lines = run.pack(made.changed({"evidence.json": bomb}))

    assert code == 1
    assert failed(lines) == [
        f"FAILED: evidence.json in {run.folder / 'audit.zip'} is larger than 1 MB (the "
        "verifier's cap: 1 MB a file, 512 MB in all): not read"
    ]


SIGNED = ("certificate.jwt", "ledger.csv", "checkpoint.note", "log-key.txt")


def _verified(pack: bytes) -> bool:
    did = ("did.json", MADE.files["did.json"].decode())
    report = verify_certificate(Sources(did_document=did, pack=("pack.zip", io.BytesIO(pack))))
    return report.failures == 0


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SIGNED), st.integers(min_value=0), st.integers(1, 255))
def test_any_changed_byte_of_what_the_certificate_commits_to_fails(name, at, delta):
    data = bytearray(MADE.files[name])
    at %= len(data)
    data[at] = (data[at] + delta) % 256

    assert not _verified(MADE.changed({name: bytes(data)}).zip())


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0), st.integers(1, 255))
def test_a_damaged_zip_is_a_report_never_a_traceback(at, delta):
    data = bytearray(MADE.zip())
    at %= len(data)
    data[at] = (data[at] + delta) % 256

    _verified(bytes(data))  # passes (a timestamp changed) or fails, and returns


def test_a_wrong_command_line_is_a_usage_error(run):
    for args in ([], ["--events", "ledger.csv"], ["certificate.jwt"]):
        with pytest.raises(SystemExit) as exit_:
            verify.main(args)
        assert exit_.value.code == 2


def test_the_readme_command_runs_as_documented_and_loads_no_django(made, tmp_path):
    """The pack's README.txt names the command; run as a process, it verifies and imports no
    Django (``-X importtime`` lists every module the process imported)."""
    readme = made.files["README.txt"].decode()
    command = next(line.strip() for line in readme.splitlines() if "--pack audit-pack" in line)
    assert command == f"python -m custody.verify --pack audit-pack-{LOT}.zip --key did.json"
    (tmp_path / f"audit-pack-{LOT}.zip").write_bytes(made.zip())
    (tmp_path / "did.json").write_bytes(made.files["did.json"])
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *shlex.split(command)[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == VERIFIED
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "custody.offline.certificate" in imported
    assert [name for name in imported if name.split(".")[0] == "django"] == []
