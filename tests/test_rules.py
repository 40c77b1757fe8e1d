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


def test_each_problem_in_its_own_words():
    assert rules.l1_claims_problem("L1", 3) == "verification level L1 (literature synthesis) must have 0 source-grounded claims, not 3"
    assert rules.verified_artifact_problem("VERIFIED", "") == (
        "Gate 2 status VERIFIED requires a reproducible artifact reference (gate.artifact)")
    texts = lambda *args: [text for _, text in rules.registration_problems(*args)]  # noqa: E731
    assert texts("Registered", None, "L3", None) == [
        "external record Registered requires a DOI", "external record Registered requires public provenance L4, not L3"]
    assert texts("Not registered", "10.5072/zenodo.1", "L4", "Other") == [
        "a DOI is present but the external record is not Registered",
        "public provenance L4 requires a Registered external record",
        "public provenance L4 is labelled 'External archival record', not 'Other'",
    ]
    texts = lambda *args: [text for _, text in rules.correction_problems(*args)]  # noqa: E731
    assert texts("CURRENT", 0, [(1, "2026-01-01"), (2, "2026-01-02")], False) == [
        "corrections_public is false but 2 corrections are listed"]
    assert texts("CURRENT", 3, [(1, "2026-01-01")]) == ["correction count is 3 but 1 corrections are listed"]
    assert texts("CURRENT", 2, [(1, "2026-01-01"), (3, "2026-01-02")]) == [
        "correction 2 has sequence 3; corrections are additive and numbered 1..n"]
    assert texts("CURRENT", 2, [(1, "2026-01-02"), (2, "2026-01-01")]) == [
        "corrections are additive: their dates must not go backwards"]
    assert texts("CORRECTED", 0, []) == ["status CORRECTED requires at least one correction"]


def test_a_label_of_a_level_below_l4_is_not_judged_and_an_absent_one_is_not_wrong():
    codes = lambda *args: [code for code, _ in rules.registration_problems(*args)]  # noqa: E731
    assert codes("Not registered", None, "L3", "Anything at all") == []
    assert codes("Registered", "10.5072/zenodo.1", "L4", None) == []


def test_only_the_first_break_in_the_sequence_is_reported_and_equal_dates_are_in_order():
    codes = lambda *args: [code for code, _ in rules.correction_problems(*args)]  # noqa: E731
    assert codes("CURRENT", 3, [(2, "2026-01-01"), (3, "2026-01-01"), (5, "2026-01-01")]) == ["correction-sequence"]
    assert codes("CORRECTED", 2, [(1, "2026-01-01"), (2, "2026-01-01")]) == []
    assert codes("CORRECTED", 1, [], False) == []  # only the count is public, and it says one


def test_date_and_time_problems_in_their_own_words():
    assert rules.iso_date_problem("2026-02-30") == "'2026-02-30' is not a real calendar date (YYYY-MM-DD)"
    assert rules.iso_date_problem("20260228") == "'20260228' is not in YYYY-MM-DD form"
    assert rules.iso_datetime_problem("the tenth of June") == "'the tenth of June' is not an ISO 8601 date-time"
    assert rules.iso_datetime_problem("2026-06-10T06:30:49") == "'2026-06-10T06:30:49' has no time zone"
    assert rules.iso_datetime_problem("2026-06-10T06:30:49+02:00") is None
