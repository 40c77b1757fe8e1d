"""eligibility: every reason code from a real record changed in one value, each next action as said,
the thresholds at their edges, and the facts taken from an invalid record's raw data.

The base is seed page 003 (SRCH:08EA5386, DOI grade) as it was before its deposit: external record
Not registered and public provenance L3, the only two values changed from the page.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest

from archiver import eligibility as el
from archiver.model import Record
from archiver.policy import DEFAULT_POLICY, Policy
from conftest import seed_003_manifest


@pytest.fixture(scope="module")
def seed_manifest() -> dict:
    return seed_003_manifest(before_deposit=True)


def _verdict(manifest: dict, policy: Policy = DEFAULT_POLICY) -> el.Eligibility:
    return el.assess(el.Facts.of_record(Record.model_validate(manifest)), policy)


def _changed(manifest: dict, path: str, value) -> dict:
    changed = copy.deepcopy(manifest)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return changed


def test_the_record_before_its_deposit_may_be_deposited(seed_manifest):
    verdict = _verdict(seed_manifest)
    assert (verdict.eligible, verdict.reasons, verdict.next_action) == (True, (), "deposit")
    assert (verdict.declared_tier, verdict.computed_tier) == ("DOI grade", "DOI grade")
    assert verdict.basis == ("Review score 7.83 and verified-claim count 6 meet the DOI-grade thresholds "
                             "(7.0/10 and 5 claims).")


STRICT = Policy(require_gate_verified=True, minimum_dimensions={"evidence_strength": "HIGH"})

# reason, the one change (path, value), the next action, the policy
REASONS = [
    ("below-doi-grade", ("review_score", 6.9), "none: not DOI grade", DEFAULT_POLICY),
    ("below-doi-grade", ("verification.source_grounded_claims", 4), "none: not DOI grade", DEFAULT_POLICY),
    ("no-review-score", ("review_score", None), "publish a review score", DEFAULT_POLICY),
    ("declared-tier-disagrees", ("quality_tier.tier", "Watchlist"), "review the declared tier against the policy", DEFAULT_POLICY),
    ("retracted", ("correction_record.status", "RETRACTED"), "none: retracted", DEFAULT_POLICY),
    ("withdrawn", ("correction_record.status", "WITHDRAWN"), "none: withdrawn", DEFAULT_POLICY),
    ("report-artifact-unavailable", ("provenance.report_artifact.status", "Not available"), "attach the report artifact", DEFAULT_POLICY),
    ("no-submission-date", ("submitted", None), "add the submission date", DEFAULT_POLICY),
    ("gate-not-verified", ("gate.status", "Unverified"), "complete Gate 2 verification", STRICT),
    ("dimension-below-minimum", ("quality_dimensions.evidence_strength", "MEDIUM"),
     "none: a quality dimension is below the policy minimum", Policy(minimum_dimensions={"evidence_strength": "HIGH"})),
    ("report-artifact-file-missing", ("provenance.report_artifact.path", None),
     "put the report in the artifacts folder as SRCH-XXXXXXXX.<extension> and export again (or allow deposit_without_artifact)",
     Policy(artifacts="reports")),
]


@pytest.mark.parametrize(("code", "change", "action", "policy"), REASONS, ids=[f"{r[0]}:{r[1][0]}" for r in REASONS])
def test_each_reason_comes_from_one_change_with_its_next_action(seed_manifest, code, change, action, policy):
    path, value = change
    # what the strictest policy here asks, met: Gate 2 VERIFIED with its artifact, evidence HIGH
    before = _changed(_changed(seed_manifest, "gate.status", "VERIFIED"), "gate.artifact", "artifacts/run.tar")
    before = _changed(before, "quality_dimensions.evidence_strength", "HIGH")
    before = _changed(before, "provenance.report_artifact.path", "artifacts/SRCH-08EA5386.pdf")  # its report, kept by the export
    assert _verdict(before, policy).reasons == ()
    verdict = _verdict(_changed(before, path, value), policy)
    # a tier computed lower than the page declares also disagrees with the page
    expected = (code, "declared-tier-disagrees") if code == "below-doi-grade" else (code,)
    assert verdict.reasons == expected and not verdict.eligible
    assert verdict.next_action == action


def test_a_registered_record_says_its_doi_whatever_else_it_lacks(seed_manifest):
    registered = _changed(seed_manifest, "provenance.external_record",
                          {"status": "Registered", "doi": "10.5281/zenodo.20432521"})
    registered = _changed(registered, "provenance.public_provenance", {"level": "L4", "label": "External archival record"})
    registered = _changed(registered, "submitted", None)
    verdict = _verdict(registered)
    assert verdict.reasons == ("already-registered", "no-submission-date")
    assert verdict.next_action == "none: already registered as 10.5281/zenodo.20432521"


def test_the_first_reason_names_the_next_action(seed_manifest):
    both = _changed(_changed(seed_manifest, "review_score", 6.0), "provenance.report_artifact.status", "Not available")
    verdict = _verdict(both)
    assert verdict.reasons == ("below-doi-grade", "declared-tier-disagrees", "report-artifact-unavailable")
    assert verdict.next_action == "none: not DOI grade"


def test_every_reason_a_rule_gives_has_a_next_action():
    from archiver.codes import KINDS_OF

    reasons = {name for name, kinds in KINDS_OF.items() if "reason" in kinds}
    assert set(el.NEXT_ACTIONS) == reasons


def test_an_invalid_record_is_judged_by_nothing():
    facts = el.Facts.of_raw({"review_score": 9.5, "verification": {"source_grounded_claims": 30}}, "DOI grade")
    verdict = el.assess(facts, DEFAULT_POLICY)
    assert verdict == el.Eligibility("DOI grade", None, "no tier is computed for an invalid record: fix its errors first",
                                     False, ("manifest-invalid",), "fix the record's errors and export again")


def test_a_record_that_declares_no_tier_is_not_contradicted(seed_manifest):
    undeclared = _changed(seed_manifest, "quality_tier", None)
    verdict = _verdict(undeclared)
    assert verdict.eligible and verdict.declared_tier is None and verdict.computed_tier == "DOI grade"


# ------------------------------------------------------------------------- the tier at its edges

@pytest.mark.parametrize(
    ("score", "claims", "tier"),
    [
        (4.99, 99, "Quarantine candidate"),
        (5.0, 99, "Watchlist"),
        (6.99, 99, "Watchlist"),
        (7.0, 4, "Watchlist"),
        (7.0, 5, "DOI grade"),
        (10.0, None, "Watchlist"),  # an unknown count is no verified claim
        (0.0, 0, "Quarantine candidate"),
    ],
)
def test_tier_edges(score, claims, tier):
    assert el.compute_tier(score, claims, DEFAULT_POLICY).tier == tier


def test_equal_thresholds_leave_no_watchlist_by_score():
    policy = Policy(quarantine_below=6.0, doi_min_score=6.0, doi_min_verified_claims=0)
    assert el.compute_tier(5.99, 0, policy).tier == "Quarantine candidate"
    assert el.compute_tier(6.0, 0, policy).tier == "DOI grade"
    assert el.compute_tier(6.0, None, policy).tier == "DOI grade"  # no claims needed: none is enough


@pytest.mark.parametrize(
    ("score", "claims", "basis"),
    [
        (None, 6, "No public review score: the tier cannot be computed, and DOI grade needs a score."),
        (4.5, 12, "Review score 4.5 is below 5.0; source-level inspection is required before relying on the synthesis."),
        (7.0, 5, "Review score 7.0 and verified-claim count 5 meet the DOI-grade thresholds (7.0/10 and 5 claims)."),
        (7.5, None, "Verified-claim count 0 is below 5: below the DOI-grade thresholds (7.0/10 and 5 claims)."),
        (7.0, 4, "Verified-claim count 4 is below 5: below the DOI-grade thresholds (7.0/10 and 5 claims)."),
        (6.5, 5, "Review score 6.5 is below 7.0/10: below the DOI-grade thresholds (7.0/10 and 5 claims)."),
    ],
)
def test_each_basis_in_full(score, claims, basis):
    assert el.compute_tier(score, claims, DEFAULT_POLICY).basis == basis


def test_thresholds_of_another_policy_are_the_ones_said():
    policy = Policy(quarantine_below=4.0, doi_min_score=8.5, doi_min_verified_claims=3)
    assert el.compute_tier(3.5, 9, policy).basis.startswith("Review score 3.5 is below 4.0;")
    assert el.compute_tier(8.0, 9, policy).basis == (
        "Review score 8.0 is below 8.5/10: below the DOI-grade thresholds (8.5/10 and 3 claims).")


# ------------------------------------------------------------------------- rules on their own

def test_dimension_minimum_at_its_edge_and_beyond_the_vocabulary():
    good = el.Facts.of_raw({}, None)
    policy = Policy(minimum_dimensions={"evidence_strength": "MEDIUM"})
    decision = el.compute_tier(7.5, 6, policy)

    def rule(level):
        return el.rule_minimum_dimensions(dataclasses.replace(good, dimensions={"evidence_strength": level}), decision, policy)

    assert rule("MEDIUM") is None and rule("HIGH") is None
    assert rule("LOW") == "dimension-below-minimum"
    assert rule("EXCELLENT") == "dimension-below-minimum"  # a level outside the vocabulary meets no minimum
    low = Policy(minimum_dimensions={"evidence_strength": "LOW"})
    assert el.rule_minimum_dimensions(dataclasses.replace(good, dimensions={"evidence_strength": "LOW"}), decision, low) is None
    assert el.rule_minimum_dimensions(dataclasses.replace(good, dimensions={"evidence_strength": "??"}), decision, low) == (
        "dimension-below-minimum")


def test_every_minimum_of_the_policy_is_checked():
    policy = Policy(minimum_dimensions={"evidence_strength": "LOW", "reproducibility_status": "HIGH"})
    facts = dataclasses.replace(el.Facts.of_raw({}, None), dimensions={"evidence_strength": "HIGH", "reproducibility_status": "LOW"})
    assert el.rule_minimum_dimensions(facts, el.compute_tier(7.5, 6, policy), policy) == "dimension-below-minimum"


# ------------------------------------------------------------------------- facts of a record

def test_facts_of_a_record_without_its_optional_parts(seed_manifest):
    bare = copy.deepcopy(seed_manifest)
    for key in ("gate", "quality_tier", "submitted", "review_score"):
        bare.pop(key)
    bare["provenance"].pop("report_artifact")
    facts = el.Facts.of_record(Record.model_validate(bare))
    assert (facts.valid, facts.gate_status, facts.declared_tier, facts.submitted, facts.report_artifact, facts.review_score) == (
        True, None, None, None, None, None)
    full = el.Facts.of_record(Record.model_validate(seed_manifest))
    assert (full.gate_status, full.declared_tier, full.submitted, full.report_artifact, full.verified_claims, full.doi) == (
        "Unverified", "DOI grade", "2026-05-28", "Available", 6, None)
    assert full.correction_status == "CURRENT" and full.dimensions["reproducibility_status"] == "HIGH"


def test_facts_of_raw_data_take_only_values_of_the_right_type(seed_manifest):
    registered = copy.deepcopy(seed_manifest)
    registered["provenance"]["external_record"] = {"status": "Registered", "doi": "10.5281/zenodo.1"}
    facts = el.Facts.of_raw(registered, "DOI grade")
    assert (facts.valid, facts.review_score, facts.verified_claims, facts.declared_tier) == (False, 7.83, 6, "DOI grade")
    assert (facts.correction_status, facts.report_artifact, facts.doi, facts.gate_status, facts.submitted) == (
        "CURRENT", "Available", "10.5281/zenodo.1", "Unverified", "2026-05-28")
    assert facts.dimensions == seed_manifest["quality_dimensions"]
    odd = {"review_score": True, "verification": {"source_grounded_claims": 6.0}, "gate": "VERIFIED",
           "quality_dimensions": {"evidence_strength": 3, "citation_grounding": "LOW"}, "submitted": 20260528}
    facts = el.Facts.of_raw(odd, None)
    assert (facts.review_score, facts.verified_claims, facts.gate_status, facts.submitted) == (None, None, None, None)
    assert facts.dimensions == {"citation_grounding": "LOW"}
    assert el.Facts.of_raw({"quality_dimensions": ["LOW"]}, None).dimensions == {}
    assert el.Facts.of_raw(None, None).review_score is None


def test_every_reason_code_of_the_readme_has_a_case():
    from archiver.codes import KINDS_OF

    reasons = {name for name, kinds in KINDS_OF.items() if "reason" in kinds}
    # manifest-invalid and already-registered have tests of their own above; corrected-since-deposit
    # is the export's, produced and shown absent in tests/test_exactly_once.py
    assert reasons - {"manifest-invalid", "already-registered", "corrected-since-deposit"} == {r[0] for r in REASONS}


def test_a_missing_report_file_counts_only_with_an_artifacts_folder_and_where_the_policy_does_not_allow_it(seed_manifest):
    assert "path" not in seed_manifest["provenance"]["report_artifact"]
    assert _verdict(seed_manifest).eligible  # no artifacts folder: the page's word is enough
    assert _verdict(seed_manifest, Policy(artifacts="reports")).reasons == ("report-artifact-file-missing",)
    assert _verdict(seed_manifest, Policy(artifacts="reports", deposit_without_artifact=True)).eligible
    unavailable = _changed(seed_manifest, "provenance.report_artifact.status", "Not available")
    assert _verdict(unavailable, Policy(artifacts="reports")).reasons == ("report-artifact-unavailable",)  # said once
