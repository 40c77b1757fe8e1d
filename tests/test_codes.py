"""codes: every code the source emits is registered with its meaning, and the README's tables are the registry's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from archiver import codes, contract_words, eligibility, validation, walk
from archiver.codes import CODES, KINDS, KINDS_OF, markdown_table
from archiver.contract_words import findings_from_validation_error
from archiver.model import Record
from conftest import REPO, base_manifest

SOURCE = REPO / "src" / "archiver"
# Calls whose first argument is a code, and calls whose second argument is.
FIRST_ARG_IS_CODE = {"Finding", "PydanticCustomError", "BadValue", "JsonInputError"}
SECOND_ARG_IS_CODE = {"_failed", "on_skip"}


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _strings(node: ast.expr | None) -> list[str]:
    """The string constants a code expression can take: a literal, or either side of ``a if c else b``."""
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    value = _string(node)
    return [value] if value is not None else []


def emitted_literals() -> dict[str, list[str]]:
    """Code literals in code positions of the source: code -> where."""
    found: dict[str, list[str]] = {}

    def note(node: ast.expr | None, where: str) -> None:
        for value in _strings(node):
            found.setdefault(value, []).append(where)

    for path in sorted(SOURCE.rglob("*.py")):
        if path.name == "codes.py" or "double" in path.relative_to(SOURCE).parts:  # the registry itself; the double answers as Zenodo
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(SOURCE)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        note(keyword.value, where)
                name = _name(node.func)
                if name in FIRST_ARG_IS_CODE and node.args:
                    note(node.args[0], where)
                if name in SECOND_ARG_IS_CODE and len(node.args) > 1:
                    note(node.args[1], where)
            if isinstance(node, ast.Assign) and any(
                (isinstance(t, ast.Name) and t.id == "code") or (isinstance(t, ast.Attribute) and t.attr.endswith("_code"))
                for t in node.targets
            ):
                note(node.value, where)  # code = "id-invalid" if ... else ...; summary.problem_code = ...
            if isinstance(node, (ast.Yield, ast.Return)) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2:
                code = _string(node.value.elts[0])
                if code and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", code):  # rules.py's (code, problem) pairs
                    note(node.value.elts[0], where)
    return found


def emitted_from_tables() -> set[str]:
    """Codes that come from the modules' mapping tables rather than from a literal at a call."""
    return {
        *contract_words._PYDANTIC_CODES.values(),
        *validation._KIND_CODES.values(),
        *(code for code, _message in validation._BRANCH_RULES.values()),
        *eligibility.NEXT_ACTIONS,
        walk.SPECIAL_FILE,
    }


def test_every_code_the_source_emits_is_registered():
    literals = emitted_literals()
    unregistered = {code: where for code, where in literals.items() if code not in CODES}
    assert unregistered == {}
    assert emitted_from_tables() - set(CODES) == set()


def test_every_registered_code_is_emitted_somewhere():
    emitted = set(emitted_literals()) | emitted_from_tables()
    assert set(CODES) - emitted == set()


def test_every_code_has_a_known_kind_and_a_one_line_meaning():
    for code in codes._CODES:
        assert code.kind in KINDS
        assert code.meaning and "\n" not in code.meaning and len(code.meaning) < 140
    assert KINDS_OF["manifest-invalid"] == {"reason", "run"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["title"], 7), (["review_score"], "high"), (["verification", "source_grounded_claims"], "4"),
        (["title_truncated"], "maybe"), (["title_truncated"], []), (["verification"], "L2"),
        (["correction_record", "corrections"], "none"), (["gate"], {"status": "Unverified", "evaluated": "2026-01-01T00:00:00"}),
        (["submitted"], "2026-01-01T10:00:00"), (["review_score"], float("inf")), (["extra"], 1),
    ],
)
def test_the_codes_of_a_record_the_model_refuses_are_registered(path, value):
    document = base_manifest()
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as refused:
        Record.model_validate(document)
    found = findings_from_validation_error(refused.value, {})
    assert found and {f.code for f in found} <= set(CODES)


def _readme_blocks() -> dict[str, str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"<!-- codes: ([a-z]+) -->\n(.*?)\n<!-- /codes -->", text, flags=re.S))


def test_the_readme_tables_are_generated_from_the_registry():
    blocks = _readme_blocks()
    assert sorted(blocks) == sorted(KINDS)  # every kind has its table
    for kind, table in blocks.items():
        assert table == markdown_table(kind), f"README table {kind!r} is stale: python -m archiver.codes {kind}"


def test_the_registry_prints_its_tables(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["codes", "warning"])
    assert codes.main() == 0
    assert capsys.readouterr().out == markdown_table("warning") + "\n"  # what goes between the markers
    monkeypatch.setattr("sys.argv", ["codes", "bogus"])
    assert codes.main() == 2
    assert "usage: python -m archiver.codes [KIND]" in capsys.readouterr().err
    monkeypatch.setattr("sys.argv", ["codes", "--help"])
    assert codes.main() == 0


def test_base_manifest_helper_is_valid():
    Record.model_validate(base_manifest())  # the mutations above start from a valid record
    assert Path(SOURCE / "codes.py").is_file()
