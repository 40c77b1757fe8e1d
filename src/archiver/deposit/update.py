"""An update in place: a published deposition's metadata edited to what the record and the policy
say now, under the same DOI, with no new version (``deposit --update-metadata``).

Four requests at most: read what is published, open an edit, save the metadata (read back and
compared), publish (or, settling what a stopped run left, read and discard). Zenodo keeps one edit per record, and opening it again hands back the open
one, so whatever stopped an earlier run (a kill, a lost ledger, another folder, a second run at
the same time) leaves at most one open edit, which the next update finishes or discards; an edit
that would change nothing is discarded, never published.
"""

from __future__ import annotations

from archiver.deposit.context import DepositRun, Job
from archiver.deposit.description import public_text
from archiver.deposit.errors import Gone, RemoteError, Untrusted
from archiver.deposit.ledger import LedgerRow
from archiver.deposit.port import RemoteDeposition
from archiver.deposit.results import RecordResult
from archiver.deposit.steps import kept
from archiver.findings import ArchiverError


def update_metadata(run: DepositRun, job: Job) -> None:
    """Stage of a registered record whose metadata changed: edited in place, or found current."""
    row = job.row
    assert row is not None and row.doi is not None
    try:
        sent = _update(run, job, row)
    except ArchiverError as exc:  # the repository's errors (RemoteError) among them
        run.fail(job, exc)
        return
    if sent:
        fields = job.why.removeprefix("metadata changed since the deposit: ") if job.why.startswith("metadata changed") else ""
        job.result = RecordResult(job.record.id, "updated", f"metadata updated in place{f' ({fields})' if fields else ''}; same DOI",
                                  row.doi, row.deposition_id)
    else:
        job.result = RecordResult(job.record.id, "skipped", "the repository publishes the metadata of now already; nothing sent",
                                  row.doi, row.deposition_id)


def _own(row: LedgerRow, deposition: RemoteDeposition, record_id: str) -> RemoteDeposition:
    """``deposition`` when it is the row's, published under the row's DOI."""
    if deposition.id != row.deposition_id or (deposition.doi is not None and deposition.doi != row.doi) or record_id not in deposition.record_ids:
        raise Untrusted(f"{record_id}: deposition {deposition.id} as read is not the one registered as {row.doi}: nothing sent",
                        code="answer-mismatch")
    return deposition


def _update(run: DepositRun, job: Job, row: LedgerRow) -> bool:
    """True when an edit was published now; False when the repository held the metadata of now."""
    record, port = job.record, run.port
    payload = port.payload(record, run.policy)
    wanted = public_text(record, run.policy)
    published = _own(row, port.read_published(row.remote_id), record.id)
    if not published.editing and not port.metadata_changes(published, payload):
        if row.edit is not None:
            # An earlier run of this ledger may have opened an edit and stopped (an edit opened after
            # another run published the same metadata): what is published is right, so any edit
            # left is dropped. The records API's record does not show an open edit; this asks.
            port.discard_edit(row.remote_id)
        job.row = run.ledger.edited(row, wanted)
        return False
    row = job.row = run.ledger.editing(row)
    draft = _own(row, port.edit(row.remote_id), record.id)
    if port.metadata_changes(draft, payload):
        try:
            saved = port.set_metadata(row.remote_id, record, payload)
        except Gone:  # the edit was published (or discarded) by another run meanwhile: what is public decides
            if _published_now(run, row, payload):
                job.row = run.ledger.edited(row, wanted)
                return False
            raise
        if saved.unkept:
            port.discard_edit(row.remote_id)  # never half-published: the record stays as it was
            job.row = run.ledger.edit_closed(row)
            kept(saved)
    else:
        # The open edit holds the metadata of now already: another run's (which publishes it), a
        # stopped run's, or a fresh copy of what another run published meanwhile. Published only
        # when what is public differs. The legacy API shows the edit in place of what is public, so
        # there it is published: in the one interleaving where another run published first, that
        # publishes the same metadata again (no new version, the same DOI).
        current = port.read_published(row.remote_id)
        if not current.editing and not port.metadata_changes(current, payload):
            port.discard_edit(row.remote_id)
            job.row = run.ledger.edited(row, wanted)
            return False
    _publish_edit(run, row, payload, record.id)
    job.row = run.ledger.edited(row, wanted)
    return True


def _publish_edit(run: DepositRun, row: LedgerRow, payload: dict, record_id: str) -> None:
    """Publish the edit once. A refusal discards it; a lost or unreadable answer is settled by
    reading what is published: the metadata of now there is success, whoever published it."""
    try:
        _own(row, run.port.publish(row.remote_id), record_id)
        return
    except RemoteError as exc:
        if exc.refused and not isinstance(exc, Gone | Untrusted):  # Gone: published already, perhaps by another run
            run.port.discard_edit(row.remote_id)
            run.ledger.edit_closed(row)
            raise
        if _published_now(run, row, payload):
            return
        raise RemoteError(f"{record_id}: the edit's publish did not go through ({exc.message}); the next "
                          "--update-metadata run finishes it", code="publish-failed") from None


def _published_now(run: DepositRun, row: LedgerRow, payload: dict) -> bool:
    """Whether the repository publishes ``payload``'s metadata now, with no edit shown open."""
    current = run.port.read_published(row.remote_id)
    return not current.editing and not run.port.metadata_changes(current, payload)
