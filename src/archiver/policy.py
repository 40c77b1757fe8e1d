"""The DOI-grade eligibility policy: thresholds, licence and extra rules, loaded from TOML."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from archiver.findings import ArchiverError, json_path
from archiver.vocabulary import DIMENSION_NAMES, LICENSES, ORCID_PATTERN, DimensionLevel
from archiver.zenodo import vocabularies
from archiver.zenodo.hosts import DOI_PREFIXES, TOKEN_VARIABLES, name_of, zenodo_host

RECORD_ID = re.compile(r"SRCH:[0-9A-Fa-f]{8}")

# A ROR id as the records API takes it in an affiliation or identifier: 0, six base-32 characters, two check digits.
ROR_PATTERN = r"^0[a-hj-km-np-tv-z0-9]{6}[0-9]{2}$"
# A community's slug as Zenodo's URLs show it (zenodo.org/communities/<slug>).
COMMUNITY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"


def format_score(value: float) -> str:
    """Scores as the pages write them: thresholds 5.0 and 7.0, scores 7.83 and 4.5."""
    return f"{value:.1f}" if float(value).is_integer() else f"{value:g}"


class CreatorPolicy(BaseModel):
    """A deposit creator: a person ("Family, Given", optional ORCID) or an organisation. The legacy
    deposit API stores every creator as a person; the records API keeps the type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, description='"Family, Given" for a person')]
    type: Literal["personal", "organizational"] = "personal"
    orcid: Annotated[str, Field(pattern=ORCID_PATTERN)] | None = None
    affiliation: Annotated[str, Field(min_length=1)] | None = None
    # The affiliation's ROR id (records API: the affiliation by id; the legacy API keeps only the name).
    affiliation_ror: Annotated[str, Field(pattern=ROR_PATTERN)] | None = None
    # An organisation's own ROR id (records API: its identifier).
    ror: Annotated[str, Field(pattern=ROR_PATTERN)] | None = None

    @field_validator("orcid")
    @classmethod
    def _orcid_checksum(cls, value: str | None) -> str | None:
        # Zenodo checks the ISO 7064 check digit only at publish, after the draft and its files exist.
        if value is not None and not vocabularies.orcid_checksum_ok(value):
            raise ValueError(f"ORCID {value} fails its check digit (ISO 7064 mod 11-2); Zenodo refuses it at publish")
        return value

    @model_validator(mode="after")
    def _person_or_organisation(self) -> CreatorPolicy:
        if self.type == "organizational" and self.orcid is not None:
            raise ValueError("an organisation has no ORCID")
        if self.type == "personal" and self.ror is not None:
            raise ValueError("a person has no ROR id (affiliation_ror names the affiliation's)")
        return self


