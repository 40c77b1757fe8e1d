"""The one interface the deposit flow talks to, whichever Zenodo API is behind it.

The flow (flow.py) speaks in operations (create a draft with metadata, find by record id, open a
new version, upload, publish, ...) and reads a neutral view of a remote deposition, the
``Deposition`` model: id, concept id, published or not, DOI and concept DOI, landing page, files by
name with md5, and the record ids (keywords / subjects) and version it carries. Each API has an
adapter that implements this Protocol over its own client: ``legacy.py`` (the deposit API,
``/api/deposit/depositions``) and ``records.py`` (the InvenioRDM records API, ``/api/records``).
The flow never sees a URL, a status number other than "not found" (404 on both) or an API field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from archiver.model import Record
from archiver.policy import Policy
from archiver.zenodo.deposit_api import Deposition, DepositionFile
from archiver.zenodo.target import Target

if TYPE_CHECKING:
    from archiver.zenodo.deposit_api import ZenodoClient
    from archiver.zenodo.records_api import RecordsClient

# The API names the policy setting ``api`` takes; the ledger records which one made a row.
API_NAMES = ("deposit", "records")


class DepositAPI(Protocol):
    """What the deposit flow needs from a Zenodo API. Writes that create or publish are sent once;
    the flow decides what to do after a lost answer by reading the server again."""

    name: str  # "deposit" or "records"
    target: Target
    stats: dict[str, int]
    sleep: Callable[[float], None]
    announce: Callable[[str], None] | None

    def scrub(self, text: str) -> str:
        """``text`` without the token."""

    def payload(self, record: Record, policy: Policy) -> dict:
        """The metadata this API sends for ``record``, checked locally against Zenodo's vocabularies."""

    def create(self, record: Record, payload: dict) -> Deposition:
        """A new draft holding ``payload``; its ``unkept`` lists what the server did not store as sent."""

    def read(self, deposition_id: int) -> Deposition:
        """The deposition (draft or published) as it is now; a 404 ZenodoError when it is gone."""

    def search(self, record_ids: Iterable[str]) -> list[Deposition]:
        """Every deposition (drafts, all versions) whose record ids may include one of ``record_ids``:
        hints from the search index, which the caller checks."""

    def open_draft_of(self, previous_id: int) -> Deposition | None:
        """The open new-version draft of the concept of ``previous_id``, as the search lists it."""

    def new_version(self, previous_id: int) -> Deposition:
        """A new-version draft of the published ``previous_id`` (a ZenodoError ``draft-open`` when one
        is open that the answer does not name)."""

    def begin_uploads(self, deposition_id: int, names: list[str], held: set[str] | None) -> None:
        """Ready the draft for ``names`` (the records API initialises keys; ``held``: the keys the
        draft holds, when the caller knows them)."""

    def upload(self, files_at: str, name: str, open_stream: Callable[[], object], size: int) -> str:
        """Put one file into the draft whose ``links.bucket`` is ``files_at`` (safe to repeat); the
        md5 the server holds for it."""

    def delete_file(self, deposition_id: int, stored: DepositionFile) -> None:
        """Remove a file from a draft (a new version carries the previous files)."""

    def set_metadata(self, deposition_id: int, record: Record, payload: dict) -> Deposition:
        """Replace the draft's metadata with ``payload``; ``unkept`` as for create."""

    def publish(self, deposition_id: int) -> Deposition:
        """Publish the draft once; the answer is checked to be this deposition under its own DOI."""

    def delete_draft(self, deposition_id: int) -> bool:
        """Delete a draft never published: True when deleted now, False when there is none."""

    def download(self, deposition: Deposition, name: str) -> bytes:
        """The bytes of a published deposition's file."""

    def minted(self, deposition: Deposition) -> Deposition:
        """``deposition`` when it is published under the DOI the server mints for it; answer-mismatch otherwise."""

    def community_id(self, slug: str) -> str:
        """Records API: the id of the community ``slug``; a ``community-missing`` error when there is none."""

    def submit_for_review(self, deposition_id: int, slug: str, message: str) -> Deposition:
        """Records API: submit the draft to the community's review; the draft as it is afterwards
        (``review`` submitted, or published when the token may include directly)."""


class ClientAdapter:
    """What both adapters take from their client: the target, the counters, the sleep, the voice, the scrub."""

    def __init__(self, client: ZenodoClient | RecordsClient) -> None:
        self.client = client
        self.target = client.target
        self.stats = client.stats
        self.sleep = client.sleep
        self.announce = client.announce

    def scrub(self, text: str) -> str:
        return self.client.scrub(text)


def adapter_for(client: DepositAPI | ZenodoClient | RecordsClient) -> DepositAPI:
    """The interface over a client: the legacy adapter for a ZenodoClient, the records adapter for
    a RecordsClient; an adapter is returned as it is."""
    from archiver.deposit.legacy import LegacyDeposits
    from archiver.deposit.records import RecordDeposits
    from archiver.zenodo.deposit_api import ZenodoClient
    from archiver.zenodo.records_api import RecordsClient

    if isinstance(client, ZenodoClient):
        return LegacyDeposits(client)
    if isinstance(client, RecordsClient):
        return RecordDeposits(client)
    return client


def open_api(name: str, target: Target, **client_options: object) -> DepositAPI:
    """The adapter of the API ``name`` ("deposit" or "records", the policy's ``api``) over a new client for ``target``."""
    from archiver.deposit.legacy import LegacyDeposits
    from archiver.deposit.records import RecordDeposits
    from archiver.zenodo.deposit_api import ZenodoClient
    from archiver.zenodo.records_api import RecordsClient

    if name == "records":
        return RecordDeposits(RecordsClient(target, **client_options))
    return LegacyDeposits(ZenodoClient(target, **client_options))
