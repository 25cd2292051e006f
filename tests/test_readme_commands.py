"""The README's commands run as written, from a checkout after ``make run``.

Every ``manage.py`` command in the README's shell blocks (a line that starts with ``python
manage.py`` or ``.venv/bin/python manage.py``, after any ``NAME=value`` prefixes, also inside
``$(...)``), and every run of the offline verifier (``.venv/bin/python -m custody.verify``),
runs in a subprocess with the environment the line writes and nothing more: no ``SECRET_KEY``,
no ``DEBUG`` unless the line sets it, the embedded SQLite mode of ``make run``. Each block
starts from a fresh copy of one demo database seeded as ``make run`` seeds it, and its commands
run in order. A command must exit 0, or 1 where the README says it "exits 1".
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
OFFLINE_VERIFIER = "custody.verify"
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Variables a developer's shell or the test run may carry that the README's lines do not set.
NOT_INHERITED = {
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "ALLOW_INSECURE_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
}


class Command(NamedTuple):
    line: str
    env: dict[str, str]
    python: str  # as the README writes it: "python" or ".venv/bin/python"
    program: list[str]  # ["manage.py"] or ["-m", "custody.verify"]
    args: list[str]  # after manage.py, or after -m custody.verify
    exit_code: int


def shell_blocks(text: str) -> list[list[str]]:
    """The lines of each ```sh block."""
    return [
        block.splitlines()
        for block in re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", text, re.M | re.S)
    ]


def manage_command(line: str) -> Command | None:
    """The manage.py command a line runs, or None."""
    inner = re.search(r"\$\((.*)\)", line)
    text = inner.group(1) if inner else line
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        return None
    env = {}
    while words and ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if len(words) < 2 or words[0] not in ("python", ".venv/bin/python"):
        return None
    if words[1] == "manage.py":
        program, args = ["manage.py"], words[2:]
    elif words[1:3] == ["-m", OFFLINE_VERIFIER]:
        program, args = ["-m", OFFLINE_VERIFIER], words[3:]
    else:
        return None
    comment = line.partition(" #")[2]
    exit_code = 1 if re.search(r"\bexits 1\b", comment) else 0
    return Command(line.strip(), env, words[0], program, args, exit_code)


def readme_commands() -> list[list[Command]]:
    blocks = []
    for lines in shell_blocks(README.read_text()):
        commands = [command for line in lines if (command := manage_command(line))]
        if any(line.lstrip().startswith("curl ") for line in lines):
            # The verifier's inputs there come from the running server (the curl lines).
            commands = [command for command in commands if command.program == ["manage.py"]]
        if commands:
            blocks.append(commands)
    return blocks


def run(
    args: list[str], env: dict[str, str], database: Path, program=("manage.py",)
) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    return subprocess.run(
        [sys.executable, *program, *args],
        cwd=REPO,
        env=base | {"DATABASE_URL": f"sqlite:///{database}"} | env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory) -> Path:
    """A SQLite demo database, made as ``make run`` makes it."""
    database = tmp_path_factory.mktemp("readme") / "demo.sqlite3"
    for step in (["migrate", "--noinput"], ["seed_demo"]):
        result = run(step, {"DEBUG": "1"}, database)
        assert result.returncode == 0, result.stdout + result.stderr
    return database


def test_the_readme_has_the_commands_it_documents():
    commands = [command for block in readme_commands() for command in block]
    names = {command.args[0] for command in commands if command.program == ["manage.py"]}
    assert {"verify_ledger", "trace", "assess", "demo_tamper", "create_api_key"} <= names
    assert any(command.program == ["-m", OFFLINE_VERIFIER] for command in commands)
    assert any("strict-eu" in command.args for command in commands)
    assert any(command.exit_code == 1 for command in commands)
    # From a fresh clone, `python` is not the project's: the README names the venv's.
    bare = [command.line for command in commands if command.python != ".venv/bin/python"]
    assert bare == [], bare


@pytest.mark.parametrize(
    "block", readme_commands(), ids=lambda block: " ; ".join(c.args[0] for c in block)
)
def test_every_readme_command_runs_as_written(block, demo_database, tmp_path):
    database = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_database, database)
    for command in block:
        result = run(command.args, command.env, database, command.program)
        assert result.returncode == command.exit_code, (
            f"{command.line}\nexit {result.returncode}, expected {command.exit_code}\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )


def test_make_run_serves_on_the_port_asked_for():
    """``make run PORT=8001``: the demo's printed address and the server's agree on the port."""
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8001"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    assert any("manage.py seed_demo --port 8001" in line for line in commands), commands
    assert any("manage.py runserver 127.0.0.1:8001" in line for line in commands), commands
    default = subprocess.run(["make", "-n", "run"], cwd=REPO, capture_output=True, text=True)
    assert "runserver 127.0.0.1:8000" in default.stdout
