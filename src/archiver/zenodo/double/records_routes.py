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
from urllib.parse import parse_qs, urlsplit

from archiver.zenodo import vocabularies
from archiver.zenodo.double import rdm_mapping
from archiver.zenodo.double.handler import BaseHandler
from archiver.zenodo.double.rdm_mapping import (
    UI_JSON,
    field_error,
    file_entry,
    files_listing,
    hit_from_legacy_view,
    legacy_from_rdm,
    publish_errors,
    publish_now,
    rdm_metadata,
    view,
)
from archiver.zenodo.double.store import MAX_FILES, MAX_PAGE_SIZE, MAX_RESULTS, Deposition, StoredFile

# invenio-rdm-records' RDM_SORT_OPTIONS: any of them is taken on /user/records, any other is a 400.
SORT_OPTIONS = frozenset({"bestmatch", "newest", "oldest", "version", "updated-desc", "updated-asc", "mostviewed",
                          "mostdownloaded", "newestactivity", "oldestactivity"})
# /api/vocabularies/{type}: InvenioRDM's names of the vocabularies a deposit names.
SERVED_VOCABULARIES = {served: kind for kind, served in vocabularies.SERVED_AS.items()}


class _DraftRoutes:
    """What every records route stands on (the request, the draft or record it names, the answer),
    and the routes of a draft's files and of its review request."""

    def __init__(self, handler: BaseHandler) -> None:
        self.h = handler
        self.state = handler.state
        url = urlsplit(handler.path)
        self.parts = url.path.strip("/").split("/")
        self.params = parse_qs(url.query, keep_blank_values=True)
        self.ui = UI_JSON in handler.headers.get("Accept", "")

    def _draft(self) -> Deposition | None:
        """The draft the request names: a draft never published, or the edit open on a record."""
        dep = self.h._deposition(self.parts[2])
        return None if dep is None or (dep.submitted and not dep.editing) else dep

    def _unlocked_draft(self) -> Deposition | None:
        """A draft whose files may change, or None (answered): an edit of a published record keeps
        its files locked (zenodo-rdm's RDM_LOCK_EDIT_PUBLISHED_FILES: BucketLockedError, 403)."""
        dep = self._draft()
        if dep is None:
            self.h._read_body()
            self.h._not_found()
            return None
        if dep.submitted:
            self.h._read_body()
            self.h._error(403, "Bucket is locked for modifications.")
            return None
        return dep

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

    def _init_files(self) -> None:
        dep = self._unlocked_draft()
        if dep is None:
            return None
        body = self.h._json_body()
        if not isinstance(body, list) or not all(isinstance(item, dict) and isinstance(item.get("key"), str) and item["key"] for item in body):
            return self.h._error(400, "A validation error occurred.", [field_error("_schema", "Invalid input type.")])
        with self.state.lock:
            held = {f.filename for f in dep.files}
            for item in body:
                if item["key"] in held:
                    return self.h._error(400, f"File with key {item['key']} already exists.")
            if len(dep.files) + len(body) > MAX_FILES:
                return self.h._error(400, "A validation error occurred.", [field_error("files", f"Too many files (at most {MAX_FILES}).")])
            for item in body:
                dep.files.append(StoredFile(item["key"], item["key"], "", 0, None, pending=True))
            self.state.counters["upload"] += 0  # the bytes are counted when they arrive
            return self.h._send(201, files_listing(self.state, dep))

    def _commit(self, key: str) -> None:
        dep = self._unlocked_draft()
        if dep is None:
            return None
        self.h._read_body()
        with self.state.lock:
            stored = next((f for f in dep.files if f.filename == key), None)
            if stored is None:
                return self.h._not_found()
            if stored.size == 0:
                return self.h._error(400, "Empty files are not accepted.")
            stored.pending = False
            return self.h._send(200, file_entry(self.state, dep, stored))

    def _content(self, key: str) -> None:
        state = self.state
        if self.h.upload_fails():
            return None
        dep = self._unlocked_draft()
        if dep is None:
            return None
        stored = next((f for f in dep.files if f.filename == key), None)
        length = int(self.h.headers.get("Content-Length") or 0)
        if stored is None:
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

    def _submit_review(self) -> None:
        self.h._read_body()
        dep = self._draft()
        if dep is None or dep.review is None:
            return self.h._not_found()
        with self.state.lock:
            if dep.review["status"] != "created":
                return self.h._error(400, "A validation error occurred.", [field_error("_schema", "The review was submitted already.")])
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

    def _set_review(self) -> None:
        body = self.h._json_body()
        dep = self._draft()
        if dep is None:
            return self.h._not_found()
        if not isinstance(body, dict) or not isinstance(body.get("receiver"), dict) or body.get("type") != "community-submission":
            return self.h._error(400, "A validation error occurred.", [field_error("receiver", "Missing data for required field.")])
        receiver = body["receiver"].get("community")
        if not any(c["id"] == receiver for c in self.state.communities.values()):
            return self.h._error(400, "A validation error occurred.", [field_error("receiver", "Invalid community.")])
        with self.state.lock:
            if dep.review is not None and dep.review["status"] != "created":
                return self.h._error(400, "A validation error occurred.", [field_error("_schema", "The review was submitted already.")])
            dep.review = {"id": str(uuid.UUID(int=self.state.rng.getrandbits(128))), "status": "created", "community": receiver,
                          "type": "community-submission"}
            return self.h._send(200, {**dep.review, "receiver": {"community": receiver}, "is_closed": False})

    # ------------------------------------------------------------------ DELETE

    def _publish_now(self, dep: Deposition) -> dict:
        publish_now(self.state, dep)
        return view(self.state, dep)


