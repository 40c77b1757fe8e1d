"""vocabulary: the one home of the domain's words agrees with the public JSON Schemas, the model and the package."""

from __future__ import annotations

import pytest

from archiver import vocabulary as v
from archiver.model import CorrectionRecord, Provenance, QualityDimensions, Record
from archiver.package import RESOURCES
from archiver.validation import load_schemas


def _at(document: dict, path: str):
    for part in path.strip("/").split("/"):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


@pytest.mark.parametrize(
    ("contract", "path", "vocabulary"),
    [
        (v.MANIFEST_CONTRACT, "/properties/verification/properties/level/enum", v.Level),
        (v.MANIFEST_CONTRACT, "/properties/gate/properties/status/enum", v.GateStatus),
        (v.MANIFEST_CONTRACT, "/properties/quality_tier/properties/tier/enum", v.Tier),
        (v.MANIFEST_CONTRACT, "/$defs/dimension_level/enum", v.DimensionLevel),
        (v.CORRECTION_CONTRACT, "/properties/status/enum", v.CorrectionStatus),
        (v.PROVENANCE_CONTRACT, "/properties/public_provenance/properties/level/enum", v.Level),
        (v.PROVENANCE_CONTRACT, "/properties/report_artifact/properties/status/enum", v.ArtifactStatus),
        (v.PROVENANCE_CONTRACT, "/properties/external_record/properties/status/enum", v.ExternalStatus),
        (v.PROVENANCE_CONTRACT, "/properties/external_record/properties/environment/enum", v.Environment),
    ],
)
def test_each_closed_vocabulary_is_the_schemas_enum(contract, path, vocabulary):
    assert list(v.values(vocabulary)) == _at(load_schemas()[contract], path)


def test_contract_names_patterns_and_labels_are_the_schemas():
    schemas = load_schemas()
    for contract in v.CONTRACTS:
        assert schemas[contract]["properties"]["contract"]["const"] == contract
    manifest, provenance = schemas[v.MANIFEST_CONTRACT], schemas[v.PROVENANCE_CONTRACT]
    assert manifest["properties"]["id"]["pattern"] == v.RECORD_ID_PATTERN
    # ECMA-262 reads \d as ASCII digits; the model spells them [0-9] because pydantic-core does not.
    doi = provenance["properties"]["external_record"]["properties"]["doi"]["pattern"]
    assert doi.replace(r"\d", "[0-9]") == v.DOI_PATTERN
    assert _at(provenance, "/properties/public_provenance/then/properties/label/const") == v.L4_LABEL
    assert sorted(manifest["properties"]["quality_dimensions"]["properties"]) == sorted(v.DIMENSION_NAMES)


def test_the_model_uses_the_same_words():
    assert list(QualityDimensions.model_fields) == list(v.DIMENSION_NAMES)
    assert Record.model_fields["contract"].default == v.MANIFEST_CONTRACT
    assert CorrectionRecord.model_fields["contract"].default == v.CORRECTION_CONTRACT
    assert Provenance.model_fields["contract"].default == v.PROVENANCE_CONTRACT


def test_the_data_package_uses_the_same_words():
    fields = {
        (resource, field["name"]): field.get("constraints", {})
        for resource, spec in RESOURCES.items()
        for field in spec["schema"]["fields"]
    }
    assert fields[("records", "declared_tier")]["enum"] == list(v.values(v.Tier))
    assert fields[("records", "verification_level")]["enum"] == list(v.values(v.Level))
    assert fields[("records", "id")]["pattern"] == v.RECORD_ID_BODY
    assert fields[("quality_dimensions", "dimension")]["enum"] == list(v.DIMENSION_NAMES)
    assert fields[("quality_dimensions", "level")]["enum"] == list(v.values(v.DimensionLevel))
    assert fields[("eligibility", "computed_tier")]["enum"] == list(v.values(v.Tier))


def test_derived_tables():
    assert v.DIMENSION_BY_LABEL["evidence strength"] == "evidence_strength"
    assert v.DIMENSION_RANK == {"LOW": 0, "MEDIUM": 1, "HIGH": 2}
    assert {tier for _phrase, tier in v.BASIS_PHRASES} == set(v.values(v.Tier))
    assert set(v.LICENSE_INFO) <= v.LICENSES
