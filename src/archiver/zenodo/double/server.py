"""A local Zenodo double over real HTTP on 127.0.0.1: the legacy deposit API's routes, and the server of both APIs.

Its behaviour is derived from Zenodo's own server code (zenodo/zenodo-rdm, site/zenodo_rdm/legacy/,
with invenio-rdm-records, idutils and invenio-app) and the sandbox exchanges in
../shared/zenodo-reference/, not from archiver's client:

- related identifiers: the scheme is detected from the identifier alone with idutils (the library
  Zenodo uses), among the schemes InvenioRDM allows; none found is a 400 on the create or PUT;
- every creator is stored as a person; unknown keys inside metadata are dropped, unknown top-level
  keys are a 400; title, description and notes need 3 characters at publish; empty files are refused;
- a published deposition's links.latest_draft names itself; newversion answers 201 with the new
  draft (the previous files imported, version and DOI dropped, publication date today); one draft
  per concept: a second newversion while it holds files is a 400 (files.enabled);
- the list endpoint searches as Zenodo's does (zenodo_query.py: a query tree with the legacy field
  map, phrases, OR-groups), pages with ``page`` and ``size`` (100 at most), lists drafts and published
  depositions (the latest of each concept unless ``all_versions``), and shows a write only after an
  index lag (until then, what it showed before); a deleted draft (DELETE or actions/discard) is gone
  at once; a published deposition carries its ``conceptdoi`` and its files can be read back;
- rate limits keyed by User-Agent and client address, in moving windows per minute and per hour;
  the headers show the per-minute limit until the hourly one is exceeded; 429 past either.

Faults (5xx, 429 bursts, dropped uploads, a 504 after a publish that succeeded, latency) are
switched on per test.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from http.server import ThreadingHTTPServer

from archiver.zenodo.double import checks, store
from archiver.zenodo.double.handler import BaseHandler
from archiver.zenodo.double.records_routes import RecordsRoutes
from archiver.zenodo.double.store import MAX_FILES, MAX_PAGE_SIZE, MAX_RESULTS, Deposition, DoubleState, Faults, StoredFile


def _records_api(parts: list[str], *, reading: bool = False) -> bool:
    """A request for the records API (the legacy API also reads files under /api/records/.../content)."""
    if parts[:3] == ["api", "user", "records"] or parts[:2] in (["api", "communities"], ["api", "vocabularies"]):
        return True
    return parts[:2] == ["api", "records"] and not (reading and parts[-1] == "content")


class _Handler(BaseHandler):
    """The legacy deposit API's routes (and the dispatch of the records API's to RecordsRoutes)."""

    def do_GET(self) -> None:
        if self.path.startswith("/_double/"):
            return self._admin_get()
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if self.state.repository and parts[:2] == ["api", "deposit"]:
            return self._not_found()  # a plain InvenioRDM has no legacy deposit API (zenodo-rdm's own)
        if _records_api(parts, reading=True):
            return RecordsRoutes(self).get()
        if parts == ["api", "deposit", "depositions"]:
            from urllib.parse import parse_qs, urlsplit

            params = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
            try:
                size = int(params.get("size", ["25"])[0])
                page = int(params.get("page", ["1"])[0])
            except ValueError:
                return self._error(400, "A validation error occurred.", [{"field": "size", "messages": ["Not a valid integer."]}])
            if size > MAX_PAGE_SIZE:  # ZenodoArgsSchema.validate_max_page_size: refused, not clipped
                return self._error(400, "A validation error occurred.", [{"field": "size", "messages": [f"Page size cannot be greater than {MAX_PAGE_SIZE}."]}])
            if size < 1 or page < 1:
                return self._error(400, "A validation error occurred.", [{"field": "size" if size < 1 else "page", "messages": ["Must be greater than or equal to 1."]}])
            if (page - 1) * size >= MAX_RESULTS:
                return self._error(400, "Invalid querystring parameters.")
            # all_versions (legacy), allversions (RDM); a bare ?all_versions means true
            flag = (params.get("all_versions") or params.get("allversions") or ["false"])[0].lower()
            found = self.state.search(params.get("q", [""])[0], all_versions=flag in ("", "true", "1"))
            return self._send(200, found[(page - 1) * size : page * size])
        if len(parts) == 4 and parts[:3] == ["api", "deposit", "depositions"]:
            dep = self._deposition(parts[3])
            if dep is None:
                return self._not_found()
            with self.state.lock:
                return self._send(200, self.state.view(dep))
        if len(parts) >= 6 and parts[:2] == ["api", "records"] and parts[-1] == "content" and "files" in parts[3:5]:
            return self._file_content(parts)
        self._not_found()

    def do_POST(self) -> None:
        if self.path.startswith("/_double/"):
            return self._admin_post()
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if self.state.repository and parts[:2] == ["api", "deposit"]:
            return self._not_found()  # a plain InvenioRDM has no legacy deposit API (zenodo-rdm's own)
        if _records_api(parts):
            return RecordsRoutes(self).post()
        if parts == ["api", "deposit", "depositions"]:
            body = self._json_body()
            if not isinstance(body, dict):
                return self._error(400, "A validation error occurred.", [{"field": "_schema", "messages": ["Invalid input type."]}])
            if set(body) - {"metadata"}:
                return self._error(400, "A validation error occurred.", [{"field": name, "messages": ["Unknown field."]} for name in sorted(set(body) - {"metadata"})])
            errors = checks.metadata_errors(body.get("metadata", {}), at_publish=False)
            if errors:
                return self._error(400, "A validation error occurred.", errors)
            created = self.state.create(body.get("metadata"))
            with self.state.lock:
                return self._send(201, self.state.view(created))
        if len(parts) == 6 and parts[:3] == ["api", "deposit", "depositions"] and parts[4] == "actions":
            self._read_body()
            dep = self._deposition(parts[3])
            if dep is None:
                return self._not_found()
            if parts[5] == "publish":
                return self._publish(dep)
            if parts[5] == "newversion":
                return self._newversion(dep)
            if parts[5] == "edit":
                return self._edit(dep)
            if parts[5] == "discard":
                with self.state.lock:
                    if dep.editing:  # the edit dropped, the published deposition as it was: 204, no body
                        self.state.discard_edit(dep)
                        return self._send(204, None)
                return self._delete_draft(dep)
        self._not_found()

    def _file_content(self, parts: list[str]) -> None:
        """GET /api/records/{id}[/draft]/files/{key}/content: the bytes of a deposition's file."""
        dep = self._deposition(parts[2])
        draft = parts[3] == "draft"
        key = "/".join(parts[5 if draft else 4 : -1])
        if dep is None or dep.submitted == draft:
            return self._not_found()
        with self.state.lock:
            stored = next((f for f in dep.files if f.filename == key), None)
        if stored is None or stored.data is None:
            return self._not_found()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(stored.data)))
        for name, value in self.state.rate_headers(self._rate_key(), count=False)[0].items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(stored.data)

    def _edit(self, dep: Deposition) -> None:
        """actions/edit: 201 with the edit of a published deposition (the open one, when there is one)."""
        with self.state.lock:
            if not dep.submitted:
                return self._error(400, "A validation error occurred.", [{"field": "_schema", "messages": ["Only a published record can be edited."]}])
            self.state.open_edit(dep)
            return self._send(201, self.state.view(dep))

    def _publish(self, dep: Deposition) -> None:
        state = self.state
        with state.lock:
            if dep.state == "done":
                return self._not_found()  # a second publish: nothing to publish
            errors = checks.metadata_errors(dep.metadata, at_publish=True)
            if dep.editing:  # the edit of a published deposition: same id, DOI and files
                if errors:
                    return self._error(400, "A validation error occurred.", errors)
                state.publish_edit(dep)
                state.include_requested(dep)  # legacy:communities move to inclusions at the edit's publish too
                fail = state.rng.random() < state.faults.publish_504_share
                body = state.view(dep)
                if fail:
                    return self._send(504, {"status": 504, "message": "Gateway Timeout"})
                return self._send(202, body)
            if not any(not f.pending for f in dep.files):
                errors.append(
                    {"field": "files.enabled", "messages": ["Missing uploaded files. To disable files for this record please mark it as metadata-only."]}
                )
            if errors:
                return self._error(400, "A validation error occurred.", errors)
            state.reindex(dep)  # the index shows the draft until it refreshes
            dep.doi = state.minted(dep.id)
            dep.state, dep.submitted, dep.modified = "done", True, state.now()
            state.published_concepts.add(dep.conceptrecid)
            state.counters["publish"] += 1
            state.include_requested(dep)
            fail = state.rng.random() < state.faults.publish_504_share
            body = state.view(dep)
        if fail:  # it did succeed: the answer is what fails
            return self._send(504, {"status": 504, "message": "Gateway Timeout"})
        self._send(202, body)

    def _newversion(self, dep: Deposition) -> None:
        state = self.state
        with state.lock:
            if dep.state != "done":
                return self._error(400, "A validation error occurred.", [{"field": "_schema", "messages": ["Only a published record gets a new version."]}])
            draft = state.open_draft(dep.conceptrecid)
            if draft is None:
                draft = state.new_version(dep)
                state.counters["newversion"] += 1
            elif draft.files:
                # drafts-resources hands back the open draft; importing the files into it fails
                return self._error(400, "A validation error occurred.", [{"field": "files.enabled", "messages": ["Please remove all files first."]}])
            else:
                draft.files = list(dep.files)  # an empty open draft gets the files imported again
            body = state.view(draft)
        self._send(201, body)

    def do_PUT(self) -> None:
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if self.state.repository and parts[:2] == ["api", "deposit"]:
            return self._not_found()  # a plain InvenioRDM has no legacy deposit API (zenodo-rdm's own)
        if _records_api(parts):
            return RecordsRoutes(self).put()
        if len(parts) == 4 and parts[:2] == ["api", "files"]:
            return self._upload(parts[2], parts[3])
        if len(parts) == 4 and parts[:3] == ["api", "deposit", "depositions"]:
            dep = self._deposition(parts[3])
            body = self._json_body()
            if dep is None or dep.state == "done":
                return self._not_found()
            if not isinstance(body, dict) or set(body) != {"metadata"}:
                extra = sorted(set(body) - {"metadata"}) if isinstance(body, dict) else []
                return self._error(400, "A validation error occurred.", [{"field": name, "messages": ["Unknown field."]} for name in extra] or [{"field": "metadata", "messages": ["Missing data for required field."]}])
            errors = checks.metadata_errors(body["metadata"], at_publish=False)
            if errors:
                return self._error(400, "A validation error occurred.", errors)
            with self.state.lock:
                metadata = store.stored_metadata(body["metadata"])
                metadata.setdefault("publication_date", dt.date.today().isoformat())  # PUT replaces everything
                self.state.reindex(dep)
                dep.metadata, dep.modified, dep.rdm = metadata, self.state.now(), None
                dep.requested_communities = store.requested_communities(body["metadata"])
                self.state.counters["update"] += 1
                return self._send(200, self.state.view(dep))
        self._not_found()

    def _upload(self, bucket: str, filename: str) -> None:
        if self.upload_fails():
            return
        state = self.state
        dep_id = state.buckets.get(bucket)
        length = int(self.headers.get("Content-Length") or 0)
        if dep_id is None:
            self._read_body()
            return self._not_found()
        dep = state.depositions[dep_id]
        received = self.receive_file(length)
        if received is None:
            return
        checksum, size, kept = received
        if dep.submitted:  # published, or an edit of it: the files are locked
            return self._send(403, {"status": 403, "message": "Bucket is locked."})
        if size == 0:  # RECORDS_RESOURCES_ALLOW_EMPTY_FILES = False
            return self._send(400, {"status": 400, "message": "Empty files are not accepted."})
        if len(dep.files) >= MAX_FILES and all(f.filename != filename for f in dep.files):
            return self._error(400, "A validation error occurred.", [{"field": "files", "messages": [f"Too many files (at most {MAX_FILES})."]}])
        with state.lock:
            dep.files = [f for f in dep.files if f.filename != filename]
            dep.files.append(StoredFile(str(uuid.UUID(int=state.rng.getrandbits(128))), filename, checksum, size, kept))
            state.counters["upload"] += 1
            now = state.now()
        self._send(
            201,
            {
                "created": now,
                "updated": now,
                "version_id": str(uuid.UUID(int=state.rng.getrandbits(128))),
                "key": filename,
                "size": size,
                "mimetype": "application/octet-stream",
                "checksum": f"md5:{checksum}",
                "is_head": True,
                "delete_marker": False,
                "links": {
                    "self": f"{state.base_url}/api/files/{bucket}/{filename}",
                    "version": f"{state.base_url}/api/files/{bucket}/{filename}?version_id=0",
                    "uploads": f"{state.base_url}/api/files/{bucket}/{filename}?uploads=1",
                },
            },
        )

    def do_DELETE(self) -> None:
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if self.state.repository and parts[:2] == ["api", "deposit"]:
            return self._not_found()  # a plain InvenioRDM has no legacy deposit API (zenodo-rdm's own)
        if _records_api(parts):
            return RecordsRoutes(self).delete()
        if len(parts) >= 4 and parts[:3] == ["api", "deposit", "depositions"]:
            dep = self._deposition(parts[3])
            if dep is None or (dep.submitted and len(parts) == 4):
                return self._not_found()
            if dep.submitted:  # a file of a published deposition (an edit's included): locked
                return self._send(403, {"status": 403, "message": "Bucket is locked for modifications."})
            with self.state.lock:
                if len(parts) == 4:
                    return self._delete_draft(dep)
                if len(parts) == 6 and parts[4] == "files":
                    before = len(dep.files)
                    dep.files = [f for f in dep.files if f.id != parts[5]]
                    if len(dep.files) < before:
                        self.state.counters["delete"] += 1
                        return self._send(204, None)
        self._not_found()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a client that went away (killed, or a dropped upload): nothing to report
        super().handle_error(request, client_address)


