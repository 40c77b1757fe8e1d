"""Domain rules as small pure functions, shared by the Pydantic models and the manifest validator.

They take plain values and return problem texts, so the fast ``archiver validate`` path can run
them on parsed JSON without importing Pydantic, and the models can run them on their fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from archiver import rdm_ids
from archiver.vocabulary import CORRECTED, L1, L4, L4_LABEL, REGISTERED, VERIFIED

REPOSITORY_WITH_ENVIRONMENT = "environment is Zenodo's: a record deposited in another repository (repository) has none"


def l1_claims_problem(level: str, claims: int) -> str | None:
    """L1 is a literature synthesis: it has no source-grounded claims."""
    if level == L1 and claims != 0:
        return f"verification level L1 (literature synthesis) must have 0 source-grounded claims, not {claims}"
    return None


def verified_artifact_problem(status: str, artifact: str | None) -> str | None:
    """VERIFIED at Gate 2 needs an attached reproducible artifact; score or claims never imply it."""
    if status == VERIFIED and not artifact:
        return "Gate 2 status VERIFIED requires a reproducible artifact reference (gate.artifact)"
    return None


def registration_problems(
    status: str, doi: str | None, level: str, label: str | None
) -> Iterator[tuple[str, str]]:
    """A registered external record has a DOI and makes public provenance L4, and only then."""
    if status == REGISTERED:
        if not doi:
            yield "registered-needs-doi", "external record Registered requires a DOI"
        if level != L4:
            yield (
                "registered-needs-l4",
                f"external record Registered requires public provenance L4, not {level}",
            )
    else:
        if doi:
            yield "doi-without-registration", "a DOI is present but the external record is not Registered"
        if level == L4:
            yield "l4-without-registration", "public provenance L4 requires a Registered external record"
    if level == L4 and label is not None and label != L4_LABEL:
        yield "l4-label", f"public provenance L4 is labelled {L4_LABEL!r}, not {label!r}"


def correction_problems(
    status: str, count: int, corrections: Sequence[tuple[int, str]], public: bool | None = None
) -> Iterator[tuple[str, str]]:
    """Corrections are additive: the count matches the list, numbered 1..n in date order.

    ``corrections`` holds (sequence, ISO date) pairs in the order they are listed. ``public``
    False says the corrections themselves are not public (a record page shows only the count):
    the count then stands alone, and no correction may be listed.
    """
    if public is False:
        if corrections:
            yield (
                "corrections-not-public",
                f"corrections_public is false but {len(corrections)} corrections are listed",
            )
    elif count != len(corrections):
        yield (
            "correction-count",
            f"correction count is {count} but {len(corrections)} corrections are listed",
        )
    for index, (sequence, _date) in enumerate(corrections, start=1):
        if sequence != index:
            yield (
                "correction-sequence",
                f"correction {index} has sequence {sequence}; corrections are additive and numbered 1..n",
            )
            break
    dates = [date for _seq, date in corrections]
    if dates != sorted(dates):
        yield "correction-order", "corrections are additive: their dates must not go backwards"
    if status == CORRECTED and count == 0:
        yield "corrected-without-corrections", "status CORRECTED requires at least one correction"


def iso_date_problem(value: str) -> str | None:
    """A YYYY-MM-DD string that is also a real calendar date."""
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a real calendar date (YYYY-MM-DD)"
    if len(value) != 10:
        return f"{value!r} is not in YYYY-MM-DD form"
    return None


def iso_datetime_problem(value: str) -> str | None:
    """An ISO 8601 date-time with a time zone."""
    try:
        parsed = dt.datetime.fromisoformat(value)  # Python 3.11 reads a trailing Z as UTC
    except ValueError:
        return f"{value!r} is not an ISO 8601 date-time"
    if parsed.tzinfo is None:
        return f"{value!r} has no time zone"
    return None


def deposition_id_problem(value: object) -> str | None:
    """An InvenioRDM id (a string deposition id) whose check digits are right; the schema holds its form."""
    if isinstance(value, str) and rdm_ids.has_id_form(value) and not rdm_ids.is_record_id(value):
        return f"deposition_id {value!r} fails its check digits (ISO 7064 mod 97-10, as InvenioRDM mints ids)"
    return None
