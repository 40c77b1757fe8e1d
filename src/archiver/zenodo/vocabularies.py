"""Zenodo's own controlled vocabularies, shipped as data (vocabulary_data/*.json, each naming its source and commit).

Licences come from zenodo-rdm ``app_data/vocabularies/licenses.csv`` with the legacy deposit API's
renaming (``legacy/zenodo_legacy/licenses.py``); languages, resource types and relation types from
invenio-rdm-records' fixtures; identifier schemes from its ``RDM_RECORDS_IDENTIFIERS_SCHEMES``.
archiver checks what it sends against them before anything is sent, so that a refusal Zenodo would
give at save or at publish comes first, locally, as a coded error. ORCID checksums (ISO 7064
mod 11-2) are computed, as idutils does for Zenodo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@cache
def _data(name: str) -> dict:
    data: dict = json.loads(resources.files("archiver.zenodo").joinpath("vocabulary_data", f"{name}.json").read_text(encoding="utf-8"))
    return data


@cache
def ids(name: str) -> frozenset[str]:
    """The ids of one vocabulary: licenses, languages, resource_types, relation_types, description_types, identifier_schemes."""
    return frozenset(_data(name)["ids"])


@cache
def invenio_default_ids(name: str) -> frozenset[str]:
    """The ids of one vocabulary as a plain InvenioRDM has them (invenio-rdm-records' fixtures):
    Zenodo's own for languages and identifier schemes, which Zenodo takes unchanged from them."""
    defaults = _data("invenio_defaults")
    return frozenset(defaults[name]) if name in defaults else ids(name)


def source(name: str) -> dict:
    """Where a vocabulary was read from: repository, path, commit."""
    return dict(_data(name)["source"])


def datacite(name: str, entry: str) -> object:
    """What DataCite receives for a vocabulary entry (resource types: general type; relation types: its spelling)."""
    return _data(name).get("datacite", {}).get(entry)


def depositable_resource_types() -> frozenset[str]:
    """Resource types a depositor may choose on Zenodo (the rest are for harvested records)."""
    return frozenset(_data("resource_types")["depositable_ids"])


def legacy_license_as_stored(license_id: str) -> str:
    """The records-API id the legacy deposit API stores for a licence id it is sent (case-insensitive)."""
    renamed = _data("licenses")["renamed_by_legacy_api"]["legacy_input_to_rdm_id"]
    key = license_id.strip().lower()
    return str(renamed.get(key, key))


def legacy_license_as_read(license_id: str) -> str:
    """The id the legacy deposit API answers with for a licence it was sent: ``cc0-1.0`` reads back
    ``cc-zero``, ``mit`` as ``mit-license`` (sent -> stored -> serialised)."""
    back = _data("licenses")["renamed_by_legacy_api"]["rdm_id_to_legacy_output"]
    stored = legacy_license_as_stored(license_id)
    return str(back.get(stored, stored))


def is_license(license_id: str) -> bool:
    return license_id in ids("licenses")


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 mod 11-2 over the first 15 digits of ``0000-0002-1825-0097`` form; the last is the check character."""
    digits = orcid.replace("-", "")
    if len(digits) != 16 or not digits[:15].isdigit() or not (digits[15].isdigit() or digits[15] == "X"):
        return False
    total = 0
    for digit in digits[:15]:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    return digits[15] == ("X" if check == 10 else str(check))


# ---------------------------------------------------------------------------- what a repository takes

# The vocabularies the records API's payload uses, by InvenioRDM's names for them (/api/vocabularies/{type}).
SERVED_AS = {"resource_types": "resourcetypes", "licenses": "licenses", "languages": "languages",
             "relation_types": "relationtypes", "description_types": "descriptiontypes"}


@dataclass(frozen=True)
class Terms:
    """The vocabularies a repository takes, as far as archiver sends them: Zenodo's, or those of a
    plain InvenioRDM (its default fixtures; the repository itself is asked before a run sends anything)."""

    owner: str  # whose vocabularies, for messages: "Zenodo's", "InvenioRDM's"
    notes_type: str  # the description type a record's notes go under

    def knows(self, kind: str, entry: str) -> bool:
        if self.owner == ZENODO.owner:
            return entry in (depositable_resource_types() if kind == "resource_types" else ids(kind))
        return entry in invenio_default_ids(kind)


# Zenodo files notes under its own description type; InvenioRDM has none such, and its "other" is
# what Zenodo's notes become at DataCite too (descriptionType Other).
ZENODO = Terms("Zenodo's", "notes")
INVENIO_DEFAULTS = Terms("InvenioRDM's", "other")
