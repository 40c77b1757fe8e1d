"""A record the model refuses, said in the contract's words: pydantic's errors as findings with
archiver's codes, places and page lines, then matched to what the contract's validator says of the
same defects (one wording per defect, whichever command finds it)."""

from __future__ import annotations

from pydantic import ValidationError

from archiver.findings import Finding, json_path
from archiver.vocabulary import MANIFEST_CONTRACT

_PYDANTIC_CODES = {
    "missing": "required",
    "extra_forbidden": "additional-property",
    "greater_than_equal": "range",
    "less_than_equal": "range",
    "greater_than": "range",
    "less_than": "range",
    "enum": "enum",
    "literal_error": "const",
    "string_too_short": "min-length",
    "date_from_datetime_parsing": "date-invalid",
    "date_parsing": "date-invalid",
    "date_type": "date-invalid",
    "datetime_parsing": "datetime-invalid",
    "datetime_from_date_parsing": "datetime-invalid",
    "datetime_type": "datetime-invalid",
    "finite_number": "range",
    # Type errors keep pydantic's own names (string-type, int-type, ...), as registered in codes.py.
    **{kind: kind.replace("_", "-") for kind in (
        "string_type", "int_type", "float_type", "bool_type", "bool_parsing", "model_type", "tuple_type",
        "timezone_aware", "date_from_datetime_inexact",
    )},
}


def _line_for(location: str, lines: dict[str, int]) -> int | None:
    probe = location
    while probe:
        if probe in lines:
            return lines[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        if cut <= 0:
            return None
        probe = probe[:cut]
    return None


def findings_from_validation_error(exc: ValidationError, lines: dict[str, int]) -> list[Finding]:
    findings = []
    for error in exc.errors(include_url=False):
        location = json_path(error["loc"])
        kind = error["type"]
        code = _PYDANTIC_CODES.get(kind, kind.replace("_", "-"))
        if kind == "string_pattern_mismatch":
            code = "id-invalid" if location == "$.id" else ("doi-invalid" if location.endswith(".doi") else "pattern")
        if kind == "missing" and location == "$.id":
            code = "id-missing"
        if kind == "literal_error" and " or " in str(error.get("ctx", {}).get("expected", "")):
            code = "enum"  # vocabulary fields are Literals of several values (model.values_of)
        message = error["msg"]
        if "input" in error and kind not in ("missing",) and not isinstance(error["input"], (dict, list)):
            message = f"{message} (got {error['input']!r})"
        findings.append(Finding(code, message, location, _line_for(location, lines)))
    return findings


def _parent(location: str) -> str:
    cut = max(location.rfind("."), location.rfind("["))
    return location[:cut] if cut > 0 else "$"


def in_contract_words(findings: list[Finding], raw: dict, lines: dict[str, int]) -> list[Finding]:
    """The model's findings told as `archiver validate` tells the same defects: the contract's
    wording, code and place, from the same validator (one wording per defect, whichever command
    finds it). A finding the contract does not state (a rule only the model knows) stays as it is.
    Runs for invalid records only."""
    from archiver.validation import validate_document  # the contract's validator, loaded when a record fails

    try:
        contract = validate_document({**raw, "contract": raw.get("contract", MANIFEST_CONTRACT)}, MANIFEST_CONTRACT)
    except (ValueError, TypeError, RecursionError):
        return findings
    at: dict[str, list[Finding]] = {}
    for finding in contract:
        at.setdefault(finding.location, []).append(finding)
    told: list[Finding] = []
    used: set[int] = set()
    for finding in findings:
        name = finding.location.rsplit(".", 1)[-1]
        if finding.code in ("required", "id-missing", "additional-property"):
            # the contract says these of the object that lacks or holds the field
            candidates = [f for f in at.get(_parent(finding.location), []) if f"\"{name}\"" in f.message or f"'{name}'" in f.message]
        else:
            candidates = at.get(finding.location, [])
        match = next((f for f in candidates if id(f) not in used), None)
        if match is None:
            told.append(finding)
            continue
        used.add(id(match))
        told.append(Finding(match.code, match.message, match.location, _line_for(finding.location, lines)))
    return told
