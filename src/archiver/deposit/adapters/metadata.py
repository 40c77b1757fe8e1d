"""A record's deposit metadata: one neutral description, mapped to each Zenodo API's payload and checked before sending.

``describe`` (deposit/description.py) reads the record and the policy once; ``legacy_payload`` and ``records_payload`` say it
in the deposit API's and the records API's words (the README's mapping table lists both, and what
DataCite receives). Every vocabulary entry sent is checked against Zenodo's own vocabularies
(zenodo/vocabularies.py) first, and ``unkept`` compares what a save answered with what was sent, so
that a field Zenodo silently dropped or changed is an error before publish, never a DOI.
"""

from __future__ import annotations

import html
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archiver.deposit.description import RELATION, RESOURCE_TYPE, Creator, Description
from archiver.findings import ArchiverError
from archiver.zenodo import vocabularies
from archiver.zenodo.vocabularies import ZENODO, Terms


def _invalid(record_id: str, where: str, message: str) -> ArchiverError:
    return ArchiverError(f"deposit metadata for {record_id}: {where}: {message}", code="metadata-invalid")


# --------------------------------------------------------------------------- the legacy deposit API


class LegacyCreator(BaseModel):
    """A legacy deposit creator: Zenodo stores every one as a person ("Family, Given")."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1)]
    affiliation: str | None = None
    orcid: str | None = None


class LegacyRelatedIdentifier(BaseModel):
    model_config = ConfigDict(extra="forbid")
    identifier: Annotated[str, Field(min_length=1)]
    relation: Literal["isIdenticalTo"]
    resource_type: str | None = None


class LegacyMetadata(BaseModel):
    """The legacy deposit metadata archiver sends; checked here before anything is sent."""

    model_config = ConfigDict(extra="forbid")
    upload_type: Literal["publication"] = "publication"
    publication_type: Literal["report"] = "report"
    publication_date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    # Zenodo refuses titles, descriptions and notes shorter than 3 characters at publish.
    title: Annotated[str, Field(min_length=3, max_length=1000)]
    creators: Annotated[list[LegacyCreator], Field(min_length=1)]
    description: Annotated[str, Field(min_length=3)]
    access_right: Literal["open"] = "open"
    license: Annotated[str, Field(min_length=1)]
    keywords: list[str] = []
    notes: Annotated[str, Field(min_length=3)]
    version: str
    language: str = "eng"
    related_identifiers: list[LegacyRelatedIdentifier] = []
    communities: list[dict[str, str]] | None = None  # asked for at publish; read back after it


def legacy_payload(described: Description) -> dict:
    """The ``metadata`` of a legacy deposition (see the README's mapping table)."""
    payload = {
        "upload_type": "publication",
        "publication_type": "report",
        "publication_date": described.publication_date,
        "title": described.title,
        # every creator is a person on this API; an organisation's name becomes a family name
        "creators": [
            {"name": c.name, **({"affiliation": c.affiliation} if c.affiliation else {}), **({"orcid": c.orcid} if c.orcid else {})}
            for c in described.creators
        ],
        "description": described.description_html,
        "access_right": "open",
        "license": described.license,
        "keywords": list(described.keywords),
        "notes": described.notes,
        "version": described.version,
        "language": described.languages[0] if described.languages else "eng",
        "related_identifiers": [
            {"identifier": described.related_url, "relation": "isIdenticalTo", "resource_type": RESOURCE_TYPE}
        ] if described.related_url else [],
    }
    if described.communities:
        payload["communities"] = [{"identifier": slug} for slug in described.communities]
    try:
        return LegacyMetadata.model_validate(payload).model_dump(exclude_none=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise _invalid(described.record_id, ".".join(str(part) for part in first["loc"]), first["msg"]) from None


# --------------------------------------------------------------------------- the records API


def _creator(creator: Creator) -> dict:
    if creator.organisation:
        person_or_org: dict = {"type": "organizational", "name": creator.name}
        if creator.ror:
            person_or_org["identifiers"] = [{"scheme": "ror", "identifier": creator.ror}]
    else:
        family, _, given = creator.name.partition(",")
        person_or_org = {"type": "personal", "family_name": family.strip(), **({"given_name": given.strip()} if given.strip() else {})}
        if creator.orcid:
            person_or_org["identifiers"] = [{"scheme": "orcid", "identifier": creator.orcid}]
    entry: dict = {"person_or_org": person_or_org}
    if creator.affiliation_ror:
        entry["affiliations"] = [{"id": creator.affiliation_ror}]
    elif creator.affiliation:
        entry["affiliations"] = [{"name": creator.affiliation}]
    return entry


def records_payload(described: Description, terms: Terms = ZENODO) -> dict:
    """The draft body of the records API (``/api/records``): metadata, access and files, in the
    vocabularies of ``terms`` (Zenodo's, or a plain InvenioRDM's)."""
    metadata: dict = {
        "resource_type": {"id": RESOURCE_TYPE},
        "title": described.title,
        "publication_date": described.publication_date,
        "creators": [_creator(creator) for creator in described.creators],
        "description": described.description_html,
        "additional_descriptions": [{"description": described.notes, "type": {"id": terms.notes_type}}],
        # The records API takes licence ids as its vocabulary has them (cc-zero is cc0-1.0 there).
        "rights": [{"id": vocabularies.legacy_license_as_stored(described.license)}],
        "subjects": [{"subject": keyword} for keyword in described.keywords],
        "languages": [{"id": language} for language in described.languages],
        "version": described.version,
        "publisher": described.publisher,  # Zenodo's DataCite provider refuses to publish without one
    }
    if described.related_url:
        metadata["related_identifiers"] = [
            {"identifier": described.related_url, "scheme": "url", "relation_type": {"id": RELATION}, "resource_type": {"id": RESOURCE_TYPE}}
        ]
    check_records_payload(described.record_id, metadata, terms)
    return {"metadata": metadata, "access": {"record": "public", "files": "public"}, "files": {"enabled": True}}


def check_records_payload(record_id: str, metadata: dict, terms: Terms = ZENODO) -> None:
    """Refuse locally what the repository would refuse at save or at publish: ids outside its
    vocabularies (``terms``), ORCIDs whose check digit is wrong, texts under three characters, no publisher."""
    for name in ("title", "description", "publisher"):
        if len(str(metadata.get(name, "")).strip()) < 3:
            raise _invalid(record_id, f"metadata.{name}", "needs at least 3 characters (Zenodo drops or refuses shorter)")
    if not metadata.get("creators"):
        raise _invalid(record_id, "metadata.creators", "at least one creator is needed")
    words = {"resource_types": "resource type", "licenses": "licence", "languages": "language", "relation_types": "relation type",
             "description_types": "description type"}
    for kind, where, entry in vocabulary_entries(metadata):
        if not terms.knows(kind, entry):
            raise _invalid(record_id, where, f"{entry!r} is not in {terms.owner} {words[kind]} vocabulary")
    for index, related in enumerate(metadata.get("related_identifiers", [])):
        if related["scheme"] not in vocabularies.ids("identifier_schemes"):
            raise _invalid(record_id, f"metadata.related_identifiers.{index}.scheme", f"{related['scheme']!r} is not an identifier scheme")
    for index, creator in enumerate(metadata["creators"]):
        for number, identifier in enumerate(creator["person_or_org"].get("identifiers", [])):
            if identifier["scheme"] == "orcid" and not vocabularies.orcid_checksum_ok(identifier["identifier"]):
                raise _invalid(
                    record_id, f"metadata.creators.{index}.person_or_org.identifiers.{number}.identifier",
                    f"ORCID {identifier['identifier']} fails its check digit",
                )


def vocabulary_entries(metadata: dict) -> list[tuple[str, str, str]]:
    """Each vocabulary entry a records-API body names: (vocabulary, where in the body, id)."""
    entries = [("resource_types", "metadata.resource_type.id", metadata["resource_type"]["id"])]
    entries += [("licenses", f"metadata.rights.{i}.id", right["id"]) for i, right in enumerate(metadata.get("rights", []))]
    entries += [("languages", f"metadata.languages.{i}.id", language["id"]) for i, language in enumerate(metadata.get("languages", []))]
    entries += [("relation_types", f"metadata.related_identifiers.{i}.relation_type.id", related["relation_type"]["id"])
                for i, related in enumerate(metadata.get("related_identifiers", []))]
    entries += [("description_types", f"metadata.additional_descriptions.{i}.type.id", description["type"]["id"])
                for i, description in enumerate(metadata.get("additional_descriptions", []))]
    return entries


# --------------------------------------------------------------------------- read back after a save


def _same_text(path: str, a: object, b: object) -> bool:
    """Equal, HTML descriptions compared as text: Zenodo sanitises HTML, which may spell an entity
    or a blank otherwise (``&#x27;`` as ``'``) without changing what the page shows."""
    if a == b:
        return True
    if path.endswith("description") and isinstance(a, str) and isinstance(b, str):
        return " ".join(html.unescape(a).split()) == " ".join(html.unescape(b).split())
    return False


def unkept(sent: object, stored: object, path: str = "metadata", *, same=_same_text) -> list[str]:
    """Where ``stored`` (a save's answer) differs from ``sent``: a field dropped, or a value other
    than the one sent. Keys the server adds are fine; ``same`` allows the server's known renamings."""
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return [path]
        differences = []
        for key, value in sent.items():
            if key not in stored:
                differences.append(f"{path}.{key}")
            else:
                differences.extend(unkept(value, stored[key], f"{path}.{key}", same=same))
        return differences
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) != len(sent):
            return [path]
        return [difference for index, (a, b) in enumerate(zip(sent, stored, strict=True)) for difference in unkept(a, b, f"{path}.{index}", same=same)]
    return [] if same(path, sent, stored) else [path]


def legacy_unkept(sent: dict, stored: dict) -> list[str]:
    """The legacy API's read-back: the licence comes back renamed (cc0-1.0 as cc-zero), as Zenodo serialises it."""

    def same(path: str, a: object, b: object) -> bool:
        if path == "metadata.license" and isinstance(a, str):
            return b in (a, vocabularies.legacy_license_as_read(a)) or (isinstance(b, dict) and b.get("id") == vocabularies.legacy_license_as_read(a))
        return _same_text(path, a, b)

    # communities are added at publish (and read back then), not kept by a save
    return unkept({key: value for key, value in sent.items() if key != "communities"}, stored, same=same)


# --------------------------------------------------------------------------- what a published deposition shows, in public fields

# Each API's metadata keys, by the public field (deposit/description.py) they show.
_LEGACY_FIELDS = {
    "title": "title", "description": "description", "creators": "creators", "license": "license", "keywords": "keywords",
    "notes": "notes", "related_identifiers": "related_identifiers", "language": "languages", "communities": "communities",
    "upload_type": "resource_type", "publication_type": "resource_type", "publication_date": "publication_date",
    "version": "version", "access_right": "access",
}
_RECORDS_FIELDS = {
    "title": "title", "description": "description", "creators": "creators", "publisher": "publisher", "rights": "license",
    "subjects": "keywords", "related_identifiers": "related_identifiers", "languages": "languages",
    "additional_descriptions": "notes", "resource_type": "resource_type", "publication_date": "publication_date",
    "version": "version",
}


def _fields_of(paths: list[str], names: dict[str, str]) -> tuple[str, ...]:
    """Public field names of difference paths (``metadata.creators.0.name`` is ``creators``)."""
    found = []
    for path in paths:
        key = path.removeprefix("metadata.").split(".", 1)[0]
        found.append(names.get(key, key))
    return tuple(dict.fromkeys(found))


def legacy_changes(sent: dict, stored: dict) -> tuple[str, ...]:
    """The public fields a legacy deposition's ``stored`` metadata shows otherwise than ``sent``
    would (the licence's renaming allowed; communities compared as a set, as they are added)."""
    changed = list(_fields_of(legacy_unkept(sent, stored), _LEGACY_FIELDS))
    wanted = {entry.get("identifier") for entry in sent.get("communities") or []}
    held = {entry.get("identifier") for entry in stored.get("communities") or [] if isinstance(entry, dict)}
    if wanted != held:
        changed.append("communities")
    return tuple(dict.fromkeys(changed))


def records_changes(sent: dict, stored: dict) -> tuple[str, ...]:
    """The public fields a records-API record's ``stored`` metadata shows otherwise than the body
    ``sent`` would (an HTML description compared as text)."""
    return _fields_of(unkept(sent["metadata"], stored), _RECORDS_FIELDS)


def _diff(sent: dict, stored: dict, names: dict[str, str], changed: tuple[str, ...]) -> list[dict]:
    """Field by field, what the repository holds now and what it will hold, in the API's own keys."""
    rows = []
    for field in changed:
        keys = [key for key, name in names.items() if name == field] or [field]
        now = {key: stored[key] for key in keys if key in stored}
        will = {key: sent[key] for key in keys if key in sent}
        rows.append({"field": field, "now": now[keys[0]] if list(now) == keys[:1] else now,
                     "will": will[keys[0]] if list(will) == keys[:1] else will})
    return rows


def legacy_diff(sent: dict, stored: dict) -> list[dict]:
    return _diff(sent, stored, _LEGACY_FIELDS, legacy_changes(sent, stored))


def records_diff(sent: dict, stored: dict) -> list[dict]:
    return _diff(sent["metadata"], stored, _RECORDS_FIELDS, records_changes(sent, stored))
