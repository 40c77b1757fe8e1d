"""Each real seed page parses into the right values (skipped when ../shared is absent)."""

from __future__ import annotations

import pytest

from archiver.readers import read_file


def _only(seed_dir, name):
    results = list(read_file(str(seed_dir / name)))
    assert len(results) == 1
    return results[0]


def _codes(findings):
    return sorted(f.code for f in findings)


def test_page_000_pipe_layout_score_only_in_abstract(seed_dir):
    result = _only(seed_dir, "000_26414e9198898de5.txt")
    assert result.layout == "pipe-table"
    assert result.valid, result.errors
    record = result.record
    assert record.id == "SRCH:C157B341"
    assert record.title == "Sparse Multimodal Model Efficiency and Alignment Trade-offs on VQAv2 and OK-VQA"
    assert not record.title_truncated
    assert record.review_score == 2.5
    assert _codes(result.warnings) == ["score-from-abstract"]
    assert record.submitted is None
    assert record.verification.level == "L1"
    assert record.verification.label == "Literature synthesis"
    assert record.verification.source_grounded_claims == 0
    assert record.gate is None  # this page has no Truth-Engine section
    assert record.quality_tier.tier == "Quarantine candidate"
    assert record.quality_tier.basis.startswith("Review score is below 5.0")
    dims = record.quality_dimensions
    assert (dims.evidence_strength, dims.uncertainty_disclosure, dims.reproducibility_status) == (
        "LOW",
        "MEDIUM",
        "MEDIUM",
    )
    assert dims.citation_grounding is None  # the row is missing on this page
    assert record.correction_record.status == "CURRENT"
    assert record.correction_record.correction_count == 0
    assert record.correction_record.corrections == ()
    prov = record.provenance
    assert prov.publisher == "Assignee Research"
    assert (prov.public_provenance.level, prov.public_provenance.label) == ("L2", "Public artifact record")
    assert prov.report_artifact.status == "Available"
    assert prov.external_record.status == "Not registered"
    assert record.doi is None


def test_page_001_pipe_layout_without_score(seed_dir):
    result = _only(seed_dir, "001_4d7db99fbaeea69e.txt")
    assert result.layout == "pipe-table"
    assert result.valid, result.errors
    record = result.record
    assert record.id == "SRCH:8F12A054"
    assert record.title == "Scaling Vision-Language Models with Sparse Mixture of Experts"
    assert record.review_score is None
    assert result.warnings == []
    assert record.verification.level == "L2"
    assert record.verification.source_grounded_claims == 3
    assert record.gate is None
    assert record.quality_tier.tier == "Watchlist"
    assert "below DOI-grade threshold" in record.quality_tier.basis
    assert record.quality_dimensions.citation_grounding == "MEDIUM"
    assert record.quality_dimensions.evidence_strength == "LOW"
    assert record.correction_record.correction_count == 0
    assert record.provenance.public_provenance.level == "L3"
    assert record.provenance.claim_lineage == "3 aggregate source-grounded claims"
    assert record.doi is None


def test_page_002_web_layout_with_header_block(seed_dir):
    result = _only(seed_dir, "002_9696a610902f7e08.txt")
    assert result.layout == "web-text"
    assert result.valid, result.errors
    assert result.warnings == []
    record = result.record
    assert record.id == "SRCH:9DC75331"
    assert record.title == "Sparse Mixture-of-Experts Accuracy and Throughput Trade-offs in Multimodal VQA Benchmarks"
    assert record.submitted.isoformat() == "2026-05-29"
    assert record.review_score == 4.5
    assert record.verification.level == "L2"
    assert record.verification.source_grounded_claims == 12
    assert record.verification.claim_record_source == "parsed source sections"
    assert record.gate.status == "Unverified"
    assert record.gate.name.startswith("Gate 2")
    assert record.gate.evaluated.isoformat() == "2026-06-10T06:30:49+00:00"
    assert record.gate.artifact is None
    assert record.quality_tier.tier == "Quarantine candidate"
    dims = record.quality_dimensions
    assert [d for d in (dims.evidence_strength, dims.citation_grounding, dims.uncertainty_disclosure, dims.reproducibility_status)] == [
        "LOW",
        "MEDIUM",
        "MEDIUM",
        "MEDIUM",
    ]
    assert record.correction_record.status == "CURRENT"
    assert record.provenance.public_provenance.level == "L3"
    assert record.provenance.external_record.status == "Not registered"
    assert record.doi is None
    assert record.abstract.startswith("Recent large language models")


def test_page_003_web_layout_registered_with_truncated_title(seed_dir):
    result = _only(seed_dir, "003_e8bdc2e24ab10b64.txt")
    assert result.valid, result.errors
    assert _codes(result.warnings) == ["title-truncated"]
    record = result.record
    assert record.id == "SRCH:08EA5386"
    assert record.title.endswith("relative to dense VLMs of e")
    assert record.title_truncated
    assert record.archival_title == record.research_question
    assert record.research_question.endswith("like MMMU and MathVista?")
    assert record.submitted.isoformat() == "2026-05-28"
    assert record.review_score == 7.83
    assert record.verification.source_grounded_claims == 6
    assert record.quality_tier.tier == "DOI grade"
    assert record.quality_dimensions.reproducibility_status == "HIGH"
    assert record.correction_record.correction_count == 0
    prov = record.provenance
    assert (prov.public_provenance.level, prov.public_provenance.label) == ("L4", "External archival record")
    assert prov.external_record.status == "Registered"
    assert record.doi == "10.5281/zenodo.20432521"


def test_page_004_without_id_is_an_error_not_an_invented_id(seed_dir):
    result = _only(seed_dir, "004_5b5208f4b36f6534.txt")
    assert result.layout == "pipe-table"
    assert result.record is None
    assert result.record_id is None
    assert _codes(result.errors) == ["id-missing"]
    assert _codes(result.warnings) == ["title-truncated"]
    assert result.declared_tier == "Quarantine candidate"
    raw = result.raw
    assert raw["title"].startswith("What is the impact of sparsity ratio")
    assert raw["verification"]["source_grounded_claims"] == 7
    assert raw["gate"]["status"] == "Unverified"
    assert raw["quality_dimensions"]["citation_grounding"] == "MEDIUM"
    assert raw["provenance"]["external_record"] == {"status": "Not registered"}


@pytest.mark.parametrize(
    "name",
    [
        "000_26414e9198898de5.txt",
        "001_4d7db99fbaeea69e.txt",
        "002_9696a610902f7e08.txt",
        "003_e8bdc2e24ab10b64.txt",
    ],
)
def test_seed_manifests_pass_the_public_contract(seed_dir, name):
    from archiver.manifest import build_manifest

    result = _only(seed_dir, name)
    manifest, findings = build_manifest(result.record)
    assert findings == []
    assert manifest["id"] == result.record.id


def test_every_seed_page_is_covered(seed_dir):
    names = sorted(p.name for p in seed_dir.iterdir())
    assert names == [
        "000_26414e9198898de5.txt",
        "001_4d7db99fbaeea69e.txt",
        "002_9696a610902f7e08.txt",
        "003_e8bdc2e24ab10b64.txt",
        "004_5b5208f4b36f6534.txt",
    ], "a new seed page arrived: give it a test of its own"
