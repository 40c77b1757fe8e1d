"""The double's records API in data: one store, two shapes (legacy metadata <-> InvenioRDM's),
the lenient save and the strict publish of a draft, a record as the records API shows it, and
what publishing and a curator's decision do to the store."""

from __future__ import annotations

from collections.abc import Callable

from archiver.zenodo import vocabularies
from archiver.zenodo.double.checks import IDENTIFIER_SCHEMES, detect_schemes, orcid_valid
from archiver.zenodo.double.store import Deposition, DoubleState

UI_JSON = "application/vnd.inveniordm.v1+json"
METADATA_KEYS = frozenset({
    "resource_type", "title", "publication_date", "creators", "description", "additional_descriptions", "rights", "subjects",
    "languages", "version", "publisher", "related_identifiers", "contributors", "dates", "identifiers", "funding", "references",
    "additional_titles", "formats", "sizes", "locations",
})
VOCABULARY_FIELDS = (  # (where, vocabulary): an unknown id there is a 400 at save
    ("resource_type", "resource_types"),
    ("rights", "licenses"),
    ("languages", "languages"),
)


# --------------------------------------------------------------------------- one store, two shapes


def legacy_from_rdm(rdm: dict) -> dict:
    """The legacy metadata the deposit API shows for a draft or record written through the records API."""
    legacy: dict = {}
    for key in ("title", "publication_date", "description", "version"):
        if key in rdm:
            legacy[key] = rdm[key]
    resource = (rdm.get("resource_type") or {}).get("id", "")
    if resource:
        upload, _, publication = resource.partition("-")
        legacy["upload_type"] = upload
        if publication:
            legacy["publication_type"] = publication
    creators = []
    for creator in rdm.get("creators", []):
        person = creator.get("person_or_org", {})
        if person.get("type") == "organizational":
            name = person.get("name", "")
        else:
            name = ", ".join(part for part in (person.get("family_name"), person.get("given_name")) if part)
        entry: dict = {"name": name}
        affiliations = creator.get("affiliations") or []
        if affiliations:
            entry["affiliation"] = affiliations[0].get("name") or affiliations[0].get("id")
        orcid = next((i["identifier"] for i in person.get("identifiers", []) if i.get("scheme") == "orcid"), None)
        if orcid:
            entry["orcid"] = orcid
        creators.append(entry)
    if creators:
        legacy["creators"] = creators
    legacy["keywords"] = [s["subject"] for s in rdm.get("subjects", []) if isinstance(s, dict) and "subject" in s]
    notes = next((d["description"] for d in rdm.get("additional_descriptions", []) if (d.get("type") or {}).get("id") == "notes"), None)
    if notes:
        legacy["notes"] = notes
    if rdm.get("rights"):
        legacy["license"] = vocabularies.legacy_license_as_read(rdm["rights"][0].get("id", ""))
        legacy["access_right"] = "open"
    if rdm.get("languages"):
        legacy["language"] = rdm["languages"][0].get("id")
    related = [
        {"identifier": r["identifier"], "relation": vocabularies.datacite("relation_types", r["relation_type"]["id"]) or r["relation_type"]["id"],
         "scheme": r.get("scheme")}
        for r in rdm.get("related_identifiers", [])
    ]
    if related:
        legacy["related_identifiers"] = related
    return legacy


def rdm_from_legacy(legacy: dict) -> dict:
    """The records-API metadata of a deposition written through the legacy API (its deserializer's
    mapping): every creator a person, the publisher Zenodo, keywords as subjects, notes as an
    additional description."""
    rdm: dict = {key: legacy[key] for key in ("title", "publication_date", "description", "version") if key in legacy}
    kind = legacy.get("upload_type")
    if kind:
        rdm["resource_type"] = {"id": f"{kind}-{legacy['publication_type']}" if legacy.get("publication_type") else kind}
    creators = []
    for creator in legacy.get("creators", []):
        family, _, given = str(creator.get("name", "")).partition(",")
        person: dict = {"type": "personal", "family_name": family.strip(), **({"given_name": given.strip()} if given.strip() else {})}
        if creator.get("orcid"):
            person["identifiers"] = [{"scheme": "orcid", "identifier": creator["orcid"]}]
        creators.append({"person_or_org": person, **({"affiliations": [{"name": creator["affiliation"]}]} if creator.get("affiliation") else {})})
    rdm["creators"] = creators
    rdm["subjects"] = [{"subject": keyword} for keyword in legacy.get("keywords", [])]
    if legacy.get("notes"):
        rdm["additional_descriptions"] = [{"description": legacy["notes"], "type": {"id": "notes"}}]
    if legacy.get("license"):
        rdm["rights"] = [{"id": vocabularies.legacy_license_as_stored(legacy["license"])}]
    if legacy.get("language"):
        rdm["languages"] = [{"id": legacy["language"]}]
    rdm["publisher"] = "Zenodo"
    return rdm


def rdm_metadata(dep: Deposition) -> dict:
    return dep.rdm if dep.rdm is not None else rdm_from_legacy(dep.metadata)


