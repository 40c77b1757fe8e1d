"""A local Zenodo double: the deposit API subset archiver uses, over real HTTP on 127.0.0.1.

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
import hashlib
import json
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from archiver.zenodo import vocabularies
from archiver.zenodo.double import query as zenodo_query
from archiver.zenodo.double.records import RecordsRoutes, decide_review

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
# Legacy metadata keys the deserializer reads; any other key inside metadata is dropped silently.
METADATA_KEYS = frozenset({
    "upload_type", "publication_type", "image_type", "publication_date", "title", "creators", "description",
    "access_right", "license", "embargo_date", "access_conditions", "doi", "prereserve_doi", "keywords", "notes",
    "related_identifiers", "contributors", "references", "communities", "grants", "journal_title", "journal_volume",
    "journal_issue", "journal_pages", "conference_title", "conference_acronym", "conference_dates",
    "conference_place", "conference_url", "conference_session", "conference_session_part", "imprint_publisher",
    "imprint_isbn", "imprint_place", "partof_title", "partof_pages", "thesis_supervisors", "thesis_university",
    "subjects", "version", "language", "locations", "dates", "method",
})
CREATOR_KEYS = ("name", "affiliation", "orcid", "gnd")
MAX_FILES = 100
MAX_PAGE_SIZE = 100
MAX_KEPT_BYTES = 16 << 20  # the double keeps the bytes of files up to this size (a test's multi-GB artifact: only its md5)
# Past this many hits the search refuses the page (OpenSearch's max_result_window, Pagination.to_idx).
MAX_RESULTS = 10_000


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
    data: bytes | None = None  # kept (up to MAX_KEPT_BYTES) so that a client can read a file back
    pending: bool = False  # records API: initialised or uploaded, not yet committed (not a file of the record yet)


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
    indexed_at: float = 0.0  # when the search index has its current state (the list shows it from then on)
    stale_view: dict | None = None  # what the index shows until then (None: not indexed at all yet)
    rdm: dict | None = None  # the metadata as the records API stored it (None: written through the legacy API)
    review: dict | None = None  # records API: the community review request of the draft
    communities: list[str] = field(default_factory=list)  # ids of the communities the record is in
    requested_communities: list[str] = field(default_factory=list)  # legacy API: slugs asked for, added at publish
    revision: int = 1


class DoubleState:
    """Everything the double holds; thread-safe through one lock."""

    def __init__(
        self,
        tokens: set[str],
        rate_limit: int,
        faults: Faults | None = None,
        base_url: str = "",
        window: int = 60,
        *,
        hourly_limit: int | None = 5000,
        index_lag: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tokens = set(tokens)
        self.rate_limit = rate_limit  # requests per window (Zenodo: 100 a minute for a token's user)
        self.window = window  # seconds
        self.hourly_limit = hourly_limit  # requests per hour (Zenodo: 5000), None for no hourly window
        self.index_lag = index_lag  # seconds before the list shows a new deposition
        self.clock = clock
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        self.lock = threading.RLock()
        self.depositions: dict[int, Deposition] = {}
        self.buckets: dict[str, int] = {}
        self.published_concepts: set[str] = set()
        self.next_id = 100_000
        self.hits: dict[tuple[str, str], tuple[deque, deque]] = {}  # (User-Agent, address) -> (window, hour)
        self.request_count = 0
        self.burst_left = 0
        # requests, and the writes a test may count (a command that must send no write sees them unchanged)
        self.counters: dict[str, int] = {
            "requests": 0, "429": 0, "faults": 0, "publish": 0, "create": 0, "upload": 0, "update": 0, "delete": 0, "newversion": 0,
        }
        self.base_url = base_url
        # communities by slug: {"id": uuid, "review_policy": "closed" | "open", "curator": whether the token's user curates it}
        self.communities: dict[str, dict] = {}

    def add_community(self, slug: str, *, review_policy: str = "closed", curator: bool = False) -> str:
        with self.lock:
            community_id = str(uuid.UUID(int=self.rng.getrandbits(128)))
            self.communities[slug] = {"id": community_id, "review_policy": review_policy, "curator": curator}
            return community_id

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults
            self.rng = random.Random(faults.seed)

    def now(self) -> str:
        return dt.datetime.now(dt.UTC).isoformat()

    # ------------------------------------------------------------------ rate limit

    def rate_headers(self, key: tuple[str, str], count: bool = True) -> tuple[dict[str, str], bool]:
        """Headers for this response, and whether the request is over a limit.

        Moving windows, as flask-limiter keeps them for invenio-app: a request is counted only
        when it is let through. The headers speak of the short window unless the hour is spent."""
        with self.lock:
            now = time.time()
            short, hour = self.hits.setdefault(key, (deque(), deque()))
            while short and short[0] <= now - self.window:
                short.popleft()
            while hour and hour[0] <= now - 3600:
                hour.popleft()
            over_hour = self.hourly_limit is not None and len(hour) >= self.hourly_limit
            over = len(short) >= self.rate_limit or over_hour
            if count and not over:
                short.append(now)
                hour.append(now)
            if over_hour:
                limit, remaining, reset = self.hourly_limit, 0, hour[0] + 3600
            else:
                limit, remaining = self.rate_limit, max(self.rate_limit - len(short), 0)
                reset = short[0] + self.window if short else now + self.window
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(int(reset) + 1),
                "Retry-After": str(max(int(reset - now) + 1, 1)),
            }
            return headers, over and count

    # ------------------------------------------------------------------ views

    def links(self, dep: Deposition, *, with_bucket: bool = True) -> dict:
        api = f"{self.base_url}/api"
        links = {
            "self": f"{api}/deposit/depositions/{dep.id}",
            "html": f"{self.base_url}/deposit/{dep.id}",
            "badge": f"{self.base_url}/badge/doi/{dep.doi or ''}.svg",
            "files": f"{api}/deposit/depositions/{dep.id}/files",
            "bucket": f"{api}/files/{dep.bucket}",
            # The legacy layer names the deposition itself, draft or published (services.py).
            "latest_draft": f"{api}/deposit/depositions/{dep.id}",
            "latest_draft_html": f"{self.base_url}/deposit/{dep.id}",
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
                if not f.pending
            ],
            "state": dep.state,
            "submitted": dep.submitted,
        }
        if dep.doi:
            body["doi"] = dep.doi
            body["doi_url"] = f"https://doi.org/{dep.doi}"
            metadata["doi"] = dep.doi
        if dep.conceptrecid in self.published_concepts:
            # the parent's DOI is minted at the first publish; every later draft of the concept has it
            body["conceptdoi"] = f"10.5072/zenodo.{dep.conceptrecid}"
        slugs = {c["id"]: slug for slug, c in self.communities.items()}
        if dep.communities:
            metadata["communities"] = [{"identifier": slugs[c]} for c in dep.communities if c in slugs]
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
                metadata=stored_metadata(metadata or {}),
                indexed_at=self.clock() + self.index_lag,
                requested_communities=requested_communities(metadata or {}),
            )
            self.depositions[dep.id] = dep
            self.buckets[dep.bucket] = dep.id
            self.counters["create"] += 1
            return dep

    def open_draft(self, conceptrecid: str) -> Deposition | None:
        with self.lock:
            return next((d for d in self.depositions.values() if d.conceptrecid == conceptrecid and not d.submitted), None)

    def new_version(self, dep: Deposition) -> Deposition:
        """A new draft of the concept, its files imported from ``dep``; the version and the DOI are
        not carried over and the publication date is today (invenio-rdm-records' components)."""
        with self.lock:
            draft_id = self.next_id
            self.next_id += 1
            now = self.now()
            metadata = {k: v for k, v in dep.metadata.items() if k not in ("doi", "version")}
            metadata["publication_date"] = dt.datetime.now(dt.UTC).date().isoformat()
            draft = Deposition(
                id=draft_id,
                conceptrecid=dep.conceptrecid,
                owner=dep.owner,
                created=now,
                modified=now,
                bucket=str(uuid.UUID(int=self.rng.getrandbits(128))),
                metadata=metadata,
                files=list(dep.files),
                indexed_at=self.clock() + self.index_lag,
            )
            self.depositions[draft.id] = draft
            self.buckets[draft.bucket] = draft.id
            return draft

    def reindex(self, dep: Deposition) -> None:
        """A write that Zenodo indexes on commit without a refresh: the list shows the state from
        before it until the index refreshes (create, update, publish, new version)."""
        with self.lock:
            if dep.indexed_at <= self.clock():
                dep.stale_view = self.view(dep, with_bucket=False)
                dep.indexed_at = self.clock() + self.index_lag
            # else a refresh is pending already: the next one shows the deposition as it is then
            # (the index refreshes on a schedule; a later write does not hold back an earlier one)

    def search(self, query: str, *, all_versions: bool = False) -> list[dict]:
        """What the list endpoint finds (zenodo_query has the syntax), as the index shows it:
        drafts and published depositions, only the latest of each concept unless ``all_versions``
        (AllVersionsParam on versions.is_latest_draft), newest first."""
        tree = zenodo_query.parse(query)
        with self.lock:
            now = self.clock()
            indexed: list[tuple[int, str, dict]] = []
            for dep in self.depositions.values():
                view = self.view(dep, with_bucket=False) if dep.indexed_at <= now else dep.stale_view
                if view is not None:
                    indexed.append((dep.id, dep.conceptrecid, view))
            if not all_versions:
                latest: dict[str, tuple[int, str, dict]] = {}
                for item in indexed:
                    if item[1] not in latest or item[0] > latest[item[1]][0]:
                        latest[item[1]] = item
                indexed = list(latest.values())
            found = [item for item in indexed if zenodo_query.matches(item[2], tree)]
        return [view for _id, _concept, view in sorted(found, key=lambda item: -item[0])]


def stored_metadata(metadata: dict) -> dict:
    """Metadata as the legacy layer keeps it: unknown keys dropped, every creator a person, the
    licence under its records-API id (read back renamed), and what the lenient schema refuses left
    out: a description under 3 characters is not stored (the record publishes without one).
    Communities are not metadata of the draft: they are asked for at publish."""
    kept = {key: value for key, value in metadata.items() if key in METADATA_KEYS and key != "communities"}
    if isinstance(kept.get("description"), str) and len(kept["description"].strip()) < 3:
        del kept["description"]
    if isinstance(kept.get("license"), str):
        kept["license"] = vocabularies.legacy_license_as_read(kept["license"])
    creators = kept.get("creators")
    if isinstance(creators, list):
        kept["creators"] = [
            {key: creator[key] for key in CREATOR_KEYS if key in creator} for creator in creators if isinstance(creator, dict)
        ]
    return kept


def requested_communities(metadata: dict) -> list[str]:
    communities = metadata.get("communities")
    if not isinstance(communities, list):
        return []
    return [c["identifier"] for c in communities if isinstance(c, dict) and isinstance(c.get("identifier"), str)]


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


def _detect_schemes(identifier: str) -> list[str]:
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
        schemes = [scheme for scheme in _detect_schemes(str(item.get("identifier", ""))) if scheme in IDENTIFIER_SCHEMES]
        if not schemes:
            errors.append({"field": "metadata.related_identifiers.scheme", "messages": ["No valid scheme recognized for identifier."]})
    return errors


def _metadata_errors(metadata: object, *, at_publish: bool) -> list[dict]:
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


def _records_api(parts: list[str], *, reading: bool = False) -> bool:
    """A request for the records API (the legacy API also reads files under /api/records/.../content)."""
    if parts[:3] == ["api", "user", "records"] or parts[:2] == ["api", "communities"]:
        return True
    return parts[:2] == ["api", "records"] and not (reading and parts[-1] == "content")


class _Handler(BaseHTTPRequestHandler):
    server_version = "ZenodoDouble/1"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> DoubleState:
        state: DoubleState = self.server.state  # type: ignore[attr-defined]
        return state

    def log_message(self, format: str, *args) -> None:
        pass

    # ------------------------------------------------------------------ plumbing

    def _rate_key(self) -> tuple[str, str]:
        # invenio-app keys the limit by User-Agent and remote address, not by token or user.
        return (self.headers.get("User-Agent", ""), self.client_address[0])

    def _send(self, status: int, body: object | None, extra: dict | None = None, count: bool = True) -> None:
        headers, _ = self.state.rate_headers(self._rate_key(), count=False)
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
        headers, over = state.rate_headers(self._rate_key())
        if over or in_burst:
            with state.lock:
                state.counters["429"] += 1
            self._read_body()
            extra = {"Retry-After": "1"} if in_burst and not over else {}
            span = "1 minute" if state.window == 60 else f"{state.window} second"
            limit = f"{state.hourly_limit} per 1 hour" if headers["X-RateLimit-Limit"] == str(state.hourly_limit) and over else f"{state.rate_limit} per {span}"
            self._send(429, {"status": 429, "message": limit}, extra)
            return False
        if roll < faults.error_share:
            with state.lock:
                state.counters["faults"] += 1
            self._read_body()
            status = (500, 502, 503)[int(roll * 1000) % 3]
            if status == 500:
                self._send(500, {
                    "error_id": f"{state.rng.getrandbits(128):032x}",
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

    def do_GET(self) -> None:
        if self.path.startswith("/_double/"):
            return self._admin_get()
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
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
        if _records_api(parts):
            return RecordsRoutes(self).post()
        if parts == ["api", "deposit", "depositions"]:
            body = self._json_body()
            if not isinstance(body, dict):
                return self._error(400, "A validation error occurred.", [{"field": "_schema", "messages": ["Invalid input type."]}])
            if set(body) - {"metadata"}:
                return self._error(400, "A validation error occurred.", [{"field": name, "messages": ["Unknown field."]} for name in sorted(set(body) - {"metadata"})])
            errors = _metadata_errors(body.get("metadata", {}), at_publish=False)
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
            if parts[5] == "discard":
                return self._delete_draft(dep)
        self._not_found()

    def _delete_draft(self, dep: Deposition) -> None:
        """DELETE and actions/discard are one handler (delete_draft): a draft, new versions
        included, is removed and the index refreshed at once; a published record has no draft: 404."""
        with self.state.lock:
            if dep.submitted:
                return self._not_found()
            self.state.depositions.pop(dep.id, None)
            self.state.buckets.pop(dep.bucket, None)
            self.state.counters["delete"] += 1
        self._send(204, None)

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

    def _publish(self, dep: Deposition) -> None:
        state = self.state
        with state.lock:
            if dep.state == "done":
                return self._not_found()  # a second publish: nothing to publish
            errors = _metadata_errors(dep.metadata, at_publish=True)
            if not any(not f.pending for f in dep.files):
                errors.append(
                    {"field": "files.enabled", "messages": ["Missing uploaded files. To disable files for this record please mark it as metadata-only."]}
                )
            if errors:
                return self._error(400, "A validation error occurred.", errors)
            state.reindex(dep)  # the index shows the draft until it refreshes
            dep.doi = f"10.5072/zenodo.{dep.id}"
            dep.state, dep.submitted, dep.modified = "done", True, state.now()
            state.published_concepts.add(dep.conceptrecid)
            state.counters["publish"] += 1
            # communities asked for are added after publish; one the user may not include into
            # becomes a request, and a failure is silently ignored: the record shows neither
            for slug in dep.requested_communities:
                community = state.communities.get(slug)
                if community and community["review_policy"] == "open" and community["curator"] and community["id"] not in dep.communities:
                    dep.communities.append(community["id"])
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
            errors = _metadata_errors(body["metadata"], at_publish=False)
            if errors:
                return self._error(400, "A validation error occurred.", errors)
            with self.state.lock:
                metadata = stored_metadata(body["metadata"])
                metadata.setdefault("publication_date", dt.date.today().isoformat())  # PUT replaces everything
                self.state.reindex(dep)
                dep.metadata, dep.modified, dep.rdm = metadata, self.state.now(), None
                dep.requested_communities = requested_communities(body["metadata"])
                self.state.counters["update"] += 1
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
        received = self.receive_file(length)
        if received is None:
            return
        checksum, size, kept = received
        if dep.state == "done":
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

    def receive_file(self, length: int) -> tuple[str, int, bytes | None] | None:
        """The bytes of an upload as (md5, size, the bytes when at most MAX_KEPT_BYTES); None when
        the drop-upload fault cut the connection mid-body (the client sees it go)."""
        state = self.state
        with state.lock:
            drop = state.rng.random() < state.faults.drop_upload_share
        if drop:
            self.rfile.read(length // 2)
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        digest, size, left, chunks = hashlib.md5(usedforsecurity=False), 0, length, []
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            if size + len(chunk) <= MAX_KEPT_BYTES:
                chunks.append(chunk)
            size += len(chunk)
            left -= len(chunk)
        return digest.hexdigest(), size, b"".join(chunks) if size <= MAX_KEPT_BYTES else None

    def do_DELETE(self) -> None:
        if not self._gate():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if _records_api(parts):
            return RecordsRoutes(self).delete()
        if len(parts) >= 4 and parts[:3] == ["api", "deposit", "depositions"]:
            dep = self._deposition(parts[3])
            if dep is None or dep.state == "done":
                return self._not_found()
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
        if self.path == "/_double/community" and isinstance(body, dict):
            community_id = self.state.add_community(body["slug"], review_policy=body.get("review_policy", "closed"), curator=body.get("curator", False))
            return self._send(200, {"id": community_id}, count=False)
        if self.path == "/_double/review" and isinstance(body, dict):
            return self._send(200, {"ok": decide_review(self.state, int(body["record_id"]), bool(body["accept"]))}, count=False)
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
                 faults: Faults | None = None, window: int = 60, hourly_limit: int | None = 5000,
                 index_lag: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.server = _Server((host, port), _Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.state = DoubleState(tokens, rate_limit, faults, base_url=self.url, window=window,
                                 hourly_limit=hourly_limit, index_lag=index_lag, clock=clock)
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
