"""Each deposit rule, shown passing and failing, and the combined verdict."""

from __future__ import annotations

import dataclasses

import pytest

from archiver import eligibility as el
from archiver.model import Record
from archiver.policy import DEFAULT_POLICY, Policy
from conftest import base_manifest

GOOD = el.Facts.of_record(Record.model_validate(base_manifest()))
DOI = el.compute_tier(7.5, 6, DEFAULT_POLICY)


def facts(**changes):
    return dataclasses.replace(GOOD, **changes)


def test_the_base_record_is_eligible():
    verdict = el.assess(GOOD, DEFAULT_POLICY)
    assert verdict.eligible and verdict.reasons == () and verdict.next_action == "deposit"
    assert verdict.computed_tier == "DOI grade"


@pytest.mark.parametrize(
    ("rule", "bad", "code"),
    [
        (el.rule_declared_tier_agrees, {"declared_tier": "Watchlist"}, "declared-tier-disagrees"),
        (el.rule_not_retracted, {"correction_status": "RETRACTED"}, "retracted"),
        (el.rule_not_retracted, {"correction_status": "WITHDRAWN"}, "withdrawn"),
        (el.rule_report_artifact_available, {"report_artifact": "Not available"}, "report-artifact-unavailable"),
        (el.rule_report_artifact_available, {"report_artifact": None}, "report-artifact-unavailable"),
        (el.rule_not_registered, {"doi": "10.5072/zenodo.1"}, "already-registered"),
        (el.rule_has_submission_date, {"submitted": None}, "no-submission-date"),
    ],
)
def test_each_rule_passes_good_and_fails_bad(rule, bad, code):
    assert rule(GOOD, DOI, DEFAULT_POLICY) is None
    assert rule(facts(**bad), DOI, DEFAULT_POLICY) == code


def test_computed_tier_rule():
    assert el.rule_computed_doi_grade(GOOD, DOI, DEFAULT_POLICY) is None
    watch = el.compute_tier(6.0, 6, DEFAULT_POLICY)
    assert el.rule_computed_doi_grade(facts(review_score=6.0), watch, DEFAULT_POLICY) == "below-doi-grade"
    unknown = el.compute_tier(None, 6, DEFAULT_POLICY)
    assert el.rule_computed_doi_grade(facts(review_score=None), unknown, DEFAULT_POLICY) == "no-review-score"


def test_declared_tier_is_not_contradicted_when_the_tier_cannot_be_computed():
    unknown = el.compute_tier(None, 3, DEFAULT_POLICY)
    assert el.rule_declared_tier_agrees(facts(declared_tier="Watchlist"), unknown, DEFAULT_POLICY) is None


def test_extra_policy_rules():
    strict = Policy(require_gate_verified=True, minimum_dimensions={"evidence_strength": "HIGH"})
    assert el.rule_gate_verified_if_required(GOOD, DOI, DEFAULT_POLICY) is None
    assert el.rule_gate_verified_if_required(GOOD, DOI, strict) == "gate-not-verified"
    assert el.rule_gate_verified_if_required(facts(gate_status="VERIFIED"), DOI, strict) is None
    assert el.rule_minimum_dimensions(GOOD, DOI, DEFAULT_POLICY) is None
    assert el.rule_minimum_dimensions(GOOD, DOI, strict) == "dimension-below-minimum"
    high = facts(dimensions={"evidence_strength": "HIGH"})
    assert el.rule_minimum_dimensions(high, DOI, strict) is None


def test_a_dimension_the_record_does_not_state_fails_a_minimum():
    strict = Policy(minimum_dimensions={"citation_grounding": "LOW"})
    stated = base_manifest()
    stated["quality_dimensions"] = {"citation_grounding": "LOW"}
    unstated = base_manifest()
    unstated["quality_dimensions"] = {"evidence_strength": "HIGH"}
    assert el.assess(el.Facts.of_record(Record.model_validate(stated)), strict).eligible
    verdict = el.assess(el.Facts.of_record(Record.model_validate(unstated)), strict)
    assert verdict.reasons == ("dimension-below-minimum",)


def test_registered_record_says_what_it_is_registered_as():
    verdict = el.assess(facts(doi="10.5072/zenodo.9"), DEFAULT_POLICY)
    assert not verdict.eligible
    assert verdict.reasons == ("already-registered",)
    assert verdict.next_action == "none: already registered as 10.5072/zenodo.9"


def test_facts_from_raw_data_of_an_invalid_record():
    raw = base_manifest()
    raw["review_score"] = "not a number"
    found = el.Facts.of_raw(raw, "DOI grade")
    assert found.valid is False and found.review_score is None and found.verified_claims == 6
    verdict = el.assess(found, DEFAULT_POLICY)
    assert verdict.reasons == ("manifest-invalid",) and verdict.computed_tier is None  # bad data is not judged
    assert verdict.declared_tier == "DOI grade" and not verdict.eligible


@pytest.mark.parametrize(
    ("score", "claims", "basis"),
    [
        (6.5, 8, "Review score 6.5 is below 7.0/10: below the DOI-grade thresholds (7.0/10 and 5 claims)."),
        (7.5, 3, "Verified-claim count 3 is below 5: below the DOI-grade thresholds (7.0/10 and 5 claims)."),
        (6.5, 3, "Review score 6.5 is below 7.0/10 and verified-claim count 3 is below 5: below the DOI-grade thresholds (7.0/10 and 5 claims)."),
    ],
)
def test_a_watchlist_basis_names_what_falls_short(score, claims, basis):
    from archiver.eligibility import compute_tier

    decision = compute_tier(score, claims, DEFAULT_POLICY)
    assert decision.tier == "Watchlist" and decision.basis == basis
