"""The JSON Schema contracts: well-formed, linked, strict, and agreeing with python-jsonschema."""

from __future__ import annotations

import copy
import json

import jsonschema
import jsonschema_rs
import pytest
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

# (name, path, value, expected code from the schema)
MUTATIONS = [
    ("score-too-high", ("review_score",), 12.4, "range"),
    ("negative-claims", ("verification", "source_grounded_claims"), -1, "range"),
    ("bad-id", ("id",), "SRCH:xyz", "pattern"),
    ("bad-doi", ("provenance", "external_record"), {"status": "Registered", "doi": "doi:10.1/x"}, "pattern"),
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
]


def _registered(doc):
    doc["provenance"]["external_record"] = {"status": "Registered", "doi": "10.5072/zenodo.1"}
    return doc


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
        with pytest.raises(Exception):
            Record.model_validate(doc)


def test_schemas_are_found_in_the_source_tree_or_package():
    import os

    assert os.path.isfile(os.path.join(schema_dir(), "paper-manifest-v1.1.schema.json"))


# ---------------------------------------------------------------------------- the fast checker

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from archiver.fastcheck import UnsupportedSchema, compile_schemas  # noqa: E402


def _three_validators(contract="paper-manifest-v1.1"):
    from archiver.validation import _fast_checks, _validators

    return _reference_validator(contract), _validators()[contract], _fast_checks()[contract]


def test_fast_checker_agrees_with_both_validators_on_every_fixture():
    reference, rust, fast = _three_validators()
    valid, invalid = _fixtures()
    for doc in valid:
        assert fast(doc) is True
    for doc in invalid:
        assert reference.is_valid(doc) is False
        assert rust.is_valid(doc) is False
        assert fast(doc) is False


def test_fast_checker_agrees_on_the_standalone_contracts():
    base = base_manifest()
    for contract, doc in (("correction-record-v1", base["correction_record"]), ("source-provenance-v1", base["provenance"])):
        reference, rust, fast = _three_validators(contract)
        assert reference.is_valid(doc) and rust.is_valid(doc) and fast(doc)
        broken = copy.deepcopy(doc)
        broken["contract"] = "other"
        assert not reference.is_valid(broken) and not rust.is_valid(broken) and not fast(broken)


_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 12), st.floats(-1, 11, allow_nan=False), st.sampled_from(
        ["L1", "L4", "Registered", "Not registered", "VERIFIED", "CORRECTED", "10.5072/zenodo.9", "SRCH:0123ABCD", "", "x"]
    ), st.just([]), st.just({}),
)
_PATHS = [
    ("review_score",), ("id",), ("title",), ("submitted",), ("title_truncated",), ("extra",),
    ("verification", "level"), ("verification", "source_grounded_claims"), ("verification", "label"),
    ("gate", "status"), ("gate", "artifact"), ("quality_tier", "tier"), ("quality_dimensions", "evidence_strength"),
    ("correction_record", "status"), ("correction_record", "correction_count"), ("correction_record", "corrections"),
    ("provenance", "public_provenance", "level"), ("provenance", "public_provenance", "label"),
    ("provenance", "external_record", "status"), ("provenance", "external_record", "doi"),
    ("provenance", "external_record", "deposition_id"), ("provenance", "publisher"), ("provenance", "contract"),
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _LEAVES), max_size=4))
def test_fast_checker_agrees_with_python_jsonschema_on_mutations(mutations):
    reference, rust, fast = _three_validators()
    doc = base_manifest()
    for path, value in mutations:
        _set(doc, path, copy.deepcopy(value))
    expected = reference.is_valid(doc)
    assert fast(doc) is expected
    assert rust.is_valid(doc) is expected


def test_fast_checker_refuses_keywords_it_does_not_implement():
    schema = {"$id": "https://archiver.invalid/t.json", "type": "object", "dependentRequired": {"a": ["b"]}}
    with pytest.raises(UnsupportedSchema, match="dependentRequired"):
        compile_schemas({"t": schema})


def test_fast_checker_json_equality_keeps_booleans_apart_from_numbers():
    schema = {"$id": "https://archiver.invalid/c.json", "const": 1}
    check = compile_schemas({"c": schema})["c"]
    assert check(1) and check(1.0)
    assert not check(True)


def test_the_shipped_checker_module_is_current_and_used():
    from archiver import _schema_checks
    from archiver.fastcheck import module_source
    from archiver.validation import _fast_checks

    current = module_source(load_schemas())
    shipped = (schema_dir_path := __import__("pathlib").Path(_schema_checks.__file__)).read_text(encoding="utf-8")
    assert shipped == current, f"{schema_dir_path} is stale: run `python -m archiver.fastcheck` after changing schemas/"
    assert _fast_checks() is _schema_checks.ENTRY
    fresh = compile_schemas(load_schemas())
    valid, invalid = _fixtures()
    for doc in valid + invalid:
        for contract in ("paper-manifest-v1.1",):
            assert _schema_checks.ENTRY[contract](doc) is fresh[contract](doc)
