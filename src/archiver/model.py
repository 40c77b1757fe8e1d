"""Pydantic models of a synthesis record and its parts, with the cross-field rules of the domain."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from typing import TYPE_CHECKING, Annotated, Literal, NamedTuple, TypeAlias

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, StrictBool, model_validator
from pydantic_core import PydanticCustomError

from archiver import jsontext, rdm_ids, rules
from archiver.vocabulary import (
    CORRECTION_CONTRACT,
    DIMENSION_NAMES,
    DOI_PATTERN,
    L4_LABEL,
    MANIFEST_CONTRACT,
    PROVENANCE_CONTRACT,
    RECORD_ID_PATTERN,
    ArtifactStatus,
    CorrectionStatus,
    DimensionLevel,
    Environment,
    ExternalStatus,
    GateStatus,
    Level,
    Tier,
)

# Re-exported: the model is where most callers meet the vocabulary.
__all__ = [
    "ArtifactStatus", "CorrectionStatus", "DimensionLevel", "Environment", "ExternalStatus", "GateStatus", "Level", "Tier",
    "DIMENSION_NAMES", "MANIFEST_CONTRACT", "CORRECTION_CONTRACT", "PROVENANCE_CONTRACT", "Record", "manifest_json",
]


def values_of(vocabulary: type[enum.Enum]):
    """A Literal type of an enum's values: checked in pydantic-core and held as plain strings.
    (An enum field with use_enum_values reads each member's .value in Python, which costs a
    batch export about ten Python calls per record.)"""
    return Literal[tuple(member.value for member in vocabulary)]


if TYPE_CHECKING:  # a type checker sees plain strings; pydantic checks the Literal built from each enum
    TierName: TypeAlias = str
    LevelName: TypeAlias = str
    DimensionLevelName: TypeAlias = str
    GateStatusName: TypeAlias = str
    CorrectionStatusName: TypeAlias = str
    ExternalStatusName: TypeAlias = str
    ArtifactStatusName: TypeAlias = str
    EnvironmentName: TypeAlias = str
else:
    TierName = values_of(Tier)
    LevelName = values_of(Level)
    DimensionLevelName = values_of(DimensionLevel)
    GateStatusName = values_of(GateStatus)
    CorrectionStatusName = values_of(CorrectionStatus)
    ExternalStatusName = values_of(ExternalStatus)
    ArtifactStatusName = values_of(ArtifactStatus)
    EnvironmentName = values_of(Environment)

NonNegativeInt = Annotated[int, Field(ge=0, strict=True)]
Text = Annotated[str, Field(min_length=1)]
Doi = Annotated[str, Field(pattern=DOI_PATTERN)]
# Keep "+00:00" as written on the pages (Pydantic would print "Z"), so manifests round-trip.
Timestamp = Annotated[AwareDatetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]


class _Part(BaseModel):
    # Vocabulary fields are Literal types made from the enums (values_of): plain strings.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Verification(_Part):
    level: LevelName
    label: Text | None = None
    source_grounded_claims: NonNegativeInt
    claim_record_source: Text | None = None

    @model_validator(mode="after")
    def _l1_has_no_grounded_claims(self) -> Verification:
        problem = rules.l1_claims_problem(self.level, self.source_grounded_claims)
        if problem:
            raise PydanticCustomError("l1-claims", problem)
        return self


class GateVerdict(_Part):
    name: Text | None = None
    status: GateStatusName
    reason: Text | None = None
    evaluated: Timestamp | None = None
    artifact: Text | None = None

    @model_validator(mode="after")
    def _verified_needs_artifact(self) -> GateVerdict:
        problem = rules.verified_artifact_problem(self.status, self.artifact)
        if problem:
            raise PydanticCustomError("verified-needs-artifact", problem)
        return self


class QualityTier(_Part):
    tier: TierName
    basis: Text | None = None


class QualityDimensions(_Part):
    evidence_strength: DimensionLevelName | None = None
    citation_grounding: DimensionLevelName | None = None
    uncertainty_disclosure: DimensionLevelName | None = None
    reproducibility_status: DimensionLevelName | None = None



class Correction(_Part):
    sequence: Annotated[int, Field(ge=1, strict=True)]
    date: dt.date
    description: Text
    field: Text | None = None


class CorrectionRecord(_Part):
    contract: Literal["correction-record-v1"] = CORRECTION_CONTRACT
    status: CorrectionStatusName
    correction_count: NonNegativeInt
    corrections: tuple[Correction, ...] = ()
    # False when only the count is public (record pages list no corrections); absent otherwise.
    corrections_public: StrictBool | None = None  # JSON true or false: "yes" is not a boolean (the contract says so)

    @model_validator(mode="after")
    def _corrections_are_additive(self) -> CorrectionRecord:
        for code, problem in rules.correction_problems(
            self.status,
            self.correction_count,
            [(c.sequence, c.date.isoformat()) for c in self.corrections],
            self.corrections_public,
        ):
            raise PydanticCustomError(code, problem)
        return self


class PublicProvenance(_Part):
    level: LevelName
    label: Text | None = None


class ReportArtifact(_Part):
    status: ArtifactStatusName
    path: Text | None = None


# A deposition's id: Zenodo's number, or another InvenioRDM repository's id (rdm_ids.py).
DepositionId: TypeAlias = int | str
_DepositionIdField: TypeAlias = Annotated[int, Field(ge=1, strict=True)] | Annotated[str, Field(pattern=rdm_ids.PATTERN)]
# A repository's origin as a manifest records it: scheme and host (and port), nothing else.
ORIGIN_PATTERN = r"^https?://[^/?#\s@]+$"


class ExternalRecord(_Part):
    status: ExternalStatusName
    doi: Doi | None = None  # this version's DOI
    concept_doi: Doi | None = None  # the DOI of all versions (Zenodo's concept DOI)
    url: Text | None = None
    deposition_id: _DepositionIdField | None = None
    environment: EnvironmentName | None = None  # Zenodo's; only for a deposit to Zenodo
    repository: Annotated[str, Field(pattern=ORIGIN_PATTERN)] | None = None  # another repository's origin
    registered_at: Timestamp | None = None

    @model_validator(mode="after")
    def _one_place(self) -> ExternalRecord:
        problem = rules.deposition_id_problem(self.deposition_id)
        if problem:
            raise PydanticCustomError("deposition-id-invalid", problem)
        if self.repository is not None and self.environment is not None:
            raise PydanticCustomError("repository-with-environment", rules.REPOSITORY_WITH_ENVIRONMENT)
        return self


class Provenance(_Part):
    contract: Literal["source-provenance-v1"] = PROVENANCE_CONTRACT
    publisher: Text
    public_provenance: PublicProvenance
    report_artifact: ReportArtifact | None = None
    external_record: ExternalRecord
    claim_lineage: Text | None = None
    review_method: Text | None = None
    quality_guide: Text | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _registration_is_consistent(self) -> Provenance:
        for code, problem in rules.registration_problems(
            self.external_record.status,
            self.external_record.doi,
            self.public_provenance.level,
            self.public_provenance.label,
        ):
            raise PydanticCustomError(code, problem)
        return self


class Record(_Part):
    """One synthesis record: what a paper manifest (paper-manifest-v1.1) carries."""

    contract: Literal["paper-manifest-v1.1"] = MANIFEST_CONTRACT
    id: Annotated[str, Field(pattern=RECORD_ID_PATTERN)]
    title: Text
    title_truncated: StrictBool | None = None  # True when the page title is cut off
    research_question: Text | None = None
    abstract: Text | None = None
    submitted: dt.date | None = None
    review_score: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False, strict=True)] | None = None
    verification: Verification
    gate: GateVerdict | None = None
    quality_tier: QualityTier | None = None
    quality_dimensions: QualityDimensions = QualityDimensions()
    correction_record: CorrectionRecord
    provenance: Provenance

    @property
    def doi(self) -> str | None:
        return self.provenance.external_record.doi

    @property
    def verified_claims(self) -> int:
        return self.verification.source_grounded_claims

    @property
    def archival_title(self) -> str:
        """The title to archive under: the full research question when the page title is cut off."""
        if self.title_truncated and self.research_question:
            return self.research_question
        return self.title

    def with_artifact_path(self, path: str) -> Record:
        """This record with its report artifact kept at ``path`` (in the export)."""
        artifact = self.provenance.report_artifact
        assert artifact is not None
        kept = artifact.model_copy(update={"path": path})
        return self.model_copy(update={"provenance": self.provenance.model_copy(update={"report_artifact": kept})})

    def registered(
        self, doi: str, deposition_id: DepositionId, environment: str, registered_at: dt.datetime, concept_doi: str | None = None
    ) -> Record:
        """This record once deposited: external record Registered with its DOI, public provenance L4.
        The one definition for the deposit that registers and the re-export that remembers it.
        ``environment`` is where the deposit counts: Zenodo's sandbox or production, or another
        repository's origin (recorded as ``repository``, with no environment)."""
        zenodo = environment in (Environment.SANDBOX.value, Environment.PRODUCTION.value)
        provenance = self.provenance.model_copy(
            update={
                "public_provenance": self.provenance.public_provenance.model_copy(
                    update={"level": Level.L4.value, "label": L4_LABEL}
                ),
                "external_record": self.provenance.external_record.model_copy(
                    update={
                        "status": ExternalStatus.REGISTERED.value,
                        "doi": doi,
                        "concept_doi": concept_doi,
                        "url": f"https://doi.org/{doi}",
                        "deposition_id": deposition_id,
                        "environment": environment if zenodo else None,
                        "repository": None if zenodo else environment,
                        "registered_at": registered_at,
                    }
                ),
            }
        )
        # Through the model again: its rules hold for the registered record too.
        return Record.model_validate(self.model_copy(update={"provenance": provenance}).to_manifest())

    def to_manifest(self) -> dict:
        """The paper manifest as plain JSON data (absent optional fields are omitted)."""
        return self.model_dump(mode="json", exclude_none=True)

    def manifest_bytes(self) -> bytes:
        """The canonical manifest file: model field order, two-space indent, UTF-8, final newline."""
        return manifest_json(self.to_manifest())


def correction_hash(correction_record: dict) -> str:
    """The hash of a correction record (as a manifest holds it): what tells a record's versions apart."""
    return hashlib.sha256(json.dumps(correction_record, sort_keys=True).encode()).hexdigest()


def manifest_json(manifest: dict) -> bytes:
    """The bytes of a manifest file, from ``Record.to_manifest()`` data (the same bytes as
    model_dump_json(indent=2), from data a batch export has already made)."""
    return jsontext.indented(manifest)


class Registration(NamedTuple):
    """What a registered deposit wrote into its manifest (Record.registered takes these in order)."""

    doi: str
    deposition_id: DepositionId
    environment: str  # sandbox, production, or another repository's origin
    registered_at: dt.datetime
    concept_doi: str | None = None
    correction_hash: str | None = None  # of the correction record deposited: a different one has drifted


Registrations = dict[str, Registration]
