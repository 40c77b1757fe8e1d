"""Zenodo's legacy deposit API client (``/api/deposit/depositions``): one session, a token sent only to its host, paced and retried requests.

Only requests that are safe to repeat are retried here (GET, PUT, DELETE, and anything answered
429, which Zenodo did not process). A POST that creates or publishes may have taken effect even
when its answer was lost; the deposit stage decides what to do after re-reading the server.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from archiver.findings import printable
from archiver.zenodo.answers import parse_answer
from archiver.zenodo.target import MAX_RESULTS, PAGE_SIZE, USER_AGENT, Target, minted_check
from archiver.zenodo.transport import Answer, ApiClient, TransportError, same_origin

# --------------------------------------------------------------------------- Zenodo's answers, typed
# Only what archiver reads is declared; everything else Zenodo sends is ignored, so a field
# Zenodo adds never breaks a deposit, and one archiver needs but does not get is a clear error.


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class LegacyLinks(_Answer):
    bucket: str | None = None  # absent from list entries: read the deposition itself for it
    html: str | None = None
    latest_draft: str | None = None  # newversion before 2023 answered with the old deposition


class LegacyFile(_Answer):
    id: str
    filename: str
    checksum: str = ""


class LegacyMetadata(_Answer):
    notes: str = ""
    keywords: tuple[str, ...] = ()
    version: str | None = None

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords_as_texts(cls, value: object) -> object:
        # what archiver does not recognise as a list of texts is no keyword of its records
        return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


class LegacyDeposition(_Answer):
    """A deposition as the legacy deposit API returns it (one item of a list, or one GET)."""

    id: int
    conceptrecid: str | None = None
    created: str | None = None
    submitted: bool = False
    # unsubmitted (a draft), done (published), inprogress (published, with an edit open: its
    # metadata is then the edit's, as zenodo-rdm's legacy serializer reads the draft first)
    state: str | None = None
    doi: str | None = None  # a draft may already hold its reserved DOI: only a submitted one is registered
    conceptdoi: str | None = None  # the DOI of all versions, minted at the concept's first publish
    links: LegacyLinks = LegacyLinks()
    files: tuple[LegacyFile, ...] = ()
    metadata: LegacyMetadata = LegacyMetadata()
    # The metadata exactly as the answer holds it, for the read-back after a save.
    stored_metadata: dict = Field(default_factory=dict, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _keep_stored_metadata(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("metadata"), dict) and "stored_metadata" not in data:
            return {**data, "stored_metadata": data["metadata"]}
        return data

    @field_validator("conceptrecid", mode="before")
    @classmethod
    def _concept_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("doi", "conceptdoi", mode="before")
    @classmethod
    def _empty_doi_is_none(cls, value: object) -> object:
        return value or None



class LegacyUpload(_Answer):
    """A bucket PUT's answer; its checksum is ``md5:<hex>``."""

    key: str | None = None
    size: int | None = None
    checksum: str = ""

    @property
    def md5(self) -> str:
        return self.checksum.removeprefix("md5:")




