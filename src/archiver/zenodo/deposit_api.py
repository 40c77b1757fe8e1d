"""Zenodo deposit API client: one session, a token sent only to its host, paced and retried requests.

Only requests that are safe to repeat are retried here (GET, PUT, DELETE, and anything answered
429, which Zenodo did not process). A POST that creates or publishes may have taken effect even
when its answer was lost; the deposit stage decides what to do after re-reading the server.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from archiver.findings import printable
from archiver.zenodo.target import USER_AGENT, Target
from archiver.zenodo.transport import Answer, ApiClient, TransportError, parse_answer, same_origin

# The list endpoint's largest page for a logged-in user (ZenodoArgsSchema.validate_max_page_size),
# and the most hits a search shows (OpenSearch's result window).
PAGE_SIZE = 100
MAX_RESULTS = 10_000

# --------------------------------------------------------------------------- Zenodo's answers, typed
# Only what archiver reads is declared; everything else Zenodo sends is ignored, so a field
# Zenodo adds never breaks a deposit, and one archiver needs but does not get is a clear error.


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DepositionLinks(_Answer):
    bucket: str | None = None  # absent from list entries: read the deposition itself for it
    html: str | None = None
    latest_draft: str | None = None  # newversion before 2023 answered with the old deposition


class DepositionFile(_Answer):
    id: str
    filename: str
    checksum: str = ""


class DepositionMetadata(_Answer):
    notes: str = ""
    keywords: tuple[str, ...] = ()
    version: str | None = None

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords_as_texts(cls, value: object) -> object:
        # what archiver does not recognise as a list of texts is no keyword of its records
        return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


class Deposition(_Answer):
    """A deposition as the legacy deposit API returns it (one item of a list, or one GET). Its shape
    is also the neutral view the deposit flow reads, which the records API's adapter fills alike."""

    id: int
    conceptrecid: str | None = None
    submitted: bool = False
    doi: str | None = None  # a draft may already hold its reserved DOI: only a submitted one is registered
    conceptdoi: str | None = None  # the DOI of all versions, minted at the concept's first publish
    links: DepositionLinks = DepositionLinks()
    files: tuple[DepositionFile, ...] = ()
    metadata: DepositionMetadata = DepositionMetadata()
    # The metadata exactly as the answer holds it, for the read-back after a save.
    stored_metadata: dict = Field(default_factory=dict, repr=False)
    # Set by an adapter, never read from an answer: fields a save did not keep as sent, and the
    # status of the community review a draft waits for (records API).
    unkept: tuple[str, ...] = ()
    review: str | None = None

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



class UploadedFile(_Answer):
    """A bucket PUT's answer; its checksum is ``md5:<hex>``."""

    key: str | None = None
    size: int | None = None
    checksum: str = ""

    @property
    def md5(self) -> str:
        return self.checksum.removeprefix("md5:")




def minted_check(
    target: Target, record_id: object, concept_id: object, published: bool, doi: str | None, concept_doi: str | None,
    mismatch: Callable[[str], TransportError],
) -> None:
    """Both APIs: a published record's DOI is the one Zenodo mints for its id ({prefix}/zenodo.{id}),
    its concept DOI (when given) the one of its concept; anything else is ``mismatch``."""
    prefix = target.minted_prefix
    if not published:
        raise mismatch(f"deposition {record_id}: the answer says it is not published")
    if doi != f"{prefix}/zenodo.{record_id}":
        raise mismatch(f"deposition {record_id}: the answer names DOI {doi!r}, not {prefix}/zenodo.{record_id}")
    if concept_doi is not None and concept_doi != f"{prefix}/zenodo.{concept_id}":
        raise mismatch(f"deposition {record_id}: concept DOI {concept_doi!r} is not that of concept {concept_id}")


# One error type from the transport to the flow: ``code`` says what happened, ``status`` the HTTP
# status when an answer came, ``refused`` whether that answer proves nothing was done.
ZenodoError = TransportError


