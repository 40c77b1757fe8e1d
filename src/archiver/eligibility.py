"""Decide each record's computed tier and whether it may be deposited, with reason codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from archiver.model import Record
from archiver.policy import Policy
from archiver.policy import format_score as _num
from archiver.vocabulary import AVAILABLE, DIMENSION_RANK, DOI_GRADE, QUARANTINE, VERIFIED, WATCHLIST


# Plain slotted dataclasses: a frozen dataclass's __init__ costs microseconds per record.
@dataclass(slots=True)
class Facts:
    """What the rules look at, taken from a valid Record or, best effort, from an invalid record's raw data."""

    valid: bool
    review_score: float | None
    verified_claims: int | None
    declared_tier: str | None
    correction_status: str | None
    report_artifact: str | None
    artifact_path: str | None
    doi: str | None
    gate_status: str | None
    submitted: str | None
    dimensions: Mapping[str, str | None]

    @classmethod
    def of_record(cls, record: Record) -> Facts:
        artifact = record.provenance.report_artifact
        return cls(
            valid=True,
            review_score=record.review_score,
            verified_claims=record.verification.source_grounded_claims,
            declared_tier=record.quality_tier.tier if record.quality_tier else None,
            correction_status=record.correction_record.status,
            report_artifact=artifact.status if artifact else None,
            artifact_path=artifact.path if artifact else None,
            doi=record.doi,
            gate_status=record.gate.status if record.gate else None,
            submitted=record.submitted.isoformat() if record.submitted else None,
            # A read-only view of the model's own field values (None where a dimension is absent):
            # no copy per record, and no way for a rule to change the frozen model through it.
            dimensions=MappingProxyType(vars(record.quality_dimensions)),
        )

    @classmethod
    def of_raw(cls, raw: dict | None, declared_tier: str | None) -> Facts:
        raw = raw or {}

        def pick(*path: str, kind: type | tuple[type, ...]) -> Any:
            node: Any = raw
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            return node if isinstance(node, kind) and not isinstance(node, bool) else None

        dims = raw.get("quality_dimensions")
        return cls(
            valid=False,
            review_score=pick("review_score", kind=(int, float)),
            verified_claims=pick("verification", "source_grounded_claims", kind=int),
            declared_tier=declared_tier,
            correction_status=pick("correction_record", "status", kind=str),
            report_artifact=pick("provenance", "report_artifact", "status", kind=str),
            artifact_path=pick("provenance", "report_artifact", "path", kind=str),
            doi=pick("provenance", "external_record", "doi", kind=str),
            gate_status=pick("gate", "status", kind=str),
            submitted=pick("submitted", kind=str),
            dimensions={k: v for k, v in dims.items() if isinstance(v, str)} if isinstance(dims, dict) else {},
        )


@dataclass(slots=True)
class TierDecision:
    tier: str | None
    basis: str


@lru_cache(maxsize=32)
def _threshold_texts(quarantine_below: float, doi_min_score: float) -> tuple[str, str]:
    return _num(quarantine_below), _num(doi_min_score)


def compute_tier(score: float | None, claims: int | None, policy: Policy) -> TierDecision:
    """The tier the policy gives a score and a verified-claim count."""
    if score is None:
        return TierDecision(None, "No public review score: the tier cannot be computed, and DOI grade needs a score.")
    quarantine_text, doi_text = _threshold_texts(policy.quarantine_below, policy.doi_min_score)
    if score < policy.quarantine_below:
        return TierDecision(
            QUARANTINE,
            f"Review score {_num(score)} is below {quarantine_text}; source-level inspection is required "
            "before relying on the synthesis.",
        )
    claims_value = claims or 0
    if score >= policy.doi_min_score and claims_value >= policy.doi_min_verified_claims:
        return TierDecision(
            DOI_GRADE,
            f"Review score {_num(score)} and verified-claim count {claims_value} meet the DOI-grade thresholds "
            f"({doi_text}/10 and {policy.doi_min_verified_claims} claims).",
        )
    # Name what falls short: the score, the claims, or both.
    short = []
    if score < policy.doi_min_score:
        short.append(f"review score {_num(score)} is below {doi_text}/10")
    if claims_value < policy.doi_min_verified_claims:
        short.append(f"verified-claim count {claims_value} is below {policy.doi_min_verified_claims}")
    text = " and ".join(short)
    return TierDecision(WATCHLIST, f"{text[0].upper()}{text[1:]}: below the DOI-grade thresholds "
                        f"({doi_text}/10 and {policy.doi_min_verified_claims} claims).")


# --------------------------------------------------------------------------- rules
# Each rule returns a reason code when the record may not be deposited, else None.

# Only a valid record is judged by them: assess() refuses an invalid one before any rule runs.

