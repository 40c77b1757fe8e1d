"""validation: a manifest is held to the contract it names; findings, not exceptions."""

from __future__ import annotations

from archiver.validation import code_rule_findings, validate_document
from conftest import base_manifest


def test_a_contract_that_is_not_a_string_is_a_finding_not_a_crash():
    from archiver.validation import validate_document

    for contract in ([1], {"a": 1}, 3):
        (finding,) = validate_document({"contract": contract})
        assert finding.code == "contract-unknown"


def test_a_valid_manifest_has_no_findings_and_a_broken_one_names_code_and_place():
    assert validate_document(base_manifest()) == []
    broken = base_manifest()
    broken["review_score"] = 12.4
    [finding] = validate_document(broken)
    assert (finding.code, finding.location) == ("range", "$.review_score")


def test_rules_a_schema_cannot_state_are_checked_in_code():
    manifest = base_manifest()
    manifest["submitted"] = "2026-02-30"
    [finding] = code_rule_findings(manifest, manifest["contract"])
    assert (finding.code, finding.location) == ("date-invalid", "$.submitted")