class RepositoryPolicy(BaseModel):
    """An InvenioRDM repository other than Zenodo, named in the policy's ``[repository]`` table:
    deposits go there, and nowhere else, through its records API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Its API, e.g. "https://researchdata.tuwien.ac.at/api".
    url: Annotated[str, Field(pattern=r"^https?://[^\s?#@]+$")]
    # The DOI prefix it mints under (its DATACITE_PREFIX): every DOI it answers with is checked to be {prefix}/{id}.
    doi_prefix: Annotated[str, Field(pattern=r"^10\.\d{4,9}$")]
    # The environment variable holding its token (never Zenodo's: a token for one repository never goes to another).
    token_variable: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]

    @field_validator("url")
    @classmethod
    def _not_zenodo(cls, value: str) -> str:
        if zenodo_host(value) is not None:
            raise ValueError(f"{value} is Zenodo, the default without a [repository] table (--production for its production)")
        return value

    @field_validator("doi_prefix")
    @classmethod
    def _not_zenodos_prefix(cls, value: str) -> str:
        if value == DOI_PREFIXES["production"]:
            raise ValueError(f"{value} is Zenodo's DOI prefix: name the prefix this repository mints under (its DATACITE_PREFIX)")
        return value

    @field_validator("token_variable")
    @classmethod
    def _not_zenodos_token(cls, value: str) -> str:
        if value in TOKEN_VARIABLES.values():
            raise ValueError(f"{value} holds a Zenodo token: name the variable of this repository's own token")
        return value


class Policy(BaseModel):
    """What makes a record DOI grade, and what a deposit carries. Defaults agree with every seed page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Values are typed strictly: "7" is text, not a number, in a policy file (TOML has numbers).
    quarantine_below: Annotated[float, Field(ge=0, le=10, strict=True)] = 5.0
    doi_min_score: Annotated[float, Field(ge=0, le=10, strict=True)] = 7.0
    doi_min_verified_claims: Annotated[int, Field(ge=0, strict=True)] = 5
    license: str = "cc-by-4.0"
    # at least 3 characters: Zenodo refuses a shorter publisher at publish
    publisher: Annotated[str, Field(min_length=3)] = "Assignee Research"
    require_gate_verified: Annotated[bool, Field(strict=True)] = False
    minimum_dimensions: dict[str, DimensionLevel] = {}
    keywords: tuple[str, ...] = ("machine-generated literature synthesis",)
    # Deposit creators; empty means one creator named after the publisher (Zenodo's legacy
    # deposit API stores every creator as a person, so that name becomes a family name).
    creators: tuple[CreatorPolicy, ...] = ()
    # The record's public page, e.g. "https://example.org/records/{id}": sent as a URL related
    # identifier. Without it no related identifier is sent (a bare SRCH id has no scheme Zenodo knows).
    record_url: str | None = None
    # Which Zenodo API deposits: "deposit" (the legacy /api/deposit/depositions) or "records" (the
    # InvenioRDM records API, /api/records: organisational creators, publisher, ROR affiliations).
    api: Literal["deposit", "records"] = "deposit"
    # Another InvenioRDM repository to deposit to instead of Zenodo ([repository]: url, doi_prefix,
    # token_variable); api = "records" is implied, as InvenioRDM has no legacy deposit API.
    repository: RepositoryPolicy | None = None
    # The publisher's ROR id: the identifier of the organisational creator on the records API.
    publisher_ror: Annotated[str, Field(pattern=ROR_PATTERN)] | None = None
    # Languages of the records, as Zenodo's three-letter ids (ISO 639-3).
    languages: Annotated[tuple[str, ...], Field(min_length=1)] = ("eng",)
    # Zenodo communities (slugs) the records belong in: the first reviews each new record on the
    # records API; on the legacy API every one is asked for at publish and read back.
    communities: tuple[Annotated[str, Field(pattern=COMMUNITY_PATTERN)], ...] = ()
    # The folder holding the records' reports (SRCH-7C1E9B40.pdf, or a folder SRCH-7C1E9B40/): an
    # export keeps each in its artifacts/ and a deposit sends it first. With it set, a record whose
    # page says its report is Available but has no file there is not deposited, unless
    # deposit_without_artifact allows it.
    artifacts: Annotated[str, Field(min_length=1)] | None = None
    deposit_without_artifact: Annotated[bool, Field(strict=True)] = False

    @field_validator("license")
    @classmethod
    def _zenodo_licence(cls, value: str) -> str:
        if value in LICENSES and not vocabularies.is_license(vocabularies.legacy_license_as_stored(value)):
            raise ValueError(f"license {value!r} is not in Zenodo's licence vocabulary")
        return value

    @field_validator("languages")
    @classmethod
    def _zenodo_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [language for language in value if language not in vocabularies.ids("languages")]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not in Zenodo's language vocabulary (three-letter ids such as eng)")
        return value

    @field_validator("keywords")
    @classmethod
    def _no_record_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # a record is found on Zenodo by its id among the keywords: one record's id on every deposit
        # would make each of them look like that record's
        ids = [keyword for keyword in value if RECORD_ID.fullmatch(keyword.strip())]
        if ids:
            raise ValueError(f"{', '.join(ids)} is a record id: archiver adds each record's own id, and finds records on Zenodo by it")
        return value

    @model_validator(mode="before")
    @classmethod
    def _repository_takes_records(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("repository") is not None:
            if data.get("api", "records") != "records":
                raise ValueError(f"api = {data['api']!r} is Zenodo's legacy API: a [repository] is deposited to through api = \"records\"")
            data = {**data, "api": "records"}
        return data

    @model_validator(mode="after")
    def _thresholds_are_ordered(self) -> Policy:
        if self.doi_min_score < self.quarantine_below:
            raise ValueError(
                f"doi_min_score ({self.doi_min_score}) must not be below quarantine_below ({self.quarantine_below})"
            )
        if self.license not in LICENSES:
            raise ValueError(f"license {self.license!r} is not one of: {', '.join(sorted(LICENSES))}")
        unknown = set(self.minimum_dimensions) - set(DIMENSION_NAMES)
        if unknown:
            raise ValueError(f"minimum_dimensions names unknown dimensions: {', '.join(sorted(unknown))}")
        if self.record_url is not None and (
            not self.record_url.startswith(("https://", "http://")) or "{id}" not in self.record_url
        ):
            raise ValueError(f"record_url {self.record_url!r} must be an http(s) URL holding {{id}}")
        return self

    @property
    def repository_name(self) -> str:
        """Where deposits go, in a message's words: Zenodo, or the host of the repository named."""
        return name_of(self.repository.url if self.repository is not None else None)

    def record_page(self, record_id: str) -> str | None:
        """The public page of a record under ``record_url``, or None."""
        return self.record_url.replace("{id}", record_id) if self.record_url else None


DEFAULT_POLICY = Policy()


def _policy_from(table: dict, source: str) -> Policy:
    try:
        return Policy.model_validate(table)
    except ValidationError as exc:
        # a misspelt key first: it is why the right one is "required" too
        first = next((error for error in exc.errors() if error["type"] == "extra_forbidden"), exc.errors()[0])
        where = json_path(first["loc"]) if first["loc"] else "$"
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = _unknown_setting(first["loc"])
        elif first["type"] in _TYPE_WORDS:
            given = first.get("input")
            message = f"{_TYPE_WORDS[first['type']]}, not {_TOML_KINDS.get(type(given), 'a value')} {given!r}"
        raise ArchiverError(f"{source}:{where}: {message}", code="policy-invalid") from None


# pydantic's type errors, in the policy file's words (TOML has numbers, booleans and strings apart)
_TYPE_WORDS = {
    "float_type": "must be a number (7.5, without quotes)",
    "int_type": "must be a whole number (5, without quotes)",
    "bool_type": "must be true or false (without quotes)",
    "string_type": "must be text in quotes",
}


# what a TOML value is, in a reader's words
_TOML_KINDS = {str: "text", bool: "a boolean", int: "a whole number", float: "a number", list: "a list", dict: "a table"}


def _unknown_setting(location: tuple) -> str:
    """An unknown key, with the closest known one of its table when one is close."""
    tables: dict[object, type[BaseModel]] = {"creators": CreatorPolicy, "repository": RepositoryPolicy}
    model = tables.get(location[0], Policy) if len(location) > 1 else Policy
    key = str(location[-1])
    close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(model.model_fields)}"
    return f"unknown setting {key!r}{hint}"


