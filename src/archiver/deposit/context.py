"""One deposit run's collaborators and state, and one record's way through it (a Job).

Every stage module takes the run: the port to the repository, the ledger, the policy, the clock,
the waits, and whether the run must stop starting records (the token refused, no answer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archiver.deposit.decide import Action
from archiver.deposit.errors import Halting
from archiver.deposit.files import content_hashes
from archiver.deposit.ledger import Ledger, LedgerRow, RemoteState
from archiver.deposit.port import DepositPort, RemoteDeposition
from archiver.deposit.results import RecordResult
from archiver.deposit.waits import Waiter
from archiver.exportdir import state_dir_for
from archiver.findings import ArchiverError
from archiver.model import DepositionId, Record
from archiver.policy import Policy

# Records that end, one after another, on the server failing (5xx after the transport's retries)
# before the run stops starting records: a server that fails three records in a row is not having
# a moment, and every further record would spend its retries on it too.
FAILING_AFTER = 3
SERVER_FAILURES = frozenset({"zenodo-error", "repository-error", "publish-failed"})
# halting errors that say the policy (or --zenodo-url, --doi-prefix) names the wrong server or prefix
MISCONFIGURED = frozenset({"repository-mismatch", "doi-prefix-mismatch"})


@dataclass
class Job:
    """One record on its way through a group's stages (look up, prepare, check, publish)."""

    path: Path
    record: Record
    action: Action  # what decide() said: deposit, register, new-version (skip and drifted end at once)
    why: str
    row: LedgerRow | None
    kind: str = "deposited"  # how a success is reported: deposited, resumed, new-version
    current: RemoteDeposition | None = None  # the deposition as this run last read it, when it has
    rivals: tuple[DepositionId, ...] = ()  # drafts of the record that lost the check to this one's
    concept: str | None = None  # a new version's concept, as read from the published version
    result: RecordResult | None = None  # set once the record is done, at whichever stage


class DepositRun:
    """The collaborators of one run, and what stops it: a halting error stops every record after it."""

    def __init__(
        self,
        export_dir: Path,
        port: DepositPort,
        ledger: Ledger,
        policy: Policy,
        *,
        draft_only: bool = False,
        new_versions: bool = False,
        update_metadata: bool = False,
        clock: Callable[[], dt.datetime] | None = None,
        find_attempts: int = 5,
        delete_orphans: bool = True,
    ) -> None:
        self.export_dir = Path(export_dir)
        self.port = port
        self.ledger = ledger
        self.policy = policy
        self.draft_only = draft_only
        self.new_versions = new_versions
        self.update_metadata = update_metadata
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.waiter = Waiter(port.sleep, port.announce)  # one notion of waiting for the client and the searches
        self.find_attempts = find_attempts
        self.delete_orphans = delete_orphans  # False for reconcile, which sends no write
        self.environment = port.environment
        self.files_root = state_dir_for(self.export_dir) / "files"
        self.token_refused: str | None = None  # the token refused: the run stops starting records
        self.unreachable: str | None = None  # no answer after the transport's attempts: likewise
        self.rate_limited = False
        self.failures_in_a_row = 0  # records that ended on a server failure (5xx) with none done since
        self.failing: ArchiverError | None = None  # the server keeps failing: the run stops starting records

    @property
    def halted(self) -> str | None:
        """Why no further record may start or go on, when the repository cannot be worked with."""
        if self.token_refused is not None:
            return f"{self.port.repository_name} refused the token"
        if self.unreachable is not None:
            return f"{self.port.repository_name} did not answer, or kept refusing for its rate limit"
        if self.failing is not None and self.failing.code in MISCONFIGURED:
            return f"{self.port.repository_name} does not answer as the policy says it will ({self.failing.code})"
        if self.failing is not None:
            return f"{self.port.repository_name} keeps failing"
        return None

    def went_well(self) -> None:
        """A record ended other than failed: the server works, whatever failed before."""
        self.failures_in_a_row = 0

    def fail(self, job: Job, exc: Exception) -> None:
        """The job ends failed with ``exc`` in archiver's words (the token scrubbed); a halting error
        stops the run, since every other record would meet the same refusal or silence, and so do
        FAILING_AFTER records in a row that end on a server failure."""
        message = self.port.scrub(str(exc))
        if getattr(exc, "code", None) == "stopping":  # not a failure of the record: the run stopped before it
            job.result = RecordResult(job.record.id, "not-started", f"not finished: {self.halted or 'the run is stopping'}; "
                                      "the next run resumes it", None, job.row.deposition_id if job.row else None)
            return
        if getattr(exc, "code", None) in SERVER_FAILURES:
            self.failures_in_a_row += 1
            if self.failures_in_a_row >= FAILING_AFTER and self.failing is None:
                self.failing = ArchiverError(
                    f"{self.port.repository_name} keeps failing: {self.failures_in_a_row} records in a row ended on a server failure, the last: "
                    f"{message}; no further record was started: check {self.port.server}'s status and run again later "
                    "(it resumes)", code="server-failing",
                )
        if job.row is not None:
            self.ledger.failed(job.row, message)
        if isinstance(exc, Halting):
            if exc.code == "token-refused":
                self.token_refused = self.port.scrub(exc.message)
            elif exc.code in MISCONFIGURED and self.failing is None:  # no retry helps: the policy names the wrong thing
                self.failing = ArchiverError(f"{job.record.id}: {self.port.scrub(exc.message)}", code=exc.code)
            elif exc.code not in MISCONFIGURED:
                self.unreachable = self.port.scrub(exc.message)
                self.rate_limited = exc.code == "rate-limited"
        job.result = RecordResult(job.record.id, "failed", message, None, job.row.deposition_id if job.row else None)

    def wait(self, attempt: int, why: str) -> None:
        self.waiter.after(attempt, why)

    def begin_row(self, record: Record, attempt: int = 1) -> LedgerRow:
        """A new ledger row for a deposit of ``record`` (its ``attempt``-th), written before anything is sent."""
        content, corrections = content_hashes(record)
        marker = f"{record.id}/{self.environment}/v{attempt}/{content[:16]}"  # local only: never sent
        row = LedgerRow(
            record.id, self.environment, attempt, self.port.server, content, corrections, marker,
            "planned", None, None, None, None, None, 0, None, "", api=self.port.name,
        )
        return self.ledger.begin(row)

    def adopt(self, job: Job, deposition: RemoteDeposition, *, state: str, correction_hash: str | None = None) -> LedgerRow:
        """The job's ledger row made to name ``deposition`` as the repository holds it (a published
        one checked to carry the DOI the repository mints for it)."""
        row = job.row or self.begin_row(job.record)
        remote = RemoteState(deposition.id, deposition.files_at)
        if deposition.published:
            minted = self.port.check_minted(deposition)  # another record's DOI never reaches a manifest
            remote = RemoteState(deposition.id, deposition.files_at, minted.doi, minted.concept_doi, minted.landing_page, minted.version)
        job.row = self.ledger.adopted(row, remote, state, correction_hash)
        return job.row
