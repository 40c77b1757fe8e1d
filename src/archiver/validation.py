"""Validate manifests against the JSON Schema contracts plus the rules a schema cannot state.

Every path (``archiver validate``, export, deposit) validates with one library, jsonschema-rs, whose
``pattern`` keyword follows ECMA-262 as JSON Schema requires (``$`` is the end of the string, ``\\d``
is ASCII). This module is the pre-commit path: it imports only the standard library, orjson,
jsonschema-rs and the rule functions, never Pydantic, frictionless or requests.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from archiver import jsontext, rules
from archiver.findings import ArchiverError, Finding, json_path
from archiver.vocabulary import CONTRACTS, CORRECTION_CONTRACT, L4_LABEL, MANIFEST_CONTRACT
from archiver.walk import OnSkip, open_source, read_at_most, walk_files

MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # what a stream named as a manifest may hold (/dev/zero never ends)
CONTRACT_FILES = {contract: f"{contract}.schema.json" for contract in CONTRACTS}

# Schema if/then/else branches are the cross-field rules; name them with the same codes the
# model and the code checks use. jsonschema-rs restarts the schema path at each $ref, so a branch
# at the root of a referenced contract is known by the property its consequence constrains.
_BRANCH_RULES = {
    ("verification", "then"): (
        "l1-claims",
        "verification level L1 (literature synthesis) must have 0 source-grounded claims",
    ),
    ("gate", "then"): (
        "verified-needs-artifact",
        "Gate 2 status VERIFIED requires a reproducible artifact reference (gate.artifact)",
    ),
    ("external_record", "then"): ("registered-needs-doi", "external record Registered requires a DOI"),
    ("external_record", "else"): (
        "doi-without-registration",
        "a DOI is present but the external record is not Registered",
    ),
    ("public_provenance", "then"): (
        "l4-label",
        f"public provenance L4 is labelled {L4_LABEL!r}",
    ),
    ("", "then", "public_provenance"): (
        "registered-needs-l4",
        "external record Registered requires public provenance L4",
    ),
    ("", "else", "public_provenance"): (
        "l4-without-registration",
        "public provenance L4 requires a Registered external record",
    ),
    ("", "then", "corrections"): (
        "corrections-not-public",
        "corrections_public is false, so no correction may be listed",
    ),
    ("", "then", "correction_count"): (
        "corrected-without-corrections",
        "status CORRECTED requires at least one correction",
    ),
}

# jsonschema-rs names an error by its keyword: each keyword the contracts use, with its registered
# code (a keyword a future contract adds falls back to its name in lower case).
_KIND_CODES = {
    "Required": "required",
    "AdditionalProperties": "additional-property",
    "Enum": "enum",
    "Constant": "const",
    "Pattern": "pattern",
    "Minimum": "range",
    "Maximum": "range",
    "Type": "type",
    "MinLength": "min-length",
}


def schema_dir() -> str:
    """The directory holding the contracts: inside the installed package, else the source tree."""
    here = os.path.dirname(os.path.abspath(__file__))
    packaged = os.path.join(here, "schemas")
    if os.path.isdir(packaged):
        return packaged
    source_tree = os.path.join(os.path.dirname(os.path.dirname(here)), "schemas")
    if os.path.isdir(source_tree):
        return source_tree
    raise ArchiverError("the JSON Schema contracts are missing from this installation", code="no-schemas")


@lru_cache(maxsize=1)
def load_schemas() -> dict[str, dict]:
    """Contract name -> schema document, read once per process."""
    directory = schema_dir()
    schemas = {}
    for contract, filename in CONTRACT_FILES.items():
        with open(os.path.join(directory, filename), encoding="utf-8") as handle:
            schemas[contract] = json.load(handle)
    return schemas


@lru_cache(maxsize=1)
def _validators() -> dict:
    import jsonschema_rs  # compiled Draft 2020-12 validator; imported only when validating

    schemas = load_schemas()
    registry = jsonschema_rs.Registry([(schema["$id"], schema) for schema in schemas.values()])
    return {
        contract: jsonschema_rs.Draft202012Validator(schema, registry=registry)
        for contract, schema in schemas.items()
    }


def _schema_finding(error) -> Finding:
    instance_path = list(error.instance_path)
    location = json_path(instance_path)
    names = [part for part in error.schema_path if isinstance(part, str) and part not in ("properties", "allOf")]
    branch = next((index for index, part in enumerate(names) if part in ("then", "else")), None)
    if branch is not None:
        # a branch below a property is known by it; one at a contract's root by what it constrains
        key = (names[branch - 1], names[branch]) if branch else ("", names[0], next(iter(names[1:]), ""))
        rule = _BRANCH_RULES.get(key)
        if rule:
            code, message = rule
            return Finding(code, message, location)
    if "dependentSchemas" in names:  # the one dependency the contracts state: repository excludes environment
        return Finding("repository-with-environment", rules.REPOSITORY_WITH_ENVIRONMENT, location)
    kind = type(error.kind).__name__
    code = _KIND_CODES.get(kind, kind.lower())
    # the record's identity gets its own codes, whichever command finds the defect
    if code == "pattern" and location == "$.id":
        code = "id-invalid"
    elif code == "pattern" and location.endswith(".doi"):
        code = "doi-invalid"
    elif code == "required" and location == "$" and error.message == '"id" is a required property':
        code = "id-missing"
    return Finding(code, error.message, location)


def _corrections_findings(record: dict, base: list) -> Iterator[Finding]:
    corrections = record.get("corrections", [])
    if not isinstance(corrections, list):
        return
    pairs: list[tuple[Any, str]] = []
    for index, entry in enumerate(corrections):
        if isinstance(entry, dict) and isinstance(entry.get("date"), str):
            problem = rules.iso_date_problem(entry["date"])
            if problem:
                yield Finding("date-invalid", problem, json_path([*base, "corrections", index, "date"]))
            pairs.append((entry.get("sequence"), entry["date"]))
    count = record.get("correction_count")
    if isinstance(count, int) and len(pairs) == len(corrections):
        public = record.get("corrections_public")
        # no status is passed: the rule on CORRECTED is the schema's, as is corrections-not-public
        for code, problem in rules.correction_problems("", count, pairs, public if isinstance(public, bool) else None):
            if code != "corrections-not-public":
                yield Finding(code, problem, json_path(base) if base else "$")


def code_rule_findings(document: dict, contract: str) -> list[Finding]:
    """Rules a schema cannot state, reported in the same shape as schema errors."""
    findings: list[Finding] = []
    if contract == CORRECTION_CONTRACT:
        findings.extend(_corrections_findings(document, []))
        return findings
    if contract != MANIFEST_CONTRACT:
        return findings
    submitted = document.get("submitted")
    if isinstance(submitted, str):
        problem = rules.iso_date_problem(submitted)
        if problem:
            findings.append(Finding("date-invalid", problem, "$.submitted"))
    gate = document.get("gate")
    if isinstance(gate, dict) and isinstance(gate.get("evaluated"), str):
        problem = rules.iso_datetime_problem(gate["evaluated"])
        if problem:
            findings.append(Finding("datetime-invalid", problem, "$.gate.evaluated"))
    correction_record = document.get("correction_record")
    if isinstance(correction_record, dict):
        findings.extend(_corrections_findings(correction_record, ["correction_record"]))
    provenance = document.get("provenance")
    if isinstance(provenance, dict):
        external = provenance.get("external_record")
        problem = rules.deposition_id_problem(external.get("deposition_id")) if isinstance(external, dict) else None
        if problem:
            findings.append(Finding("deposition-id-invalid", problem, "$.provenance.external_record.deposition_id"))
        if isinstance(external, dict) and isinstance(external.get("registered_at"), str):
            problem = rules.iso_datetime_problem(external["registered_at"])
            if problem:
                findings.append(
                    Finding("datetime-invalid", problem, "$.provenance.external_record.registered_at")
                )
    research_question = document.get("research_question")
    title = document.get("title")
    if document.get("title_truncated") is True and isinstance(title, str) and not (
        isinstance(research_question, str) and research_question.startswith(title.rstrip())
    ):
        findings.append(
            Finding(
                "title-truncated-without-question",
                "title_truncated is true but the research question does not start with the title",
                "$.title_truncated",
            )
        )
    return findings


def validate_document(document, contract: str | None = None) -> list[Finding]:
    """All findings for one parsed JSON document; the contract comes from its ``contract`` field."""
    if not isinstance(document, dict):
        return [Finding("not-an-object", "a manifest must be a JSON object", "$")]
    contract = contract or document.get("contract")
    if not isinstance(contract, str) or contract not in CONTRACT_FILES:
        if contract is None:
            return [Finding("contract-missing", "no 'contract' field names the schema to validate against", "$")]
        known = ", ".join(sorted(CONTRACT_FILES))
        return [Finding("contract-unknown", f"unknown contract {contract!r} (known: {known})", "$.contract")]
    findings: list[Finding] = []
    validator = _validators()[contract]
    try:
        if not validator.is_valid(document):
            findings.extend(_schema_finding(error) for error in validator.iter_errors(document))
    except ValueError as exc:  # jsonschema-rs refuses documents nested deeper than it walks
        return [Finding("too-deep", f"the document is nested too deeply to validate ({exc})", "$")]
    findings.extend(code_rule_findings(document, contract))
    return findings


class FileResult:
    """The outcome of validating one file: ``readable`` is False when it could not be parsed."""

    __slots__ = ("path", "findings", "readable")

    def __init__(self, path: str, findings: list[Finding] | None = None, readable: bool = True) -> None:
        self.path = path
        self.findings = findings if findings is not None else []
        self.readable = readable

    @property
    def valid(self) -> bool:
        return self.readable and not self.findings

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "valid": self.valid,
            "readable": self.readable,
            "errors": [finding.as_dict() for finding in self.findings],
        }


def _read_bytes(path: str) -> bytes:
    # Raw os.open/os.read: a buffered file object per manifest costs more than validating it.
    # open_source never blocks, so a FIFO named here is read once, as it comes.
    fd, file_stat = open_source(path)
    try:
        if file_stat is not None:
            chunks = [os.read(fd, file_stat.st_size + 1)]
            while chunks[-1]:
                chunks.append(os.read(fd, 1 << 20))
            return b"".join(chunks)
        data = read_at_most(fd, MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES:
            raise OSError(errno.EFBIG, f"a stream larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB is not a manifest")
        return data
    finally:
        os.close(fd)


STDIN = "-"  # the path that names standard input, shown as <stdin>


def _read_stdin() -> bytes:
    data = sys.stdin.buffer.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise OSError(errno.EFBIG, f"a stream larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB is not a manifest")
    return data


def validate_file(path: str) -> FileResult:
    try:
        data = _read_stdin() if path == STDIN else _read_bytes(path)
    except OSError as exc:
        return FileResult(path, [Finding("unreadable", exc.strerror or str(exc), "$")], readable=False)
    if path == STDIN:
        path = "<stdin>"
    # An empty file or one that is not JSON was read: it is an invalid manifest (exit 1), not a
    # file the command could not read (exit 2).
    if not data.strip():
        return FileResult(path, [Finding("empty-input", "the input is empty", "$")])
    try:
        document = jsontext.loads(data)
    except jsontext.JsonInputError as exc:
        return FileResult(path, [Finding(exc.code, exc.message, "$", line=exc.line)])
    return FileResult(path, validate_document(document))


def expand_paths(paths: Iterable[str], on_skip: OnSkip | None = None, on_note: Callable[[str], None] | None = None) -> Iterator[str]:
    """Files as given; directories walked for ``*.json`` in a stable order (FIFOs, devices and
    sockets among them are reported to ``on_skip``, never opened). An archiver export is read
    for its manifests only: its datapackage.json, report.json and plan.json are not manifests."""
    for path in paths:
        if path == STDIN:
            yield path  # standard input, read once as one manifest
        elif os.path.isdir(path):
            from archiver.exportdir import MANIFESTS, MARKER  # only when a directory is given

            if os.path.isfile(os.path.join(path, MARKER)):
                if on_note is not None:
                    on_note(f"{path} is an archiver export: validating its {MANIFESTS}/ only, not archiver's own files")
                path = os.path.join(path, MANIFESTS)
            yield from walk_files(path, keep_file=_is_json_name, on_skip=on_skip)
        else:
            yield path


def _is_json_name(name: str) -> bool:
    return name.endswith(".json")


def validate_paths(paths: Iterable[str], on_skip: OnSkip | None = None, on_note: Callable[[str], None] | None = None) -> Iterator[FileResult]:
    for path in expand_paths(paths, on_skip, on_note):
        yield validate_file(path)
