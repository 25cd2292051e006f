"""Finding codes: every code is documented in the README's table of verdict rules, the rules
raise findings only with members of ``FindingCode``, and the enums serialize as plain text."""

import ast
import json
import re
from pathlib import Path

from rest_framework.renderers import JSONRenderer

import custody.selectors.verdicts.rules as rules_module
from custody.findings import FindingCode, Severity
from custody.selectors.verdicts import Finding

ROOT = Path(__file__).resolve().parent.parent.parent


def readme_rule_codes() -> set[str]:
    """The codes in the first column of the README's table of verdict rules."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("| code | when |")
    codes = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        first_cell = line.split("|")[1]
        codes.update(re.findall(r"`([a-z_]+)`", first_cell))
    return codes


def test_every_finding_code_is_in_the_readme_rule_table():
    assert {code.value for code in FindingCode} <= readme_rule_codes()


def test_the_readme_rule_table_names_no_code_outside_the_enum():
    assert readme_rule_codes() <= {code.value for code in FindingCode}


def _member(node: ast.expr | None, enum: type) -> str | None:
    """The member name if ``node`` reads ``Enum.MEMBER`` (or ``Enum.MEMBER.severity``)."""
    if isinstance(node, ast.Attribute) and node.attr == "severity":
        node = node.value
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == enum.__name__
        and node.attr in enum.__members__
    ):
        return node.attr
    return None


def test_the_rules_raise_findings_only_with_members_of_finding_code():
    """Every ``Finding(...)`` and ``self.finding(...)`` in the rules names its code as a member
    (only ``Rules.finding`` passes on the code it was given), every explicit severity is a
    member of ``Severity``, and no code is spelled as a string."""
    tree = ast.parse(Path(rules_module.__file__).read_text())
    forwarder = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "finding"
    )
    forwarded = set(map(id, ast.walk(forwarder)))
    raised, wrong = set(), []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        is_finding = isinstance(func, ast.Name) and func.id == "Finding"
        is_rule_finding = isinstance(func, ast.Attribute) and func.attr == "finding"
        if not (is_finding or is_rule_finding) or id(node) in forwarded:
            continue
        code = _member(node.args[0] if node.args else None, FindingCode)
        if code is None:
            wrong.append(f"rules.py:{node.lineno}: code is not a FindingCode member")
            continue
        raised.add(code)
        severity = node.args[1] if is_finding else None
        severity = next((k.value for k in node.keywords if k.arg == "severity"), severity)
        if severity is not None and not (
            _member(severity, Severity) or _member(severity, FindingCode) == code
        ):
            wrong.append(f"rules.py:{node.lineno}: severity is not a Severity member")
    literals = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in {code.value for code in FindingCode}
    }
    assert wrong == []
    assert literals == set()
    assert raised == set(FindingCode.__members__)  # and every member is raised by some rule


def test_each_code_carries_the_severity_of_its_rule():
    assert {code.value: code.severity for code in FindingCode} == {
        "foreign_custody": Severity.VIOLATION,
        "denied_jurisdiction": Severity.VIOLATION,
        "open_handoff": Severity.VIOLATION,  # missing_evidence while still within the limit
        "seal_broken": Severity.VIOLATION,
        "transit_loss": Severity.VIOLATION,
        "unbalanced_transformation": Severity.VIOLATION,
        "yield_shortfall": Severity.VIOLATION,
        "yield_excess": Severity.VIOLATION,
        "uncertified_custodian": Severity.VIOLATION,
        "unsanitized_media": Severity.VIOLATION,
        "broken_chain": Severity.VIOLATION,
        "unknown_origin": Severity.MISSING_EVIDENCE,
        "retroactive_certification": Severity.MISSING_EVIDENCE,
    }


def test_findings_serialize_as_the_plain_strings_they_were():
    finding = Finding(
        FindingCode.OPEN_HANDOFF,
        Severity.MISSING_EVIDENCE,
        "LOT-2026-000001",
        "4b1f0c2e-0000-4000-8000-000000000001",
        3,
        "LOT-2026-000001 is in transit.",
    )
    plain = {
        "code": "open_handoff",
        "severity": "missing_evidence",
        "lot": "LOT-2026-000001",
        "event": "4b1f0c2e-0000-4000-8000-000000000001",
        "seq": 3,
        "message": "LOT-2026-000001 is in transit.",
    }
    as_dict = finding.as_dict()
    assert as_dict == plain
    assert [type(value) for value in as_dict.values()] == [type(value) for value in plain.values()]
    # The members themselves serialize as their text too, in json and in DRF.
    members = {**plain, "code": FindingCode.OPEN_HANDOFF, "severity": Severity.MISSING_EVIDENCE}
    for document in (as_dict, members):
        assert json.dumps(document) == json.dumps(plain)
        assert JSONRenderer().render(document) == JSONRenderer().render(plain)
    assert f"[{finding.severity}] {finding.code}" == "[missing_evidence] open_handoff"


def test_findings_module_is_pure_core():
    """custody.findings imports nothing from custody but, at most, the vocabulary module."""
    tree = ast.parse(Path(ROOT / "custody" / "findings.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    custody = {name for name in imported if name.startswith((".", "custody"))}
    assert custody <= {".kinds", "custody.kinds"}
