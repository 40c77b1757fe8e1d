"""The double's records API (``/api/records``, ``/api/user/records``, ``/api/communities``), over the same store as the deposit API.

Grounded in invenio-rdm-records (its metadata schema, resources and REST tests, e.g.
``tests/resources/test_resources.py``, the review and files tests) and zenodo-rdm's configuration:

- a save (create, PUT) is lenient: vocabulary ids that do not exist (resource type, licence,
  language, relation type, description type) are a 400 "Invalid value X." at once; everything else
  the schema refuses is left out of the stored draft and listed in ``errors`` (only with
  ``Accept: application/vnd.inveniordm.v1+json``): titles and descriptions under 3 characters,
  unknown metadata keys, a creator without a name, a related identifier its scheme does not
  recognise (idutils), no publisher; a draft without files says so under ``files.enabled``;
- publish is strict: 400 with the first failing group (the schema: title, creators, dates,
  resource type, ORCID check digits "Invalid ORCID identifier."; then files; then publisher
  "Missing publisher field required for DOI registration."); a draft waiting for a review cannot
  be published directly; published: ``pids.doi`` ``10.5072/zenodo.{id}``, ``parent.pids.doi``;
- files: initialise keys (a key that exists: 400), PUT content (200, pending), commit (200, md5),
  delete (204); empty files are refused at commit;
- ``POST /records/{id}/versions``: a new draft without files, ``version`` dropped, publication date
  today; the open one when the concept has it;
- the owner's drafts and records are searched with the same query tree as the legacy list (the
  field map knows ``metadata.subjects.subject``, ``parent.id``, ``id``, ``pids.doi.identifier``);
- communities by slug; a draft submitted for review waits (``status`` "in_review",
  ``parent.review``) until a curator accepts (published) or declines; a curator of a community
  whose review policy is open includes directly: the submission is accepted and published at once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from archiver.zenodo import vocabularies

if TYPE_CHECKING:
    from archiver.zenodo.double.server import Deposition, DoubleState, _Handler

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


def _error(field: str, message: str) -> dict:
    return {"field": field, "messages": [message]}


def _short(value: object) -> bool:
    return not isinstance(value, str) or len(value.strip()) < 3


def save(metadata: object) -> tuple[dict, list[dict], str | None]:
    """(what is stored, the lenient errors, a vocabulary refusal that makes the save a 400)."""
    from archiver.zenodo.double.server import IDENTIFIER_SCHEMES, _detect_schemes

    if not isinstance(metadata, dict):
        return {}, [_error("metadata", "Invalid input type.")], None
    for name, vocabulary in VOCABULARY_FIELDS:
        entries = metadata.get(name)
        for entry in entries if isinstance(entries, list) else [entries] if entries is not None else []:
            value = entry.get("id") if isinstance(entry, dict) else entry
            if value not in vocabularies.ids(vocabulary):
                return {}, [], f"Invalid value {value}."
    for related in metadata.get("related_identifiers") or []:
        relation = (related.get("relation_type") or {}).get("id") if isinstance(related, dict) else None
        if relation not in vocabularies.ids("relation_types"):
            return {}, [], f"Invalid value {relation}."
    for described in metadata.get("additional_descriptions") or []:
        kind = (described.get("type") or {}).get("id") if isinstance(described, dict) else None
        if kind not in vocabularies.ids("description_types"):
            return {}, [], f"Invalid value {kind}."
    kept: dict = {}
    errors: list[dict] = []
    for key, value in metadata.items():
        if key not in METADATA_KEYS:
            errors.append(_error(f"metadata.{key}", "Unknown field."))
        elif key in ("title", "description", "publisher") and _short(value):
            errors.append(_error(f"metadata.{key}", "Shorter than minimum length 3."))
        elif key == "creators":
            creators = []
            for index, creator in enumerate(value if isinstance(value, list) else []):
                person = creator.get("person_or_org", {}) if isinstance(creator, dict) else {}
                kind = person.get("type")
                if kind == "organizational" and person.get("name") or kind == "personal" and person.get("family_name"):
                    creators.append(creator)
                else:
                    errors.append(_error(f"metadata.creators.{index}.person_or_org", "Missing data for required field."))
            kept[key] = creators
        elif key == "related_identifiers":
            kept_related = []
            for index, related in enumerate(value if isinstance(value, list) else []):
                scheme = related.get("scheme")
                detected = [s for s in _detect_schemes(str(related.get("identifier", ""))) if s in IDENTIFIER_SCHEMES]
                if scheme not in vocabularies.ids("identifier_schemes") or scheme not in detected:
                    errors.append(_error(f"metadata.related_identifiers.{index}.identifier", f"Invalid {scheme} identifier."))
                else:
                    kept_related.append(related)
            kept[key] = kept_related
        elif key == "additional_descriptions":
            kept_described = []
            for index, described in enumerate(value if isinstance(value, list) else []):
                if _short(described.get("description")):
                    errors.append(_error(f"metadata.additional_descriptions.{index}.description", "Shorter than minimum length 3."))
                else:
                    kept_described.append(described)
            kept[key] = kept_described
        else:
            kept[key] = value
    if "publisher" not in kept:
        errors.append(_error("metadata.publisher", "Missing publisher field required for DOI registration."))
    return kept, errors, None


def publish_errors(dep: Deposition) -> list[dict]:
    """The strict validation of publish, first failing group only (schema, then files, then the DOI's publisher)."""
    from archiver.zenodo.double.server import orcid_valid

    metadata = rdm_metadata(dep)
    errors = []
    for name in ("resource_type", "title", "publication_date"):
        if not metadata.get(name):
            errors.append(_error(f"metadata.{name}", "Missing data for required field."))
    if not metadata.get("creators"):
        errors.append(_error("metadata.creators", "Missing data for required field."))
    for index, creator in enumerate(metadata.get("creators", [])):
        for number, identifier in enumerate(creator.get("person_or_org", {}).get("identifiers", [])):
            if identifier.get("scheme") == "orcid" and not orcid_valid(str(identifier.get("identifier", ""))):
                errors.append(_error(f"metadata.creators.{index}.person_or_org.identifiers.{number}.identifier", "Invalid ORCID identifier."))
    if errors:
        return errors
    if not any(not f.pending for f in dep.files):
        return [_error("files.enabled", "Missing uploaded files. To disable files for this record please mark it as metadata-only.")]
    if not metadata.get("publisher"):
        return [_error("metadata.publisher", "Missing publisher field required for DOI registration.")]
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
    record_or_draft = "" if dep.submitted else "/draft"
    body = {
        "id": str(dep.id),
        "created": dep.created,
        "updated": dep.modified,
        "revision_id": dep.revision,
        "is_published": dep.submitted,
        "is_draft": not dep.submitted,
        "status": status,
        "pids": {"doi": _doi(dep.doi)} if dep.doi else {},
        "parent": {
            "id": dep.conceptrecid,
            "pids": {"doi": _doi(f"10.5072/zenodo.{dep.conceptrecid}")} if published_concept else {},
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
            "self": f"{api}/records/{dep.id}{record_or_draft}",
            "self_html": f"{base}/records/{dep.id}" if dep.submitted else f"{base}/uploads/{dep.id}",
            "files": f"{api}/records/{dep.id}{record_or_draft}/files",
            "versions": f"{api}/records/{dep.id}/versions",
            **({} if dep.submitted else {"publish": f"{api}/records/{dep.id}/draft/actions/publish",
                                         "review": f"{api}/records/{dep.id}/draft/review"}),
        },
    }
    return body


def hit_from_legacy_view(legacy: dict) -> dict:
    """A search hit in the records API's shape, from what the index holds (the legacy view it shows
    until it refreshes), so that both endpoints lag alike."""
    return {
        "id": str(legacy["id"]),
        "is_published": legacy.get("submitted", False),
        "status": "published" if legacy.get("submitted") else "draft",
        "pids": {"doi": _doi(legacy["doi"])} if legacy.get("doi") else {},
        "parent": {"id": legacy.get("conceptrecid"), **({"pids": {"doi": _doi(legacy["conceptdoi"])}} if legacy.get("conceptdoi") else {})},
        "metadata": rdm_from_legacy(legacy.get("metadata", {})),
        "files": {"enabled": True, "entries": {f["filename"]: {"key": f["filename"], "checksum": f"md5:{f['checksum']}", "status": "completed"}
                                               for f in legacy.get("files", [])}},
    }


def file_entry(state: DoubleState, dep: Deposition, stored) -> dict:
    api = f"{state.base_url}/api/records/{dep.id}/draft/files/{stored.filename}"
    entry = {"key": stored.filename, "status": "pending" if stored.pending else "completed",
             "links": {"self": api, "content": f"{api}/content", "commit": f"{api}/commit"}}
    if not stored.pending:
        entry.update(checksum=f"md5:{stored.data_md5}", size=stored.size, mimetype="application/octet-stream")
    return entry


def files_listing(state: DoubleState, dep: Deposition) -> dict:
    return {"enabled": True, "entries": [file_entry(state, dep, f) for f in dep.files],
            "links": {"self": f"{state.base_url}/api/records/{dep.id}/draft/files"}}


# --------------------------------------------------------------------------- routes


class RecordsRoutes:
    """The records API's routes for one request of the double's handler."""

    def __init__(self, handler: _Handler) -> None:
        self.h = handler
        self.state = handler.state
        url = urlsplit(handler.path)
        self.parts = url.path.strip("/").split("/")
        self.params = parse_qs(url.query, keep_blank_values=True)
        self.ui = UI_JSON in handler.headers.get("Accept", "")

    def _draft(self) -> Deposition | None:
        dep = self.h._deposition(self.parts[2])
        return None if dep is None or dep.submitted else dep

    def _record(self) -> Deposition | None:
        dep = self.h._deposition(self.parts[2])
        return dep if dep is not None and dep.submitted else None

    def _answer(self, status: int, dep: Deposition, errors: list[dict] | None = None) -> None:
        if not self.ui:
            # Zenodo serialises application/json with its own older schema (ZenodoSchema): the
            # legacy shape, without parent, is_published, pids or errors
            return self.h._send(status, self.state.view(dep))
        body = view(self.state, dep)
        if errors:  # only the UI JSON says what the lenient save did not store
            body["errors"] = errors
        self.h._send(status, body)

    # ------------------------------------------------------------------ GET

    def get(self) -> None:
        parts = self.parts
        if parts == ["api", "user", "records"]:
            return self._search()
        if len(parts) == 3 and parts[:2] == ["api", "communities"]:
            community = self.state.communities.get(parts[2])
            if community is None:
                return self.h._not_found()
            return self.h._send(200, {"id": community["id"], "slug": parts[2], "metadata": {"title": community.get("title", parts[2])}})
        if len(parts) == 3:
            dep = self._record()
            if dep is None:
                return self.h._not_found()
            with self.state.lock:
                return self._answer(200, dep)
        if len(parts) == 4 and parts[3] == "draft":
            dep = self._draft()
            if dep is None:
                return self.h._not_found()
            with self.state.lock:
                return self._answer(200, dep)
        if len(parts) == 5 and parts[3:] == ["draft", "files"]:
            dep = self._draft()
            if dep is None:
                return self.h._not_found()
            with self.state.lock:
                return self.h._send(200, files_listing(self.state, dep))
        if len(parts) == 5 and parts[3:] == ["draft", "review"]:
            dep = self._draft()
            if dep is None or dep.review is None:
                return self.h._not_found()
            return self.h._send(200, dict(dep.review))
        self.h._not_found()

    def _search(self) -> None:
        try:
            size = int(self.params.get("size", ["25"])[0])
            page = int(self.params.get("page", ["1"])[0])
        except ValueError:
            return self.h._error(400, "A validation error occurred.", [_error("size", "Not a valid integer.")])
        from archiver.zenodo.double.server import MAX_PAGE_SIZE, MAX_RESULTS

        if size > MAX_PAGE_SIZE:
            return self.h._error(400, "A validation error occurred.", [_error("size", f"Page size cannot be greater than {MAX_PAGE_SIZE}.")])
        if size < 1 or page < 1 or (page - 1) * size >= MAX_RESULTS:
            return self.h._error(400, "Invalid querystring parameters.")
        flag = self.params.get("allversions", ["false"])[0].lower()
        found = self.state.search(self.params.get("q", [""])[0], all_versions=flag in ("", "true", "1"))
        window = found[(page - 1) * size : page * size]
        hits = [hit_from_legacy_view(legacy) for legacy in window] if self.ui else window
        links = {"self": self.h.path}
        if page * size < len(found):
            links["next"] = f"{self.state.base_url}/api/user/records?page={page + 1}&size={size}"
        self.h._send(200, {"hits": {"hits": hits, "total": len(found)}, "links": links, "sortBy": "newest"})

    # ------------------------------------------------------------------ POST

    def post(self) -> None:
        parts = self.parts
        if parts == ["api", "records"]:
            return self._create()
        if len(parts) == 4 and parts[3] == "versions":
            return self._new_version()
        if len(parts) == 5 and parts[3:] == ["draft", "files"]:
            return self._init_files()
        if len(parts) == 7 and parts[3:5] == ["draft", "files"] and parts[6] == "commit":
            return self._commit(parts[5])
        if len(parts) == 6 and parts[3:5] == ["draft", "actions"] and parts[5] == "publish":
            self.h._read_body()
            return self._publish()
        if len(parts) == 6 and parts[3:5] == ["draft", "actions"] and parts[5] == "submit-review":
            return self._submit_review()
        self.h._read_body()
        self.h._not_found()

    def _saved(self, body: object) -> tuple[dict, list[dict]] | None:
        """The lenient save of a draft body: (what is stored, its errors), or None when refused (answered)."""
        if not isinstance(body, dict):
            self.h._error(400, "A validation error occurred.", [_error("_schema", "Invalid input type.")])
            return None
        kept, errors, refusal = save(body.get("metadata", {}))
        if refusal:
            self.h._error(400, refusal)
            return None
        return kept, errors

    def _create(self) -> None:
        saved = self._saved(self.h._json_body())
        if saved is None:
            return
        kept, errors = saved
        with self.state.lock:
            dep = self.state.create(None)
            dep.rdm = kept
            dep.metadata = legacy_from_rdm(kept)
            return self._answer(201, dep, [*errors, _error("files.enabled", "Missing uploaded files. To disable files for this record please mark it as metadata-only.")])

    def _new_version(self) -> None:
        self.h._read_body()
        dep = self._record()
        if dep is None:
            return self.h._not_found()
        with self.state.lock:
            draft = self.state.open_draft(dep.conceptrecid)
            if draft is None:
                draft = self.state.new_version(dep)
                draft.files = []  # a new version starts without files (files-import brings them)
                rdm = {k: v for k, v in rdm_metadata(dep).items() if k != "version"}
                rdm["publication_date"] = dt.datetime.now(dt.UTC).date().isoformat()
                draft.rdm = rdm
                draft.metadata = legacy_from_rdm(rdm)
                self.state.counters["newversion"] += 1
            return self._answer(201, draft)

    def _init_files(self) -> None:
        from archiver.zenodo.double.server import MAX_FILES, StoredFile

        body = self.h._json_body()
        dep = self._draft()
        if dep is None:
            return self.h._not_found()
        if not isinstance(body, list) or not all(isinstance(item, dict) and isinstance(item.get("key"), str) and item["key"] for item in body):
            return self.h._error(400, "A validation error occurred.", [_error("_schema", "Invalid input type.")])
        with self.state.lock:
            held = {f.filename for f in dep.files}
            for item in body:
                if item["key"] in held:
                    return self.h._error(400, f"File with key {item['key']} already exists.")
            if len(dep.files) + len(body) > MAX_FILES:
                return self.h._error(400, "A validation error occurred.", [_error("files", f"Too many files (at most {MAX_FILES}).")])
            for item in body:
                dep.files.append(StoredFile(item["key"], item["key"], "", 0, None, pending=True))
            self.state.counters["upload"] += 0  # the bytes are counted when they arrive
            return self.h._send(201, files_listing(self.state, dep))

    def _commit(self, key: str) -> None:
        self.h._read_body()
        dep = self._draft()
        if dep is None:
            return self.h._not_found()
        with self.state.lock:
            stored = next((f for f in dep.files if f.filename == key), None)
            if stored is None:
                return self.h._not_found()
            if stored.size == 0:
                return self.h._error(400, "Empty files are not accepted.")
            stored.pending = False
            return self.h._send(200, file_entry(self.state, dep, stored))

    def _publish(self) -> None:
        state = self.state
        dep = self._draft()
        if dep is None:
            return self.h._not_found()
        with state.lock:
            if dep.review is not None and dep.review["status"] in ("created", "submitted"):
                return self.h._error(400, "A validation error occurred.", [_error("_schema", "The draft has an open review request: it is published when the community accepts it.")])
            errors = publish_errors(dep)
            if errors:
                return self.h._error(400, "A validation error occurred.", errors)
            body = self._publish_now(dep)
            fail = state.rng.random() < state.faults.publish_504_share
        if fail:
            return self.h._send(504, {"status": 504, "message": "Gateway Timeout"})
        self.h._send(202, body)

    def _publish_now(self, dep: Deposition) -> dict:
        publish_now(self.state, dep)
        return view(self.state, dep)

    def _submit_review(self) -> None:
        self.h._read_body()
        dep = self._draft()
        if dep is None or dep.review is None:
            return self.h._not_found()
        with self.state.lock:
            if dep.review["status"] != "created":
                return self.h._error(400, "A validation error occurred.", [_error("_schema", "The review was submitted already.")])
            errors = publish_errors(dep)  # a submission is validated as a publish is
            if errors:
                return self.h._error(400, "A validation error occurred.", errors)
            community = next(c for c in self.state.communities.values() if c["id"] == dep.review["community"])
            self.state.reindex(dep)
            if community.get("review_policy") == "open" and community.get("curator"):
                dep.review["status"] = "accepted"  # included directly: accepted and published in the same call
                dep.communities.append(community["id"])
                self._publish_now(dep)
            else:
                dep.review["status"] = "submitted"
            return self.h._send(202, {**dep.review, "is_closed": dep.review["status"] == "accepted"})

    # ------------------------------------------------------------------ PUT

    def put(self) -> None:
        parts = self.parts
        if len(parts) == 4 and parts[3] == "draft":
            return self._update()
        if len(parts) == 7 and parts[3:5] == ["draft", "files"] and parts[6] == "content":
            return self._content(parts[5])
        if len(parts) == 5 and parts[3:] == ["draft", "review"]:
            return self._set_review()
        self.h._read_body()
        self.h._not_found()

    def _update(self) -> None:
        body = self.h._json_body()
        dep = self._draft()
        if dep is None:
            return self.h._not_found()
        saved = self._saved(body)
        if saved is None:
            return
        kept, errors = saved
        with self.state.lock:
            self.state.reindex(dep)
            dep.rdm, dep.metadata, dep.modified = kept, legacy_from_rdm(kept), self.state.now()
            dep.revision += 1
            self.state.counters["update"] += 1
            if not any(not f.pending for f in dep.files):
                errors.append(_error("files.enabled", "Missing uploaded files. To disable files for this record please mark it as metadata-only."))
            return self._answer(200, dep, errors)

    def _content(self, key: str) -> None:
        state = self.state
        dep = self._draft()
        length = int(self.h.headers.get("Content-Length") or 0)
        stored = next((f for f in dep.files if f.filename == key), None) if dep is not None else None
        if dep is None or stored is None:
            self.h._read_body()
            return self.h._not_found()
        received = self.h.receive_file(length)
        if received is None:
            return
        with state.lock:
            stored.data_md5, stored.size, stored.data = received
            stored.pending = True
            state.counters["upload"] += 1
            return self.h._send(200, file_entry(state, dep, stored))

    def _set_review(self) -> None:
        body = self.h._json_body()
        dep = self._draft()
        if dep is None:
            return self.h._not_found()
        if not isinstance(body, dict) or not isinstance(body.get("receiver"), dict) or body.get("type") != "community-submission":
            return self.h._error(400, "A validation error occurred.", [_error("receiver", "Missing data for required field.")])
        receiver = body["receiver"].get("community")
        if not any(c["id"] == receiver for c in self.state.communities.values()):
            return self.h._error(400, "A validation error occurred.", [_error("receiver", "Invalid community.")])
        with self.state.lock:
            if dep.review is not None and dep.review["status"] != "created":
                return self.h._error(400, "A validation error occurred.", [_error("_schema", "The review was submitted already.")])
            dep.review = {"id": str(uuid.UUID(int=self.state.rng.getrandbits(128))), "status": "created", "community": receiver,
                          "type": "community-submission"}
            return self.h._send(200, {**dep.review, "receiver": {"community": receiver}, "is_closed": False})

    # ------------------------------------------------------------------ DELETE

    def delete(self) -> None:
        parts = self.parts
        dep = self._draft()
        if dep is None:
            return self.h._not_found()
        if len(parts) == 4 and parts[3] == "draft":
            return self.h._delete_draft(dep)
        if len(parts) == 6 and parts[3:5] == ["draft", "files"]:
            with self.state.lock:
                before = len(dep.files)
                dep.files = [f for f in dep.files if f.filename != parts[5]]
                if len(dep.files) < before:
                    self.state.counters["delete"] += 1
                    return self.h._send(204, None)
        self.h._not_found()


def publish_now(state: DoubleState, dep: Deposition) -> None:
    """Publish under the lock: the DOI minted, the concept's DOI too, the index to catch up."""
    state.reindex(dep)
    dep.doi = f"10.5072/zenodo.{dep.id}"
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