Rule = Callable[[Facts, TierDecision, Policy], str | None]


def rule_computed_doi_grade(facts: Facts, decision: TierDecision, policy: Policy) -> str | None:
    if decision.tier == DOI_GRADE:
        return None
    return "no-review-score" if facts.review_score is None else "below-doi-grade"


def rule_declared_tier_agrees(facts: Facts, decision: TierDecision, policy: Policy) -> str | None:
    if facts.declared_tier is None or decision.tier is None or facts.declared_tier == decision.tier:
        return None
    return "declared-tier-disagrees"


def rule_not_retracted(facts: Facts, decision: TierDecision, policy: Policy) -> str | None:
    if facts.correction_status in ("RETRACTED", "WITHDRAWN"):
        return facts.correction_status.lower()
    return None


def rule_report_artifact_available(facts: Facts, decision: TierDecision, policy: Policy) -> str | None:
    return None if facts.report_artifact == AVAILABLE else "report-artifact-unavailable"


def rule_report_artifact_file(facts: Facts, decision: TierDecision, policy: Policy) -> str | None:
    """With an artifacts folder, a report said Available goes with its file, unless the policy allows otherwise."""
    if policy.artifacts is None or policy.deposit_without_artifact or facts.report_artifact != AVAILABLE or facts.artifact_path:
        return None
    return "report-artifact-file-missing"


def rule_not_registered(facts: Facts, decision: TierDecision, policy: Policy) -> str | None:
    return "already-registered" if facts.doi else None


def rule_has_submission_date(facts: Facts, decision: TierDecision, policy: Policy) -> str | None:
    # Zenodo's publication_date comes from the submission date; without it Zenodo would use today.
    return None if facts.submitted else "no-submission-date"


def rule_gate_verified_if_required(facts: Facts, decision: TierDecision, policy: Policy) -> str | None:
    if policy.require_gate_verified and facts.gate_status != VERIFIED:
        return "gate-not-verified"
    return None


def rule_minimum_dimensions(facts: Facts, decision: TierDecision, policy: Policy) -> str | None:
    for dimension, minimum in policy.minimum_dimensions.items():
        level = facts.dimensions.get(dimension)
        rank = DIMENSION_RANK.get(level) if level is not None else None  # None: not stated, or not a level
        if rank is None or rank < DIMENSION_RANK[minimum.value]:
            return "dimension-below-minimum"
    return None


RULES: tuple[Rule, ...] = (
    rule_computed_doi_grade,
    rule_declared_tier_agrees,
    rule_not_retracted,
    rule_report_artifact_available,
    rule_report_artifact_file,
    rule_not_registered,
    rule_has_submission_date,
    rule_gate_verified_if_required,
    rule_minimum_dimensions,
)

NEXT_ACTIONS = {
    "manifest-invalid": "fix the record's errors and export again",
    "already-registered": "none: already registered",
    "declared-tier-disagrees": "review the declared tier against the policy",
    "no-review-score": "publish a review score",
    "below-doi-grade": "none: not DOI grade",
    "retracted": "none: retracted",
    "withdrawn": "none: withdrawn",
    "report-artifact-unavailable": "attach the report artifact",
    "report-artifact-file-missing": "put the report in the artifacts folder as SRCH-XXXXXXXX.<extension> and export again "
    "(or allow deposit_without_artifact)",
    "no-submission-date": "add the submission date",
    "gate-not-verified": "complete Gate 2 verification",
    "dimension-below-minimum": "none: a quality dimension is below the policy minimum",
    "corrected-since-deposit": "archiver deposit --new-versions: the corrections get a new version",
}


@dataclass(slots=True)
class Eligibility:
    declared_tier: str | None
    computed_tier: str | None
    basis: str
    eligible: bool
    reasons: tuple[str, ...]
    next_action: str


def assess(facts: Facts, policy: Policy) -> Eligibility:
    if not facts.valid:
        # Bad data is judged by nothing: no computed tier, and the one reason is the record's errors
        # (a score of 12 is not "DOI grade", a missing count is not "0 is below 5").
        return Eligibility(
            facts.declared_tier, None, "no tier is computed for an invalid record: fix its errors first", False,
            ("manifest-invalid",), NEXT_ACTIONS["manifest-invalid"],
        )
    decision = compute_tier(facts.review_score, facts.verified_claims, policy)
    reasons = tuple([code for rule in RULES if (code := rule(facts, decision, policy))])
    if not reasons:
        action = "deposit"
    elif "already-registered" in reasons:
        action = f"none: already registered as {facts.doi}"
    else:
        action = NEXT_ACTIONS[reasons[0]]
    return Eligibility(facts.declared_tier, decision.tier, decision.basis, not reasons, reasons, action)
