"""Each cross-field rule of the Pydantic model, shown accepting good input and rejecting bad input."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from archiver.model import Record
from conftest import base_manifest


def error_types(manifest) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Record.model_validate(manifest)
    return [e["type"] for e in caught.value.errors()]


def test_base_manifest_is_a_valid_record():
    record = Record.model_validate(base_manifest())
    assert record.to_manifest() == base_manifest()


def test_l1_verification_rejects_grounded_claims():
    manifest = base_manifest()
    manifest["verification"] = {"level": "L1", "source_grounded_claims": 2}
    assert error_types(manifest) == ["l1-claims"]
    manifest["verification"]["source_grounded_claims"] = 0
    Record.model_validate(manifest)


def test_verified_gate_requires_an_artifact():
    manifest = base_manifest()
    manifest["gate"] = {"status": "VERIFIED"}
    assert error_types(manifest) == ["verified-needs-artifact"]
    manifest["gate"]["artifact"] = "artifacts/repro.tar.gz"
    Record.model_validate(manifest)


def test_high_score_and_many_claims_never_imply_verified():
    manifest = base_manifest()
    manifest["review_score"] = 10
    manifest["verification"]["source_grounded_claims"] = 500
    assert Record.model_validate(manifest).gate.status == "Unverified"


def test_registered_record_requires_doi_and_l4():
    manifest = base_manifest()
    manifest["provenance"]["external_record"] = {"status": "Registered"}
    manifest["provenance"]["public_provenance"] = {"level": "L4", "label": "External archival record"}
    assert error_types(manifest) == ["registered-needs-doi"]
    manifest["provenance"]["external_record"]["doi"] = "10.5072/zenodo.42"
    manifest["provenance"]["public_provenance"] = {"level": "L3"}
    assert error_types(manifest) == ["registered-needs-l4"]
    manifest["provenance"]["public_provenance"] = {"level": "L4", "label": "External archival record"}
    Record.model_validate(manifest)


def test_doi_or_l4_without_registration_is_rejected():
    manifest = base_manifest()
    manifest["provenance"]["external_record"]["doi"] = "10.5072/zenodo.42"
    assert error_types(manifest) == ["doi-without-registration"]
    manifest = base_manifest()
    manifest["provenance"]["public_provenance"] = {"level": "L4"}
    assert error_types(manifest) == ["l4-without-registration"]


def test_l4_label_is_fixed():
    manifest = base_manifest()
    manifest["provenance"]["external_record"] = {"status": "Registered", "doi": "10.5072/zenodo.42"}
    manifest["provenance"]["public_provenance"] = {"level": "L4", "label": "Something else"}
    assert error_types(manifest) == ["l4-label"]


def test_correction_count_must_match_the_list():
    manifest = base_manifest()
    manifest["correction_record"]["correction_count"] = 2
    assert error_types(manifest) == ["correction-count"]


def test_a_count_without_public_corrections_stands_alone_but_lists_none():
    manifest = base_manifest()
    manifest["correction_record"].update(status="CORRECTED", correction_count=2, corrections_public=False)
    record = Record.model_validate(manifest)
    assert record.correction_record.correction_count == 2
    manifest["correction_record"]["corrections"] = [{"sequence": 1, "date": "2026-06-05", "description": "first"}]
    assert error_types(manifest) == ["corrections-not-public"]


def test_corrections_are_additive_numbered_and_in_date_order():
    manifest = base_manifest()
    corrections = [
        {"sequence": 1, "date": "2026-06-05", "description": "first"},
        {"sequence": 3, "date": "2026-06-06", "description": "skipped a number"},
    ]
    manifest["correction_record"].update(status="CORRECTED", correction_count=2, corrections=corrections)
    assert error_types(manifest) == ["correction-sequence"]
    corrections[1]["sequence"] = 2
    corrections[1]["date"] = "2026-06-01"
    assert error_types(manifest) == ["correction-order"]
    corrections[1]["date"] = "2026-06-07"
    Record.model_validate(manifest)


def test_corrected_status_needs_a_correction():
    manifest = base_manifest()
    manifest["correction_record"]["status"] = "CORRECTED"
    assert error_types(manifest) == ["corrected-without-corrections"]


@pytest.mark.parametrize(
    ("path", "value", "kind"),
    [
        (("review_score",), 10.5, "less_than_equal"),
        (("review_score",), -0.1, "greater_than_equal"),
        (("verification", "source_grounded_claims"), -1, "greater_than_equal"),
        (("id",), "SRCH:../x", "string_pattern_mismatch"),
        (("submitted",), "2026-02-30", "date_from_datetime_parsing"),
        (("quality_dimensions", "evidence_strength"), "VERY HIGH", "literal_error"),
    ],
)
def test_shape_rules_reject_bad_values(path, value, kind):
    manifest = base_manifest()
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert kind in error_types(manifest)
