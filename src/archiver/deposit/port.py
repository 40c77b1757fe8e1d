"""The one interface the deposit stage talks to, whichever API is behind it, and what it reads back.

The stage speaks in operations (create a draft with metadata, find by record id, open a new
version, upload, publish, ...) and reads a neutral view of a remote deposition,
``RemoteDeposition``. Each API has an adapter that implements ``DepositPort`` over its own client
(``adapters/``); what differs between the APIs is asked of it as ``Capabilities``, never by its
name. Failures arrive as the errors of ``errors.py``. Nothing here imports an adapter or a client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from archiver.model import DepositionId, Record
from archiver.policy import Policy

# Where a draft stands with the community that reviews it: not asked (or the request was
# cancelled or expired: it may be submitted again), waiting for a decision, declined or accepted.
ReviewState = Literal["unsent", "pending", "declined", "accepted"]


class RemoteFile(BaseModel):
    """A file a deposition holds: its id (what it is deleted by), name and md5 ("" until committed)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    md5: str = ""


class RemoteDeposition(BaseModel):
    """A deposition (draft or published) as the repository holds it, in the stage's words."""

    model_config = ConfigDict(frozen=True)

    id: DepositionId  # Zenodo's number, or another InvenioRDM repository's id
    concept: str | None = None  # the id all versions share
    published: bool = False
    doi: str | None = None  # only a published deposition's DOI is ever registered
    concept_doi: str | None = None
    files_at: str | None = None  # where this draft's files go (None for a published one, or a search hint)
    landing_page: str | None = None
    files: tuple[RemoteFile, ...] = ()
    record_ids: tuple[str, ...] = ()  # the record ids it carries (a hint until checked against the record)
    version: str | None = None  # the version text archiver wrote: 1 + the number of corrections
    review: ReviewState | None = None  # None: no community review asked for
    review_said: str | None = None  # the repository's own word for the review's state, for messages
    unkept: tuple[str, ...] = ()  # after a save: the fields not stored as they were sent
    editing: bool = False  # published, with an edit of its metadata open (where the answer shows it)
    created: dt.datetime | None = None  # when the repository created it (ids need not grow with time)
    version_index: int | None = None  # its place among its concept's versions (InvenioRDM's versions.index), where known
    metadata: dict = Field(default_factory=dict, repr=False)  # the metadata as the answer holds it


@dataclass(frozen=True)
class Capabilities:
    """What an API can do that the other cannot, as the stage needs to know it."""

    follows_reviews: bool  # a first deposit goes to its community's review, which a later run follows
    communities_at_publish: bool  # communities are asked for with the metadata and read back after publish
    plan_body: str  # the key under which plan.json shows the body this API is sent
    creators_as_persons: bool = False  # every creator is stored as a person (an organisation's name as a family name)
    sends_publisher: bool = True  # the publisher is sent (else the repository shows its own default)

    @property
    def unsent_fields(self) -> tuple[str, ...]:
        """Public fields (deposit/description.py) this API does not send: a change of them is no drift."""
        return () if self.sends_publisher else ("publisher",)


class ApiDescription(Protocol):
    """What an API is and sends, known without a client (a dry run's plan asks only this)."""

    name: str  # the API's name as the policy and the ledger write it ("deposit", "records")
    capabilities: Capabilities

    @classmethod
    def payload(cls, record: Record, policy: Policy) -> dict:
        """The metadata this API sends for ``record``, checked locally against the vocabularies."""

    @classmethod
    def upload_steps(cls, count: int) -> str:
        """How ``count`` files are sent, in words for the plan."""


