"""Reading records: format detection by content, coded errors per record, warnings, batches."""

from __future__ import annotations

import json

import pytest

from archiver.readers import parse_bytes, read_records
from conftest import EXAMPLES, base_manifest, write_json

WEB_PAGE = """Index |  Research ▾  |  Verification ▾  | About
SRCH:ABCDEF01

A Short Synthesis Title

Submitted: 2 June 2026
Review score: {score}/10
Verification: L2, Source-grounded claims
Gate status: Unverified
Quality tier: {tier}
Verified claims: {claims}

Abstract

Abstract: Body of the abstract.

Research Question

A Short Synthesis Title and a longer question?

Verification Level

Paper levelL2, Source-grounded claims
Source-grounded claims{claims}
Claim record sourceparsed source sections

Quality Tier

Tier{tier}
Basis{basis}

Quality Dimensions

Evidence strength LOW

Correction Record

StatusCURRENT
Correction count0
Manifest contractpaper-manifest-v1.1
Correction contractcorrection-record-v1

Provenance

PublisherAssignee Research
Public provenanceL3, Claim aggregate record
Report artifactAvailable
External recordNot registered
Provenance contractsource-provenance-v1
"""
WATCH_BASIS = "Review score or public verified-claim signal is below DOI-grade threshold."


def page(score="6.20", tier="Watchlist", claims="4", basis=WATCH_BASIS) -> bytes:
    return WEB_PAGE.format(score=score, tier=tier, claims=claims, basis=basis).encode()


def one(data: bytes, source="t.txt"):
    results = list(parse_bytes(data, source))
    assert len(results) == 1
    return results[0]


def codes(findings):
    return [f.code for f in findings]


def test_a_good_web_page_parses():
    result = one(page())
    assert result.valid, result.errors
    assert result.record.review_score == 6.2
    assert codes(result.warnings) == ["title-truncated"]


def test_format_is_detected_from_content_not_from_the_file_name(tmp_path):
    manifest = base_manifest()
    (tmp_path / "record.txt").write_text(json.dumps(manifest))
    (tmp_path / "page.json").write_bytes(page())
    layouts = sorted(r.layout for r in read_records([str(tmp_path)]))
    assert layouts == ["json", "web-text"]


def test_jsonl_yields_one_result_per_line_and_a_bad_line_does_not_stop_the_rest(tmp_path):
    good = base_manifest()
    bad = base_manifest()
    bad["review_score"] = 12.4
    other = base_manifest()
    other["id"] = "SRCH:0123ABCE"
    lines = [json.dumps(good), json.dumps(bad), "{not json", "", json.dumps(other)]
    path = tmp_path / "batch.data"
    path.write_text("\n".join(lines) + "\n")
    results = list(read_records([str(path)]))
    assert [r.valid for r in results] == [True, False, False, True]
    assert results[1].errors[0].code == "range"
    assert results[1].errors[0].location == "$.review_score"
    assert results[1].errors[0].line == 2
    assert results[1].source == f"{path}:2"
    assert results[2].errors[0].code == "json-syntax"
    assert results[2].source == f"{path}:3"


def test_stdin_dash_reads_jsonl():
    import io

    data = (json.dumps(base_manifest()) + "\n").encode()
    results = list(read_records(["-"], stdin=io.BytesIO(data)))
    assert [r.valid for r in results] == [True]
    assert results[0].source == "<stdin>:1"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty-input"),
        (b"   \n\n", "empty-input"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary-input"),
        ("Caf\u00e9 synthesis page\nVerification Level\n".encode("latin-1"), "encoding"),
        (b"just some prose with no record in it\n", "not-a-record"),
        (b"[1, 2, 3]", "not-an-object"),
        (b'{"id": "SRCH:0123ABCD", ', "json-syntax"),
    ],
)
def test_unusable_input_gives_one_coded_error(data, code):
    result = one(data)
    assert result.record is None
    assert codes(result.errors) == [code]
    assert "\n" not in result.errors[0].render("t.txt")


def test_a_truncated_page_names_the_missing_sections():
    text = page().decode()
    cut = text[: text.index("Correction Record")]
    result = one(cut.encode())
    assert codes(result.errors) == ["page-truncated"]
    assert "correction_record" in result.errors[0].message
    assert "provenance" in result.errors[0].message


def test_a_page_cut_inside_provenance_is_truncated():
    text = page().decode()
    cut = text[: text.index("Public provenanceL3")]
    result = one(cut.encode())
    assert codes(result.errors) == ["page-truncated"]
    assert "Public provenance" in result.errors[0].message


@pytest.mark.parametrize(
    ("kwargs", "code", "location"),
    [
        ({"score": "12.4"}, "range", "$.review_score"),
        ({"score": "abc"}, "score-invalid", "$.review_score"),
        ({"claims": "-3"}, "range", "$.verification.source_grounded_claims"),
        ({"claims": "three"}, "not-a-number", "$.verification.source_grounded_claims"),
        ({"tier": "Gold"}, "enum", "$.quality_tier.tier"),
    ],
)
def test_out_of_range_and_malformed_values_name_the_field_and_line(kwargs, code, location):
    result = one(page(**kwargs))
    assert result.record is None
    assert code in codes(result.errors)
    finding = next(f for f in result.errors if f.code == code)
    assert finding.location == location
    assert finding.line is not None
    rendered = finding.render("t.txt")
    assert rendered.startswith(f"t.txt:{finding.line}:{location}: ")


