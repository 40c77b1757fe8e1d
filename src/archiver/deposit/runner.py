"""A deposit run: the export's records in groups through four stages, exactly once, then the export
brought in line with what was registered.

Per group: look the records up (one search), prepare each draft (a pool of workers), check for
rival depositions (one search), publish and register. Once the run is stopped (Ctrl-C) or halted
(the token refused, no answer) no further record starts, and every record is accounted for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from shlex import quote as shell_quote

from archiver.deposit.context import DepositRun, Job
from archiver.deposit.decide import decide_with_files
from archiver.deposit.files import report_files
from archiver.deposit.ledger import Ledger
from archiver.deposit.lookup import LOOKUP_BATCH
from archiver.deposit.manifests import check_only, export_policy, iter_manifests, load_record, record_id_of
from archiver.deposit.port import DepositPort
from archiver.deposit.prepare import prepare
from archiver.deposit.protocol import check, look_up
from archiver.deposit.publish import publish
from archiver.deposit.refresh import refresh_after_deposit
from archiver.deposit.registered import check_server, registered_dois
from archiver.deposit.results import DepositSummary, RecordResult
from archiver.deposit.update import update_metadata
from archiver.exportdir import ExportLock, ledger_path
from archiver.findings import ArchiverError
from archiver.policy import Policy

# Records move through the stages in groups of this size: one lookup and one pre-publish check
# per group (LOOKUP_BATCH ids per search), and the search index has the time the group's creates
# and uploads take to catch up before the check.
DEPOSIT_GROUP = LOOKUP_BATCH


def job_for(run: DepositRun, manifest_path: Path) -> Job:
    """A record read from the export and what the ledger says to do with it."""
    record = load_record(manifest_path)
    row = run.ledger.get(record.id, run.environment)
    action, why = decide_with_files(record, row, run.policy, run.export_dir, run.ledger.files(row) if row else {},
                                    new_versions=run.new_versions, update_metadata=run.update_metadata,
                                    unsent=run.port.capabilities.unsent_fields)
    job = Job(manifest_path, record, action, why, row)
    if job.action in ("deposit", "new-version"):
        try:  # Zenodo's limits, before anything is sent for the record
            report_files(record, run.export_dir)
        except ArchiverError as exc:
            job.result = RecordResult(record.id, "failed", str(exc), record.doi, row.deposition_id if row else None)
            return job
    if action == "skip":
        job.result = RecordResult(record.id, "skipped", why, record.doi)
    elif action == "drifted":
        job.result = RecordResult(record.id, "drifted", why + "; rerun with --new-versions", record.doi)
    elif action == "behind":
        job.result = RecordResult(record.id, "failed", why + " [correction-behind]", record.doi, row.deposition_id if row else None)
    elif action == "metadata-changed":
        production = " --production" if run.environment == "production" else ""
        server = f" --zenodo-url {shell_quote(run.port.server)}" if run.policy.repository is None else ""  # else the policy names it
        command = f"archiver deposit {shell_quote(str(run.export_dir))}{production}{server} --update-metadata"
        job.result = RecordResult(record.id, "metadata-changed", f"{why}; `{command}` updates it in place (same DOI)",
                                  record.doi, row.deposition_id if row else None)
    return job


class Stages:
    """The stages of one run over its groups, with the pool, the stop and the halt."""

    def __init__(self, run: DepositRun, pool: ThreadPoolExecutor, stop: threading.Event | None, in_progress: set[str]) -> None:
        self.run, self.pool, self.stop, self.in_progress = run, pool, stop, in_progress

    def stopped(self) -> bool:
        return (self.stop is not None and self.stop.is_set()) or self.run.halted is not None

    def not_started(self, job: Job) -> None:
        reason = self.run.halted or "the run was interrupted"
        row = job.row
        if row is not None and row.deposition_id is not None and row.reached("created"):
            job.result = RecordResult(job.record.id, "not-published", f"{reason}; draft {row.deposition_id} "
                                      "is kept and the next run publishes it", None, row.deposition_id)
        else:
            job.result = RecordResult(job.record.id, "not-started", f"not started: {reason}")

    def run_stage(self, jobs: list[Job], stage: Callable[[DepositRun, Job], None], *, begun: bool = False) -> None:
        """``stage`` for every job not yet done, up to the pool's workers at once. A job not ``begun``
        is not started once the run is stopped; a begun one (its draft is being prepared) is carried
        through after the first Ctrl-C, but not past a halt."""

        def work(job: Job) -> None:
            if self.run.halted is not None or (not begun and self.stopped()):
                self.not_started(job)
                return
            self.in_progress.add(job.record.id)
            try:
                stage(self.run, job)
            finally:
                self.in_progress.discard(job.record.id)
            if job.result is not None and job.result.action != "failed":
                self.run.went_well()

        list(self.pool.map(work, [job for job in jobs if job.result is None]))

    def group(self, jobs: list[Job]) -> None:
        """The story of a deposit, for a group: look up, prepare, check, publish and register."""
        self.run_stage([job for job in jobs if job.action == "update"], update_metadata)  # in place: no draft, no lookup
        if not self.stopped():
            look_up(self.run, jobs)
        self.run_stage(jobs, prepare)
        if any(job.result is None for job in jobs) and self.run.halted is None:
            ready = {id(job) for job in check(self.run, jobs)}
            for job in jobs:  # a draft the check neither passed nor settled waits for the next run
                if job.result is None and id(job) not in ready:
                    self.not_started(job)
            self.run_stage(jobs, publish, begun=True)
        for job in jobs:
            if job.result is None:
                self.not_started(job)


def _each_group(run: DepositRun, stages: Stages, export_dir: Path, wanted: set[str], limit: int | None, group_size: int,
                done: Callable[[RecordResult], None]) -> None:
    """The export's records, in its order, through the stages a group at a time; a record with
    nothing to send (skipped, drifted, not started) is done at once when no group is waiting."""

    def run_group(jobs: list[Job]) -> None:
        stages.group(jobs)
        for finished in jobs:
            done(finished.result)  # type: ignore[arg-type]  # every job of a group ends with a result

    group: list[Job] = []
    acted = 0
    for manifest_path in iter_manifests(export_dir):
        if wanted and record_id_of(manifest_path) not in wanted:
            continue
        if limit is not None and acted >= limit:
            break
        job = job_for(run, manifest_path)
        if job.result is None and stages.stopped():
            stages.not_started(job)  # the ones never reached are accounted for too
        if job.result is not None and not group:
            done(job.result)
            continue
        acted += job.result is None
        group.append(job)
        if len([j for j in group if j.result is None]) >= max(1, group_size):
            run_group(group)
            group = []
    if group:
        run_group(group)


def run_deposit(
    export_dir: Path,
    port: DepositPort,
    policy: Policy,
    *,
    only: Iterable[str] | None = None,
    limit: int | None = None,
    draft_only: bool = False,
    new_versions: bool = False,
    update_metadata: bool = False,
    workers: int = 4,
    on_record: Callable[[RecordResult], None] | None = None,
    stop: threading.Event | None = None,
    in_progress: set[str] | None = None,
    group_size: int = DEPOSIT_GROUP,
) -> DepositSummary:
    """Deposit an export's records through ``port``. Results are reported in the export's order;
    ``in_progress`` holds the ids being worked on, for the caller to show. Whatever ends the run,
    the export's package and reports are brought in line with the manifests before it returns or raises."""
    export_dir = Path(export_dir)
    policy = export_policy(export_dir, policy)
    only = check_only(export_dir, only)
    summary = DepositSummary(port.environment)
    started = time.perf_counter()

    def done(result: RecordResult) -> None:
        summary.results.append(result)  # every record is accounted for
        if on_record:
            on_record(result)

    with ExportLock(export_dir):
        ledger = Ledger(ledger_path(export_dir))
        try:
            check_server(ledger, port.environment, port.server)
            if policy.communities and not draft_only:
                port.check_community(policy.communities[0])  # one that does not exist stops the run before any draft is made
            run = DepositRun(export_dir, port, ledger, policy, draft_only=draft_only, new_versions=new_versions,
                             update_metadata=update_metadata)
            port.stop_waiting_when(lambda: run.halted is not None)  # no wait begun for a record the run will not finish
            with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="deposit") as pool:
                stages = Stages(run, pool, stop, set() if in_progress is None else in_progress)
                _each_group(run, stages, export_dir, set(only or []), limit, group_size, done)
            summary.interrupted = stop is not None and stop.is_set()
            summary.token_refused, summary.unreachable, summary.rate_limited = run.token_refused, run.unreachable, run.rate_limited
            summary.failing = str(run.failing) if run.failing is not None else None
        finally:
            try:  # even when interrupted: report.json, report.html and the CSVs follow the manifests
                refresh_after_deposit(export_dir, registered_dois(ledger, port.environment), policy)
            finally:
                ledger.close()
    summary.requests, summary.throttled = port.requests, port.throttled
    summary.seconds = time.perf_counter() - started
    return summary
