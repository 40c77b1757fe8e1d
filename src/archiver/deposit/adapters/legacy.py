"""The deposit port over Zenodo's legacy deposit API (``/api/deposit/depositions``), through LegacyClient.

A record is found by its id among the keywords: the list endpoint maps ``keywords`` to
``metadata.subjects.subject`` and parses ``q`` as a query tree (zenodo-rdm's
ZENODO_LEGACY_SEARCH_MAP and QueryParser), so one request asks for many records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from archiver.deposit.adapters.base import ClientAdapter, parse_created
from archiver.deposit.adapters.metadata import legacy_changes, legacy_diff, legacy_payload, legacy_unkept
from archiver.deposit.description import describe
from archiver.deposit.port import Capabilities, RemoteDeposition, RemoteFile
from archiver.model import DepositionId, Record
from archiver.policy import Policy
from archiver.zenodo.legacy_client import LegacyClient, LegacyDeposition
from archiver.zenodo.target import PAGE_SIZE
from archiver.zenodo.transport import TransportError


def record_query(record_ids: Iterable[str]) -> str:
    """The list query that finds every deposition carrying one of ``record_ids`` as a keyword.
    Record ids are ``SRCH:`` and hex digits (the model's pattern), so a phrase holds them as they are."""
    phrases = " OR ".join(f'"{record_id}"' for record_id in sorted(set(record_ids)))
    return f"keywords:({phrases})"


def remote_view(deposition: LegacyDeposition, unkept: tuple[str, ...] = ()) -> RemoteDeposition:
    """The stage's view of a legacy deposition."""
    return RemoteDeposition(
        id=deposition.id, concept=deposition.conceptrecid, published=deposition.submitted, doi=deposition.doi,
        concept_doi=deposition.conceptdoi, files_at=deposition.links.bucket, landing_page=deposition.links.html,
        files=tuple(RemoteFile(id=f.id, name=f.filename, md5=f.checksum) for f in deposition.files),
        record_ids=deposition.metadata.keywords, version=deposition.metadata.version, unkept=unkept,
        editing=deposition.submitted and deposition.state == "inprogress", metadata=deposition.stored_metadata,
        created=parse_created(deposition.created),
    )


class LegacyDeposits(ClientAdapter):
    """Deposits through the legacy API: a bucket PUT per file, one PUT for all metadata, actions/publish."""

    name = "deposit"
    capabilities = Capabilities(follows_reviews=False, communities_at_publish=True, plan_body="metadata", creators_as_persons=True,
                                sends_publisher=False)
    client: LegacyClient
    client_class = LegacyClient

    @classmethod
    def payload(cls, record: Record, policy: Policy) -> dict:
        return legacy_payload(describe(record, policy))

    @classmethod
    def upload_steps(cls, count: int) -> str:
        return f"upload {count} files"

    def _checked(self, record: Record, answer: LegacyDeposition, sent: dict, what: str) -> RemoteDeposition:
        if record.id not in answer.metadata.keywords:
            raise TransportError(f"{what}: the answer's deposition {answer.id} is not of {record.id}", code="answer-mismatch")
        return remote_view(answer, tuple(legacy_unkept(sent, answer.stored_metadata)))

    def create(self, record: Record, payload: dict) -> RemoteDeposition:
        return self._checked(record, self.client.create_deposition(payload), payload, "create")

    def read(self, deposition_id: DepositionId) -> RemoteDeposition:
        return remote_view(self.client.get_deposition(deposition_id))

    def search(self, record_ids: Iterable[str]) -> list[RemoteDeposition]:
        return [remote_view(hit) for hit in self.client.search_depositions(record_query(record_ids), size=PAGE_SIZE, all_versions=True)]

    def open_draft_of(self, previous_id: DepositionId) -> RemoteDeposition | None:
        concept = self.client.get_deposition(previous_id).conceptrecid
        for item in self.client.list_depositions(query=f'conceptrecid:"{concept}"'):
            if item.conceptrecid == concept and not item.submitted and item.id != previous_id:
                return remote_view(item)
        return None

    def new_version(self, previous_id: DepositionId) -> RemoteDeposition:
        """actions/newversion; its answer is the new draft (before 2023 it was the previous
        deposition, whose links.latest_draft named the draft). A second newversion while a draft
        is open makes Zenodo re-import the files and answer 400 ("Please remove all files first.")."""
        try:
            answer = self.client.new_version(previous_id)
        except TransportError as exc:
            if exc.status == 400 and "files.enabled" in exc.message:
                raise TransportError(f"newversion of {previous_id}: a draft is open already", status=exc.status, code="draft-open") from None
            raise
        if answer.id == previous_id:
            if not answer.links.latest_draft:
                raise TransportError(f"newversion of {previous_id} named no draft", code="answer-invalid")
            answer = self.client.get_deposition(answer.links.latest_draft)
        if answer.submitted or answer.id == previous_id:
            raise TransportError(f"newversion of {previous_id}: the answer is no new draft (deposition {answer.id})", code="answer-mismatch")
        return remote_view(answer)

    def begin_uploads(self, deposition_id: DepositionId, names: list[str], held: set[str] | None) -> None:
        """Nothing to prepare: a bucket PUT creates or replaces its key."""

    def upload(self, files_at: str, name: str, open_stream: Callable[[], object], size: int) -> str:
        return self.client.upload(files_at, name, open_stream, size).md5

    def delete_file(self, deposition_id: DepositionId, stored: RemoteFile) -> None:
        self.client.delete_file(deposition_id, stored.id)

    def set_metadata(self, deposition_id: DepositionId, record: Record, payload: dict) -> RemoteDeposition:
        return self._checked(record, self.client.update_metadata(deposition_id, payload), payload, f"metadata of {deposition_id}")

    def publish(self, deposition_id: DepositionId) -> RemoteDeposition:
        return self.first_publish.send(lambda: remote_view(self.client.publish(deposition_id)))

    def delete_draft(self, deposition_id: DepositionId) -> bool:
        return self.client.delete_draft(deposition_id)

    def read_published(self, deposition_id: DepositionId) -> RemoteDeposition:
        """One GET: the published deposition, or (state inprogress) the edit open on it."""
        return self.read(deposition_id)

    def edit(self, deposition_id: DepositionId) -> RemoteDeposition:
        answer = remote_view(self.client.edit(deposition_id))
        if not answer.published:
            raise TransportError(f"edit of {deposition_id}: the answer is no edit of a published deposition", code="answer-mismatch")
        return answer.model_copy(update={"editing": True})

    def discard_edit(self, deposition_id: DepositionId) -> bool:
        return self.client.discard(deposition_id)

    def metadata_changes(self, deposition: RemoteDeposition, payload: dict) -> tuple[str, ...]:
        return legacy_changes(payload, deposition.metadata)

    def metadata_diff(self, deposition: RemoteDeposition, payload: dict) -> list[dict]:
        return legacy_diff(payload, deposition.metadata)

    def download(self, deposition: RemoteDeposition, name: str) -> bytes:
        return self.client.download(deposition.id, name)

    def check_minted(self, deposition: RemoteDeposition) -> RemoteDeposition:
        self.client.check_minted(deposition.id, deposition.concept, deposition.published, deposition.doi, deposition.concept_doi)
        return deposition

    def check_community(self, slug: str) -> None:
        """Nothing to ask: the legacy API names communities by slug and checks them only at publish."""

    def submit_for_review(self, deposition_id: DepositionId, slug: str, message: str) -> RemoteDeposition:
        raise TransportError("the legacy deposit API asks for communities at publish, it has no review to submit", code="usage")

    def missing_communities(self, deposition_id: DepositionId, slugs: tuple[str, ...]) -> list[str]:
        """The communities asked for are added after publish, and a failure is silently ignored
        there: the deposition is read back for them."""
        held = self.client.get_deposition(deposition_id).stored_metadata.get("communities") or []
        found = {c.get("identifier") for c in held if isinstance(c, dict)}
        return [slug for slug in slugs if slug not in found]