def test_malformed_date_is_a_coded_error():
    data = page().replace(b"Submitted: 2 June 2026", b"Submitted: 31 Juneteenth 2026")
    result = one(data)
    assert codes(result.errors) == ["date-invalid"]
    assert result.errors[0].location == "$.submitted"


def test_malformed_doi_is_a_coded_error():
    data = (
        page()
        .replace(b"Verified claims: 4\n", b"Verified claims: 4\nDOI: 11.5281/zenodo.1\n")
        .replace(b"External recordNot registered", b"External recordRegistered")
        .replace(b"Public provenanceL3, Claim aggregate record", b"Public provenanceL4, External archival record")
    )
    result = one(data)
    assert codes(result.errors) == ["doi-invalid"]
    assert result.errors[0].location == "$.provenance.external_record.doi"


def test_unsupported_contract_on_the_page_is_an_error():
    result = one(page().replace(b"Manifest contractpaper-manifest-v1.1", b"Manifest contractpaper-manifest-v9"))
    assert codes(result.errors) == ["contract-unsupported"]


def test_json_record_without_id_is_an_error():
    manifest = base_manifest()
    del manifest["id"]
    result = one(json.dumps(manifest).encode())
    assert codes(result.errors) == ["id-missing"]


def test_json_record_with_unknown_field_is_an_error():
    manifest = base_manifest()
    manifest["colour"] = "blue"
    result = one(json.dumps(manifest).encode())
    assert codes(result.errors) == ["additional-property"]
    # in the contract's words, as archiver validate says it: of the object that holds the field
    assert result.errors[0].location == "$" and result.errors[0].message == "Additional properties are not allowed ('colour' was unexpected)"


def test_tier_text_that_contradicts_its_basis_is_a_warning():
    result = one(page(tier="DOI grade", basis=WATCH_BASIS))
    assert "tier-basis-mismatch" in codes(result.warnings)
    assert result.valid


def test_header_that_disagrees_with_the_section_is_a_warning():
    data = page().replace(b"Quality tier: Watchlist", b"Quality tier: DOI grade")
    result = one(data)
    assert "header-mismatch" in codes(result.warnings)


def test_score_in_abstract_that_differs_from_header_is_a_warning():
    data = page().replace(b"Body of the abstract.", b"The assessment produced a score of 3.1/10.")
    result = one(data)
    assert "score-mismatch" in codes(result.warnings)
    assert result.record.review_score == 6.2


def test_listed_corrections_on_a_page_are_read():
    data = (
        page()
        .replace(b"StatusCURRENT\nCorrection count0", b"StatusCORRECTED\nCorrection count1\nCorrection 1 2026-06-05 Fixed the claim count.")
    )
    result = one(data)
    assert result.valid, result.errors
    (correction,) = result.record.correction_record.corrections
    assert (correction.sequence, correction.date.isoformat(), correction.description) == (1, "2026-06-05", "Fixed the claim count.")


def test_a_page_with_a_correction_count_but_no_listed_corrections_is_valid():
    # Public pages show the status and count only ("Public corrections are additive records").
    data = page().replace(b"StatusCURRENT\nCorrection count0", b"StatusCORRECTED\nCorrection count2")
    result = one(data)
    assert result.valid, result.errors
    manifest = result.record.to_manifest()["correction_record"]
    assert manifest["correction_count"] == 2
    assert manifest["corrections_public"] is False
    assert manifest["corrections"] == []
    from archiver.validation import validate_document

    assert validate_document(result.record.to_manifest()) == []


def test_a_page_without_corrections_says_nothing_about_their_publicity():
    assert "corrections_public" not in one(page()).record.to_manifest()["correction_record"]


def test_one_bad_file_does_not_stop_a_directory_batch(tmp_path):
    write_json(tmp_path / "a.json", base_manifest())
    (tmp_path / "b.txt").write_bytes(b"\x00\x01\x02")
    other = base_manifest()
    other["id"] = "SRCH:0123ABCE"
    write_json(tmp_path / "c.json", other)
    results = list(read_records([str(tmp_path)]))
    assert [r.valid for r in results] == [True, False, True]


def test_missing_source_is_a_coded_error_not_an_exception(tmp_path):
    results = list(read_records([str(tmp_path / "nope.txt")]))
    assert codes(results[0].errors) == ["unreadable"]


def test_examples_all_parse_cleanly():
    results = list(read_records([str(EXAMPLES)]))
    assert len(results) >= 7
    assert all(r.valid for r in results), [(r.source, r.errors) for r in results if not r.valid]


def test_a_value_outside_a_vocabulary_is_an_enum_finding_and_a_wrong_contract_a_const_finding():
    from archiver.readers import parse_json_record

    document = base_manifest()
    document["quality_dimensions"]["evidence_strength"] = "VERY HIGH"
    document["correction_record"]["contract"] = "correction-record-v2"
    codes = {f.location: f.code for f in parse_json_record(document, "x.json").errors}
    assert codes["$.quality_dimensions.evidence_strength"] == "enum"
    assert codes["$.correction_record.contract"] == "const"