# --------------------------------------------------------------------------- the lenient save


def field_error(field: str, message: str) -> dict:
    return {"field": field, "messages": [message]}


def _short(value: object) -> bool:
    return not isinstance(value, str) or len(value.strip()) < 3


def save(metadata: object, vocabulary_ids: Callable[[str], frozenset[str]] = vocabularies.ids) -> tuple[dict, list[dict], str | None]:
    """(what is stored, the lenient errors, a vocabulary refusal that makes the save a 400), in the
    vocabularies ``vocabulary_ids`` gives (Zenodo's, or a plain InvenioRDM's)."""

    if not isinstance(metadata, dict):
        return {}, [field_error("metadata", "Invalid input type.")], None
    for name, vocabulary in VOCABULARY_FIELDS:
        entries = metadata.get(name)
        for entry in entries if isinstance(entries, list) else [entries] if entries is not None else []:
            value = entry.get("id") if isinstance(entry, dict) else entry
            if value not in vocabulary_ids(vocabulary):
                return {}, [], f"Invalid value {value}."
    for related in metadata.get("related_identifiers") or []:
        relation = (related.get("relation_type") or {}).get("id") if isinstance(related, dict) else None
        if relation not in vocabulary_ids("relation_types"):
            return {}, [], f"Invalid value {relation}."
    for described in metadata.get("additional_descriptions") or []:
        kind = (described.get("type") or {}).get("id") if isinstance(described, dict) else None
        if kind not in vocabulary_ids("description_types"):
            return {}, [], f"Invalid value {kind}."
    kept: dict = {}
    errors: list[dict] = []
    for key, value in metadata.items():
        if key not in METADATA_KEYS:
            errors.append(field_error(f"metadata.{key}", "Unknown field."))
        elif key in ("title", "description", "publisher") and _short(value):
            errors.append(field_error(f"metadata.{key}", "Shorter than minimum length 3."))
        elif key == "creators":
            creators = []
            for index, creator in enumerate(value if isinstance(value, list) else []):
                person = creator.get("person_or_org", {}) if isinstance(creator, dict) else {}
                kind = person.get("type")
                if kind == "organizational" and person.get("name") or kind == "personal" and person.get("family_name"):
                    creators.append(creator)
                else:
                    errors.append(field_error(f"metadata.creators.{index}.person_or_org", "Missing data for required field."))
            kept[key] = creators
        elif key == "related_identifiers":
            kept_related = []
            for index, related in enumerate(value if isinstance(value, list) else []):
                scheme = related.get("scheme")
                detected = [s for s in detect_schemes(str(related.get("identifier", ""))) if s in IDENTIFIER_SCHEMES]
                if scheme not in vocabularies.ids("identifier_schemes") or scheme not in detected:
                    errors.append(field_error(f"metadata.related_identifiers.{index}.identifier", f"Invalid {scheme} identifier."))
                else:
                    kept_related.append(related)
            kept[key] = kept_related
        elif key == "additional_descriptions":
            kept_described = []
            for index, described in enumerate(value if isinstance(value, list) else []):
                if _short(described.get("description")):
                    errors.append(field_error(f"metadata.additional_descriptions.{index}.description", "Shorter than minimum length 3."))
                else:
                    kept_described.append(described)
            kept[key] = kept_described
        else:
            kept[key] = value
    if "publisher" not in kept:
        errors.append(field_error("metadata.publisher", "Missing publisher field required for DOI registration."))
    return kept, errors, None


def publish_errors(dep: Deposition) -> list[dict]:
    """The strict validation of publish, first failing group only (schema, then files, then the DOI's publisher)."""

    metadata = rdm_metadata(dep)
    errors = []
    for name in ("resource_type", "title", "publication_date"):
        if not metadata.get(name):
            errors.append(field_error(f"metadata.{name}", "Missing data for required field."))
    if not metadata.get("creators"):
        errors.append(field_error("metadata.creators", "Missing data for required field."))
    for index, creator in enumerate(metadata.get("creators", [])):
        for number, identifier in enumerate(creator.get("person_or_org", {}).get("identifiers", [])):
            if identifier.get("scheme") == "orcid" and not orcid_valid(str(identifier.get("identifier", ""))):
                errors.append(field_error(f"metadata.creators.{index}.person_or_org.identifiers.{number}.identifier", "Invalid ORCID identifier."))
    if errors:
        return errors
    if not any(not f.pending for f in dep.files):
        return [field_error("files.enabled", "Missing uploaded files. To disable files for this record please mark it as metadata-only.")]
    if not metadata.get("publisher"):
        return [field_error("metadata.publisher", "Missing publisher field required for DOI registration.")]
    return []


# --------------------------------------------------------------------------- views


def _doi(identifier: str) -> dict:
    return {"identifier": identifier, "provider": "datacite", "client": "datacite"}


