"""The deposit port over Zenodo's records API (``/api/records``, InvenioRDM), through RecordsClient.

Record ids are numbers on Zenodo (``/records/123456``), and the flow and the ledger keep them as
such; another InvenioRDM repository mints ids such as ``q5jr8-hny72`` (rdm_ids.py). An id of the
other kind is ``repository-mismatch`` (the run stops), any other ``answer-invalid``, before
anything is stored. Files go as initialise (all keys in one request), content, commit; the
read-back after each save compares the stored metadata with the body sent. Before a body goes to
another repository, the vocabulary entries it names are asked of it, once per run.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable

from pydantic import ValidationError

from archiver import rdm_ids
from archiver.deposit.adapters.base import ClientAdapter, parse_created
from archiver.deposit.adapters.metadata import records_changes, records_diff, records_payload, unkept, vocabulary_entries
from archiver.deposit.description import describe
from archiver.deposit.port import Capabilities, RemoteDeposition, RemoteFile, ReviewState
from archiver.findings import printable
from archiver.model import DepositionId, Record
from archiver.policy import Policy
from archiver.zenodo import vocabularies
from archiver.zenodo.records_client import RdmRecord, RecordsClient
from archiver.zenodo.target import minted_check
from archiver.zenodo.transport import TransportError, same_origin
from archiver.zenodo.vocabularies import INVENIO_DEFAULTS, ZENODO

# InvenioRDM's request statuses, in the stage's words: a request created but never submitted, or
# cancelled or expired, may be submitted again; accepted publishes the draft.
_REVIEW_STATES: dict[str, ReviewState] = {
    "created": "unsent", "cancelled": "unsent", "expired": "unsent", "declined": "declined", "accepted": "accepted",
}


def record_query(record_ids: Iterable[str]) -> str:
    """The user-records query for every draft and record with one of ``record_ids`` as a subject
    (the field the legacy API's ``keywords`` map to). Record ids are ``SRCH:`` and hex digits."""
    phrases = " OR ".join(f'"{record_id}"' for record_id in sorted(set(record_ids)))
    return f"metadata.subjects.subject:({phrases})"


class RecordDeposits(ClientAdapter):
    """Deposits through the records API: drafts with full metadata, files initialised, uploaded and committed, publish."""

    name = "records"
    capabilities = Capabilities(follows_reviews=True, communities_at_publish=False, plan_body="rdm")
    client: RecordsClient
    client_class = RecordsClient

    def __init__(self, client: RecordsClient) -> None:
        super().__init__(client)
        self.communities: dict[str, str] = {}  # slug -> id, asked once per run
        self.served: dict[tuple[str, str], bool | None] = {}  # (vocabulary, id) -> held, asked once per run
        self.served_lock = threading.Lock()  # workers share the answers: each entry is asked once

    @classmethod
    def payload(cls, record: Record, policy: Policy) -> dict:
        # a repository the policy names is a plain InvenioRDM: its default vocabularies, not Zenodo's additions
        return records_payload(describe(record, policy), INVENIO_DEFAULTS if policy.repository is not None else ZENODO)

    @classmethod
    def upload_steps(cls, count: int) -> str:
        return f"initialise {count} files (one POST), then upload and commit each (two requests per file)"

    # ------------------------------------------------------------------ the neutral view

    def files_url(self, record_id: DepositionId) -> str:
        return f"{self.target.api_url}/records/{record_id}/draft/files"

    def view(self, record: RdmRecord, *, files: tuple | None = None) -> RemoteDeposition:
        """The stage's view of a records-API answer (deposit/port.py)."""
        deposition_id = self.deposition_id(record.id)
        try:
            return self._view_of(record, deposition_id, files)
        except ValidationError as exc:
            first = printable(str(exc).splitlines()[1].strip(), 120)
            raise TransportError(f"record {deposition_id}: the answer is not a record archiver can read ({first})", code="answer-invalid") from None

    def deposition_id(self, text: str) -> DepositionId:
        """A record id as the flow and the ledger keep it: Zenodo's number, or the id InvenioRDM
        mints elsewhere (its form and check digits); any other is an answer archiver cannot use."""
        number = re.fullmatch(r"[0-9]{1,18}", text)  # ASCII digits: str.isdigit() takes "²" and "١٠"
        if self.target.is_zenodo and number:
            return int(text)
        if not self.target.is_zenodo and rdm_ids.is_record_id(text):
            return text
        if self.target.is_zenodo and rdm_ids.is_record_id(text):
            raise TransportError(f"record id {text!r} is an InvenioRDM repository's, not a number as Zenodo's are: {self.target.api_url} is "
                                 "no Zenodo; name it in the policy's [repository] table (url, doi_prefix, token_variable)",
                                 code="repository-mismatch")
        if number:
            raise TransportError(f"record id {text!r} is a number, not an id such as q5jr8-hny72 as the InvenioRDM repository the policy "
                                 f"names mints them: {self.target.api_url} is not that repository; check the policy's [repository] url",
                                 code="repository-mismatch")
        expected = "a number, as Zenodo's are" if self.target.is_zenodo else f"an id as InvenioRDM mints them (such as q5jr8-hny72), as {self.repository_name}'s are"
        raise TransportError(f"record id {printable(text, 40)!r} is not {expected}", code="answer-invalid")

    def _view_of(self, record: RdmRecord, deposition_id: DepositionId, files: tuple | None) -> RemoteDeposition:
        doi = record.pids.get("doi")
        concept = record.parent.pids.get("doi")
        entries = files if files is not None else (record.files.entries if record.files is not None else ())
        subjects = record.metadata.get("subjects")
        keywords = [s.get("subject") for s in subjects if isinstance(s, dict) and isinstance(s.get("subject"), str)] if isinstance(subjects, list) else []
        html = record.links.self_html
        review = record.parent.review
        said = review.get("status") if isinstance(review, dict) else None
        return RemoteDeposition.model_validate({
            "id": deposition_id,
            "concept": record.parent.id,
            "published": record.is_published,
            "doi": (doi.identifier or None) if doi and record.is_published else None,
            "concept_doi": (concept.identifier or None) if concept else None,
            "files_at": None if record.is_published else self.files_url(deposition_id),
            "landing_page": same_origin(html, self.target.api_url, under_api=False) if html else None,
            # a key initialised but never committed is listed without a checksum: it is uploaded again
            "files": [{"id": entry.key, "name": entry.key, "md5": "" if entry.status == "pending" else entry.md5} for entry in entries],
            "record_ids": keywords,
            "version": record.metadata.get("version"),  # a version that is not text is an answer archiver cannot read
            "review": _REVIEW_STATES.get(said, "pending") if isinstance(said, str) else None,
            "review_said": said,  # a status that is not text is an answer archiver cannot read
            "editing": record.is_published and record.is_draft,
            "metadata": record.metadata,
            "created": parse_created(record.created),
            "version_index": record.versions.index if record.versions is not None else None,
        })

    def _checked(self, record: Record, answer: RdmRecord, sent: dict, what: str) -> RemoteDeposition:
        view = self.view(answer)
        if record.id not in view.record_ids:
            raise TransportError(f"{what}: the answer's record {answer.id} is not of {record.id}", code="answer-mismatch")
        dropped = list(unkept(sent["metadata"], answer.metadata))
        # what the lenient save reported (only with the UI JSON Accept): a field it did not store
        # ("files.enabled" says only that no file is committed yet: the files come after the metadata)
        dropped += [printable(error["field"], 80) for error in answer.errors  # server text: escaped, cut short
                    if isinstance(error, dict) and isinstance(error.get("field"), str) and error["field"].startswith("metadata")]
        return view.model_copy(update={"unkept": tuple(dict.fromkeys(dropped))})

    # ------------------------------------------------------------------ operations

    def check_served(self, payload: dict) -> None:
        """Before a body goes to a repository other than Zenodo: each vocabulary entry it names is
        one the repository serves (asked once per run; Zenodo's own are checked locally)."""
        if self.target.is_zenodo:
            return
        for kind, where, entry in vocabulary_entries(payload["metadata"]):
            served = vocabularies.SERVED_AS[kind]
            with self.served_lock:
                if (served, entry) not in self.served:
                    self.served[served, entry] = self.client.vocabulary_has(served, entry)
            if self.served[served, entry] is False:
                raise TransportError(
                    f"{where}: {entry!r} is not in {self.repository_name}'s vocabulary {served} "
                    f"(GET /api/vocabularies/{served}/{entry}: 404); no draft was made", code="vocabulary-unknown", refused=True,
                )

    def create(self, record: Record, payload: dict) -> RemoteDeposition:
        self.check_served(payload)
        return self.first_create.send(lambda: self._checked(record, self.client.create_draft(payload), payload, "create"))

    def read(self, deposition_id: DepositionId) -> RemoteDeposition:
        """The draft when there is one, else the published record; a 404 when neither exists."""
        try:
            return self.view(self.client.read_draft(str(deposition_id)))
        except TransportError as exc:
            if exc.status not in (404, 410):  # a published record's draft is gone (410 where the server says so)
                raise
        return self.view(self.client.read_record(str(deposition_id)))

    def search(self, record_ids: Iterable[str]) -> list[RemoteDeposition]:
        found = []
        for hit in self.client.search_all(record_query(record_ids)):
            try:
                found.append(self.view(hit))
            except TransportError as exc:
                if exc.code == "repository-mismatch":  # not the repository named: nothing it lists can be ruled out
                    raise TransportError(f"the search lists a deposition whose {exc.message}", code=exc.code) from None
                continue  # a hit archiver cannot use is no record of its own
        return found

    def open_draft_of(self, previous_id: DepositionId) -> RemoteDeposition | None:
        concept = self.read(previous_id).concept
        for hit in self.client.search_all(f'parent.id:"{concept}"'):
            if hit.parent.id == concept and not hit.is_published and hit.id != str(previous_id):
                return self.view(hit)
        return None

    def new_version(self, previous_id: DepositionId) -> RemoteDeposition:
        """POST /versions answers with the new draft, or with the draft already open (InvenioRDM
        keeps one per concept). The previous files are not imported: this draft gets its own."""
        answer = self.view(self.client.new_version(str(previous_id)))
        if answer.published or answer.id == previous_id:
            raise TransportError(f"new version of {previous_id}: the answer is no new draft (record {answer.id})", code="answer-mismatch")
        return answer

    def begin_uploads(self, deposition_id: DepositionId, names: list[str], held: set[str] | None) -> None:
        """Initialise every key that is to be uploaded in one request; keys the draft holds already
        (``held``, listed when unknown) are deleted first, as an existing key cannot be initialised again."""
        if not names:
            return
        if held is None:
            held = {entry.key for entry in self.client.list_files(str(deposition_id))}
        for name in names:
            if name in held:
                self.client.delete_file(str(deposition_id), name)
        self.client.init_files(str(deposition_id), names)

    def upload(self, files_at: str, name: str, open_stream: Callable[[], object], size: int) -> str:
        record_id = files_at.rstrip("/").split("/")[-3]  # .../records/{id}/draft/files
        self.client.put_content(record_id, name, open_stream, size)
        return self.client.commit_file(record_id, name).md5

    def delete_file(self, deposition_id: DepositionId, stored: RemoteFile) -> None:
        self.client.delete_file(str(deposition_id), stored.name)

    def set_metadata(self, deposition_id: DepositionId, record: Record, payload: dict) -> RemoteDeposition:
        self.check_served(payload)
        answer = self.client.update_draft(str(deposition_id), payload)
        return self._checked(record, answer, payload, f"draft {deposition_id}")

    def publish(self, deposition_id: DepositionId) -> RemoteDeposition:
        return self.first_publish.send(lambda: self._published(self.client.publish(str(deposition_id))))

    def _published(self, published: RdmRecord) -> RemoteDeposition:
        self.client.minted_doi(published)
        return self.view(published)

    def delete_draft(self, deposition_id: DepositionId) -> bool:
        return self.client.delete_draft(str(deposition_id))

    def download(self, deposition: RemoteDeposition, name: str) -> bytes:
        return self.client.download(str(deposition.id), name)

    def read_published(self, deposition_id: DepositionId) -> RemoteDeposition:
        """One GET of the record: what it publishes, whether or not an edit is open (which the
        record's answer does not show)."""
        return self.view(self.client.read_record(str(deposition_id)))

    def edit(self, deposition_id: DepositionId) -> RemoteDeposition:
        answer = self.view(self.client.edit(str(deposition_id)))
        if not answer.published:
            raise TransportError(f"edit of {deposition_id}: the answer is no edit of a published record", code="answer-mismatch")
        return answer.model_copy(update={"editing": True})

    def discard_edit(self, deposition_id: DepositionId) -> bool:
        return self.client.delete_draft(str(deposition_id))

    def metadata_changes(self, deposition: RemoteDeposition, payload: dict) -> tuple[str, ...]:
        return records_changes(payload, deposition.metadata)

    def metadata_diff(self, deposition: RemoteDeposition, payload: dict) -> list[dict]:
        return records_diff(payload, deposition.metadata)

    def check_minted(self, deposition: RemoteDeposition) -> RemoteDeposition:
        minted_check(self.target, deposition.id, deposition.concept, deposition.published, deposition.doi, deposition.concept_doi,
                     self.client.mismatch)
        return deposition

    # ------------------------------------------------------------------ communities

    def check_community(self, slug: str) -> None:
        self.community_id(slug)

    def community_id(self, slug: str) -> str:
        if slug not in self.communities:
            try:
                self.communities[slug] = self.client.community(slug).id
            except TransportError as exc:
                if exc.status == 404:
                    raise TransportError(f"community {slug!r} does not exist on {self.target.api_url}", status=404, code="community-missing") from None
                raise
        return self.communities[slug]

    def submit_for_review(self, deposition_id: DepositionId, slug: str, message: str) -> RemoteDeposition:
        """Ask the community to include the draft: the review request set (a PUT, safe to repeat),
        then submitted once. A curator's token may include directly: the record is then published
        by the submission. The draft as it is afterwards (``review`` says submitted or accepted)."""
        community = self.community_id(slug)
        current = self.read(deposition_id)
        if current.review in (None, "unsent"):
            self.client.set_review(str(deposition_id), community)
            try:
                self.client.submit_review(str(deposition_id), message)
            except TransportError as exc:
                if exc.refused:
                    raise
                # a lost answer may hide a submission: the draft says whether it went
        return self.read(deposition_id)

    def missing_communities(self, deposition_id: DepositionId, slugs: tuple[str, ...]) -> list[str]:
        """The records API asks for a community by its review: nothing is asked at publish."""
        return []
