"""protocol: exactly once, decision by decision, against a repository held in memory.

``MemoryRepository`` implements the deposit port over a dict of depositions, so each decision of the
protocol (adopt, resume, give way, defer, delete a rival) is shown on the exact depositions it is
about. The same protocol against a real server over HTTP, with kills, lost ledgers and two runs at
once, is tests/test_exactly_once.py.

Mutants left alive: a rival draft "created earlier" read as "created earlier or at once" (equivalent:
the creation order ends in the id, and two drafts of different concepts never share an id); the
empty text said when orphan drafts were found but none could be deleted (a message only: the drafts
are named in the next run's words). The adoption of a deposition that lacks this export's report
artifact (drifted, or a new version) is held end to end (tests/test_artifacts.py), not here.
"""

from __future__ import annotations

import json

import pytest

from archiver.deposit import protocol
from archiver.deposit.context import DepositRun, Job
from archiver.deposit.errors import Gone, RemoteError, Untrusted
from archiver.deposit.files import content_hashes, manifest_md5
from archiver.deposit.ledger import Ledger
from archiver.deposit.lookup import Found
from archiver.deposit.port import Capabilities, RemoteDeposition, RemoteFile
from archiver.model import Record
from archiver.policy import DEFAULT_POLICY
from conftest import seed_003_manifest

RECORD_ID = "SRCH:08EA5386"


class MemoryRepository:
    """The deposit port over depositions held in memory (only what the protocol asks of it)."""

    name = "deposit"
    capabilities = Capabilities(follows_reviews=True, communities_at_publish=False, plan_body="metadata")
    environment = "sandbox"
    server = "http://127.0.0.1:9/api"
    token_variable = "ZENODO_SANDBOX_TOKEN"
    repository_name = "Zenodo"
    token_scopes = "deposit:write, deposit:actions"
    announce = None
    requests = throttled = 0

    def __init__(self, *depositions: RemoteDeposition) -> None:
        self.held = {d.id: d for d in depositions}
        self.files: dict[int, bytes] = {}
        self.deleted: list[int] = []
        self.searches = 0
        self.slept: list[float] = []
        self.failing: dict[str, RemoteError] = {}
        self.listed: dict[int, RemoteDeposition] = {}  # what the search index still shows, where it lags

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def scrub(self, text: str) -> str:
        return text

    def _maybe_fail(self, operation: str) -> None:
        if operation in self.failing:
            raise self.failing[operation]

    def read(self, deposition_id: int) -> RemoteDeposition:
        self._maybe_fail("read")
        if deposition_id not in self.held:
            raise Gone(f"deposition {deposition_id}: 404", code="zenodo-rejected", refused=True, answered=True)
        return self.held[deposition_id]

    def search(self, record_ids) -> list[RemoteDeposition]:
        self._maybe_fail("search")
        self.searches += 1
        wanted = set(record_ids)
        return [self.listed.get(d.id, d) for d in self.held.values() if wanted & set(d.record_ids)]

    def delete_draft(self, deposition_id: int) -> bool:
        self._maybe_fail("delete")
        held = self.held.get(deposition_id)
        if held is None or held.published:
            return False
        del self.held[deposition_id]
        self.deleted.append(deposition_id)
        return True

    def download(self, deposition: RemoteDeposition, name: str) -> bytes:
        if deposition.id not in self.files:
            raise Gone("no such file", code="zenodo-rejected", refused=True, answered=True)
        return self.files[deposition.id]

    def check_minted(self, deposition: RemoteDeposition) -> RemoteDeposition:
        if not deposition.published or deposition.doi != f"10.5072/zenodo.{deposition.id}":
            raise Untrusted(f"deposition {deposition.id}: not its DOI", code="answer-mismatch")
        return deposition

    def submit_for_review(self, deposition_id: int, slug: str, message: str) -> RemoteDeposition:
        return self.held[deposition_id]


