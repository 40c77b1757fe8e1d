"""Exactly once: ask the repository first, adopt what it holds, and publish a first deposit only
when no rival deposition of the record must win.

The repository is the source of truth and the ledger a cache of it. A record the ledger does not
know as registered is looked up by its id before anything is created (stage 1); before a first
deposit is published, one more search checks for rivals (stage 3): a published deposition of the
record, or a draft created earlier (a concurrent run's; the id breaks a tie), wins, and the loser gives way.
"""

from __future__ import annotations

import json

from archiver.deposit import steps
from archiver.deposit.context import DepositRun, Job
from archiver.deposit.decide import needs_lookup
from archiver.deposit.errors import Gone, RemoteError
from archiver.deposit.files import artifact_changed, content_hashes, manifest_md5
from archiver.deposit.lookup import Found, creation_order, find_records
from archiver.deposit.port import RemoteDeposition
from archiver.deposit.results import RecordResult
from archiver.deposit.review import follow_review
from archiver.findings import ArchiverError
from archiver.model import DepositionId, Record, correction_hash
from archiver.package import RECORD_MANIFEST_FILE

# ------------------------------------------------------------------------- stage 1: ask the repository first


def look_up(run: DepositRun, jobs: list[Job]) -> None:
    """One batched search for every record the ledger knows nothing remote of; what the repository
    holds decides: adopt a published deposition, resume an open draft, or create."""
    wanted = [job for job in jobs if job.result is None and needs_lookup(job.action, job.row)]
    if not wanted:
        return
    try:
        found = find_records(run.port, [job.record.id for job in wanted])
        # A create sent before a crash may have happened moments ago: its draft shows once the
        # index refreshes, so those records are asked again a few times before "none".
        lost = [job for job in wanted if job.row is not None and job.row.state == "creating"]
        for attempt in range(1, run.find_attempts):
            missing = [job.record.id for job in lost if not found[job.record.id].depositions]
            if not missing:
                break
            run.wait(attempt, f"{run.port.repository_name}'s search index catching up with a create sent before a crash")
            found.update(find_records(run.port, missing))
    except RemoteError as exc:
        for job in wanted:
            run.fail(job, exc)
        return
    for job in wanted:
        apply_found(run, job, found[job.record.id])


def apply_found(run: DepositRun, job: Job, found: Found) -> None:
    """What the search found for the record, applied: a published deposition adopted, the open
    draft a concurrent run would also keep (the earliest created) resumed or followed in its review, or
    a create whose answer was lost known to have made nothing."""
    try:
        if found.published is not None:
            adopt_published(run, job, found)
        elif found.first_drafts and (draft := read_listed(run, found.first_drafts[0].id)) is not None:
            if draft.published:  # the index was behind: published since
                adopt_published(run, job, Found(found.record_id, (draft,)))
            elif draft.review is not None and draft.review != "unsent":
                run.adopt(job, draft, state="in-review")
                follow_review(run, job, draft)
            else:
                run.adopt(job, draft, state="created")
                job.current = draft
                job.kind, job.why = "resumed", f"resumed draft {draft.id} found on {run.port.repository_name}"
        elif job.row is not None and job.row.state == "creating":
            # a create whose answer was lost: the repository lists no deposition of the record, so none was made
            job.row = run.ledger.not_created(job.row)
    except (RemoteError, ArchiverError, OSError) as exc:
        run.fail(job, exc)


def read_listed(run: DepositRun, deposition_id: DepositionId) -> RemoteDeposition | None:
    """A deposition the search listed, as it is now (the index lags): None when it is gone (a
    concurrent run that lost deleted its draft)."""
    try:
        return run.port.read(deposition_id)
    except Gone:
        return None


def remote_corrections(run: DepositRun, record: Record, deposition: RemoteDeposition) -> str:
    """The correction-record hash of the record as ``deposition`` holds it: the same as ours when
    its manifest.json is the very file this record would upload (no request), else read from that file."""
    listed = next((f for f in deposition.files if f.name == RECORD_MANIFEST_FILE), None)
    if listed is not None and listed.md5 == manifest_md5(record):
        return content_hashes(record)[1]
    unreadable = ArchiverError(
        f"{record.id}: deposition {deposition.id} on {run.port.repository_name} carries this record's id, but archiver cannot read "
        f"its {RECORD_MANIFEST_FILE}; compare it by hand before depositing this record again",
        code="remote-unrecognised",
    )
    try:
        manifest = json.loads(run.port.download(deposition, RECORD_MANIFEST_FILE))
        if manifest.get("id") != record.id:  # another record's deposition that names this id too
            raise unreadable
        return correction_hash(manifest["correction_record"])
    except Gone:
        raise unreadable from None
    except (ValueError, KeyError, TypeError, RecursionError):
        raise unreadable from None


