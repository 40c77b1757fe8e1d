"""The domain vocabulary in one place: contracts, tiers, levels, dimensions, statuses, patterns, licences.

Every other module takes these names from here. It imports nothing heavy (no Pydantic), so the
fast ``archiver validate`` path can use it too. The JSON Schemas in ``schemas/`` are the public
contract; tests/test_vocabulary.py holds this module and them to the same words.
"""

from __future__ import annotations

import enum
from typing import Final

# --------------------------------------------------------------------------- contracts

MANIFEST_CONTRACT: Final = "paper-manifest-v1.1"
CORRECTION_CONTRACT: Final = "correction-record-v1"
PROVENANCE_CONTRACT: Final = "source-provenance-v1"
CONTRACTS = (MANIFEST_CONTRACT, CORRECTION_CONTRACT, PROVENANCE_CONTRACT)


# --------------------------------------------------------------------------- closed vocabularies


class Tier(str, enum.Enum):
    """Quality tier, lowest first."""

    QUARANTINE = "Quarantine candidate"
    WATCHLIST = "Watchlist"
    DOI_GRADE = "DOI grade"


class Level(str, enum.Enum):
    """Verification level and public provenance level."""

    L1 = "L1"  # literature synthesis
    L2 = "L2"  # source-grounded claims
    L3 = "L3"
    L4 = "L4"  # external archival record (public provenance once a DOI is registered)


class DimensionLevel(str, enum.Enum):
    """Rating of a quality dimension, lowest first."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class GateStatus(str, enum.Enum):
    """Gate 2 (Truth-Engine) verdict."""

    UNVERIFIED = "Unverified"
    VERIFIED = "VERIFIED"


class CorrectionStatus(str, enum.Enum):
    CURRENT = "CURRENT"
    CORRECTED = "CORRECTED"
    RETRACTED = "RETRACTED"
    WITHDRAWN = "WITHDRAWN"


class ExternalStatus(str, enum.Enum):
    REGISTERED = "Registered"
    NOT_REGISTERED = "Not registered"


class ArtifactStatus(str, enum.Enum):
    AVAILABLE = "Available"
    NOT_AVAILABLE = "Not available"


class Environment(str, enum.Enum):
    """Where a deposit goes; the sandbox is the default."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"


def values(vocabulary: type[enum.Enum]) -> tuple[str, ...]:
    """The values of a vocabulary, in its order."""
    return tuple(member.value for member in vocabulary)


# The four quality dimensions, in page order; a page labels each in words ("Evidence strength").
DIMENSION_NAMES = ("evidence_strength", "citation_grounding", "uncertainty_disclosure", "reproducibility_status")
DIMENSION_BY_LABEL = {name.replace("_", " "): name for name in DIMENSION_NAMES}
DIMENSION_RANK = {level: rank for rank, level in enumerate(values(DimensionLevel))}

# Plain-string names of the values the rules compare against (an enum member's .value is a
# property lookup; these run once per record on the validate path).
L1 = Level.L1.value
L4 = Level.L4.value
VERIFIED = GateStatus.VERIFIED.value
CORRECTED = CorrectionStatus.CORRECTED.value
REGISTERED = ExternalStatus.REGISTERED.value
AVAILABLE = ArtifactStatus.AVAILABLE.value
NOT_REGISTERED = ExternalStatus.NOT_REGISTERED.value
QUARANTINE = Tier.QUARANTINE.value
WATCHLIST = Tier.WATCHLIST.value
DOI_GRADE = Tier.DOI_GRADE.value
L4_LABEL = "External archival record"  # the label public provenance L4 carries

# Basis sentences seen on the pages, and the tier each one speaks for.
BASIS_PHRASES = (
    ("below 5.0", QUARANTINE),
    ("below doi-grade threshold", WATCHLIST),
    ("meet doi-grade", DOI_GRADE),
)


# --------------------------------------------------------------------------- patterns

RECORD_ID_PREFIX = "SRCH:"
RECORD_ID_HEX = "[0-9A-F]{8}"  # a record id is a 32-bit number in eight upper-case hex digits
RECORD_ID_BODY = RECORD_ID_PREFIX + RECORD_ID_HEX  # unanchored: Frictionless field patterns match the whole cell
RECORD_ID_PATTERN = f"^{RECORD_ID_BODY}$"
# [0-9], not \d: pydantic-core's regex reads \d as any Unicode digit, ECMA-262 (the schemas) as ASCII.
DOI_PATTERN = r"^10\.[0-9]{4,9}/\S+$"
# The doi field of the data package's records resource. Written with \d as exports have always
# carried it; every DOI that reaches a CSV has already matched DOI_PATTERN.
PACKAGE_DOI_PATTERN = r"10\.\d{4,9}/\S+"
ORCID_PATTERN = r"^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]$"


# --------------------------------------------------------------------------- licences

# Zenodo licence ids accepted for an open-access deposit; the policy refuses any other.
LICENSES = frozenset(
    {
        "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0",
        "cc0-1.0", "cc-zero", "mit", "apache-2.0", "odc-by-1.0", "odbl-1.0", "pddl-1.0",
    }
)
# How a data package names a licence (SPDX id, URL, title); others are named by their Zenodo id.
LICENSE_INFO = {
    "cc-by-4.0": ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/", "Creative Commons Attribution 4.0"),
    "cc-by-sa-4.0": ("CC-BY-SA-4.0", "https://creativecommons.org/licenses/by-sa/4.0/", "Creative Commons Attribution Share-Alike 4.0"),
    "cc0-1.0": ("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0"),
    "cc-zero": ("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0"),
}
