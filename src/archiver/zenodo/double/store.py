"""The double's store: one set of depositions behind both APIs, with the index the search sees,
the rate windows, the faults switched on, and the communities (a test's hooks included)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from archiver import rdm_ids
from archiver.zenodo import vocabularies
from archiver.zenodo.double import query as zenodo_query

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
# The sandbox's DOI prefix: what the double mints, and what it pre-reserves (the same DOI).
DOI_PREFIX = "10.5072"
# As another InvenioRDM repository: a prefix of its own, and invenio-app-rdm's limits for a
# logged-in user (RATELIMIT_AUTHENTICATED_USER = "25000 per hour;1000 per minute").
REPOSITORY_DOI_PREFIX = "10.80123"
RDM_PER_MINUTE, RDM_PER_HOUR = 1000, 25000
MAX_PAGE_SIZE = 100
MAX_KEPT_BYTES = 16 << 20  # the double keeps the bytes of files up to this size (a test's multi-GB artifact: only its md5)
# Past this many hits the search refuses the page (OpenSearch's max_result_window, Pagination.to_idx).
MAX_RESULTS = 10_000


# The bijection from the double's numbers to the ids it shows as a repository (an odd factor mod 2**40).
_ID_SPACE = 32**8
_SCRAMBLE = 0x9E3779B97F & (_ID_SPACE - 1) | 1
_UNSCRAMBLE = pow(_SCRAMBLE, -1, _ID_SPACE)


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
    fail_uploads: bool = False  # every file upload (bucket PUT, records content PUT) is answered 500
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
    # while an edit of the published record is open: what it publishes meanwhile (legacy metadata,
    # records-API metadata); the deposition's own fields are the edit's (state "inprogress")
    published: tuple[dict, dict | None] | None = None

    @property
    def editing(self) -> bool:
        return self.published is not None


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
        doi_prefix: str = DOI_PREFIX,
        repository: bool = False,
    ) -> None:
        self.doi_prefix = doi_prefix
        # An InvenioRDM repository other than Zenodo: ids such as q5jr8-hny72, DOIs {prefix}/{id},
        # no legacy deposit API, InvenioRDM's default vocabularies (the double's ids stay numbers inside).
        self.repository = repository
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
            "edit": 0, "publish_edit": 0, "discard": 0,
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

    def minted(self, number: object) -> str:
        """The DOI the double mints for a record or concept id (and pre-reserves for a draft):
        Zenodo's DATACITE_FORMAT {prefix}/zenodo.{id}, InvenioRDM's default {prefix}/{id}."""
        if self.repository:
            return f"{self.doi_prefix}/{self.pid(number)}"
        return f"{self.doi_prefix}/zenodo.{number}"

    def pid(self, number: object) -> str:
        """A record's or concept's id as the API shows it: the number on Zenodo; elsewhere an
        InvenioRDM id, scrambled so that ids do not grow with time, as random ones do not."""
        if not self.repository:
            return str(number)
        return rdm_ids.encode((int(str(number)) * _SCRAMBLE) % _ID_SPACE)

    def internal(self, text: str) -> int | None:
        """The double's own number for an id the API was given (None for an id it never shows)."""
        if not self.repository:
            return int(text) if text.isascii() and text.isdigit() else None
        if not rdm_ids.is_record_id(text):
            return None
        return (rdm_ids.value_of(text) * _UNSCRAMBLE) % _ID_SPACE

    def vocabulary_ids(self, name: str) -> frozenset[str]:
        """A vocabulary's ids as this server has them: Zenodo's, or a plain InvenioRDM's defaults."""
        return vocabularies.invenio_default_ids(name) if self.repository else vocabularies.ids(name)

    def version_index(self, dep: Deposition) -> int:
        """InvenioRDM's versions.index: 1 for a concept's first deposition, one more for each later one."""
        return 1 + sum(1 for d in self.depositions.values() if d.conceptrecid == dep.conceptrecid and d.id < dep.id)

    def view(self, dep: Deposition, *, with_bucket: bool = True) -> dict:
        metadata = dict(dep.metadata)
        metadata["prereserve_doi"] = {"doi": self.minted(dep.id), "recid": dep.id}
        metadata.setdefault("imprint_publisher", "Zenodo")
        body = {
            "created": dep.created,
            "modified": dep.modified,
            "id": self.pid(dep.id) if self.repository else dep.id,
            "conceptrecid": self.pid(dep.conceptrecid),
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
            body["conceptdoi"] = self.minted(dep.conceptrecid)
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
                # communities belong to the parent (invenio-rdm-records' RDMParent.communities):
                # every version of the record is in them
                communities=list(dep.communities),
            )
            self.depositions[draft.id] = draft
            self.buckets[draft.bucket] = draft.id
            return draft

    # ------------------------------------------------------------------ an edit of a published record
    # (invenio-drafts-resources' edit, update_draft, publish and delete_draft of a published record;
    # zenodo-rdm's legacy actions edit and discard, and state "inprogress" while one is open)

    def open_edit(self, dep: Deposition) -> None:
        """Under the lock: an edit of the published ``dep`` (the open one stays as it is)."""
        if dep.published is None:
            dep.published = (copy.deepcopy(dep.metadata), copy.deepcopy(dep.rdm))
            dep.state, dep.revision = "inprogress", dep.revision + 1
            self.counters["edit"] += 1

    def include_requested(self, dep: Deposition) -> None:
        """Under the lock, after a legacy publish: the communities asked for are added (zenodo-rdm's
        LegacyRecordService.publish); one the user may not include into becomes a request, and a
        failure is silently ignored: the record shows neither."""
        for slug in dep.requested_communities:
            community = self.communities.get(slug)
            if community and community["review_policy"] == "open" and community["curator"] and community["id"] not in dep.communities:
                dep.communities.append(community["id"])

    def publish_edit(self, dep: Deposition) -> None:
        """Under the lock: the edit's metadata published, same id and DOI, files untouched."""
        self.reindex(dep)
        dep.published, dep.state, dep.modified = None, "done", self.now()
        self.counters["publish_edit"] += 1

    def discard_edit(self, dep: Deposition) -> None:
        """Under the lock: the edit dropped, the published metadata as it was."""
        assert dep.published is not None
        self.reindex(dep)
        dep.metadata, dep.rdm = dep.published
        dep.published, dep.state = None, "done"
        self.counters["discard"] += 1

    def as_published(self, dep: Deposition) -> Deposition:
        """``dep`` as its published version shows while an edit is open (itself otherwise)."""
        if dep.published is None:
            return dep
        metadata, rdm = dep.published
        return dataclasses.replace(dep, metadata=copy.deepcopy(metadata), rdm=copy.deepcopy(rdm), state="done", published=None)

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
