"""The remote steps of a deposit, each with its own recovery: create a draft, open a new version,
upload the files, describe, publish, and register the DOI in the manifest.

A create, a new version and a publish are sent once: after an answer that is lost, unreadable or
not believed, the repository is read (or searched) to learn what happened, never asked again blindly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from archiver.deposit.context import DepositRun
from archiver.deposit.description import public_text
from archiver.deposit.errors import DraftOpen, Gone, RemoteError, Untrusted
from archiver.deposit.files import DepositFile, HashingReader
from archiver.deposit.ledger import LedgerRow
from archiver.deposit.lookup import find_records
from archiver.deposit.port import RemoteDeposition
from archiver.findings import ArchiverError
from archiver.fsutil import atomic_write_bytes
from archiver.manifest import build_manifest
from archiver.model import DepositionId, Record

PUBLISH_TRIES = 5


def kept(deposition: RemoteDeposition) -> RemoteDeposition:
    """``deposition`` when a save kept the metadata as sent; else a coded error, before publish: the
    repository's save is lenient (what its schema refuses is silently not stored), so a field it
    dropped or changed would otherwise be published under a DOI that can never be withdrawn."""
    if deposition.unkept:
        raise ArchiverError(
            f"deposition {deposition.id}: the repository did not keep {', '.join(deposition.unkept[:5])} as sent; "
            "nothing was published: correct the policy or the record and run again",
            code="metadata-not-kept",
        )
    return deposition


def describe(run: DepositRun, row: LedgerRow, record: Record) -> RemoteDeposition:
    """The draft given the record's metadata of now (one save, read back and compared); the ledger
    keeps what it now holds."""
    draft = kept(run.port.set_metadata(row.remote_id, record, run.port.payload(record, run.policy)))
    run.ledger.sent(row, public_text(record, run.policy))
    return draft


def _find_lost_create(run: DepositRun, record: Record) -> RemoteDeposition | None:
    """After a create whose outcome is unknown: the record's draft, once the search lists it (the
    index shows a new draft after it refreshes, so it is asked a few times)."""
    for attempt in range(1, run.find_attempts + 1):
        for listed in find_records(run.port, [record.id])[record.id].first_drafts:
            try:
                draft = run.port.read(listed.id)
            except Gone:
                continue
            if not draft.published:  # the index may still show a published one as a draft
                return draft
        if attempt < run.find_attempts:
            run.wait(attempt, f"{run.port.repository_name}'s search index catching up with a create whose answer was lost")
    return None


def create(run: DepositRun, row: LedgerRow, record: Record) -> tuple[LedgerRow, RemoteDeposition, bool]:
    """Create the draft with its full metadata: one request, no metadata update afterwards (unless
    the answer was lost: a draft found instead is described again). (row, draft, described now)."""
    payload = run.port.payload(record, run.policy)
    row = run.ledger.creating(row)
    try:
        created = run.port.create(record, payload)
    except RemoteError as exc:
        if exc.refused:
            # Refused in so many words (a wrong token, a refused payload): nothing was created,
            # and the next run says "deposited", not "resumed". Any other outcome (no answer, 5xx,
            # an answer archiver cannot read or that is not this record's) may hide a deposition:
            # it is looked for, never created again blindly.
            run.ledger.not_created(row)
            raise
        if exc.code == "repository-mismatch":
            raise  # not the repository named: its search cannot tell either; the run stops, the next run's lookup asks again
        found = _find_lost_create(run, record)
        if found is None:
            raise RemoteError(
                f"{record.id}: the create's outcome is unknown ({exc}) and {run.port.repository_name}'s search lists no draft of "
                "this record yet; the next run looks again before it creates anything",
                code="create-unknown",
            ) from None
        if run.port.announce is not None:
            run.port.announce(f"{record.id}: the create's answer could not be used ({exc}); its draft {found.id} was found on {run.port.repository_name}")
        return run.ledger.created(row, found.id, found.files_at), found, False
    row = run.ledger.created(row, created.id, created.files_at)
    kept(created)
    row = run.ledger.sent(row, public_text(record, run.policy))
    return row, created, True


def _find_open_draft(run: DepositRun, previous_id: DepositionId) -> RemoteDeposition | None:
    """The open draft of the concept of ``previous_id`` (the repository keeps at most one per concept)."""
    for attempt in range(1, run.find_attempts + 1):
        item = run.port.open_draft_of(previous_id)
        if item is not None:
            try:
                draft = run.port.read(item.id)
            except Gone:
                draft = None
            if draft is not None and not draft.published:  # the index may be behind a publish
                return draft
        if attempt < run.find_attempts:
            run.wait(attempt, f"{run.port.repository_name}'s search index catching up with a new-version draft")
    return None


def open_new_version(run: DepositRun, row: LedgerRow, previous_id: DepositionId, concept: str | None = None) -> tuple[LedgerRow, RemoteDeposition]:
    """A new-version draft of the published deposition. On a resume the open draft of the concept is
    looked for first; a repository that says a draft is open without naming it is answered by
    looking for it too."""
    concept = concept or run.port.read(previous_id).concept  # the answer's draft must be of this concept
    resuming = row.state == "creating"
    row = run.ledger.creating(row)
    draft = _find_open_draft(run, previous_id) if resuming else None
    if draft is None:
        try:
            draft = run.port.new_version(previous_id)
        except RemoteError as exc:
            draft_is_open = isinstance(exc, DraftOpen)
            if exc.answered and not draft_is_open:
                raise  # a definite answer to the request itself: no draft was opened
            draft = _find_open_draft(run, previous_id)
            if draft is None:
                if draft_is_open:
                    raise RemoteError(
                        f"{row.record_id}: {run.port.repository_name} has an open new-version draft of deposition {previous_id} "
                        "that its search does not list yet; run again in a minute",
                        code="draft-not-listed",
                    ) from None
                draft = run.port.new_version(previous_id)
    if draft.concept != concept:
        raise Untrusted(
            f"{row.record_id}: the new-version draft {draft.id} is of concept {draft.concept}, not {concept} "
            f"(that of deposition {previous_id}): refused, nothing sent to it",
            code="answer-mismatch",
        )
    return run.ledger.created(row, draft.id, draft.files_at), draft


def draft_for(run: DepositRun, row: LedgerRow, record: Record, concept: str | None) -> tuple[LedgerRow, RemoteDeposition | None, bool]:
    """The deposition to upload into: (row, its answer when this run has it, whether this run sent
    it the record's current metadata). A row that names one keeps it."""
    if row.deposition_id is not None:
        return row, None, False
    if row.attempt > 1:
        previous = run.ledger.get(record.id, run.environment, row.attempt - 1)
        if previous is None:
            raise ArchiverError(f"{record.id}: the ledger lost version {row.attempt - 1}", code="ledger-corrupt")
        row, draft = open_new_version(run, row, previous.remote_id, concept)
        return row, draft, False  # a new version keeps neither version nor publication date
    return create(run, row, record)


def upload(run: DepositRun, row: LedgerRow, files: list[DepositFile], current: RemoteDeposition | None, prune: bool) -> LedgerRow:
    """Upload what the ledger has not seen arrive. With ``prune`` (a new-version draft may carry the
    previous files; a resumed draft may hold what an older flow uploaded) the files not in this set
    are deleted afterwards."""
    for item in files:
        run.ledger.plan_file(row, item.name, item.size, item.md5)
    known = run.ledger.files(row)
    if row.files_at is None or (current is None and not any(uploaded for _size, _md5, uploaded in known.values())):
        # where the files go is not known, or a draft this run did not make and whose files the
        # ledger does not know (resumed from the repository, or after reconcile): read it, to
        # upload only what it lacks
        current = run.port.read(row.remote_id)
        row = run.ledger.files_moved(row, current.files_at)
    if row.files_at is None:
        raise Untrusted(f"{row.record_id}: deposition {row.remote_id} names no place for its files", code="answer-invalid")
    # a draft resumed from the repository may hold some files already: the same name and md5 need no upload
    remote = {stored.name: stored.md5 for stored in current.files} if current is not None else {}
    pending = []
    for item in files:
        if known[item.name][2]:
            continue
        if remote.get(item.name) == item.md5:
            run.ledger.file_uploaded(row, item.name)
            continue
        pending.append(item)
    run.port.begin_uploads(row.remote_id, [item.name for item in pending], set(remote) if current is not None else None)
    for item in pending:
        _send(run, row, row.files_at, item)
    if prune:
        wanted = {item.name for item in files}
        if current is None:
            current = run.port.read(row.remote_id)
        for stale in current.files:
            if stale.name not in wanted:
                run.port.delete_file(row.remote_id, stale)
    return run.ledger.uploaded(row)


def _send(run: DepositRun, row: LedgerRow, files_at: str, item: DepositFile) -> None:
    """One file, streamed afresh at each try; what was sent, what was planned and what the
    repository holds must be the same md5."""
    readers: list[HashingReader] = []

    def fresh_stream() -> HashingReader:
        readers.append(HashingReader(item.path, item.size))  # each attempt streams from the start
        return readers[-1]

    try:
        checksum = run.port.upload(files_at, item.name, fresh_stream, item.size)
    finally:
        for reader in readers:
            reader.close()
    sent = readers[-1].md5.hexdigest()
    if not checksum == sent == item.md5:
        raise RemoteError(f"{row.record_id}: {item.name}: planned md5 {item.md5}, sent {sent}, {run.port.repository_name} has {checksum}", code="checksum-mismatch")
    run.ledger.file_uploaded(row, item.name)


def publish(run: DepositRun, row: LedgerRow) -> RemoteDeposition:
    """Publish once; the answer (or, when it is lost, unreadable or not believed, the deposition read
    back) must be this deposition, published under its own DOI."""
    row = run.ledger.publishing(row)
    for attempt in range(1, PUBLISH_TRIES + 1):
        try:
            return run.port.publish(row.remote_id)
        except RemoteError as exc:
            if exc.refused and not isinstance(exc, Gone):
                raise  # refused in so many words (a validation error): nothing was published
            # A lost answer, a server error, an answer that cannot be read or believed, or no
            # draft (published already) may hide a success: read the deposition itself.
            current = run.port.read(row.remote_id)
            if current.published:
                return run.port.check_minted(current)
            if isinstance(exc, Gone | Untrusted):
                raise
            if attempt < PUBLISH_TRIES:
                run.wait(attempt, f"publish of deposition {row.remote_id} failed ({exc.code}); trying again")
    raise RemoteError(f"{row.record_id}: publish did not go through", code="publish-failed")


def register(run: DepositRun, row: LedgerRow, manifest_path: Path, record: Record) -> Record:
    """The DOI the row holds written into the record's manifest (checked against its contract first)."""
    if row.doi is None:
        raise ArchiverError(f"{row.record_id}: the ledger holds no DOI to register", code="ledger-corrupt")
    registered_at = dt.datetime.fromisoformat(row.published_at) if row.published_at else run.clock()
    updated = record.registered(row.doi, row.remote_id, row.environment, registered_at, row.concept_doi)
    _manifest, findings = build_manifest(updated)
    if findings:
        raise ArchiverError(f"{row.record_id}: the registered manifest fails its contract: {findings[0].message}", code="manifest-invalid")
    atomic_write_bytes(manifest_path, updated.manifest_bytes())
    run.ledger.registered(row)
    return updated
