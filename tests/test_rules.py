"""rules: the domain's cross-field rules as pure functions, shared by the model and the validator."""

from __future__ import annotations

from archiver import rules


def test_l1_has_no_grounded_claims():
    assert rules.l1_claims_problem("L1", 0) is None and rules.l1_claims_problem("L2", 9) is None
    assert "L1" in rules.l1_claims_problem("L1", 3)


def test_verified_needs_an_artifact_and_nothing_else_implies_it():
    assert rules.verified_artifact_problem("VERIFIED", None)
    assert rules.verified_artifact_problem("VERIFIED", "artifacts/run.tar") is None
    assert rules.verified_artifact_problem("Unverified", None) is None


def test_registration_goes_with_a_doi_and_l4_and_only_then():
    codes = lambda *args: [code for code, _ in rules.registration_problems(*args)]  # noqa: E731
    assert codes("Registered", "10.5072/zenodo.1", "L4", "External archival record") == []
    assert codes("Registered", None, "L2", None) == ["registered-needs-doi", "registered-needs-l4"]
    assert codes("Not registered", "10.5072/zenodo.1", "L4", None) == ["doi-without-registration", "l4-without-registration"]
    assert codes("Registered", "10.5072/zenodo.1", "L4", "Something else") == ["l4-label"]


def test_corrections_are_additive():
    codes = lambda *args: [code for code, _ in rules.correction_problems(*args)]  # noqa: E731
    assert codes("CORRECTED", 2, [(1, "2026-01-01"), (2, "2026-02-01")]) == []
    assert codes("CURRENT", 1, []) == ["correction-count"]
    assert codes("CURRENT", 1, [], False) == []  # only the count is public
    assert codes("CURRENT", 0, [(1, "2026-01-01")], False) == ["corrections-not-public"]
    assert codes("CURRENT", 2, [(2, "2026-01-01"), (1, "2026-02-01")]) == ["correction-sequence"]
    assert codes("CURRENT", 2, [(1, "2026-02-01"), (2, "2026-01-01")]) == ["correction-order"]
    assert codes("CORRECTED", 0, []) == ["corrected-without-corrections"]


def test_dates_are_real_calendar_dates_and_times_carry_a_zone():
    assert rules.iso_date_problem("2026-02-28") is None
    assert rules.iso_date_problem("2026-02-30") and rules.iso_date_problem("20260228")
    assert rules.iso_datetime_problem("2026-01-01T00:00:00Z") is None
    assert "time zone" in rules.iso_datetime_problem("2026-01-01T00:00:00")
