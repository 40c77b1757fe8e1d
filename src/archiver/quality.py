"""Data-quality checks that warn without stopping a record, for every layout; they never change their input.

A check may also infer a value the record leaves implicit (a cut-off title, a score written only
in the abstract). Those come back as ``inferred`` for the reader to apply to its own copy.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from archiver.findings import Finding
from archiver.vocabulary import BASIS_PHRASES

_ABSTRACT_SCORE = re.compile(r"score of\s+(-?\d+(?:\.\d+)?)\s*/\s*10\b", re.IGNORECASE)
_LEADING_INT = re.compile(r"^\s*(\d+)\b")


class QualityCheck(NamedTuple):
    warnings: list[Finding]
    inferred: dict[str, Any]  # top-level manifest fields to set: title_truncated, review_score


def check_quality(raw: dict[str, Any], lines: dict[str, int] | None = None) -> QualityCheck:
    """Warnings about ``raw`` (manifest-shaped data, possibly invalid), and the values they imply."""
    lines = lines or {}
    warnings: list[Finding] = []
    inferred: dict[str, Any] = {}
    title = raw.get("title")
    question = raw.get("research_question")
    if isinstance(title, str) and isinstance(question, str):
        stripped = title.rstrip()
        if len(stripped) < len(question.rstrip()) and question.startswith(stripped):
            if not raw.get("title_truncated"):
                inferred["title_truncated"] = True
            warnings.append(
                Finding(
                    "title-truncated",
                    "title is cut off: it is a strict prefix of the research question (archived under the full question)",
                    "$.title",
                    lines.get("$.title"),
                )
            )
    abstract = raw.get("abstract")
    # "/" is a plain substring test; the case-blind pattern costs more than the rest of this check.
    if isinstance(abstract, str) and "/" in abstract:
        match = _ABSTRACT_SCORE.search(abstract)
        if match:
            in_abstract = float(match.group(1))
            score = raw.get("review_score")
            if score is None:
                inferred["review_score"] = in_abstract
                warnings.append(
                    Finding(
                        "score-from-abstract",
                        f"review score {in_abstract:g}/10 appears only in the abstract text",
                        "$.review_score",
                        lines.get("$.abstract"),
                    )
                )
            elif isinstance(score, (int, float)) and abs(score - in_abstract) > 0.005:
                warnings.append(
                    Finding(
                        "score-mismatch",
                        f"review score {score:g}/10 differs from {in_abstract:g}/10 in the abstract",
                        "$.review_score",
                        lines.get("$.review_score"),
                    )
                )
    tier = raw.get("quality_tier")
    if isinstance(tier, dict) and isinstance(tier.get("basis"), str) and isinstance(tier.get("tier"), str):
        basis = tier["basis"].lower()
        implied = next((t for phrase, t in BASIS_PHRASES if phrase in basis), None)
        if implied and implied != tier["tier"]:
            warnings.append(
                Finding(
                    "tier-basis-mismatch",
                    f"declared tier {tier['tier']!r} does not match its basis, which speaks for {implied!r}",
                    "$.quality_tier",
                    lines.get("$.quality_tier.tier"),
                )
            )
    provenance = raw.get("provenance")
    verification = raw.get("verification")
    if isinstance(provenance, dict) and isinstance(verification, dict):
        lineage = provenance.get("claim_lineage")
        claims = verification.get("source_grounded_claims")
        lineage_match = _LEADING_INT.match(lineage) if isinstance(lineage, str) else None
        if lineage_match and isinstance(claims, int) and int(lineage_match.group(1)) != claims:
            warnings.append(
                Finding(
                    "claim-lineage-mismatch",
                    f"claim lineage names {lineage_match.group(1)} claims but {claims} are source-grounded",
                    "$.provenance.claim_lineage",
                    lines.get("$.provenance.claim_lineage"),
                )
            )
    return QualityCheck(warnings, inferred)