def published(deposition_id: int, concept: str = "100", *, files=(), version: str | None = "1") -> RemoteDeposition:
    return RemoteDeposition(id=deposition_id, concept=concept, published=True, doi=f"10.5072/zenodo.{deposition_id}",
                            concept_doi=f"10.5072/zenodo.{concept}", record_ids=(RECORD_ID,), files=tuple(files), version=version)


def draft(deposition_id: int, concept: str, **changes) -> RemoteDeposition:
    values = {"files_at": f"http://127.0.0.1:9/api/files/{deposition_id}", "record_ids": (RECORD_ID,), **changes}
    return RemoteDeposition(id=deposition_id, concept=concept, **values)


@pytest.fixture(scope="module")
def seed_record() -> Record:
    return Record.model_validate(seed_003_manifest(before_deposit=True))


@pytest.fixture
def world(tmp_path, seed_record):
    """(run factory, job factory) over a fresh ledger and the record's manifest in an export folder."""
    ledgers = []

    def run_over(repository: MemoryRepository, **options) -> DepositRun:
        ledger = Ledger(tmp_path / f"state-{len(ledgers)}" / "ledger.sqlite")  # each run its own folder's ledger
        ledgers.append(ledger)
        return DepositRun(tmp_path / "export", repository, ledger, DEFAULT_POLICY, find_attempts=3, **options)  # type: ignore[arg-type]

    def job_of(record: Record = seed_record, action: str = "deposit") -> Job:
        path = tmp_path / "export" / "manifests" / "SRCH_08EA5386.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(record.manifest_bytes())
        return Job(path, record, action, "new deposit", None)  # type: ignore[arg-type]

    yield run_over, job_of
    for ledger in ledgers:
        ledger.close()


def _our_manifest(record: Record) -> RemoteFile:
    return RemoteFile(id="f1", name="manifest.json", md5=manifest_md5(record))


# ------------------------------------------------------------------------- verdicts (pure)

def test_a_published_rival_wins_over_any_draft():
    own = draft(20, "20")
    assert protocol.winner_over(own, (own, published(30, "30"))).id == 30
    assert protocol.winner_over(own, (draft(10, "10"), published(30, "30"), own)).id == 30


def test_of_two_drafts_the_lower_id_wins():
    own = draft(20, "20")
    assert protocol.winner_over(own, (draft(10, "10"), own)).id == 10
    assert protocol.winner_over(own, (own, draft(30, "30"))) is None
    assert protocol.winner_over(own, (own, draft(5, "20"))) is None  # the same concept is no rival


def test_an_export_behind_what_is_published_is_refused(seed_record):
    assert protocol.behind(seed_record, published(7, version="1")) is None
    refusal = protocol.behind(seed_record, published(7, version="2"))
    assert refusal is not None and refusal.code == "correction-behind"
    assert refusal.message.startswith("SRCH:08EA5386: the published deposition 7 is version 2 of this record, with 1 correction(s); "
                                      "this export's record has 0: it is older than what is published.")
    assert protocol.behind(seed_record, published(7, version="v2")) is None  # a version archiver did not write
    assert protocol.behind(seed_record, published(7, version=None)) is None


# ------------------------------------------------------------------------- the correction record a deposition holds

def test_a_deposition_holding_our_very_manifest_needs_no_download(world, seed_record):
    run_over, _ = world
    repository = MemoryRepository()
    assert protocol.remote_corrections(run_over(repository), seed_record, published(7, files=[_our_manifest(seed_record)])) == (
        content_hashes(seed_record)[1])


def test_another_manifest_is_read_for_its_correction_record(world, seed_record):
    run_over, _ = world
    repository = MemoryRepository()
    theirs = seed_record.to_manifest()
    theirs["correction_record"] = {"contract": "correction-record-v1", "status": "CORRECTED", "correction_count": 1,
                                   "corrections": [{"sequence": 1, "date": "2026-06-01", "description": "x"}]}
    repository.files[7] = json.dumps(theirs).encode()
    held = published(7, files=[RemoteFile(id="f1", name="manifest.json", md5="0" * 32)])
    from archiver.model import correction_hash

    assert protocol.remote_corrections(run_over(repository), seed_record, held) == correction_hash(theirs["correction_record"])


