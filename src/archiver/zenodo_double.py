"""A local Zenodo double: the deposit API subset archiver uses, over real HTTP on 127.0.0.1.

Status codes, bodies and headers follow the sandbox exchanges in ../shared/zenodo-reference/:
201 create, 201 bucket PUT with an ``md5:`` checksum, 200 metadata PUT, 202 publish minting
``10.5072/zenodo.<id>``, 400 with ``errors[].messages``, 403 without a valid token, 404, rate-limit
headers on every response and 429 past the limit. Faults can be switched on per test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LICENSES = {
    "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0",
    "cc-zero", "cc0-1.0", "mit", "apache-2.0", "odc-by-1.0", "odbl-1.0", "pddl-1.0",
}
UPLOAD_TYPES = {"publication", "poster", "presentation", "dataset", "image", "video", "software", "lesson", "physicalobject", "other"}
PUBLICATION_TYPES = {"report", "workingpaper", "preprint", "article", "technicalnote", "book", "section", "conferencepaper", "thesis", "other"}
ACCESS_RIGHTS = {"open", "embargoed", "restricted", "closed"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Faults:
    """What goes wrong, and how often. Shares are probabilities per request (seeded, reproducible)."""

    error_share: float = 0.0  # 500/502/503 before the request is handled
    burst_every: int = 0  # every Nth request starts a burst of 429s ...
    burst_length: int = 0  # ... this long, each with Retry-After
    drop_upload_share: float = 0.0  # bucket PUT: read part of the body, then drop the connection
    publish_504_share: float = 0.0  # publish succeeds, then the answer is a 504
    latency_ms: float = 0.0  # added to every response
    echo_request: bool = False  # 400/500 bodies echo the request headers (tests that the client redacts)
    seed: int = 0


@dataclass
class StoredFile:
    id: str
    filename: str
    data_md5: str
    size: int


@dataclass
class Deposition:
    id: int
    conceptrecid: str
    owner: int
    created: str
    modified: str
    bucket: str
    metadata: dict = field(default_factory=dict)
    files: list[StoredFile] = field(default_factory=list)
    state: str = "unsubmitted"
    submitted: bool = False
    doi: str | None = None
    latest_draft: int | None = None  # set on a published deposition that has an open new-version draft


class DoubleState:
    """Everything the double holds; thread-safe through one lock."""

    def __init__(
        self, tokens: set[str], rate_limit: int, faults: Faults | None = None, base_url: str = "", window: int = 60
    ) -> None:
        self.tokens = set(tokens)
        self.rate_limit = rate_limit  # requests per window
        self.window = window  # seconds; Zenodo's is a minute
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        self.lock = threading.RLock()
        self.depositions: dict[int, Deposition] = {}
        self.buckets: dict[str, int] = {}
        self.next_id = 100_000
        self.window_start = int(time.time()) // window * window
        self.window_count = 0
        self.request_count = 0
        self.burst_left = 0
        self.counters: dict[str, int] = {"requests": 0, "429": 0, "faults": 0, "publish": 0, "create": 0}
        self.base_url = base_url

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults
            self.rng = random.Random(faults.seed)

    def now(self) -> str:
        return dt.datetime.now(dt.timezone.utc).isoformat()

    # ------------------------------------------------------------------ rate limit

    def rate_headers(self, count: bool = True) -> tuple[dict[str, str], bool]:
        """Headers for this response, and whether the request is over the limit."""
        with self.lock:
            now = time.time()
            window = int(now) // self.window * self.window
            if window != self.window_start:
                self.window_start, self.window_count = window, 0
            if count:
                self.window_count += 1
            reset = self.window_start + self.window
            over = self.window_count > self.rate_limit
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(max(self.rate_limit - self.window_count, 0)),
                "X-RateLimit-Reset": str(reset),
                "Retry-After": str(max(int(reset - now), 1)),
            }
            return headers, over

    # ------------------------------------------------------------------ views

    def links(self, dep: Deposition, *, with_bucket: bool = True) -> dict:
        api = f"{self.base_url}/api"
        links = {
            "self": f"{api}/deposit/depositions/{dep.id}",
            "html": f"{self.base_url}/deposit/{dep.id}",
            "badge": f"{self.base_url}/badge/doi/{dep.doi or ''}.svg",
            "files": f"{api}/deposit/depositions/{dep.id}/files",
            "bucket": f"{api}/files/{dep.bucket}",
            "latest_draft": f"{api}/deposit/depositions/{dep.latest_draft or dep.id}",
            "latest_draft_html": f"{self.base_url}/deposit/{dep.latest_draft or dep.id}",
            "publish": f"{api}/deposit/depositions/{dep.id}/actions/publish",
            "edit": f"{api}/deposit/depositions/{dep.id}/actions/edit",
            "discard": f"{api}/deposit/depositions/{dep.id}/actions/discard",
            "newversion": f"{api}/deposit/depositions/{dep.id}/actions/newversion",
        }
        if dep.doi:
            links["doi"] = f"https://doi.org/{dep.doi}"
        if not with_bucket:
            del links["bucket"]
        return links

    def view(self, dep: Deposition, *, with_bucket: bool = True) -> dict:
        metadata = dict(dep.metadata)
        metadata["prereserve_doi"] = {"doi": f"10.5281/zenodo.{dep.id}", "recid": dep.id}
        metadata.setdefault("imprint_publisher", "Zenodo")
        body = {
            "created": dep.created,
            "modified": dep.modified,
            "id": dep.id,
            "conceptrecid": dep.conceptrecid,
            "metadata": metadata,
            "title": metadata.get("title", ""),
            "links": self.links(dep, with_bucket=with_bucket),
            "record_id": dep.id,
            "owner": dep.owner,
            "files": [
                {
                    "id": f.id,
                    "filename": f.filename,
                    "filesize": f.size,
                    "checksum": f.data_md5,
                    "links": {
                        "self": f"{self.base_url}/api/deposit/depositions/{dep.id}/files/{f.id}",
                        "download": f"{self.base_url}/api/records/{dep.id}/draft/files/{f.filename}/content",
                    },
                }
                for f in dep.files
            ],
            "state": dep.state,
            "submitted": dep.submitted,
        }
        if dep.doi:
            body["doi"] = dep.doi
            body["doi_url"] = f"https://doi.org/{dep.doi}"
            body["conceptdoi"] = f"10.5072/zenodo.{dep.conceptrecid}"
            metadata["doi"] = dep.doi
        return body

    # ------------------------------------------------------------------ operations

    def create(self, metadata: dict | None) -> Deposition:
        with self.lock:
            concept = self.next_id
            self.next_id += 2
            now = self.now()
            dep = Deposition(
                id=concept + 1,
                conceptrecid=str(concept),
                owner=1,
                created=now,
                modified=now,
                bucket=str(uuid.UUID(int=self.rng.getrandbits(128))),
                metadata=dict(metadata or {}),
            )
            self.depositions[dep.id] = dep
            self.buckets[dep.bucket] = dep.id
            self.counters["create"] += 1
            return dep

    def new_version(self, dep: Deposition) -> Deposition:
        with self.lock:
            draft_id = self.next_id
            self.next_id += 1
            now = self.now()
            draft = Deposition(
                id=draft_id,
                conceptrecid=dep.conceptrecid,
                owner=dep.owner,
                created=now,
                modified=now,
                bucket=str(uuid.UUID(int=self.rng.getrandbits(128))),
                metadata={k: v for k, v in dep.metadata.items() if k != "doi"},
                files=list(dep.files),  # the new draft carries the previous files
            )
            self.depositions[draft.id] = draft
            self.buckets[draft.bucket] = draft.id
            dep.latest_draft = draft.id
            return draft


def _metadata_errors(metadata: object, *, at_publish: bool) -> list[dict]:
    if not isinstance(metadata, dict):
        return [{"field": "metadata", "messages": ["Invalid input type."]}]
    errors = []

    def bad(name: str, message: str) -> None:
        errors.append({"field": f"metadata.{name}", "messages": [message]})

    if "license" in metadata and metadata["license"] not in LICENSES:
        bad("license", f"Invalid license provided: {metadata['license']}")
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
    if at_publish:
        for name in ("title", "upload_type", "publication_date", "description"):
            if not metadata.get(name):
                bad(name, "Missing data for required field.")
        if not metadata.get("creators"):
            bad("creators", "Missing data for required field.")
    return errors


class _Handler(BaseHTTPRequestHandler):
    server_version = "ZenodoDouble/1"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> DoubleState:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - silence the default stderr log
        pass

    # ------------------------------------------------------------------ plumbing

    def _send(self, status: int, body: object | None, extra: dict | None = None, count: bool = True) -> None:
        headers, _ = self.state.rate_headers(count=False)
        data = b"" if body is None else json.dumps(body).encode()
        if self.state.faults.latency_ms:
            time.sleep(self.state.faults.latency_ms / 1000)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in {**headers, **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _error(self, status: int, message: str, errors: list | None = None) -> None:
        body: dict = {"status": status, "message": message}
        if errors:
            body["errors"] = errors
        if self.state.faults.echo_request and status in (400, 500):
            body["request"] = {"path": self.path, "headers": dict(self.headers.items())}
        self._send(status, body)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> object:
        data = self._read_body()
        if not data:
            return {}
        try:
            return json.loads(data)
        except ValueError:
            return None

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        return token is not None and token in self.state.tokens

    def _gate(self) -> bool:
        """Rate limit, faults and auth before the request is handled; False when already answered."""
        state = self.state
        with state.lock:
            state.counters["requests"] += 1
            state.request_count += 1
            faults = state.faults
            if faults.burst_every and state.request_count % faults.burst_every == 0:
                state.burst_left = faults.burst_length
            in_burst = state.burst_left > 0
            if in_burst:
                state.burst_left -= 1
            roll = state.rng.random()
        headers, over = state.rate_headers()
        if over or in_burst:
            with state.lock:
                state.counters["429"] += 1
            self._read_body()
            extra = {"Retry-After": "1"} if in_burst and not over else {}
            span = "1 minute" if state.window == 60 else f"{state.window} second"
            self._send(429, {"status": 429, "message": f"{state.rate_limit} per {span}"}, extra)
            return False
        if roll < faults.error_share:
            with state.lock:
                state.counters["faults"] += 1
            self._read_body()
            status = (500, 502, 503)[int(roll * 1000) % 3]
            if status == 500:
                self._send(500, {
                    "error_id": "%032x" % state.rng.getrandbits(128),
                    "message": "The server encountered an internal error and was unable to complete your request. "
                    "Either the server is overloaded or there is an error in the application.",
                    "status": 500,
                    **({"request": {"path": self.path, "headers": dict(self.headers.items())}} if faults.echo_request else {}),
                })
            else:
                self._send(status, {"status": status, "message": "Service unavailable."})
            return False
        if not self._authorised():
            self._read_body()
            self._send(403, {"status": 403, "message": "Permission denied."})
            return False
        return True

    def _deposition(self, raw_id: str) -> Deposition | None:
        try:
            return self.state.depositions.get(int(raw_id))
        except ValueError:
            return None

    def _not_found(self) -> None:
        self._send(404, {"status": 404, "message": "The persistent identifier does not exist."})

    # ------------------------------------------------------------------ routes

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/_double/"):
            return self._admin_get()
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts == ["api", "deposit", "depositions"]:
            with self.state.lock:
                body = [self.state.view(d, with_bucket=False) for d in sorted(self.state.depositions.values(), key=lambda d: -d.id)]
            return self._send(200, body)
        if len(parts) == 4 and parts[:3] == ["api", "deposit", "depositions"]:
            dep = self._deposition(parts[3])
            if dep is None:
                return self._not_found()
            with self.state.lock:
                return self._send(200, self.state.view(dep))
        self._not_found()

    def do_POST(self) -> None:  # noqa: N802
        if self.path.startswith("/_double/"):
            return self._admin_post()
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts == ["api", "deposit", "depositions"]:
            body = self._json_body()
            if not isinstance(body, dict) or set(body) - {"metadata"}:
                return self._error(400, "A validation error occurred.", [{"field": "_schema", "messages": ["Unknown field name."]}])
            errors = _metadata_errors(body.get("metadata", {}), at_publish=False)
            if errors:
                return self._error(400, "A validation error occurred.", errors)
            dep = self.state.create(body.get("metadata"))
            with self.state.lock:
                return self._send(201, self.state.view(dep))
        if len(parts) == 6 and parts[:3] == ["api", "deposit", "depositions"] and parts[4] == "actions":
            self._read_body()
            dep = self._deposition(parts[3])
            if dep is None:
                return self._not_found()
            if parts[5] == "publish":
                return self._publish(dep)
            if parts[5] == "newversion":
                return self._newversion(dep)
            if parts[5] == "discard" and not dep.submitted:
                with self.state.lock:
                    self.state.depositions.pop(dep.id, None)
                return self._send(204, None)
        self._not_found()

    def _publish(self, dep: Deposition) -> None:
        state = self.state
        with state.lock:
            if dep.state == "done" and dep.latest_draft is None:
                return self._not_found()  # a second publish: nothing to publish
            errors = _metadata_errors(dep.metadata, at_publish=True)
            if not dep.files:
                errors.append(
                    {"field": "files.enabled", "messages": ["Missing uploaded files. To disable files for this record please mark it as metadata-only."]}
                )
            if errors:
                return self._error(400, "A validation error occurred.", errors)
            dep.doi = f"10.5072/zenodo.{dep.id}"
            dep.state, dep.submitted, dep.modified = "done", True, state.now()
            for other in state.depositions.values():
                if other.conceptrecid == dep.conceptrecid and other.latest_draft == dep.id:
                    other.latest_draft = None
            state.counters["publish"] += 1
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
            if dep.latest_draft is not None:
                draft = state.depositions[dep.latest_draft]
            else:
                draft = state.new_version(dep)
            body = state.view(draft)
        self._send(201, body)

    def do_PUT(self) -> None:  # noqa: N802
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["api", "files"]:
            return self._upload(parts[2], parts[3])
        if len(parts) == 4 and parts[:3] == ["api", "deposit", "depositions"]:
            dep = self._deposition(parts[3])
            body = self._json_body()
            if dep is None or dep.state == "done":
                return self._not_found()
            if not isinstance(body, dict) or set(body) != {"metadata"}:
                extra = sorted(set(body) - {"metadata"}) if isinstance(body, dict) else []
                return self._error(400, "A validation error occurred.", [{"field": name, "messages": ["Unknown field name."]} for name in extra] or [{"field": "metadata", "messages": ["Missing data for required field."]}])
            errors = _metadata_errors(body["metadata"], at_publish=False)
            if errors:
                return self._error(400, "A validation error occurred.", errors)
            with self.state.lock:
                metadata = dict(body["metadata"])
                metadata.setdefault("publication_date", dt.date.today().isoformat())  # PUT replaces everything
                dep.metadata, dep.modified = metadata, self.state.now()
                return self._send(200, self.state.view(dep))
        self._not_found()

    def _upload(self, bucket: str, filename: str) -> None:
        state = self.state
        dep_id = state.buckets.get(bucket)
        length = int(self.headers.get("Content-Length") or 0)
        if dep_id is None:
            self._read_body()
            return self._not_found()
        dep = state.depositions[dep_id]
        with state.lock:
            drop = state.rng.random() < state.faults.drop_upload_share
        if drop:
            self.rfile.read(length // 2)
            self.close_connection = True
            self.connection.shutdown(2)  # mid-upload: the client sees the connection go
            return
        digest, size, left = hashlib.md5(), 0, length
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            left -= len(chunk)
        if dep.state == "done":
            return self._send(403, {"status": 403, "message": "Bucket is locked."})
        checksum = digest.hexdigest()
        with state.lock:
            dep.files = [f for f in dep.files if f.filename != filename]
            dep.files.append(StoredFile(str(uuid.UUID(int=state.rng.getrandbits(128))), filename, checksum, size))
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

    def do_DELETE(self) -> None:  # noqa: N802
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) >= 4 and parts[:3] == ["api", "deposit", "depositions"]:
            dep = self._deposition(parts[3])
            if dep is None or dep.state == "done":
                return self._not_found()
            with self.state.lock:
                if len(parts) == 4:
                    self.state.depositions.pop(dep.id, None)
                    return self._send(204, None)
                if len(parts) == 6 and parts[4] == "files":
                    before = len(dep.files)
                    dep.files = [f for f in dep.files if f.id != parts[5]]
                    if len(dep.files) < before:
                        return self._send(204, None)
        self._not_found()

    # ------------------------------------------------------------------ test hooks (no token)

    def _admin_get(self) -> None:
        state = self.state
        with state.lock:
            body = {
                "counters": dict(state.counters),
                "depositions": [state.view(d) for d in state.depositions.values()],
            }
        self._send(200, body, count=False)

    def _admin_post(self) -> None:
        body = self._json_body()
        if self.path == "/_double/faults" and isinstance(body, dict):
            self.state.set_faults(Faults(**body))
            return self._send(200, {"ok": True}, count=False)
        self._send(404, {"status": 404, "message": "no such test hook"}, count=False)


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
                 faults: Faults | None = None, window: int = 60) -> None:
        self.server = _Server((host, port), _Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.state = DoubleState(tokens, rate_limit, faults, base_url=self.url, window=window)
        self.server.state = self.state  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, name="zenodo-double", daemon=True)

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
