"""quality: warnings for every layout, computed without changing the record they read."""

from __future__ import annotations

import copy

from archiver.quality import check_quality


def test_quality_checks_warn_without_changing_what_they_read():
    raw = {
        "title": "A Short Synthesis Title",
        "research_question": "A Short Synthesis Title and a longer question?",
        "abstract": "An automated assessment produced a score of 6.5/10.",
        "quality_tier": {"tier": "DOI grade", "basis": "Review score is below 5.0."},
        "verification": {"source_grounded_claims": 4},
        "provenance": {"claim_lineage": "6 aggregate source-grounded claims"},
    }
    before = copy.deepcopy(raw)
    warnings, inferred = check_quality(raw)
    assert raw == before
    assert [w.code for w in warnings] == ["title-truncated", "score-from-abstract", "tier-basis-mismatch", "claim-lineage-mismatch"]
    assert inferred == {"title_truncated": True, "review_score": 6.5}


def test_a_clean_record_has_nothing_to_say():
    raw = {"title": "A title", "research_question": "Another question?", "review_score": 7.0,
           "abstract": "It produced a score of 7.0/10.", "verification": {"source_grounded_claims": 6},
           "provenance": {"claim_lineage": "6 aggregate source-grounded claims"}}
    assert check_quality(raw) == ([], {})
