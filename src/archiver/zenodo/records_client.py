"""Zenodo's current API, the InvenioRDM records API (``/api/records``), one method per endpoint, over the shared Transport.

Endpoints (invenio-rdm-records' resources and REST tests; zenodo-rdm's configuration):
``POST /records`` (a draft, 201), ``GET|PUT|DELETE /records/{id}/draft``, ``GET /records/{id}``,
files as ``POST /records/{id}/draft/files`` (initialise keys, 201), ``PUT .../files/{key}/content``
(200), ``POST .../files/{key}/commit`` (200, the md5), ``DELETE .../files/{key}`` (204),
``POST /records/{id}/draft/actions/publish`` (202), ``POST /records/{id}/versions`` (201: the new
draft, or the one already open), ``GET /user/records`` (the owner's drafts and records, searched),
``GET /communities/{slug}``, ``PUT /records/{id}/draft/review`` and
``POST /records/{id}/draft/actions/submit-review`` (a community's review request),
``GET /vocabularies/{type}/{id}`` (invenio-vocabularies: an entry, or 404).

Drafts are written with ``Accept: application/vnd.inveniordm.v1+json``: only then does a save
answer with the ``errors`` its lenient validation found (plain JSON leaves them out). As with the
legacy API, a create or a publish is sent once; every answer is checked against what was asked.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from archiver.findings import printable
from archiver.zenodo.answers import parse_answer
from archiver.zenodo.target import MAX_RESULTS, PAGE_SIZE, USER_AGENT, Target, minted_check
from archiver.zenodo.transport import Answer, ApiClient, TransportError, same_origin

UI_JSON = "application/vnd.inveniordm.v1+json"


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Pid(_Answer):
    identifier: str | None = None


class Parent(_Answer):
    id: str
    pids: dict[str, Pid] = {}
    review: dict | None = None  # the open review request of the draft's parent, when one is set
    communities: dict = {}


class RecordLinks(_Answer):
    self_html: str | None = None


class FileEntry(_Answer):
    key: str
    checksum: str | None = None  # "md5:<hex>" once committed
    status: str | None = None  # "pending" until committed, then "completed"

    @property
    def md5(self) -> str:
        return (self.checksum or "").removeprefix("md5:")


class RecordFiles(_Answer):
    enabled: bool = True
    entries: tuple[FileEntry, ...] = ()

    @field_validator("entries", mode="before")
    @classmethod
    def _entries_as_list(cls, value: object) -> object:
        # a record lists its files as a mapping key -> entry, the files endpoint as a list
        return list(value.values()) if isinstance(value, dict) else value


class Versions(_Answer):
    index: int | None = None  # 1 for the first version; a new-version draft has its index already


class RdmRecord(_Answer):
    """A draft or a record as the records API answers (one GET, or a search hit)."""

    id: str
    parent: Parent
    created: str | None = None  # ISO 8601, UTC
    versions: Versions | None = None
    is_published: bool = False
    is_draft: bool = False  # with is_published: the edit of a published record
    status: str | None = None  # "draft", "published", "new_version_draft", "in_review", ...
    pids: dict[str, Pid] = {}
    links: RecordLinks = RecordLinks()
    files: RecordFiles | None = None
    metadata: dict = {}
    errors: tuple[dict, ...] = ()  # the lenient save's findings (with the UI JSON Accept)


class FileList(_Answer):
    entries: tuple[FileEntry, ...] = ()


class Community(_Answer):
    id: str
    slug: str


class VocabularyEntry(_Answer):
    id: str


class ReviewRequest(_Answer):
    id: str
    status: str  # created, submitted, accepted, declined, cancelled, expired
    is_closed: bool = False




class RecordsClient(ApiClient):
    """The records API over a Transport bound to the target's origin; answers typed and checked."""

    def __init__(self, target: Target, **options) -> None:
        super().__init__(target, USER_AGENT, **options)

    def send(self, method: str, path: str, *, retry: bool, expect: tuple[int, ...], **kwargs) -> Answer:
        """One request, asking for InvenioRDM's own JSON: on Zenodo plain ``application/json``
        answers the records endpoints in an older Zenodo shape (no ``parent``, ``is_published``,
        ``pids`` or ``errors``)."""
        headers = {"Accept": UI_JSON, **kwargs.pop("headers", {})}
        return self.transport.send(method, path, retry=retry, expect=expect, headers=headers, **kwargs)

    def mismatch(self, message: str, code: str = "answer-mismatch") -> TransportError:
        return TransportError(printable(self.scrub(message), 400), code=code)

    def _record(self, answer: Answer, what: str, *, asked: str | None = None) -> RdmRecord:
        record: RdmRecord = parse_answer(RdmRecord, answer, what)
        if asked is not None and record.id != asked:
            raise self.mismatch(f"{what}: the answer is about record {record.id}, not {asked}")
        html = record.links.self_html
        if html is not None and same_origin(html, self.target.api_url, under_api=False) is None:
            raise TransportError(
                f"{what}: the answer's links.self_html ({printable(self.scrub(html), 120)}) is not on {self.target.api_url}: refused",
                code="foreign-link",
            )
        return record

    # ------------------------------------------------------------------ drafts and records

    def create_draft(self, body: dict) -> RdmRecord:
        """POST /records: a new draft. Not repeated after a lost answer: the caller looks for it."""
        answer = self.send("POST", "records", retry=False, expect=(201,), json=body)
        created = self._record(answer, "create")
        if created.is_published:
            raise self.mismatch(f"create: the answer's record {created.id} is published already")
        return created

    def read_draft(self, record_id: str) -> RdmRecord:
        return self._record(self.send("GET", f"records/{quote(record_id)}/draft", retry=True, expect=(200,)), f"draft {record_id}", asked=record_id)

    def read_record(self, record_id: str) -> RdmRecord:
        return self._record(self.send("GET", f"records/{quote(record_id)}", retry=True, expect=(200,)), f"record {record_id}", asked=record_id)

    def update_draft(self, record_id: str, body: dict) -> RdmRecord:
        """PUT the whole draft body (it replaces metadata, access and files settings)."""
        answer = self.send("PUT", f"records/{quote(record_id)}/draft", retry=True, expect=(200,), json=body)
        return self._record(answer, f"draft {record_id}", asked=record_id)

    def edit(self, record_id: str) -> RdmRecord:
        """POST /records/{id}/draft: an edit of the published record, under the same id (201; the
        open one when there is one already, so it is safe to repeat)."""
        answer = self.send("POST", f"records/{quote(record_id)}/draft", retry=True, expect=(201,))
        return self._record(answer, f"edit of {record_id}", asked=record_id)

    def delete_draft(self, record_id: str) -> bool:
        """DELETE a draft: True when deleted now, False when there is none (gone, or published)."""
        return self.send("DELETE", f"records/{quote(record_id)}/draft", retry=True, expect=(204, 404)).status == 204

    def publish(self, record_id: str) -> RdmRecord:
        answer = self.send("POST", f"records/{quote(record_id)}/draft/actions/publish", retry=False, expect=(202,))
        return self._record(answer, f"publish {record_id}", asked=record_id)

    def new_version(self, record_id: str) -> RdmRecord:
        """POST /records/{id}/versions: the new-version draft (the open one, when there is one)."""
        answer = self.send("POST", f"records/{quote(record_id)}/versions", retry=False, expect=(201,))
        return self._record(answer, f"new version of {record_id}")

    def search_user_records(self, query: str, *, size: int = PAGE_SIZE, page: int = 1) -> list[RdmRecord]:
        """One page of the token owner's drafts and records that ``query`` finds, every version."""
        # no sort: the default ranks well enough, and a sort name a server does not offer would be a 400
        params: dict[str, str | int] = {"q": query, "size": size, "page": page, "allversions": "true"}
        answer = self.send("GET", "user/records", retry=True, expect=(200,), params=params)
        document = answer.json()
        hits = document.get("hits", {}).get("hits") if isinstance(document, dict) and isinstance(document.get("hits"), dict) else None
        if not isinstance(hits, list):
            raise TransportError("user records: the answer is not a search result", status=answer.status, code="answer-invalid")
        if len(hits) > size:
            raise self.mismatch(f"user records: {len(hits)} hits in a page of {size}")
        found = []
        for hit in hits:  # a hit that is not a record is skipped: a search result is a hint, never a fact
            try:
                found.append(RdmRecord.model_validate(hit))
            except ValidationError:
                continue
        return found

    def search_all(self, query: str, *, size: int = PAGE_SIZE) -> list[RdmRecord]:
        found: list[RdmRecord] = []
        for page in range(1, MAX_RESULTS // size + 1):
            items = self.search_user_records(query, size=size, page=page)
            found.extend(items)
            if len(items) < size:
                return found
        raise TransportError(f"search {printable(query, 80)}: more than {MAX_RESULTS} hits", code="answer-invalid")

    # ------------------------------------------------------------------ files

    def init_files(self, record_id: str, keys: list[str]) -> None:
        """Initialise file keys in the draft (one request for all). A key that exists is a 400."""
        answer = self.send("POST", f"records/{quote(record_id)}/draft/files", retry=False, expect=(201,), json=[{"key": key} for key in keys])
        listed = {entry.key for entry in parse_answer(FileList, answer, f"files of {record_id}").entries}
        if not set(keys) <= listed:
            raise self.mismatch(f"files of {record_id}: the answer does not list {sorted(set(keys) - listed)}")

    def put_content(self, record_id: str, key: str, open_stream: Callable[[], object], size: int) -> None:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        self.send(
            "PUT", f"records/{quote(record_id)}/draft/files/{quote(key)}/content", retry=True, expect=(200,),
            body_factory=open_stream, size=size, headers=headers,
        )

    def commit_file(self, record_id: str, key: str) -> FileEntry:
        answer = self.send("POST", f"records/{quote(record_id)}/draft/files/{quote(key)}/commit", retry=True, expect=(200,))
        entry: FileEntry = parse_answer(FileEntry, answer, f"commit {key}")
        if entry.key != key:
            raise self.mismatch(f"commit {key}: the answer is about {entry.key!r}")
        return entry

    def list_files(self, record_id: str) -> tuple[FileEntry, ...]:
        answer = self.send("GET", f"records/{quote(record_id)}/draft/files", retry=True, expect=(200,))
        listed: FileList = parse_answer(FileList, answer, f"files of {record_id}")
        return listed.entries

    def delete_file(self, record_id: str, key: str) -> None:
        self.send("DELETE", f"records/{quote(record_id)}/draft/files/{quote(key)}", retry=True, expect=(204, 404))

    def download(self, record_id: str, key: str) -> bytes:
        return self.send("GET", f"records/{quote(record_id)}/files/{quote(key)}/content", retry=True, expect=(200,)).body

    # ------------------------------------------------------------------ communities

    def community(self, slug: str) -> Community:
        answer = self.send("GET", f"communities/{quote(slug)}", retry=True, expect=(200,))
        found: Community = parse_answer(Community, answer, f"community {slug}")
        if found.slug != slug:
            raise self.mismatch(f"community {slug}: the answer is about {found.slug!r}")
        return found

    def set_review(self, record_id: str, community_id: str) -> ReviewRequest:
        body = {"receiver": {"community": community_id}, "type": "community-submission"}
        answer = self.send("PUT", f"records/{quote(record_id)}/draft/review", retry=True, expect=(200,), json=body)
        request: ReviewRequest = parse_answer(ReviewRequest, answer, f"review of {record_id}")
        return request

    def submit_review(self, record_id: str, message: str) -> ReviewRequest:
        """Submit the draft to its community's review (sent once: the caller reads the review back after a lost answer)."""
        body = {"payload": {"content": message, "format": "html"}}
        answer = self.send("POST", f"records/{quote(record_id)}/draft/actions/submit-review", retry=False, expect=(200, 202), json=body)
        request: ReviewRequest = parse_answer(ReviewRequest, answer, f"submit review of {record_id}")
        return request

    def read_review(self, record_id: str) -> ReviewRequest | None:
        answer = self.send("GET", f"records/{quote(record_id)}/draft/review", retry=True, expect=(200, 404))
        return None if answer.status == 404 else parse_answer(ReviewRequest, answer, f"review of {record_id}")

    # ------------------------------------------------------------------ vocabularies

    def vocabulary_has(self, vocabulary: str, entry: str) -> bool | None:
        """Whether the repository's vocabulary ``vocabulary`` (InvenioRDM's name: resourcetypes,
        licenses, ...) holds ``entry``: GET /vocabularies/{type}/{id}; after a 404, whether it serves
        that vocabulary at all (None when it serves none: its defaults then stand)."""
        answer = self.send("GET", f"vocabularies/{quote(vocabulary)}/{quote(entry)}", retry=True, expect=(200, 404))
        if answer.status == 200:
            found: VocabularyEntry = parse_answer(VocabularyEntry, answer, f"vocabulary {vocabulary}")
            if found.id != entry:
                raise self.mismatch(f"vocabulary {vocabulary}: the answer is about {found.id!r}, not {entry!r}")
            return True
        listing = self.send("GET", f"vocabularies/{quote(vocabulary)}", retry=True, expect=(200, 404), params={"size": 1})
        return False if listing.status == 200 else None

    def minted_doi(self, record: RdmRecord) -> None:
        """Raise answer-mismatch unless ``record`` is published under the DOI the server mints for its id."""
        doi = record.pids.get("doi")
        concept = record.parent.pids.get("doi")
        minted_check(self.target, record.id, record.parent.id, record.is_published, doi.identifier if doi else None,
                     concept.identifier if concept else None, self.mismatch)
