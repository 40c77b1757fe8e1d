"""The JSON Schema contracts: well-formed, linked, strict, and agreeing with python-jsonschema."""

from __future__ import annotations

import copy
import json

import jsonschema
import jsonschema_rs
import pytest
from pydantic import ValidationError
from referencing import Registry, Resource

from archiver.model import Record
from archiver.validation import CONTRACT_FILES, load_schemas, schema_dir, validate_document
from conftest import EXAMPLES, base_manifest


def test_every_schema_passes_the_2020_12_metaschema():
    for schema in load_schemas().values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        assert jsonschema_rs.meta.is_valid(schema)


def test_schemas_have_ids_and_the_manifest_refs_the_other_two():
    schemas = load_schemas()
    for contract, schema in schemas.items():
        assert schema["$id"].endswith(CONTRACT_FILES[contract])
    text = json.dumps(schemas["paper-manifest-v1.1"])
    assert '"$ref": "correction-record-v1.schema.json"' in text
    assert '"$ref": "source-provenance-v1.schema.json"' in text


def test_every_object_in_every_schema_forbids_additional_properties():
    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "object":
                assert node.get("additionalProperties") is False, where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    for contract, schema in load_schemas().items():
        walk(schema, contract)


def _set(doc, path, value):
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value == _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = "<delete this key>"

# A record registered in another InvenioRDM repository (TU Wien's prefix), as a deposit there writes it.
_REPOSITORY_RECORD = {
    "status": "Registered", "doi": "10.48436/q5jr8-hny72", "url": "https://doi.org/10.48436/q5jr8-hny72",
    "deposition_id": "q5jr8-hny72", "repository": "https://researchdata.tuwien.ac.at", "registered_at": "2026-06-01T10:00:00+00:00",
}

# (name, path, value, expected code from the schema)
MUTATIONS = [
    ("score-too-high", ("review_score",), 12.4, "range"),
    ("negative-claims", ("verification", "source_grounded_claims"), -1, "range"),
    ("bad-id", ("id",), "SRCH:xyz", "id-invalid"),  # a pattern, with the code every command gives the id
    ("bad-doi", ("provenance", "external_record"), {"status": "Registered", "doi": "doi:10.1/x"}, "doi-invalid"),
    ("unknown-field", ("colour",), "blue", "additional-property"),
    ("missing-title", ("title",), _DELETE, "required"),
    ("bad-tier", ("quality_tier", "tier"), "Gold", "enum"),
    ("bad-dimension", ("quality_dimensions", "evidence_strength"), "HUGE", "enum"),
    ("l1-with-claims", ("verification",), {"level": "L1", "source_grounded_claims": 3}, "l1-claims"),
    ("verified-no-artifact", ("gate",), {"status": "VERIFIED"}, "verified-needs-artifact"),
    ("registered-no-doi", ("provenance", "external_record"), {"status": "Registered"}, "registered-needs-doi"),
    ("doi-not-registered", ("provenance", "external_record"), {"status": "Not registered", "doi": "10.5072/zenodo.1"}, "doi-without-registration"),
    ("l4-not-registered", ("provenance", "public_provenance"), {"level": "L4", "label": "External archival record"}, "l4-without-registration"),
    ("corrected-none", ("correction_record", "status"), "CORRECTED", "corrected-without-corrections"),
    ("wrong-contract", ("correction_record", "contract"), "correction-record-v2", "const"),
    ("string-score", ("review_score",), "7.5", "type"),
    # another InvenioRDM repository: its id form, its check digits, and no Zenodo environment beside it
    ("numeric-text-id", ("provenance", "external_record"), {**_REPOSITORY_RECORD, "deposition_id": "12345"}, "pattern"),
    ("upper-case-id", ("provenance", "external_record"), {**_REPOSITORY_RECORD, "deposition_id": "Q5JR8-HNY72"}, "pattern"),
    ("id-check-digits", ("provenance", "external_record"), {**_REPOSITORY_RECORD, "deposition_id": "q5jr8-hny73"}, "deposition-id-invalid"),
    ("repository-path", ("provenance", "external_record"), {**_REPOSITORY_RECORD, "repository": "https://x.org/api"}, "pattern"),
    ("repository-and-environment", ("provenance", "external_record"), {**_REPOSITORY_RECORD, "environment": "sandbox"},
     "repository-with-environment"),
]


