"""The double's validation of legacy metadata, as Zenodo's legacy deserializer and its strict
publish schema check it: vocabularies, dates, creators, related identifiers detected with idutils
(the library Zenodo uses) and ORCID check digits."""

from __future__ import annotations

import re

from archiver.zenodo import vocabularies

UPLOAD_TYPES = {"publication", "poster", "presentation", "dataset", "image", "video", "software", "lesson", "physicalobject", "other"}
PUBLICATION_TYPES = {"report", "workingpaper", "preprint", "article", "technicalnote", "book", "section", "conferencepaper", "thesis", "other"}
ACCESS_RIGHTS = {"open", "embargoed", "restricted", "closed"}
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# InvenioRDM's RDM_RECORDS_IDENTIFIERS_SCHEMES (Zenodo does not override it): the schemes a related
# identifier may be detected as; the first one idutils detects among these is taken.
IDENTIFIER_SCHEMES = (
    "ark", "arxiv", "ads", "crossreffunderid", "cstr", "doi", "ean13", "eissn", "grid", "handle", "igsn", "isbn",
    "isni", "issn", "istc", "lissn", "lsid", "pmid", "purl", "rrid", "upc", "url", "urn", "wikidata", "w3id", "other",
)


_idutils = None


def _load_idutils():
    global _idutils
    if _idutils is None:
        try:
            import idutils  # Zenodo's own scheme detection; loaded on first use (it takes a moment)
        except ImportError:
            raise RuntimeError("the Zenodo double needs idutils to check related identifiers: pip install 'archiver[double]'") from None
        _idutils = idutils
    return _idutils


def detect_schemes(identifier: str) -> list[str]:
    return list(_load_idutils().detect_identifier_schemes(identifier))


def orcid_valid(orcid: str) -> bool:
    """idutils' is_orcid, as Zenodo checks an ORCID at publish (the ISO 7064 check digit included)."""
    return bool(_load_idutils().is_orcid(orcid))


def _related_identifier_errors(related: object) -> list[dict]:
    """The legacy deserializer's checks, with its fields and messages."""
    if not isinstance(related, list):
        return [{"field": "metadata.related_identifiers", "messages": ["related_identifiers must be a list"]}]
    errors = []
    for index, item in enumerate(related):
        if not isinstance(item, dict):
            errors.append({"field": f"metadata.related_identifiers.{index}", "messages": ["Each related identifier must be an object"]})
            continue
        if not isinstance(item.get("relation"), str):
            errors.append({"field": f"metadata.related_identifiers.{index}.relation", "messages": ["relation must be a string"]})
            continue
        schemes = [scheme for scheme in detect_schemes(str(item.get("identifier", ""))) if scheme in IDENTIFIER_SCHEMES]
        if not schemes:
            errors.append({"field": "metadata.related_identifiers.scheme", "messages": ["No valid scheme recognized for identifier."]})
    return errors


def metadata_errors(metadata: object, *, at_publish: bool) -> list[dict]:
    if not isinstance(metadata, dict):
        return [{"field": "metadata", "messages": ["Invalid input type."]}]
    errors = []

    def bad(name: str, message: str) -> None:
        errors.append({"field": f"metadata.{name}", "messages": [message]})

    if "license" in metadata and not (
        isinstance(metadata["license"], str) and vocabularies.is_license(vocabularies.legacy_license_as_stored(metadata["license"]))
    ):
        bad("license", f"Invalid license provided: {metadata['license']}")
    if "language" in metadata and metadata["language"] not in vocabularies.ids("languages"):
        bad("language", f"Invalid value {metadata['language']}.")
    if "upload_type" in metadata and metadata["upload_type"] not in UPLOAD_TYPES:
        bad("upload_type", "Invalid upload type.")
    if metadata.get("upload_type") == "publication" and "publication_type" in metadata and metadata["publication_type"] not in PUBLICATION_TYPES:
        bad("publication_type", "Invalid publication type.")
    if "access_right" in metadata and metadata["access_right"] not in ACCESS_RIGHTS:
        bad("access_right", "Invalid access right.")
    if "publication_date" in metadata and not (isinstance(metadata["publication_date"], str) and _DATE.match(metadata["publication_date"])):
        bad("publication_date", "Not a valid date.")
    creators = metadata.get("creators")
    if creators is not None and (not isinstance(creators, list) or not all(isinstance(c, dict) and c.get("name") for c in creators)):
        bad("creators", "Each creator needs a name.")
    if not at_publish and "related_identifiers" in metadata:
        errors.extend(_related_identifier_errors(metadata["related_identifiers"]))
    if at_publish:
        for name in ("title", "upload_type", "publication_date"):
            if not metadata.get(name):
                bad(name, "Missing data for required field.")
        if not metadata.get("creators"):
            bad("creators", "Missing data for required field.")
        for name in ("title", "notes"):  # the strict schema at publish; a short description was dropped at save
            value = metadata.get(name)
            if isinstance(value, str) and value and len(value.strip()) < 3:
                bad(name, "Missing data for required field.")
        for index, creator in enumerate(metadata.get("creators") or []):
            if isinstance(creator, dict) and creator.get("orcid") and not orcid_valid(str(creator["orcid"])):
                errors.append({"field": f"metadata.creators.{index}.person_or_org.identifiers.0.identifier", "messages": ["Invalid ORCID identifier."]})
    return errors
