"""The layout holds: imports flow one way with no cycle, every refusal has a documented code,
and no module grows past what a reader holds in mind."""

import ast
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

from custody.errors import DomainError, ErrorCode

ROOT = Path(__file__).resolve().parent.parent
CODE = ["config", "custody", "recyclers"]
SOURCES = [*CODE, "tests", "benchmarks"]
MAX_LINES = 400


def python_files(folders=SOURCES):
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_imports_flow_one_way_without_cycles(monkeypatch, capsys):
    """The contracts in pyproject.toml: entry points -> services -> selectors -> models -> the
    pure core; recyclers imports nothing of custody; no cycle between sibling modules."""
    monkeypatch.chdir(ROOT)
    status = lint_imports(config_filename="pyproject.toml", no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out


def test_no_module_is_longer_than_a_reader_holds_in_mind():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in python_files()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_domain_error_is_raised_with_a_member_of_error_code():
    """A string code would be checked only when raised; the enum is checked when loaded."""
    literal = []
    for path in python_files(CODE):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "DomainError"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                literal.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert literal == []
    with pytest.raises(ValueError):
        DomainError("no_such_code", "A code outside the enum is a bug.")


@pytest.mark.django_db
def test_every_error_code_is_documented_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    documented = schema["components"]["schemas"]["ErrorCode"]
    assert documented["enum"] == [code.value for code in ErrorCode]
    for code in ErrorCode:
        assert f"`{code.value}` ({code.http_status})" in documented["description"]
    assert (
        "ErrorCode"
        in schema["components"]["schemas"]["Problem"]["properties"]["code"]["description"]
    )