def view(state: DoubleState, dep: Deposition) -> dict:
    """A draft or record in the records API's own JSON (the shape Zenodo answers with the UI JSON Accept)."""
    base = state.base_url
    api = f"{base}/api"
    published_concept = dep.conceptrecid in state.published_concepts
    if dep.submitted:
        status = "published"
    elif dep.review is not None and dep.review["status"] == "submitted":
        status = "in_review"
    elif dep.review is not None:
        status = "draft_with_review"
    else:
        status = "new_version_draft" if published_concept else "draft"
    record_or_draft = "/draft" if not dep.submitted or dep.editing else ""
    pid = state.pid(dep.id)
    body = {
        "id": pid,
        "created": dep.created,
        "updated": dep.modified,
        "revision_id": dep.revision,
        "is_published": dep.submitted,
        "is_draft": not dep.submitted or dep.editing,  # an edit: is_published and is_draft
        "status": status,
        "pids": {"doi": _doi(dep.doi)} if dep.doi else {},
        "versions": {"index": state.version_index(dep), "is_latest_draft": not dep.submitted},
        "parent": {
            "id": state.pid(dep.conceptrecid),
            "pids": {"doi": _doi(state.minted(dep.conceptrecid))} if published_concept else {},
            "communities": {"ids": list(dep.communities), "entries": [{"id": c} for c in dep.communities]},
            **({"review": {"id": dep.review["id"], "status": dep.review["status"], "type": "community-submission",
                           "receiver": {"community": dep.review["community"]}}} if dep.review is not None else {}),
        },
        "metadata": rdm_metadata(dep),
        "access": {"record": "public", "files": "public"},
        "files": {
            "enabled": True,
            "entries": {f.filename: file_entry(state, dep, f) for f in dep.files},
        },
        "links": {
            "self": f"{api}/records/{pid}{record_or_draft}",
            "self_html": f"{base}/records/{pid}" if dep.submitted else f"{base}/uploads/{pid}",
            "files": f"{api}/records/{pid}{record_or_draft}/files",
            "versions": f"{api}/records/{pid}/versions",
            **({} if dep.submitted else {"publish": f"{api}/records/{pid}/draft/actions/publish",
                                         "review": f"{api}/records/{pid}/draft/review"}),
        },
    }
    return body


def hit_from_legacy_view(state: DoubleState, legacy: dict) -> dict:
    """A search hit in the records API's shape, from what the index holds (the legacy view it shows
    until it refreshes), so that both endpoints lag alike."""
    number = state.internal(str(legacy["id"]))
    dep = state.depositions.get(number) if number is not None else None
    return {
        "id": str(legacy["id"]),
        "created": legacy.get("created"),
        **({"versions": {"index": state.version_index(dep)}} if dep is not None else {}),
        "is_published": legacy.get("submitted", False),
        "status": "published" if legacy.get("submitted") else "draft",
        "pids": {"doi": _doi(legacy["doi"])} if legacy.get("doi") else {},
        "parent": {"id": legacy.get("conceptrecid"), **({"pids": {"doi": _doi(legacy["conceptdoi"])}} if legacy.get("conceptdoi") else {})},
        "metadata": rdm_from_legacy(legacy.get("metadata", {})),
        "files": {"enabled": True, "entries": {f["filename"]: {"key": f["filename"], "checksum": f"md5:{f['checksum']}", "status": "completed"}
                                               for f in legacy.get("files", [])}},
    }


def file_entry(state: DoubleState, dep: Deposition, stored) -> dict:
    api = f"{state.base_url}/api/records/{state.pid(dep.id)}/draft/files/{stored.filename}"
    entry = {"key": stored.filename, "status": "pending" if stored.pending else "completed",
             "links": {"self": api, "content": f"{api}/content", "commit": f"{api}/commit"}}
    if not stored.pending:
        entry.update(checksum=f"md5:{stored.data_md5}", size=stored.size, mimetype="application/octet-stream")
    return entry


def files_listing(state: DoubleState, dep: Deposition) -> dict:
    return {"enabled": True, "entries": [file_entry(state, dep, f) for f in dep.files],
            "links": {"self": f"{state.base_url}/api/records/{state.pid(dep.id)}/draft/files"}}


# --------------------------------------------------------------------------- routes


def publish_now(state: DoubleState, dep: Deposition) -> None:
    """Publish under the lock: the DOI minted, the concept's DOI too, the index to catch up."""
    state.reindex(dep)
    dep.doi = state.minted(dep.id)
    dep.state, dep.submitted, dep.modified = "done", True, state.now()
    dep.files = [f for f in dep.files if not f.pending]
    state.published_concepts.add(dep.conceptrecid)
    state.counters["publish"] += 1


def decide_review(state: DoubleState, record_id: int, accept: bool) -> bool:
    """A curator's decision (a test hook): accept publishes the draft into the community."""
    with state.lock:
        dep = state.depositions.get(record_id)
        if dep is None or dep.review is None or dep.review["status"] != "submitted":
            return False
        if accept:
            dep.review["status"] = "accepted"
            dep.communities.append(dep.review["community"])
            publish_now(state, dep)
        else:
            state.reindex(dep)
            dep.review["status"] = "declined"
        return True
