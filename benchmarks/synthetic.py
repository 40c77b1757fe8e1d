"""Synthetic records for benchmarks and soak runs: manifests, JSONL and pages in both layouts."""

from __future__ import annotations

import json
import random
from pathlib import Path

TIERS = ("Quarantine candidate", "Watchlist", "DOI grade")
LEVELS = ("LOW", "MEDIUM", "HIGH")
BASIS = {
    "Quarantine candidate": "Review score is below 5.0; source-level inspection is required before relying on the synthesis.",
    "Watchlist": "Review score or public verified-claim signal is below DOI-grade threshold.",
    "DOI grade": "Review score and verified-claim count meet DOI-grade public quality thresholds.",
}


def tier_for(score: float, claims: int) -> str:
    if score < 5.0:
        return "Quarantine candidate"
    if score >= 7.0 and claims >= 5:
        return "DOI grade"
    return "Watchlist"


def manifest(index: int, rng: random.Random | None = None) -> dict:
    """A valid paper manifest; tiers follow the default policy so exports are clean."""
    rng = rng or random.Random(index)
    score = round(rng.uniform(2.0, 9.8), 2)
    claims = rng.randint(0, 15)
    tier = tier_for(score, claims)
    return {
        "contract": "paper-manifest-v1.1",
        "id": f"SRCH:{index:08X}",
        "title": f"Synthetic synthesis number {index} on sparse routing trade-offs",
        "research_question": f"How do sparse routing trade-offs scale in synthetic synthesis number {index}?",
        "abstract": "A generated abstract for benchmarking the archiver pipeline.",
        "submitted": f"2026-0{rng.randint(1, 9)}-{rng.randint(10, 28)}",
        "review_score": score,
        "verification": {"level": "L2", "label": "Source-grounded claims", "source_grounded_claims": claims},
        "quality_tier": {"tier": tier, "basis": BASIS[tier]},
        "quality_dimensions": {
            "evidence_strength": rng.choice(LEVELS),
            "citation_grounding": rng.choice(LEVELS),
            "uncertainty_disclosure": rng.choice(LEVELS),
            "reproducibility_status": rng.choice(LEVELS),
        },
        "correction_record": {"contract": "correction-record-v1", "status": "CURRENT", "correction_count": 0, "corrections": []},
        "provenance": {
            "contract": "source-provenance-v1",
            "publisher": "Assignee Research",
            "public_provenance": {"level": "L3", "label": "Claim aggregate record"},
            "report_artifact": {"status": "Available"},
            "external_record": {"status": "Not registered"},
            "claim_lineage": f"{claims} aggregate source-grounded claims",
        },
    }


def write_manifest_files(directory: Path, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if len(list(directory.glob("*.json"))) == count:
        return
    for index in range(count):
        (directory / f"SRCH_{index:08X}.json").write_text(json.dumps(manifest(index), indent=2))


def write_jsonl(path: Path, count: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > 0:
        return path
    with path.open("w", encoding="utf-8") as handle:
        for index in range(count):
            handle.write(json.dumps(manifest(index), separators=(",", ":")) + "\n")
    return path


def page_text(doc: dict, layout: str) -> str:
    """A record page in the pipe-table or web-text layout."""
    v, q, d, p = doc["verification"], doc["quality_tier"], doc["quality_dimensions"], doc["provenance"]
    rows = {
        "Verification Level": [
            ("Paper level", f"{v['level']}, {v['label']}"),
            ("Source-grounded claims", str(v["source_grounded_claims"])),
        ],
        "Quality Tier": [("Tier", q["tier"]), ("Basis", q["basis"])],
        "Quality Dimensions": [(k.replace("_", " ").capitalize(), val) for k, val in d.items()],
        "Correction Record": [
            ("Status", "CURRENT"),
            ("Correction count", "0"),
            ("Manifest contract", "paper-manifest-v1.1"),
            ("Correction contract", "correction-record-v1"),
        ],
        "Provenance": [
            ("Publisher", p["publisher"]),
            ("Public provenance", "L3, Claim aggregate record"),
            ("Report artifact", "Available"),
            ("External record", "Not registered"),
            ("Claim lineage", p["claim_lineage"]),
            ("Provenance contract", "source-provenance-v1"),
        ],
    }
    if layout == "pipe":
        out = [doc["id"], doc["title"], "Abstract", f"Abstract: {doc['abstract']} The assessment produced a score of {doc['review_score']}/10.",
               "Research Question", doc["research_question"]]
        for heading, pairs in rows.items():
            out.append(heading)
            out.extend(f"| {label} | {value} | |" for label, value in pairs)
        return "\n".join(out) + "\n"
    out = [doc["id"], "", doc["title"], "", "Submitted: 1 June 2026", f"Review score: {doc['review_score']:.2f}/10", "",
           "Abstract", "", f"Abstract: {doc['abstract']}", "", "Research Question", "", doc["research_question"], ""]
    for heading, pairs in rows.items():
        out.append(heading)
        out.append("")
        sep = " " if heading == "Quality Dimensions" else ""
        out.extend(f"{label}{sep}{value}" for label, value in pairs)
        out.append("")
    return "\n".join(out)


def write_pages(directory: Path, count: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    if len(list(directory.iterdir())) == count:
        return directory
    for index in range(count):
        layout = "pipe" if index % 2 else "web"
        (directory / f"page-{index:08d}.txt").write_text(page_text(manifest(index), layout), encoding="utf-8")
    return directory