@pytest.mark.parametrize("content", [b"not json", json.dumps({"id": "SRCH:00000001", "correction_record": {}}).encode(),
                                     json.dumps({"id": RECORD_ID}).encode(), None])
def test_a_manifest_archiver_cannot_read_stops_the_record(world, seed_record, content):
    run_over, _ = world
    repository = MemoryRepository()
    if content is not None:
        repository.files[7] = content
    with pytest.raises(Exception) as caught:
        protocol.remote_corrections(run_over(repository), seed_record, published(7))
    assert getattr(caught.value, "code", None) == "remote-unrecognised"


# ------------------------------------------------------------------------- stage 1: ask first

def test_a_published_deposition_found_is_adopted_and_registered(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(published(7, files=[_our_manifest(seed_record)]))
    run, job = run_over(repository), job_of()
    protocol.look_up(run, [job])
    assert (job.result.action, job.result.doi, job.result.deposition_id) == ("adopted", "10.5072/zenodo.7", 7)
    assert job.result.detail == "published on Zenodo as deposition 7; registered, nothing deposited"
    assert json.loads(job.path.read_text())["provenance"]["external_record"]["doi"] == "10.5072/zenodo.7"
    assert (job.row.state, job.row.deposition_id) == ("registered", 7)


def test_orphan_drafts_beside_a_published_one_are_deleted_or_named(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(published(7, files=[_our_manifest(seed_record)]), draft(9, "9"), published(11, "11"))
    job = job_of()
    protocol.look_up(run_over(repository), [job])
    assert repository.deleted == [9]
    assert job.result.detail.endswith("; Zenodo also holds 1 later duplicate(s) of it; deleted orphan draft(s) 9")
    kept = MemoryRepository(published(7, files=[_our_manifest(seed_record)]), draft(9, "9"))
    job = job_of()
    protocol.look_up(run_over(kept, delete_orphans=False), [job])
    assert kept.deleted == [] and job.result.detail.endswith("; Zenodo holds orphan draft(s) 9 of it (a deposit deletes them)")


def test_a_published_deposition_of_other_corrections_drifts_or_gets_a_new_version(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(published(7))
    theirs = seed_record.to_manifest()
    theirs["correction_record"]["status"] = "UNDER_REVIEW"
    repository.files[7] = json.dumps(theirs).encode()
    job = job_of()
    protocol.look_up(run_over(repository), [job])
    assert job.result.action == "drifted" and "rerun with --new-versions" in job.result.detail
    job = job_of()
    protocol.look_up(run_over(repository, new_versions=True), [job])
    assert job.result is None and (job.action, job.kind) == ("new-version", "new-version")


def test_an_open_draft_is_resumed_and_one_in_review_followed(world):
    run_over, job_of = world
    repository = MemoryRepository(draft(12, "12"), draft(14, "14"))
    job = job_of()
    protocol.look_up(run_over(repository), [job])
    assert job.result is None and (job.kind, job.row.state, job.row.deposition_id) == ("resumed", "created", 12)
    assert job.why == "resumed draft 12 found on Zenodo" and job.current.id == 12
    waiting = MemoryRepository(draft(12, "12", review="pending", review_said="submitted"))
    job = job_of()
    protocol.look_up(run_over(waiting, ), [job])
    assert job.result.action == "in-review" and job.row.state == "in-review"


def test_a_create_whose_answer_was_lost_is_asked_again_then_planned_afresh(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository()
    run = run_over(repository)
    job = job_of()
    job.row = run.ledger.creating(run.begin_row(seed_record))
    protocol.look_up(run, [job])
    assert repository.searches == 3 and repository.slept == [2.0, 4.0]  # asked again while the index catches up
    assert job.result is None and job.row.state == "planned"


def test_a_failed_search_fails_every_record_it_was_for(world):
    run_over, job_of = world
    repository = MemoryRepository()
    repository.failing["search"] = RemoteError("search: 502", code="zenodo-error")
    jobs = [job_of(), job_of()]
    protocol.look_up(run_over(repository), jobs)
    assert [j.result.action for j in jobs] == ["failed", "failed"] and "[zenodo-error]" in jobs[0].result.detail


def test_records_the_ledger_knows_on_the_repository_are_not_looked_up(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(published(7, files=[_our_manifest(seed_record)]))
    run = run_over(repository)
    job = job_of()
    job.row = run.ledger.created(run.begin_row(seed_record), 5, None)
    protocol.look_up(run, [job, job_of(action="register")][:1])
    assert repository.searches == 0 and job.result is None


# ------------------------------------------------------------------------- a first draft failed: published or gone meanwhile?

def test_a_draft_gone_meanwhile_defers_the_record(world, seed_record):
    run_over, job_of = world
    run = run_over(MemoryRepository())
    job = job_of()
    job.row = run.ledger.created(run.begin_row(seed_record), 12, None)
    assert protocol.published_meanwhile(run, job)
    assert job.result.action == "deferred" and job.result.detail.startswith("draft 12 is gone from Zenodo")
    assert (job.row.state, job.row.deposition_id) == ("planned", None)


def test_a_draft_published_meanwhile_is_adopted(world, seed_record):
    run_over, job_of = world
    run = run_over(MemoryRepository(published(12, "12", files=[_our_manifest(seed_record)])))
    job = job_of()
    job.row = run.ledger.created(run.begin_row(seed_record), 12, None)
    assert protocol.published_meanwhile(run, job) and job.result.action == "adopted"


def test_a_draft_still_open_or_unreadable_is_not_settled(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(draft(12, "12"))
    run = run_over(repository)
    job = job_of()
    assert protocol.published_meanwhile(run, job) is False  # no row
    second = job_of()
    second.row = run.ledger.created(run.begin_row(seed_record, attempt=2), 13, None)
    assert protocol.published_meanwhile(run, second) is False  # a new version has no rival to give way to
    job.row = run.ledger.created(run.begin_row(seed_record), 12, None)
    assert protocol.published_meanwhile(run, job) is False
    repository.failing["read"] = RemoteError("read: 503", code="zenodo-error")
    assert protocol.published_meanwhile(run, job) is False and job.result is None


# ------------------------------------------------------------------------- stage 3: the check before publish

def _prepared(run: DepositRun, job: Job, deposition_id: int) -> Job:
    job.row = run.ledger.created(run.begin_row(job.record), deposition_id, None)
    return job


def test_a_draft_with_no_rival_may_publish_and_names_the_rivals_it_outlived(world):
    run_over, job_of = world
    repository = MemoryRepository(draft(12, "12"), draft(15, "15"))
    run = run_over(repository)
    job = _prepared(run, job_of(), 12)
    assert protocol.check(run, [job]) == [job] and job.rivals == (15,)
    assert protocol.delete_rivals(run, job) == "; deleted rival draft(s) 15" and repository.deleted == [15]


def test_a_draft_that_loses_to_a_lower_one_gives_way_and_defers(world):
    run_over, job_of = world
    repository = MemoryRepository(draft(10, "10"), draft(12, "12"))
    run = run_over(repository)
    job = _prepared(run, job_of(), 12)
    assert protocol.check(run, [job]) == []
    assert repository.deleted == [12] and job.result.action == "deferred"
    assert job.result.detail == ("another run is depositing this record as draft 10 (the earliest created wins); this run deleted its "
                                 "own draft 12; the next run registers the winner's DOI")
    assert (job.row.state, job.row.deposition_id) == ("planned", None)


def test_a_draft_that_loses_to_a_published_one_registers_it(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(published(10, "10", files=[_our_manifest(seed_record)]), draft(12, "12"))
    run = run_over(repository)
    job = _prepared(run, job_of(), 12)
    assert protocol.check(run, [job]) == []
    assert repository.deleted == [12] and (job.result.action, job.result.deposition_id) == ("adopted", 10)


def test_a_losing_draft_published_meanwhile_is_the_records(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(draft(10, "10"), published(12, "12", files=[_our_manifest(seed_record)]))
    run = run_over(repository)
    job = _prepared(run, job_of(), 12)
    protocol.give_way(run, job, repository.held[10], Found(RECORD_ID, tuple(repository.held.values())))
    assert (job.result.action, job.result.doi) == ("registered", "10.5072/zenodo.12") and repository.deleted == []


def test_a_draft_the_search_never_lists_is_deferred_after_the_last_look(world):
    run_over, job_of = world
    repository = MemoryRepository()
    run = run_over(repository)
    repository.held[12] = draft(12, "12", record_ids=())  # readable, but the search does not list it
    job = _prepared(run, job_of(), 12)
    assert protocol.check(run, [job]) == []
    assert repository.searches == 3 and repository.slept == [2.0, 4.0]
    assert job.result.action == "deferred" and job.result.detail.startswith("Zenodo's search does not list draft 12 yet")


def test_new_versions_need_no_check_and_a_failed_search_fails_the_rest(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository()
    repository.failing["search"] = RemoteError("search: 502", code="zenodo-error")
    run = run_over(repository)
    first = _prepared(run, job_of(), 12)
    second = job_of()
    second.row = run.ledger.created(run.begin_row(seed_record, attempt=2), 13, None)
    assert protocol.check(run, [first, second]) == [second]
    assert first.result.action == "failed"


def test_a_rival_that_cannot_be_deleted_is_left_to_its_own_run(world):
    run_over, job_of = world
    repository = MemoryRepository(draft(15, "15"))
    repository.failing["delete"] = RemoteError("delete: 503", code="zenodo-error")
    run = run_over(repository)
    job = job_of()
    job.rivals = (15,)
    assert protocol.delete_rivals(run, job) == ""


# ------------------------------------------------------------------------- more of each path

def _corrected(record: Record) -> Record:
    manifest = record.to_manifest()
    manifest["correction_record"] = {"contract": "correction-record-v1", "status": "CORRECTED", "correction_count": 1,
                                     "corrections": [{"sequence": 1, "date": "2026-06-01", "description": "Fixed a count."}]}
    return Record.model_validate(manifest)


def test_a_record_with_its_corrections_is_not_behind_their_version(seed_record):
    corrected = _corrected(seed_record)
    assert protocol.behind(corrected, published(7, version="2")) is None
    assert protocol.behind(corrected, published(7, version="3")) is not None


def test_a_lost_create_found_at_once_is_not_asked_again(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(draft(12, "12"))
    run = run_over(repository)
    job = job_of()
    job.row = run.ledger.creating(run.begin_row(seed_record))
    protocol.look_up(run, [job])
    assert (repository.searches, repository.slept) == (1, [])
    assert (job.kind, job.row.deposition_id) == ("resumed", 12)


def test_a_draft_the_index_shows_open_but_published_since_is_adopted(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(published(12, "12", files=[_our_manifest(seed_record)]))
    repository.listed[12] = draft(12, "12")
    job = job_of()
    protocol.look_up(run_over(repository), [job])
    assert (job.result.action, job.result.deposition_id) == ("adopted", 12)


def test_a_review_request_that_never_went_is_a_draft_to_resume(world):
    run_over, job_of = world
    repository = MemoryRepository(draft(12, "12", review="unsent", review_said="cancelled"))
    job = job_of()
    protocol.look_up(run_over(repository), [job])
    assert job.result is None and (job.kind, job.row.state) == ("resumed", "created")


def test_nothing_found_for_a_record_the_ledger_does_not_know_changes_nothing(world):
    run_over, job_of = world
    job = job_of()
    protocol.look_up(run_over(MemoryRepository()), [job])
    assert (job.result, job.row, job.kind) == (None, None, "deposited")


def test_a_published_deposition_whose_manifest_cannot_be_read_fails_the_record(world):
    run_over, job_of = world
    job = job_of()
    protocol.look_up(run_over(MemoryRepository(published(7))), [job])  # no manifest.json to read
    assert job.result.action == "failed" and "[remote-unrecognised]" in job.result.detail


def test_a_registered_manifest_keeps_its_time_when_adopted(world, seed_record):
    run_over, job_of = world
    registered = seed_record.registered("10.5072/zenodo.7", 7, "sandbox", seed_record.gate.evaluated)
    repository = MemoryRepository(published(7, files=[_our_manifest(registered)]))
    job = job_of(registered)
    before = job.path.read_bytes()
    protocol.look_up(run_over(repository), [job])
    assert job.result.action == "adopted" and job.path.read_bytes() == before  # its bytes kept
    assert job.row.published_at == seed_record.gate.evaluated.isoformat()


def test_an_older_export_is_refused_where_a_newer_version_is_published(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(published(7, version="2"))
    repository.files[7] = json.dumps(_corrected(seed_record).to_manifest()).encode()
    job = job_of()
    protocol.look_up(run_over(repository, new_versions=True), [job])
    assert job.result.action == "failed" and "[correction-behind]" in job.result.detail


def test_every_orphan_is_named(world, seed_record):
    run_over, job_of = world
    repository = MemoryRepository(published(7, files=[_our_manifest(seed_record)]), draft(9, "9"), draft(10, "10"))
    job = job_of()
    protocol.look_up(run_over(repository), [job])
    assert job.result.detail.endswith("; deleted orphan draft(s) 9, 10")
    kept = MemoryRepository(published(7, files=[_our_manifest(seed_record)]), draft(9, "9"), draft(10, "10"))
    job = job_of()
    protocol.look_up(run_over(kept, delete_orphans=False), [job])
    assert job.result.detail.endswith("; Zenodo holds orphan draft(s) 9, 10 of it (a deposit deletes them)")


def test_a_draft_published_meanwhile_whose_manifest_is_unreadable_fails(world, seed_record):
    run_over, job_of = world
    run = run_over(MemoryRepository(published(12, "12")))
    job = job_of()
    job.row = run.ledger.created(run.begin_row(seed_record), 12, None)
    assert protocol.published_meanwhile(run, job) is True
    assert job.result.action == "failed" and "[remote-unrecognised]" in job.result.detail


def test_a_failed_check_search_is_not_asked_again(world):
    run_over, job_of = world
    repository = MemoryRepository()
    repository.failing["search"] = RemoteError("search: 502", code="zenodo-error")
    run = run_over(repository)
    job = _prepared(run, job_of(), 12)
    assert protocol.check(run, [job]) == [] and repository.slept == []
    assert job.result.action == "failed"


def test_an_own_draft_gone_already_gives_way_all_the_same(world):
    run_over, job_of = world
    repository = MemoryRepository(draft(10, "10"))
    run = run_over(repository)
    job = _prepared(run, job_of(), 12)  # 12 is not held: deleted by another run
    protocol.give_way(run, job, repository.held[10], Found(RECORD_ID, (repository.held[10],)))
    assert job.result.action == "deferred" and (job.row.state, job.row.deposition_id) == ("planned", None)


def test_a_give_way_that_cannot_delete_fails_the_record(world):
    run_over, job_of = world
    repository = MemoryRepository(draft(10, "10"), draft(12, "12"))
    repository.failing["delete"] = RemoteError("delete: 503", code="zenodo-error")
    run = run_over(repository)
    job = _prepared(run, job_of(), 12)
    protocol.give_way(run, job, repository.held[10], Found(RECORD_ID, tuple(repository.held.values())))
    assert job.result.action == "failed" and job.row.deposition_id == 12