class LegacyClient(ApiClient):
    """The legacy deposit API, one method per endpoint, over a Transport bound to the target's origin.

    Every answer is checked against what was asked: the deposition id, the links (same origin),
    a published deposition's DOI (the form Zenodo mints for its id), an upload's key."""

    def __init__(self, target: Target, **options) -> None:
        super().__init__(target, USER_AGENT, **options)

    def send(self, method: str, path: str, *, retry: bool, expect: tuple[int, ...], **kwargs) -> Answer:
        return self.transport.send(method, path, retry=retry, expect=expect, **kwargs)

    def _mismatch(self, message: str, code: str = "answer-mismatch") -> TransportError:
        return TransportError(printable(self.scrub(message), 400), code=code)

    def minted(self, deposition: LegacyDeposition) -> LegacyDeposition:
        """``deposition`` when it is published under the DOI Zenodo mints for its id (and its
        concept DOI, when given, for its concept); an answer-mismatch otherwise, so that the DOI of
        another record, or no DOI at all, never reaches a manifest."""
        self.check_minted(deposition.id, deposition.conceptrecid, deposition.submitted, deposition.doi, deposition.conceptdoi)
        return deposition

    def check_minted(self, deposition_id: int | str, concept: str | None, published: bool, doi: str | None, concept_doi: str | None) -> None:
        minted_check(self.target, deposition_id, concept, published, doi, concept_doi, self._mismatch)

    def _own_links(self, deposition: LegacyDeposition, what: str, *, strict: bool) -> LegacyDeposition:
        """The deposition with its links kept only on the API's origin (query and fragment
        dropped, so a reflected token is never stored). With ``strict`` a foreign link refuses
        the whole answer; a search entry (a hint, read again before use) just loses it."""
        links = deposition.links
        kept: dict[str, str | None] = {}
        for name, under_api in (("bucket", True), ("latest_draft", True), ("html", False)):
            link = getattr(links, name)
            own = None if link is None else same_origin(link, self.target.api_url, under_api=under_api)
            if link is not None and own is None and strict:
                raise TransportError(
                    f"{what}: the answer's links.{name} ({printable(self.scrub(link), 120)}) is not on {self.target.api_url}: "
                    "refused, nothing stored",
                    code="foreign-link",
                )
            kept[name] = own
        return deposition.model_copy(update={"links": LegacyLinks(**kept)})

    # ------------------------------------------------------------------ the API

    def _deposition(self, answer: Answer, what: str, *, asked: int | str | None = None) -> LegacyDeposition:
        deposition: LegacyDeposition = parse_answer(LegacyDeposition, answer, what)
        if asked is not None and str(deposition.id) != str(asked):
            raise self._mismatch(f"{what}: the answer is about deposition {deposition.id}, not {asked}")
        return self._own_links(deposition, what, strict=True)

    def create_deposition(self, metadata: dict | None = None) -> LegacyDeposition:
        """POST /deposit/depositions. Not repeated after a lost answer: the caller reconciles."""
        body = {"metadata": metadata} if metadata else {}
        created = self._deposition(self.send("POST", "deposit/depositions", retry=False, expect=(201,), json=body), "create")
        if created.submitted:
            raise self._mismatch(f"create: the answer's deposition {created.id} is published already")
        return created

    def get_deposition(self, deposition_id: int | str) -> LegacyDeposition:
        """GET one deposition by id, or by a link Zenodo gave (``links.latest_draft``)."""
        path = deposition_id if isinstance(deposition_id, str) else f"deposit/depositions/{deposition_id}"
        asked = deposition_id if isinstance(deposition_id, int) else None
        return self._deposition(self.send("GET", path, retry=True, expect=(200,)), f"deposition {deposition_id}", asked=asked)

    def list_depositions(self, query: str | None = None, size: int = 100, page: int = 1, all_versions: bool = False) -> list[LegacyDeposition]:
        """One page of the token owner's drafts and published depositions that ``query`` finds
        (only the latest of each concept unless ``all_versions``)."""
        params: dict[str, str | int] = {"size": size, "page": page, **({"q": query} if query else {})}
        if all_versions:
            params["all_versions"] = "true"
        answer = self.send("GET", "deposit/depositions", retry=True, expect=(200,), params=params)
        items = answer.json()
        if not isinstance(items, list):
            raise TransportError("list: Zenodo's answer is not a list of depositions", status=answer.status, code="answer-invalid")
        if len(items) > size:
            raise self._mismatch(f"list: {len(items)} entries in a page of {size}")
        # An entry that is not a deposition is skipped: a search result is a hint, never a fact.
        found = []
        for item in items:
            try:
                found.append(self._own_links(LegacyDeposition.model_validate(item), "list", strict=False))
            except ValidationError:
                continue
        return found

    def upload(self, bucket_url: str, filename: str, open_stream: Callable[[], object], size: int) -> LegacyUpload:
        """PUT raw bytes to the bucket, streamed; a PUT of the same key replaces the file, so it
        is repeated after a dropped connection with a freshly opened stream."""
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        answer = self.send(
            "PUT", f"{bucket_url}/{quote(filename)}", retry=True, expect=(200, 201), body_factory=open_stream, size=size, headers=headers
        )
        uploaded: LegacyUpload = parse_answer(LegacyUpload, answer, f"upload {filename}")
        if uploaded.key is not None and uploaded.key != filename:
            raise self._mismatch(f"upload {filename}: the answer is about {uploaded.key!r}")
        return uploaded

    def update_metadata(self, deposition_id: int | str, metadata: dict) -> LegacyDeposition:
        """PUT with only {"metadata": ...}: it replaces all metadata, so every field is sent each time."""
        answer = self.send("PUT", f"deposit/depositions/{deposition_id}", retry=True, expect=(200,), json={"metadata": metadata})
        return self._deposition(answer, f"metadata of {deposition_id}", asked=deposition_id)

    def publish(self, deposition_id: int | str) -> LegacyDeposition:
        """POST .../actions/publish. Not repeated here: a lost answer may hide a success. The
        answer must be this deposition, published, under the DOI Zenodo mints for it."""
        answer = self.send("POST", f"deposit/depositions/{deposition_id}/actions/publish", retry=False, expect=(202,))
        return self.minted(self._deposition(answer, f"publish {deposition_id}", asked=deposition_id))

    def edit(self, deposition_id: int | str) -> LegacyDeposition:
        """POST .../actions/edit: an edit of the published deposition (201; the open one when there
        is one already, so it is safe to repeat). Its files stay locked: only metadata changes."""
        answer = self.send("POST", f"deposit/depositions/{deposition_id}/actions/edit", retry=True, expect=(201,))
        return self._deposition(answer, f"edit of {deposition_id}", asked=deposition_id)

    def discard(self, deposition_id: int | str) -> bool:
        """POST .../actions/discard: the open edit dropped, the published deposition as it was.
        True when one was discarded now, False when none was open."""
        answer = self.send("POST", f"deposit/depositions/{deposition_id}/actions/discard", retry=True, expect=(204, 404))
        return answer.status == 204

    def new_version(self, deposition_id: int | str) -> LegacyDeposition:
        answer = self.send("POST", f"deposit/depositions/{deposition_id}/actions/newversion", retry=False, expect=(201,))
        return self._deposition(answer, f"newversion of {deposition_id}")

    def search_depositions(self, query: str, *, size: int = PAGE_SIZE, all_versions: bool = False) -> list[LegacyDeposition]:
        """Every deposition the list finds for ``query``, page after page (a page shorter than
        ``size`` is the last). Bounded by the search's own window of 10,000 hits."""
        found: list[LegacyDeposition] = []
        for page in range(1, MAX_RESULTS // size + 1):
            items = self.list_depositions(query, size=size, page=page, all_versions=all_versions)
            found.extend(items)
            if len(items) < size:
                return found
        raise TransportError(f"search {printable(query, 80)}: more than {MAX_RESULTS} hits", code="answer-invalid")

    def delete_draft(self, deposition_id: int | str) -> bool:
        """DELETE a draft that was never published. True when deleted now, False when Zenodo has
        no such draft (deleted already, or published: a published deposition cannot be deleted)."""
        answer = self.send("DELETE", f"deposit/depositions/{deposition_id}", retry=True, expect=(204, 404))
        return answer.status == 204

    def download(self, deposition_id: int | str, filename: str) -> bytes:
        """The bytes of a published deposition's file (an answer, so within the transport's cap)."""
        return self.send("GET", f"records/{deposition_id}/files/{quote(filename)}/content", retry=True, expect=(200,)).body

    def delete_file(self, deposition_id: int | str, file_id: str) -> None:
        self.send("DELETE", f"deposit/depositions/{deposition_id}/files/{quote(file_id)}", retry=True, expect=(204, 404))
