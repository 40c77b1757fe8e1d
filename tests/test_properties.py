"""Property-based tests: readers never raise on arbitrary input; manifests round-trip."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.findings import ArchiverError
from archiver.model import Record
from archiver.readers import parse_bytes, parse_page
from archiver.validation import validate_document

SECTION_WORDS = [
    "Abstract", "Research Question", "Verification Level", "Truth-Engine Gate Verdict", "Quality Tier",
    "Quality Dimensions", "Correction Record", "Provenance", "| Paper level | L2, x | |", "Paper levelL9",
    "Source-grounded claims-4", "| Tier | DOI grade |", "StatusVERIFIED", "Correction count 3",
    "Correction 1 2026-13-01 x", "Public provenanceL4", "External recordRegistered", "DOI: 10.1/x",
    "Review score: 99/10", "Submitted: 99 May 2026", "SRCH:ZZZZZZZZ", "SRCH:0123ABCD", "|", "||||",
]

page_lines = st.lists(st.one_of(st.sampled_from(SECTION_WORDS), st.text(max_size=40)), max_size=40)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(page_lines)
def test_page_parser_gives_a_record_or_coded_errors(lines):
    result = parse_page("\n".join(lines), "fuzz.txt")
    assert result.record is not None or result.errors
    for finding in result.errors + result.warnings:
        assert finding.code and finding.message


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    try:
        results = list(parse_bytes(data, "fuzz.bin"))
    except ArchiverError:
        return
    assert results
    for result in results:
        assert result.record is not None or result.errors


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200)
@given(json_values)
def test_validator_returns_findings_for_any_json(document):
    findings = validate_document(document)
    assert isinstance(findings, list)


levels = st.sampled_from(["LOW", "MEDIUM", "HIGH"])
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@st.composite
def manifests(draw):
    level = draw(st.sampled_from(["L1", "L2"]))
    claims = 0 if level == "L1" else draw(st.integers(0, 1000))
    registered = draw(st.booleans())
    count = draw(st.integers(0, 3))
    corrections = [
        {"sequence": i + 1, "date": f"2026-0{i + 1}-1{i}", "description": draw(text)} for i in range(count)
    ]
    doc = {
        "contract": "paper-manifest-v1.1",
        "id": "SRCH:" + draw(st.text(alphabet="0123456789ABCDEF", min_size=8, max_size=8)),
        "title": draw(text),
        "verification": {"level": level, "source_grounded_claims": claims},
        "quality_dimensions": {"evidence_strength": draw(levels)},
        "correction_record": {
            "contract": "correction-record-v1",
            "status": "CORRECTED" if count else "CURRENT",
            "correction_count": count,
            "corrections": corrections,
        },
        "provenance": {
            "contract": "source-provenance-v1",
            "publisher": draw(text),
            "public_provenance": {"level": "L4", "label": "External archival record"} if registered else {"level": "L3"},
            "external_record": {"status": "Registered", "doi": "10.5072/zenodo." + str(draw(st.integers(1, 10**9)))}
            if registered
            else {"status": "Not registered"},
        },
    }
    score = draw(st.none() | st.floats(0, 10, allow_nan=False))
    if score is not None:
        doc["review_score"] = score
    if draw(st.booleans()):
        doc["quality_tier"] = {"tier": draw(st.sampled_from(["Quarantine candidate", "Watchlist", "DOI grade"]))}
    return doc


@settings(max_examples=200)
@given(manifests())
def test_a_record_written_to_a_manifest_and_read_back_is_equal(doc):
    record = Record.model_validate(doc)
    manifest = record.to_manifest()
    assert validate_document(manifest) == []
    (result,) = parse_bytes(json.dumps(manifest).encode(), "rt.json")
    assert result.valid, result.errors
    assert result.record == record
    assert result.record.to_manifest() == manifest