def behind(record: Record, published: RemoteDeposition) -> ArchiverError | None:
    """Corrections are additive: a record whose correction record has fewer corrections than the
    version the repository publishes (its ``version`` is 1 + the count) is an older export, and a
    new version of it would undo a correction under a DOI that can never be withdrawn."""
    ours = 1 + record.correction_record.correction_count
    try:
        theirs = int(str(published.version))
    except ValueError:
        return None  # a version archiver did not write: nothing to compare
    if ours >= theirs:
        return None
    return ArchiverError(
        f"{record.id}: the published deposition {published.id} is version {theirs} of this record, with {theirs - 1} "
        f"correction(s); this export's record has {ours - 1}: it is older than what is published. Nothing was sent: "
        "export the current record pages and deposit that",
        code="correction-behind",
    )


def adopt_published(run: DepositRun, job: Job, found: Found) -> None:
    """A published deposition of the record: registered here without a new deposit when its
    correction record is ours, else the drift path (a new version with --new-versions)."""
    assert found.published is not None
    published = run.port.check_minted(found.published)  # another record's DOI never reaches a manifest
    theirs = remote_corrections(run, job.record, published)
    row = run.adopt(job, published, state="registered", correction_hash=theirs)
    run.ledger.files_found(row, [(stored.name, stored.md5) for stored in published.files])
    extra = _orphans_said(run, found)
    if theirs == content_hashes(job.record)[1] and artifact_changed(job.record, run.export_dir, run.ledger.files(row)):
        # the record as published, but without this export's report (or with another): files do
        # not change in place, so a new version carries it
        why = f"deposition {published.id} on {run.port.repository_name} does not hold this export's report artifact"
        if run.new_versions:
            job.action, job.kind, job.why = "new-version", "new-version", why
        else:
            job.result = RecordResult(job.record.id, "drifted", f"{why}; rerun with --new-versions{extra}", None, published.id)
    elif theirs == content_hashes(job.record)[1]:
        if job.record.doi == published.doi:  # the manifest says so already: keep its bytes
            external = job.record.provenance.external_record
            if external.registered_at is not None:
                job.row = run.ledger.registered_at(row, external.registered_at.isoformat())
            updated = job.record
        else:
            updated = steps.register(run, row, job.path, job.record)
        job.result = RecordResult(
            job.record.id, "adopted", f"published on {run.port.repository_name} as deposition {published.id}; registered, nothing deposited{extra}",
            updated.doi, published.id,
        )
    elif (older := behind(job.record, published)) is not None:
        run.fail(job, older)
    elif run.new_versions:
        job.action, job.kind, job.why = "new-version", "new-version", f"the correction record changed since the deposit found on {run.port.repository_name}"
    else:
        job.result = RecordResult(
            job.record.id, "drifted",
            f"the correction record changed since deposition {published.id} on {run.port.repository_name}; rerun with --new-versions{extra}",
            None, published.id,
        )


def _orphans_said(run: DepositRun, found: Found) -> str:
    """Drafts of the record that never became it (a killed run's, whose ledger is gone): no run can
    publish them (a rival is published, so its check gives way), so a deposit deletes them."""
    extra = f"; {run.port.repository_name} also holds {found.other_concepts} later duplicate(s) of it" if found.other_concepts else ""
    orphans = [d.id for d in found.first_drafts]
    if orphans and run.delete_orphans:
        deleted = [draft_id for draft_id in orphans if run.port.delete_draft(draft_id)]
        extra += f"; deleted orphan draft(s) {', '.join(map(str, deleted))}" if deleted else ""
    elif orphans:
        extra += f"; {run.port.repository_name} holds orphan draft(s) {', '.join(map(str, orphans))} of it (a deposit deletes them)"
    return extra


def published_meanwhile(run: DepositRun, job: Job) -> bool:
    """After a request about the job's first-deposit draft failed: whether the draft was published
    meanwhile (a concurrent run resumed it and got there first: it is the record's deposition,
    adopted as any published one is) or is gone (a concurrent run's deposition won and deleted it:
    the next run registers that one). True when the job is settled so."""
    row = job.row
    if row is None or row.deposition_id is None or row.attempt > 1:
        return False
    try:
        current = run.port.read(row.deposition_id)
    except Gone:
        gone = row.deposition_id
        job.row = run.ledger.deposition_forgotten(row)
        job.result = RecordResult(
            job.record.id, "deferred",
            f"draft {gone} is gone from {run.port.repository_name} (deleted: by a concurrent run whose deposition of this record won, or by "
            "hand); the next run registers that deposition, or deposits the record afresh",
        )
        return True
    except RemoteError:
        return False
    if not current.published:
        return False
    try:
        adopt_published(run, job, Found(job.record.id, (current,)))
    except (RemoteError, ArchiverError, OSError) as exc:
        run.fail(job, exc)
    return True