def _registered(doc):
    doc["provenance"]["external_record"] = {"status": "Registered", "doi": "10.5072/zenodo.1"}
    return doc


def test_a_record_registered_in_another_repository_is_valid_by_schema_and_model():
    doc = base_manifest()
    doc["provenance"]["external_record"] = dict(_REPOSITORY_RECORD)
    doc["provenance"]["public_provenance"] = {"level": "L4", "label": "External archival record"}
    assert [f.code for f in validate_document(doc)] == []
    assert Record.model_validate(doc).provenance.external_record.deposition_id == "q5jr8-hny72"


def test_registered_without_l4_is_rejected_by_the_schema():
    doc = _registered(base_manifest())
    codes = [f.code for f in validate_document(doc)]
    assert codes == ["registered-needs-l4"]
    doc["provenance"]["public_provenance"] = {"level": "L4", "label": "External archival record"}
    assert validate_document(doc) == []


@pytest.mark.parametrize(("name", "path", "value", "code"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_each_schema_rule_rejects_its_bad_input(name, path, value, code):
    doc = _set(base_manifest(), path, copy.deepcopy(value))
    codes = [f.code for f in validate_document(doc)]
    assert code in codes, codes


def _reference_validator(contract):
    schemas = load_schemas()
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    return jsonschema.Draft202012Validator(schemas[contract], registry=registry)


def _fixtures():
    valid = [base_manifest()]
    from archiver.readers import read_records

    valid.extend(r.record.to_manifest() for r in read_records([str(EXAMPLES)]) if r.record)
    invalid = [_set(base_manifest(), path, copy.deepcopy(value)) for _n, path, value, _c in MUTATIONS]
    invalid.append(_registered(base_manifest()))
    return valid, invalid


def test_jsonschema_rs_agrees_with_python_jsonschema_on_every_fixture():
    valid, invalid = _fixtures()
    reference = _reference_validator("paper-manifest-v1.1")
    from archiver.validation import _validators

    fast = _validators()["paper-manifest-v1.1"]
    for doc in valid:
        assert reference.is_valid(doc) and fast.is_valid(doc)
    for doc in invalid:
        assert not reference.is_valid(doc)
        assert not fast.is_valid(doc)
        slow_paths = {tuple(e.absolute_path) for e in reference.iter_errors(doc)}
        fast_paths = {tuple(e.instance_path) for e in fast.iter_errors(doc)}
        # python-jsonschema reports an if/then failure at the object, jsonschema-rs at the leaf:
        # every error must sit on (or under) a path the other validator flagged.
        for path in fast_paths:
            assert any(path[: len(s)] == s for s in slow_paths), (path, slow_paths)
        for path in slow_paths:
            assert any(f[: len(path)] == path for f in fast_paths), (path, fast_paths)


def test_schema_and_model_agree_on_the_fixtures():
    valid, invalid = _fixtures()
    for doc in valid:
        Record.model_validate(doc)
    for doc in invalid:
        with pytest.raises(ValidationError):
            Record.model_validate(doc)


def test_schemas_are_found_in_the_source_tree_or_package():
    import os

    assert os.path.isfile(os.path.join(schema_dir(), "paper-manifest-v1.1.schema.json"))


# ---------------------------------------------------------------------------- held to check-jsonschema
# A reference nobody here wrote: check-jsonschema reads JSON strictly and matches `pattern` with
# regress, an ECMA-262 engine. Python's `re` (and so python-jsonschema, above) lets `$` match before
# a final newline and reads `\d` as any Unicode digit; these mutations are where the two part ways.

import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

_STRING_PATHS = [
    ("id",), ("submitted",), ("title",), ("gate", "evaluated"), ("verification", "level"),
    ("quality_tier", "tier"), ("provenance", "public_provenance", "level"),
]
_NUMBER_PATHS = [("review_score",), ("verification", "source_grounded_claims")]
_OBJECT_PATHS = [(), ("verification",), ("gate",), ("correction_record",), ("provenance",), ("provenance", "external_record")]
_NON_ASCII_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
_BOUNDARY_NUMBERS = [-1, -0.0001, 0, 0.0, 1e-300, 4.999999, 5, 9.9999, 10, 10.0, 10.0001, 1e308, 2**63, 10**30, 1.5, True, None]


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _mutations(rng: random.Random) -> list[tuple[str, dict]]:
    """Named manifests: each one small change to a valid manifest (or to a registered one)."""
    out = []
    registered = base_manifest()
    registered["provenance"]["external_record"] = {
        "status": "Registered", "doi": "10.5072/zenodo.1234",
        "url": "https://doi.org/10.5072/zenodo.1234", "deposition_id": 1234, "environment": "sandbox",
        "registered_at": "2026-06-01T10:00:00+00:00",
    }
    registered["provenance"]["public_provenance"] = {"level": "L4", "label": "External archival record"}
    in_repository = copy.deepcopy(registered)
    in_repository["provenance"]["external_record"] = dict(_REPOSITORY_RECORD)
    bases = {"base": base_manifest(), "registered": registered, "in-repository": in_repository}
    doi_path = ("provenance", "external_record", "doi")
    external = [doi_path, ("provenance", "external_record", "registered_at")]
    repository = [("provenance", "external_record", "deposition_id"), ("provenance", "external_record", "repository")]
    for base_name, base in bases.items():
        out.append((f"{base_name}-unchanged-", copy.deepcopy(base)))
        paths = _STRING_PATHS + (external if base_name != "base" else []) + (repository if base_name == "in-repository" else [])
        for path in paths:
            value = _get(base, path)
            for suffix_name, changed in (
                ("trailing-newline", value + "\n"),
                ("trailing-crlf", value + "\r\n"),
                ("leading-newline", "\n" + value),
                ("arabic-digits", value.translate(_NON_ASCII_DIGITS)),
                ("fullwidth-digits", value.translate(_FULLWIDTH_DIGITS)),
                ("trailing-space", value + " "),
                ("empty", ""),
            ):
                if changed == value:
                    continue
                doc = copy.deepcopy(base)
                _set(doc, path, changed)
                out.append((f"{base_name}-{'.'.join(path)}-{suffix_name}", doc))
        for path in _NUMBER_PATHS:
            for number in _BOUNDARY_NUMBERS:
                doc = copy.deepcopy(base)
                _set(doc, path, number)
                out.append((f"{base_name}-{'.'.join(path)}-{number!r}", doc))
        for path in _OBJECT_PATHS:
            target = _get(base, path)
            for key in list(target):
                doc = copy.deepcopy(base)
                del _get(doc, path)[key]
                out.append((f"{base_name}-missing-{'.'.join((*path, key))}", doc))
            doc = copy.deepcopy(base)
            _get(doc, path)["extra_" + str(rng.randrange(1000))] = rng.choice([1, "x", None, [], {}])
            out.append((f"{base_name}-extra-in-{'.'.join(path) or 'root'}", doc))
    # A few random combinations of the above, so interactions are tried too.
    singles = list(out)
    for index in range(60):
        doc = copy.deepcopy(base_manifest())
        for _name, other in rng.sample(singles[: len(singles) // 2], 2):
            for key in ("id", "review_score", "submitted"):
                if key in other and other[key] != BASE[key]:
                    doc[key] = copy.deepcopy(other[key])
        out.append((f"combined-{index}", doc))
    return out


BASE = base_manifest()


def _check_jsonschema_invalid(files: list[Path], contract: str) -> set[str]:
    schema = Path(schema_dir()) / CONTRACT_FILES[contract]
    command = [
        str(Path(sys.executable).parent / "check-jsonschema"), "--base-uri", schema.as_uri(),
        "--schemafile", str(schema), "-o", "json", *map(str, files),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    report = json.loads(completed.stdout)
    return {Path(e["filename"]).name for e in report["errors"]} | {Path(e["filename"]).name for e in report["parse_errors"]}


# Rules a schema cannot state (README): where archiver is stricter than any schema validator, on purpose.
CODE_RULES = {"date-invalid", "datetime-invalid", "correction-count", "correction-sequence", "correction-order",
              "title-truncated-without-question", "deposition-id-invalid"}


def _reference_verdicts(tmp_path: Path, files: list[Path]) -> set[str]:
    """Names of the files check-jsonschema refuses.

    check-jsonschema matches `pattern` with regress only in the schema it is given: inside a
    `$ref`'d contract it falls back to Python's `re` (a trailing newline passes there). So each
    referenced part is also checked against its own contract directly, as its own document.
    """
    refused = _check_jsonschema_invalid(files, "paper-manifest-v1.1")
    for key, contract in (("provenance", "source-provenance-v1"), ("correction_record", "correction-record-v1")):
        parts, owners = [], {}
        for path in files:
            try:
                part = json.loads(path.read_text(encoding="utf-8")).get(key)
            except ValueError:
                continue
            if isinstance(part, dict):
                part_path = tmp_path / f"{key}-parts" / path.name
                part_path.parent.mkdir(exist_ok=True)
                part_path.write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
                parts.append(part_path)
                owners[part_path.name] = path.name
        refused |= {owners[name] for name in _check_jsonschema_invalid(parts, contract)}
    return refused


def test_archiver_validate_agrees_with_check_jsonschema_on_mutated_manifests(tmp_path):
    from conftest import run_cli

    files = []
    cases = tmp_path / "cases"
    cases.mkdir()
    for index, (name, doc) in enumerate(_mutations(random.Random(20261123))):
        path = cases / f"{index:04d}-{name.replace('/', '_')[:80]}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        files.append(path)
    # JSON that Python reads but JSON does not have: NaN and Infinity as numbers.
    for literal in ("NaN", "Infinity", "-Infinity"):
        path = cases / f"literal-{literal}.json"
        path.write_text(json.dumps(base_manifest()).replace('"review_score": 7.5', f'"review_score": {literal}'), encoding="utf-8")
        files.append(path)
    theirs = _reference_verdicts(tmp_path, files)
    result = run_cli("validate", "--format", "json", *files)
    reports = {Path(f["path"]).name: f for f in result.json()["files"]}
    ours = {name for name, report in reports.items() if not report["valid"]}
    assert len(files) > 300
    assert theirs, "the reference refused nothing: the mutations are not testing anything"
    assert len(theirs) < len(files), "the reference refused everything: the base manifest is off"
    assert sorted(theirs - ours) == []
    stricter = {name for name in ours - theirs if {e["code"] for e in reports[name]["errors"]} - CODE_RULES}
    assert sorted(stricter) == []
    valid = {name for name in reports if "-unchanged-" in name}
    assert len(valid) == 3 and not valid & (theirs | ours), "a base manifest is refused: the mutations test nothing"
    for must_fail in ("base-id-trailing-newline", "registered-provenance.external_record.doi-trailing-newline",
                      "in-repository-provenance.external_record.deposition_id-trailing-newline",
                      "in-repository-provenance.external_record.repository-trailing-space",
                      "base-submitted-arabic-digits", "literal-NaN"):
        assert any(must_fail in name for name in ours & theirs), must_fail


def test_validate_reads_json_strictly(tmp_path):
    from conftest import run_cli

    path = tmp_path / "m.json"
    path.write_text(json.dumps(base_manifest()).replace('"review_score": 7.5', '"review_score": NaN'), encoding="utf-8")
    result = run_cli("validate", path)
    assert result.code == 1  # an invalid manifest: exit 1, as any other
    assert "NaN is not a JSON value" in result.out and "[json-syntax]" in result.out


def test_validate_reports_deep_nesting_as_one_line(tmp_path):
    from conftest import run_cli

    for depth in (300, 950, 5000, 200_000):
        doc = base_manifest()
        path = tmp_path / f"deep-{depth}.json"
        path.write_text(json.dumps(doc)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
        result = run_cli("validate", path)
        assert result.code in (1, 2), result
        assert "Traceback" not in result.out + result.err
        assert len(result.out.strip().splitlines()) >= 1
        assert all(line.startswith(str(path)) for line in result.out.strip().splitlines())