class ZenodoClient(ApiClient):
    """The legacy deposit API, one method per endpoint, over a Transport bound to the target's origin.

    Every answer is checked against what was asked: the deposition id, the links (same origin),
    a published deposition's DOI (the form Zenodo mints for its id), an upload's key."""

    def __init__(self, target: Target, **options) -> None:
        super().__init__(target, USER_AGENT, **options)

    def send(self, method: str, path: str, *, retry: bool, expect: tuple[int, ...], **kwargs) -> Answer:
        return self.transport.send(method, path, retry=retry, expect=expect, **kwargs)

    def _mismatch(self, message: str) -> ZenodoError:
        return ZenodoError(printable(self.scrub(message), 400), code="answer-mismatch")

    def minted(self, deposition: Deposition) -> Deposition:
        """``deposition`` when it is published under the DOI Zenodo mints for its id (and its
        concept DOI, when given, for its concept); an answer-mismatch otherwise, so that the DOI of
        another record, or no DOI at all, never reaches a manifest."""
        minted_check(self.target, deposition.id, deposition.conceptrecid, deposition.submitted, deposition.doi, deposition.conceptdoi, self._mismatch)
        return deposition

    def _own_links(self, deposition: Deposition, what: str, *, strict: bool) -> Deposition:
        """The deposition with its links kept only on the API's origin (query and fragment
        dropped, so a reflected token is never stored). With ``strict`` a foreign link refuses
        the whole answer; a search entry (a hint, read again before use) just loses it."""
        links = deposition.links
        kept: dict[str, str | None] = {}
        for name, under_api in (("bucket", True), ("latest_draft", True), ("html", False)):
            link = getattr(links, name)
            own = None if link is None else same_origin(link, self.target.api_url, under_api=under_api)
            if link is not None and own is None and strict:
                raise ZenodoError(
                    f"{what}: the answer's links.{name} ({printable(self.scrub(link), 120)}) is not on {self.target.api_url}: "
                    "refused, nothing stored",
                    code="foreign-link",
                )
            kept[name] = own
        return deposition.model_copy(update={"links": DepositionLinks(**kept)})

    # ------------------------------------------------------------------ the API

    def _deposition(self, answer: Answer, what: str, *, asked: int | None = None) -> Deposition:
        deposition: Deposition = parse_answer(Deposition, answer, what)
        if asked is not None and deposition.id != asked:
            raise self._mismatch(f"{what}: the answer is about deposition {deposition.id}, not {asked}")
        return self._own_links(deposition, what, strict=True)

    def create_deposition(self, metadata: dict | None = None) -> Deposition:
        """POST /deposit/depositions. Not repeated after a lost answer: the caller reconciles."""
        body = {"metadata": metadata} if metadata else {}
        created = self._deposition(self.send("POST", "deposit/depositions", retry=False, expect=(201,), json=body), "create")
        if created.submitted:
            raise self._mismatch(f"create: the answer's deposition {created.id} is published already")
        return created

    def get_deposition(self, deposition_id: int | str) -> Deposition:
        """GET one deposition by id, or by a link Zenodo gave (``links.latest_draft``)."""
        path = deposition_id if isinstance(deposition_id, str) else f"deposit/depositions/{deposition_id}"
        asked = deposition_id if isinstance(deposition_id, int) else None
        return self._deposition(self.send("GET", path, retry=True, expect=(200,)), f"deposition {deposition_id}", asked=asked)

    def list_depositions(self, query: str | None = None, size: int = 100, page: int = 1, all_versions: bool = False) -> list[Deposition]:
        """One page of the token owner's drafts and published depositions that ``query`` finds
        (only the latest of each concept unless ``all_versions``)."""
        params: dict[str, str | int] = {"size": size, "page": page, **({"q": query} if query else {})}
        if all_versions:
            params["all_versions"] = "true"
        answer = self.send("GET", "deposit/depositions", retry=True, expect=(200,), params=params)
        items = answer.json()
        if not isinstance(items, list):
            raise ZenodoError("list: Zenodo's answer is not a list of depositions", status=answer.status, code="answer-invalid")
        if len(items) > size:
            raise self._mismatch(f"list: {len(items)} entries in a page of {size}")
        # An entry that is not a deposition is skipped: a search result is a hint, never a fact.
        found = []
        for item in items:
            try:
                found.append(self._own_links(Deposition.model_validate(item), "list", strict=False))
            except ValidationError:
                continue
        return found

    def upload(self, bucket_url: str, filename: str, open_stream: Callable[[], object], size: int) -> UploadedFile:
        """PUT raw bytes to the bucket, streamed; a PUT of the same key replaces the file, so it
        is repeated after a dropped connection with a freshly opened stream."""
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        answer = self.send(
            "PUT", f"{bucket_url}/{quote(filename)}", retry=True, expect=(200, 201), body_factory=open_stream, size=size, headers=headers
        )
        uploaded: UploadedFile = parse_answer(UploadedFile, answer, f"upload {filename}")
        if uploaded.key is not None and uploaded.key != filename:
            raise self._mismatch(f"upload {filename}: the answer is about {uploaded.key!r}")
        return uploaded

    def update_metadata(self, deposition_id: int, metadata: dict) -> Deposition:
        """PUT with only {"metadata": ...}: it replaces all metadata, so every field is sent each time."""
        answer = self.send("PUT", f"deposit/depositions/{deposition_id}", retry=True, expect=(200,), json={"metadata": metadata})
        return self._deposition(answer, f"metadata of {deposition_id}", asked=deposition_id)

    def publish(self, deposition_id: int) -> Deposition:
        """POST .../actions/publish. Not repeated here: a lost answer may hide a success. The
        answer must be this deposition, published, under the DOI Zenodo mints for it."""
        answer = self.send("POST", f"deposit/depositions/{deposition_id}/actions/publish", retry=False, expect=(202,))
        return self.minted(self._deposition(answer, f"publish {deposition_id}", asked=deposition_id))

    def new_version(self, deposition_id: int) -> Deposition:
        answer = self.send("POST", f"deposit/depositions/{deposition_id}/actions/newversion", retry=False, expect=(201,))
        return self._deposition(answer, f"newversion of {deposition_id}")

    def search_depositions(self, query: str, *, size: int = PAGE_SIZE, all_versions: bool = False) -> list[Deposition]:
        """Every deposition the list finds for ``query``, page after page (a page shorter than
        ``size`` is the last). Bounded by the search's own window of 10,000 hits."""
        found: list[Deposition] = []
        for page in range(1, MAX_RESULTS // size + 1):
            items = self.list_depositions(query, size=size, page=page, all_versions=all_versions)
            found.extend(items)
            if len(items) < size:
                return found
        raise ZenodoError(f"search {printable(query, 80)}: more than {MAX_RESULTS} hits", code="answer-invalid")

    def delete_draft(self, deposition_id: int) -> bool:
        """DELETE a draft that was never published. True when deleted now, False when Zenodo has
        no such draft (deleted already, or published: a published deposition cannot be deleted)."""
        answer = self.send("DELETE", f"deposit/depositions/{deposition_id}", retry=True, expect=(204, 404))
        return answer.status == 204

    def download(self, deposition: Deposition, filename: str) -> bytes:
        """The bytes of a published deposition's file (an answer, so within the transport's cap)."""
        return self.send("GET", f"records/{deposition.id}/files/{quote(filename)}/content", retry=True, expect=(200,)).body

    def delete_file(self, deposition_id: int, file_id: str) -> None:
        self.send("DELETE", f"deposit/depositions/{deposition_id}/files/{quote(file_id)}", retry=True, expect=(204, 404))