class DepositPort(ApiDescription, Protocol):
    """What the deposit stage needs from an API. Writes that create or publish are sent once; the
    stage decides what to do after a lost answer by reading the repository again."""

    environment: str  # where its deposits count: Zenodo's sandbox or production, or a named repository's origin
    server: str  # the API URL, as the ledger records it
    token_variable: str  # the environment variable its token came from, for messages
    repository_name: str  # the repository in messages: Zenodo, or a named repository's host
    token_scopes: str  # what its token must allow, for the message when it is refused
    sleep: Callable[[float], None]
    announce: Callable[[str], None] | None

    @property
    def requests(self) -> int:
        """Requests sent so far."""

    @property
    def throttled(self) -> int:
        """Answers so far that asked to slow down."""

    def scrub(self, text: str) -> str:
        """``text`` without the token."""

    def stop_waiting_when(self, stopping: Callable[[], bool]) -> None:
        """From now on, no wait (a backoff, a rate limit) is begun once ``stopping()`` is true: the
        request fails with ``stopping`` instead."""

    def create(self, record: Record, payload: dict) -> RemoteDeposition:
        """A new draft holding ``payload``; its ``unkept`` lists what the repository did not store as sent."""

    def read(self, deposition_id: DepositionId) -> RemoteDeposition:
        """The deposition (draft or published) as it is now; ``Gone`` when there is none."""

    def search(self, record_ids: Iterable[str]) -> list[RemoteDeposition]:
        """Every deposition (drafts, all versions) that may carry one of ``record_ids``: hints from
        the search index, which the caller checks."""

    def open_draft_of(self, previous_id: DepositionId) -> RemoteDeposition | None:
        """The open new-version draft of the concept of ``previous_id``, as the search lists it."""

    def new_version(self, previous_id: DepositionId) -> RemoteDeposition:
        """A new-version draft of the published ``previous_id`` (``DraftOpen`` when one is open
        that the answer does not name)."""

    def begin_uploads(self, deposition_id: DepositionId, names: list[str], held: set[str] | None) -> None:
        """Ready the draft for ``names`` (``held``: the names the draft holds, when known)."""

    def upload(self, files_at: str, name: str, open_stream: Callable[[], object], size: int) -> str:
        """Put one file into the draft whose files go to ``files_at`` (safe to repeat); the md5 the
        repository holds for it."""

    def delete_file(self, deposition_id: DepositionId, stored: RemoteFile) -> None:
        """Remove a file from a draft (a new version may carry the previous files)."""

    def set_metadata(self, deposition_id: DepositionId, record: Record, payload: dict) -> RemoteDeposition:
        """Replace the draft's metadata with ``payload``; ``unkept`` as for create."""

    def publish(self, deposition_id: DepositionId) -> RemoteDeposition:
        """Publish the draft once; the answer is checked to be this deposition under its own DOI."""

    def read_published(self, deposition_id: DepositionId) -> RemoteDeposition:
        """The published deposition, with the metadata it publishes; ``editing`` when the answer
        shows an edit open (its ``metadata`` is then the edit's, where the API shows no other)."""

    def edit(self, deposition_id: DepositionId) -> RemoteDeposition:
        """An edit of the published deposition's metadata (the open one when there is one): the
        same deposition, DOI and files; ``publish`` makes it public."""

    def discard_edit(self, deposition_id: DepositionId) -> bool:
        """The open edit dropped, the published metadata as it was: True when one was open."""

    def metadata_changes(self, deposition: RemoteDeposition, payload: dict) -> tuple[str, ...]:
        """The public fields (deposit/description.py) ``deposition`` shows otherwise than
        ``payload`` would, through the API's known renamings."""

    def metadata_diff(self, deposition: RemoteDeposition, payload: dict) -> list[dict]:
        """For each public field that changes: ``{"field", "now", "will"}``, what ``deposition``
        holds and what ``payload`` would make it hold, in the API's own keys (for a reader)."""

    def delete_draft(self, deposition_id: DepositionId) -> bool:
        """Delete a draft never published: True when deleted now, False when there is none."""

    def download(self, deposition: RemoteDeposition, name: str) -> bytes:
        """The bytes of a published deposition's file."""

    def check_minted(self, deposition: RemoteDeposition) -> RemoteDeposition:
        """``deposition`` when it is published under the DOI the repository mints for it; ``Untrusted`` otherwise."""

    def check_community(self, slug: str) -> None:
        """Nothing when the community ``slug`` may be asked for; ``community-missing`` when it does not exist."""

    def submit_for_review(self, deposition_id: DepositionId, slug: str, message: str) -> RemoteDeposition:
        """Submit the draft to the community's review (where the API follows reviews); the draft as
        it is afterwards (``review`` pending, or published when the token may include directly)."""

    def missing_communities(self, deposition_id: DepositionId, slugs: tuple[str, ...]) -> list[str]:
        """Of ``slugs``, the communities the published deposition is not in (where the API asks
        for communities at publish)."""