class RecordsRoutes(_DraftRoutes):
    """The records API's routes for one request of the double's handler."""

    def get(self) -> None:
        parts = self.parts
        if parts == ["api", "user", "records"]:
            return self._search()
        if parts[:2] == ["api", "vocabularies"] and len(parts) in (3, 4):
            return self._vocabulary(parts[2], parts[3] if len(parts) == 4 else None)
        if len(parts) == 3 and parts[:2] == ["api", "communities"]:
            community = self.state.communities.get(parts[2])
            if community is None:
                return self.h._not_found()
            return self.h._send(200, {"id": community["id"], "slug": parts[2], "metadata": {"title": community.get("title", parts[2])}})
        if len(parts) == 3:
            dep = self._record()
            if dep is None:
                return self.h._not_found()
            with self.state.lock:  # the published version, whether or not an edit is open
                return self._answer(200, self.state.as_published(dep))
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

    def _vocabulary(self, served: str, entry: str | None) -> None:
        """GET /vocabularies/{type}[/{id}] (invenio-vocabularies): an entry, or a page of them; 404
        for a type or id it does not hold."""
        kind = SERVED_VOCABULARIES.get(served)
        if kind is None:
            return self.h._not_found()
        known = self.state.vocabulary_ids(kind)
        if entry is not None:
            if entry not in known:
                return self.h._not_found()
            return self.h._send(200, {"id": entry, "type": served, "title": {"en": entry}, "props": {}})
        try:
            size = int(self.params.get("size", ["25"])[0])
        except ValueError:
            return self.h._error(400, "A validation error occurred.", [field_error("size", "Not a valid integer.")])
        hits = [{"id": item, "type": served, "title": {"en": item}} for item in sorted(known)[: max(size, 0)]]
        self.h._send(200, {"hits": {"hits": hits, "total": len(known)}, "sortBy": "title"})

    def _search(self) -> None:
        try:
            size = int(self.params.get("size", ["25"])[0])
            page = int(self.params.get("page", ["1"])[0])
        except ValueError:
            return self.h._error(400, "A validation error occurred.", [field_error("size", "Not a valid integer.")])
        sort = self.params.get("sort", [None])[0]
        if sort is not None and sort not in SORT_OPTIONS:  # invenio-records-resources' SortParam: a 400
            return self.h._error(400, "A validation error occurred.", [field_error("sort", f"Invalid sort option '{sort}'.")])
        if size > MAX_PAGE_SIZE and not self.state.repository:  # Zenodo caps a page; InvenioRDM only the result window
            return self.h._error(400, "A validation error occurred.", [field_error("size", f"Page size cannot be greater than {MAX_PAGE_SIZE}.")])
        if size < 1 or page < 1 or (page - 1) * size >= MAX_RESULTS:
            return self.h._error(400, "Invalid querystring parameters.")
        flag = self.params.get("allversions", ["false"])[0].lower()
        found = self.state.search(self.params.get("q", [""])[0], all_versions=flag in ("", "true", "1"))
        window = found[(page - 1) * size : page * size]
        with self.state.lock:
            hits = [hit_from_legacy_view(self.state, legacy) for legacy in window] if self.ui else window
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
        if len(parts) == 4 and parts[3] == "draft":
            return self._edit()
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
            self.h._error(400, "A validation error occurred.", [field_error("_schema", "Invalid input type.")])
            return None
        kept, errors, refusal = rdm_mapping.save(body.get("metadata", {}), self.state.vocabulary_ids)
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
            return self._answer(201, dep, [*errors, field_error("files.enabled", "Missing uploaded files. To disable files for this record please mark it as metadata-only.")])

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

    def _edit(self) -> None:
        """POST /records/{id}/draft: the edit of a published record, same id (201; the open one when there is one)."""
        self.h._read_body()
        dep = self._record()
        if dep is None:
            return self.h._not_found()
        with self.state.lock:
            self.state.open_edit(dep)
            return self._answer(201, dep)

    def _publish(self) -> None:
        state = self.state
        dep = self._draft()
        if dep is None:
            return self.h._not_found()
        with state.lock:
            if dep.editing:  # an edit of a published record: same id, DOI and files
                errors = publish_errors(dep)
                if errors:
                    return self.h._error(400, "A validation error occurred.", errors)
                state.publish_edit(dep)
                body = view(state, dep)
                if state.rng.random() < state.faults.publish_504_share:
                    return self.h._send(504, {"status": 504, "message": "Gateway Timeout"})
                return self.h._send(202, body)
            if dep.review is not None and dep.review["status"] in ("created", "submitted"):
                return self.h._error(400, "A validation error occurred.", [field_error("_schema", "The draft has an open review request: it is published when the community accepts it.")])
            errors = publish_errors(dep)
            if errors:
                return self.h._error(400, "A validation error occurred.", errors)
            body = self._publish_now(dep)
            fail = state.rng.random() < state.faults.publish_504_share
        if fail:
            return self.h._send(504, {"status": 504, "message": "Gateway Timeout"})
        self.h._send(202, body)

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
                errors.append(field_error("files.enabled", "Missing uploaded files. To disable files for this record please mark it as metadata-only."))
            return self._answer(200, dep, errors)

    def delete(self) -> None:
        parts = self.parts
        dep = self._draft()
        if dep is None:
            return self.h._not_found()
        if len(parts) == 4 and parts[3] == "draft":
            if dep.editing:  # the edit dropped; the published record stays as it was
                with self.state.lock:
                    self.state.discard_edit(dep)
                return self.h._send(204, None)
            return self.h._delete_draft(dep)
        if len(parts) == 6 and parts[3:5] == ["draft", "files"]:
            if dep.submitted:
                return self.h._error(403, "Bucket is locked for modifications.")
            with self.state.lock:
                before = len(dep.files)
                dep.files = [f for f in dep.files if f.filename != parts[5]]
                if len(dep.files) < before:
                    self.state.counters["delete"] += 1
                    return self.h._send(204, None)
        self.h._not_found()