class ZenodoDouble:
    """Start and stop the double on a thread: ``with ZenodoDouble(tokens={"t"}) as double: double.url``."""

    def __init__(self, *, tokens: set[str], host: str = "127.0.0.1", port: int = 0, rate_limit: int = 100,
                 faults: Faults | None = None, window: int = 60, hourly_limit: int | None = 5000,
                 index_lag: float = 1.0, clock: Callable[[], float] = time.monotonic, doi_prefix: str = store.DOI_PREFIX,
                 repository: bool = False) -> None:
        self.server = _Server((host, port), _Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.state = DoubleState(tokens, rate_limit, faults, base_url=self.url, window=window, hourly_limit=hourly_limit,
                                 index_lag=index_lag, clock=clock, doi_prefix=doi_prefix, repository=repository)
        self.server.state = self.state  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, name="zenodo-double", daemon=True)

    @classmethod
    def as_repository(cls, *, tokens: set[str], rate_limit: int = store.RDM_PER_MINUTE, hourly_limit: int | None = store.RDM_PER_HOUR,
                      doi_prefix: str = store.REPOSITORY_DOI_PREFIX, **options) -> ZenodoDouble:
        """The double speaking as a plain InvenioRDM repository (not Zenodo): ids such as
        q5jr8-hny72, DOIs {prefix}/{id}, no legacy deposit API, InvenioRDM's default vocabularies
        and invenio-app-rdm's default limits for a logged-in user."""
        return cls(tokens=tokens, rate_limit=rate_limit, hourly_limit=hourly_limit, doi_prefix=doi_prefix, repository=True, **options)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def start(self) -> ZenodoDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ZenodoDouble:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
