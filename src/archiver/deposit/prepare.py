"""Stage 2: a record's draft made ready to publish, from wherever earlier runs left it.

First what an earlier run left is settled (a review that never went, a publish whose outcome is
unknown, a record changed since its draft, a row begun through the other API); then the draft is
created (or a new version opened), its files uploaded and its metadata of now sent. A row that is
published already is registered here. A job left without a result waits for the check.
"""

from __future__ import annotations

from archiver.deposit import steps
from archiver.deposit.context import DepositRun, Job
from archiver.deposit.errors import RemoteError
from archiver.deposit.files import build_files, content_hashes
from archiver.deposit.ledger import LedgerRow
from archiver.deposit.protocol import behind, published_meanwhile
from archiver.deposit.results import RecordResult
from archiver.deposit.review import follow_review, never_went
from archiver.findings import ArchiverError
from archiver.fsutil import safe_stem


def prepare(run: DepositRun, job: Job) -> None:
    """Create (or resume, or open a new version), upload, describe; register a row published already."""
    try:
        row = settle_leftovers(run, job)
        if job.result is not None:
            return
        if job.action == "register" and row is not None:
            updated = steps.register(run, row, job.path, job.record)
            job.result = RecordResult(job.record.id, "registered", job.why, updated.doi, row.deposition_id)
            return
        make_ready(run, job, row)
    except RemoteError as exc:
        if not published_meanwhile(run, job):
            run.fail(job, exc)
    except (ArchiverError, OSError) as exc:
        run.fail(job, exc)


def settle_leftovers(run: DepositRun, job: Job) -> LedgerRow | None:
    """The job's row once what an earlier run left is settled; the job may end here (a review followed)."""
    record, row = job.record, job.row
    if row is None:
        return None
    if row.state == "in-review" and not run.port.capabilities.follows_reviews:
        raise ArchiverError(
            f"{record.id}: draft {row.deposition_id} waits for its community's review, which only the records API "
            "follows: run with api = \"records\" until the community has decided", code="usage",
        )
    if row.api != run.port.name and not row.reached("published"):
        # Begun through the other API (or rebuilt by a reconcile through it): both APIs see the same
        # draft, but where its files go is the other API's, and so is the ledger's note of what
        # arrived: the draft is read afresh, its files compared by md5.
        row = job.row = run.ledger.api_switched(row, run.port.name)
    if row.state == "in-review":
        draft = run.port.read(row.remote_id)
        if not never_went(draft):
            follow_review(run, job, draft)
            return row
        # the submission never went: the draft goes through the stages again (its metadata and
        # files made current, the check), and the publish stage submits it
        row = job.row = run.ledger.described(row)
    if row.state == "publishing":
        # a publish whose outcome this run does not know: published (register it), or not (the
        # draft is described again and published with the metadata of now)
        held = run.port.read(row.remote_id)
        if held.published:
            row = job.row = run.adopt(job, held, state="published")
            job.action = "register"
        else:
            row = job.row = run.ledger.described(row)
    if row.deposition_id is not None and not row.reached("in-review") and row.content_hash != content_hashes(record)[0]:
        # The record changed since its draft was made (a re-export after --draft-only or a kill):
        # the draft's files are the old record's. They are compared and replaced, and the draft
        # described again, so that what is published is this record as it is now.
        row = job.row = run.ledger.record_changed(row, *content_hashes(record))
    return row


def make_ready(run: DepositRun, job: Job, row: LedgerRow | None) -> None:
    """The draft created or resumed, its files uploaded, its metadata of now sent and read back."""
    record = job.record
    if job.action == "new-version" and row is not None and row.state == "registered":
        published = run.port.read(row.remote_id)
        older = behind(record, published)
        if older is not None:
            raise older
        job.concept = published.concept
        row = run.begin_row(record, attempt=row.attempt + 1)
        job.kind = "new-version"
    elif row is None:
        row = run.begin_row(record)
    elif job.kind == "deposited" and not (row.state == "planned" and row.attempt == 1):
        job.kind = "new-version" if row.attempt > 1 else "resumed"
    job.row = row
    described = False
    if not row.reached("uploaded"):
        row, current, described = steps.draft_for(run, row, record, job.concept)
        current = current or job.current
        job.row = row
        files = build_files(record, run.policy, run.export_dir, run.files_root / safe_stem(record.id) / f"v{row.attempt}")
        row = job.row = steps.upload(run, row, files, current, prune=not described)
    if not row.reached("described"):
        if not described:  # resumed or a new version: send the record's metadata now
            steps.describe(run, row, record)
        row = job.row = run.ledger.described(row)
    elif row.state == "described" and not described:
        # Described by an earlier run (--draft-only, a kill, the other API): the policy or the
        # record may have changed since, so the draft gets the metadata of now (one save, read
        # back) and the DOI says what this run's plan says.
        steps.describe(run, row, record)
    if run.draft_only:
        job.result = RecordResult(record.id, "drafted", "draft ready, not published (--draft-only)", None, row.deposition_id)
