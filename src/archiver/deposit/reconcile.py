"""Rebuild an export's ledger and registrations from what Zenodo holds, sending no write.

The ledger is a cache of Zenodo. After it is lost (a deleted state directory, another machine) or
goes stale, `archiver reconcile EXPORT` looks every record of the export up on Zenodo by its id
(batched searches, as a deposit does), rebuilds the record's ledger rows from the depositions it
finds, registers the DOI in the manifests whose correction record Zenodo holds, and brings the
package and reports in line. It only reads from Zenodo: nothing is created, uploaded or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archiver.deposit.context import DepositRun, Job
from archiver.deposit.errors import Gone, RemoteError
from archiver.deposit.ledger import Ledger, LedgerRow, RemoteState
from archiver.deposit.lookup import LOOKUP_BATCH, Found, creation_order, find_records
from archiver.deposit.manifests import iter_manifests
from archiver.deposit.port import DepositPort
from archiver.deposit.protocol import apply_found
from archiver.deposit.refresh import refresh_after_deposit
from archiver.deposit.registered import check_server, registered_dois
from archiver.deposit.runner import job_for
from archiver.exportdir import ExportLock, ledger_path
from archiver.findings import ArchiverError
from archiver.model import DepositionId
from archiver.policy import Policy


@dataclass
class Reconciled:
    """One record after reconciling: what Zenodo holds and what the ledger and manifest now say."""

    record_id: str
    state: str  # registered, drifted, draft, none, failed
    detail: str
    doi: str | None = None
    deposition_id: DepositionId | None = None

    def as_dict(self) -> dict:
        return {"id": self.record_id, "state": self.state, "detail": self.detail, "doi": self.doi, "deposition_id": self.deposition_id}


def _confirmed(port: DepositPort, found: Found, known_ids: list[DepositionId]) -> Found:
    """What the search found, plus the depositions the ledger named that the search does not
    list (the index lags behind a create or publish): read one by one; a 404 is gone."""
    listed = {d.id for d in found.depositions}
    extra = []
    for deposition_id in known_ids:
        if deposition_id in listed:
            continue
        try:
            extra.append(port.read(deposition_id))
        except Gone:
            continue
    return Found(found.record_id, tuple(sorted((*found.depositions, *extra), key=creation_order)))


def _reconcile_one(run: DepositRun, job: Job, found: Found) -> Reconciled:
    ledger, environment, record = run.ledger, run.environment, job.record
    known = [row.deposition_id for row in ledger.all(environment) if row.record_id == record.id and row.deposition_id]
    found = _confirmed(run.port, found, known)
    before = [row for row in ledger.all(environment) if row.record_id == record.id]
    ledger.drop(record.id, environment)
    job.row, job.result, job.action = None, None, "deposit"
    if not found.depositions:
        return Reconciled(record.id, "none", f"{run.port.repository_name} holds no deposition of this record")
    apply_found(run, job, found)
    if job.result is not None and job.result.action == "failed":
        ledger.restore(record.id, environment, before)  # a rebuild that failed takes nothing away
        return Reconciled(record.id, "failed", job.result.detail)
    row = job.row
    assert row is not None
    _keep_what_was_sent(ledger, row, before)
    published = found.published
    if published is None:
        if row.state == "in-review":
            return Reconciled(record.id, "draft", f"draft {row.deposition_id} waits for its community's review: a deposit "
                              "registers it once accepted", None, row.deposition_id)
        return Reconciled(record.id, "draft", f"open draft {row.deposition_id} on {run.port.repository_name}: a deposit resumes it", None, row.deposition_id)
    # an open new version of the record's concept: the next deposit resumes it instead of opening another
    opened = [d for d in found.depositions if not d.published and d.concept == published.concept and creation_order(d) > creation_order(published)]
    if opened:
        following = run.begin_row(record, attempt=row.attempt + 1)
        ledger.adopted(following, RemoteState(opened[0].id, opened[0].files_at), "created", row.correction_hash)
    if job.result is not None and job.result.action == "adopted":
        return Reconciled(record.id, "registered", job.result.detail.replace("; registered, nothing deposited", ""), row.doi, published.id)
    return Reconciled(
        record.id, "drifted",
        f"the correction record changed since deposition {published.id} on {run.port.repository_name}; deposit --new-versions gives it a new version",
        row.doi, published.id,
    )


def _keep_what_was_sent(ledger: Ledger, row: LedgerRow, before: list[LedgerRow]) -> None:
    """A row rebuilt for the deposition it named before keeps what the ledger knew it was sent:
    the repository does not say, and drift is seen from it."""
    for old in before:
        if old.deposition_id == row.deposition_id and old.metadata is not None:
            ledger.sent(row, old.metadata)


def reconcile(export_dir: Path, port: DepositPort, policy: Policy) -> list[Reconciled]:
    """Every deposit-worthy record of the export, looked up on Zenodo, with the ledger and the
    manifests rebuilt from what it holds (records that are skipped, not eligible and unknown to
    Zenodo, are left out)."""
    export_dir = Path(export_dir)
    results: list[Reconciled] = []
    with ExportLock(export_dir):
        ledger = Ledger(ledger_path(export_dir))
        try:
            check_server(ledger, port.environment, port.server)
            run = DepositRun(export_dir, port, ledger, policy, delete_orphans=False)
            batch: list[Job] = []

            def settle(jobs: list[Job]) -> None:
                try:
                    found = find_records(port, [job.record.id for job in jobs])
                except RemoteError as exc:
                    raise ArchiverError(f"{run.port.repository_name}'s search failed: {exc.message}", code=exc.code) from None
                for job in jobs:
                    known = ledger.get(job.record.id, run.environment) is not None
                    if not found[job.record.id].depositions and not known:
                        continue  # nothing to say about a record neither Zenodo nor the ledger knows
                    results.append(_reconcile_one(run, job, found[job.record.id]))

            for manifest_path in iter_manifests(export_dir):
                batch.append(job_for(run, manifest_path))
                if len(batch) >= LOOKUP_BATCH:
                    settle(batch)
                    batch = []
            if batch:
                settle(batch)
        finally:
            try:
                refresh_after_deposit(export_dir, registered_dois(ledger, port.environment), policy)
            finally:
                ledger.close()
    return results
