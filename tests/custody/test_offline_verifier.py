"""``python -m custody.verify``: what the log publishes checks out with the public key alone, in
a process that loads no Django; anything changed fails with exit 1."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from custody import services
from custody.services.transparency_log import integrate_log

from ..conftest import ship

REPO = Path(__file__).resolve().parents[2]


def verify(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "custody.verify", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )


@pytest.fixture
def proofs(chain, pickup, tmp_path):
    """The pickup shipped, a checkpoint of 3 leaves, one more event and a checkpoint of 4: what
    ``log_proof`` writes for a buyer."""
    ship(chain, pickup)
    integrate_log()
    services.weigh_lot(actor=chain.actor(chain.recycler), lot=pickup, mass_kg=pickup.mass_kg)
    integrate_log()
    call_command("log_proof", pickup.code, "--out", tmp_path, "--since", "3", stdout=StringIO())
    assert (tmp_path / "old-checkpoint.note").read_text().splitlines()[1] == "3"
    return tmp_path, pickup.code


def test_the_verifier_loads_no_django():
    code = (
        "import sys, custody.verify; "
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')]; "
        "assert not loaded, loaded"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_checkpoint_inclusion_and_consistency_verify(proofs):
    folder, code = proofs
    key = folder / "log.key"
    result = verify("--key", key, "checkpoint", folder / "checkpoint.note")
    assert result.returncode == 0, result.stderr
    assert "4 leaves" in result.stdout
    for seq in (1, 2, 3, 4):
        result = verify(
            "--key",
            key,
            "inclusion",
            "--checkpoint",
            folder / "checkpoint.note",
            folder / f"{code}-{seq}.json",
        )
        assert result.returncode == 0, result.stderr
    result = verify(
        "--key",
        key,
        "consistency",
        "--old",
        folder / "old-checkpoint.note",
        folder / "consistency.json",
    )
    assert result.returncode == 0, result.stderr
    assert "extends the one of 3" in result.stdout


def test_a_changed_proof_leaf_or_checkpoint_fails(proofs):
    folder, code = proofs
    key = folder / "log.key"
    proof = json.loads((folder / f"{code}-2.json").read_text())
    for change in (
        {"leaf_index": proof["leaf_index"] + 1},
        {"event_hash": "00" * 32},
        {"hashes": proof["hashes"][::-1]},
    ):
        changed = folder / "changed.json"
        changed.write_text(json.dumps({**proof, **change}))
        result = verify("--key", key, "inclusion", changed)
        assert result.returncode == 1, change
        assert result.stderr.startswith("FAILED:")
    note = (folder / "checkpoint.note").read_text()
    (folder / "forged.note").write_text(note.replace("\n4\n", "\n5\n"))
    result = verify("--key", key, "checkpoint", folder / "forged.note")
    assert result.returncode == 1
    assert "does not verify" in result.stderr
