"""The deposit interface over Zenodo's legacy deposit API (``/api/deposit/depositions``), through ZenodoClient."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from archiver.deposit.api import ClientAdapter
from archiver.deposit.lookup import record_query
from archiver.deposit.metadata import describe, legacy_payload, legacy_unkept
from archiver.model import Record
from archiver.policy import Policy
from archiver.zenodo.deposit_api import PAGE_SIZE, Deposition, DepositionFile, ZenodoClient, ZenodoError


class LegacyDeposits(ClientAdapter):
    """Deposits through the legacy API: a bucket PUT per file, one PUT for all metadata, actions/publish."""

    name = "deposit"

    client: ZenodoClient

    def payload(self, record: Record, policy: Policy) -> dict:
        return legacy_payload(describe(record, policy))

    def _checked(self, record: Record, answer: Deposition, sent: dict, what: str) -> Deposition:
        if record.id not in answer.metadata.keywords:
            raise ZenodoError(f"{what}: the answer's deposition {answer.id} is not of {record.id}", code="answer-mismatch")
        return answer.model_copy(update={"unkept": tuple(legacy_unkept(sent, answer.stored_metadata))})

    def create(self, record: Record, payload: dict) -> Deposition:
        return self._checked(record, self.client.create_deposition(payload), payload, "create")

    def read(self, deposition_id: int) -> Deposition:
        return self.client.get_deposition(deposition_id)

    def search(self, record_ids: Iterable[str]) -> list[Deposition]:
        return self.client.search_depositions(record_query(record_ids), size=PAGE_SIZE, all_versions=True)

    def open_draft_of(self, previous_id: int) -> Deposition | None:
        concept = self.client.get_deposition(previous_id).conceptrecid
        for item in self.client.list_depositions(query=f'conceptrecid:"{concept}"'):
            if item.conceptrecid == concept and not item.submitted and item.id != previous_id:
                return item
        return None

    def new_version(self, previous_id: int) -> Deposition:
        """actions/newversion; its answer is the new draft (before 2023 it was the previous
        deposition, whose links.latest_draft named the draft). A second newversion while a draft
        is open makes Zenodo re-import the files and answer 400 ("Please remove all files first.")."""
        try:
            answer = self.client.new_version(previous_id)
        except ZenodoError as exc:
            if exc.status == 400 and "files.enabled" in exc.message:
                raise ZenodoError(f"newversion of {previous_id}: a draft is open already", status=exc.status, code="draft-open") from None
            raise
        if answer.id == previous_id:
            if not answer.links.latest_draft:
                raise ZenodoError(f"newversion of {previous_id} named no draft", code="answer-invalid")
            answer = self.client.get_deposition(answer.links.latest_draft)
        if answer.submitted or answer.id == previous_id:
            raise ZenodoError(f"newversion of {previous_id}: the answer is no new draft (deposition {answer.id})", code="answer-mismatch")
        return answer

    def begin_uploads(self, deposition_id: int, names: list[str], held: set[str] | None) -> None:
        """Nothing to prepare: a bucket PUT creates or replaces its key."""

    def upload(self, files_at: str, name: str, open_stream: Callable[[], object], size: int) -> str:
        return self.client.upload(files_at, name, open_stream, size).md5

    def delete_file(self, deposition_id: int, stored: DepositionFile) -> None:
        self.client.delete_file(deposition_id, stored.id)

    def set_metadata(self, deposition_id: int, record: Record, payload: dict) -> Deposition:
        return self._checked(record, self.client.update_metadata(deposition_id, payload), payload, f"metadata of {deposition_id}")

    def publish(self, deposition_id: int) -> Deposition:
        return self.client.publish(deposition_id)

    def delete_draft(self, deposition_id: int) -> bool:
        return self.client.delete_draft(deposition_id)

    def download(self, deposition: Deposition, name: str) -> bytes:
        return self.client.download(deposition, name)

    def minted(self, deposition: Deposition) -> Deposition:
        return self.client.minted(deposition)

    def community_id(self, slug: str) -> str:
        return slug  # the legacy API names communities by slug, and checks nothing before publish

    def submit_for_review(self, deposition_id: int, slug: str, message: str) -> Deposition:
        raise ZenodoError("the legacy deposit API asks for communities at publish, it has no review to submit", code="usage")