def load_policy(config: str | os.PathLike | None = None, start: str | os.PathLike = ".") -> tuple[Policy, str]:
    """The policy and where it came from: ``config`` if given, else ``archiver.toml`` or the
    ``[tool.archiver]`` table of ``pyproject.toml`` in ``start``, else the defaults."""
    candidates = [Path(config)] if config else [Path(start) / "archiver.toml", Path(start) / "pyproject.toml"]
    for path in candidates:
        if not path.is_file():
            if config:
                raise ArchiverError(f"{path}: no such policy file", code="policy-missing")
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ArchiverError(f"{path}: not valid TOML: {exc}", code="policy-invalid") from None
        nested = path.name == "pyproject.toml" or set(data) == {"tool"}
        if nested:
            tool = data.get("tool", {})
            table = tool.get("archiver") if isinstance(tool, dict) else None
            if table is None:
                if config:
                    raise ArchiverError(f"{path}: has no [tool.archiver] table", code="policy-missing")
                continue
            if not isinstance(table, dict):
                raise ArchiverError(f"{path}: tool.archiver must be a table", code="policy-invalid")
            return _policy_from(table, f"{path}[tool.archiver]"), str(path)
        return _policy_from(data, str(path)), str(path)
    return DEFAULT_POLICY, "defaults"