# ------------------------------------------------------------------------- stage 3: one deposition per record


def winner_over(own: RemoteDeposition, depositions: tuple[RemoteDeposition, ...]) -> RemoteDeposition | None:
    """The rival deposition of the record that wins over this run's draft: a published one, else a
    draft created earlier (a concurrent run's; the id breaks a tie); None when this run's draft may publish."""
    rivals = [d for d in depositions if d.concept != own.concept]
    mine = creation_order(own)
    return next((d for d in rivals if d.published), None) or next((d for d in rivals if creation_order(d) < mine), None)


def check(run: DepositRun, jobs: list[Job]) -> list[Job]:
    """The jobs that may publish. A first deposit publishes only when the repository's search shows
    its own draft and no rival deposition of the record that wins; the loser gives way, or is
    ``deferred`` to the next run while its own draft is not listed yet.

    New versions need no check: the repository keeps one draft per concept, so concurrent runs share it."""
    ready = [job for job in jobs if job.result is None and job.row is not None and job.row.attempt > 1]
    pending = {job.record.id: job for job in jobs if job.result is None and job.row is not None and job.row.attempt == 1}
    attempt = 0
    while pending:
        attempt += 1
        try:
            found = find_records(run.port, list(pending))
        except RemoteError as exc:
            for job in pending.values():
                run.fail(job, exc)
            break
        last = attempt >= run.find_attempts
        for record_id, job in list(pending.items()):
            assert job.row is not None
            own = next((d for d in found[record_id].depositions if d.id == job.row.deposition_id), None)
            if own is None and not last:
                continue  # the search index has not caught up with this run's draft yet
            del pending[record_id]
            if own is None:
                if not published_meanwhile(run, job):  # not listed because it is gone, or published by another run
                    job.result = RecordResult(
                        record_id, "deferred",
                        f"{run.port.repository_name}'s search does not list draft {job.row.deposition_id} yet, so no concurrent deposit of this "
                        "record can be ruled out; the next run checks again and publishes it",
                        None, job.row.deposition_id,
                    )
                continue
            winner = winner_over(own, found[record_id].depositions)
            if winner is None:
                job.rivals = tuple(d.id for d in found[record_id].depositions if d.concept != own.concept)  # all drafts, created later
                ready.append(job)
            else:
                give_way(run, job, winner, found[record_id])
        if pending:
            run.wait(attempt, f"{run.port.repository_name}'s search index catching up with this run's new drafts")
    return ready


def give_way(run: DepositRun, job: Job, winner: RemoteDeposition, found: Found) -> None:
    """This run's draft loses to ``winner``: delete it, then register the winner if published."""
    row = job.row
    assert row is not None
    own = row.remote_id
    try:
        if not run.port.delete_draft(own):
            mine = read_listed(run, own)
            if mine is not None and mine.published:  # published meanwhile (another run resumed it): it is the record's
                registered = steps.register(run, run.adopt(job, mine, state="published"), job.path, job.record)
                job.result = RecordResult(job.record.id, "registered", job.why, registered.doi, own)
                return
        job.row = run.ledger.deposition_forgotten(row)
        if winner.published:
            adopt_published(run, job, Found(found.record_id, tuple(d for d in found.depositions if d.id != own)))
        else:
            job.result = RecordResult(
                job.record.id, "deferred",
                f"another run is depositing this record as draft {winner.id} (the earliest created wins); this run deleted its "
                f"own draft {own}; the next run registers the winner's DOI",
            )
    except (RemoteError, ArchiverError, OSError) as exc:
        run.fail(job, exc)


def delete_rivals(run: DepositRun, job: Job) -> str:
    """Once the record is published, the rival drafts its check saw can never be published: delete
    them, so that a rival whose run died (its ledger lost with it) is not left open. A rival still
    running finds its draft gone and defers to its next run, which registers this deposition."""
    deleted = []
    for draft_id in job.rivals:
        try:
            gone = run.port.delete_draft(draft_id)
        except RemoteError:
            gone = False  # best effort: the draft's own run deletes it when it checks
        if gone:
            deleted.append(draft_id)
    return f"; deleted rival draft(s) {', '.join(map(str, deleted))}" if deleted else ""
