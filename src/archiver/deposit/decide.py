"""What to do with one record, given its latest ledger row and the policy: a pure decision, nothing sent."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from archiver.deposit.description import changed_fields, describe, public_fields
from archiver.deposit.files import artifact_changed, content_hashes
from archiver.deposit.ledger import LedgerRow
from archiver.eligibility import Facts, assess
from archiver.model import Record
from archiver.policy import Policy

Action = Literal["deposit", "register", "skip", "drifted", "behind", "new-version", "metadata-changed", "update"]


def decide(record: Record, row: LedgerRow | None, policy: Policy, *, new_versions: bool, update_metadata: bool = False,
           unsent: tuple[str, ...] = ()) -> tuple[Action, str]:
    """(what to do, why): deposit (afresh or resumed), register a DOI published already, skip,
    drifted (its corrections await --new-versions), behind (an export older than what is published),
    new-version, metadata-changed (what would be
    sent now is not what was: it awaits --update-metadata) or update (its metadata, in place).
    ``unsent``: public fields the API does not send, whose change is no drift."""
    if row is not None and row.state == "registered":
        if row.correction_hash != content_hashes(record)[1]:
            corrections = record.correction_record.correction_count
            if row.newer_than(corrections):
                return "behind", (f"this export's record has {corrections} correction(s), the version published as {row.doi} has "
                                  f"{int(str(row.published_version)) - 1}: it is older than what is published. Nothing is sent: "
                                  "export the current record pages and deposit that")
            return ("new-version" if new_versions else "drifted"), "the correction record changed since the deposit"
        if record.doi != row.doi:
            return "register", "published; the manifest does not carry the DOI yet"
        return _published_metadata(record, row, policy, update_metadata, unsent)
    if row is not None and row.state == "published":
        return "register", "published; registration not yet written"
    if row is None and record.doi is not None and record.provenance.external_record.deposition_id is not None:
        return "skip", (f"registered in its manifest as {record.doi}, but unknown to the ledger (a lost state directory?): "
                        f"`archiver reconcile` rebuilds the ledger from {policy.repository_name}, and a deposit then sees any correction since")
    if row is not None and not (row.state == "planned" and row.attempt == 1):
        return "deposit", f"resume from {row.state}"
    verdict = assess(Facts.of_record(record), policy)
    if not verdict.eligible:
        return "skip", "not eligible: " + ", ".join(verdict.reasons)
    if row is not None and row.last_error:
        answer = row.last_error.split(": ", 1)[-1]  # the repository's answer, without the request line
        return "deposit", f"new deposit; an earlier attempt created nothing on {policy.repository_name} ({answer})"
    return "deposit", "new deposit"


def _published_metadata(record: Record, row: LedgerRow, policy: Policy, update_metadata: bool, unsent: tuple[str, ...]) -> tuple[Action, str]:
    """A registered record whose files stand: its metadata as sent, or changed since."""
    changed = changed_fields(row.metadata, public_fields(describe(record, policy)), unsent)
    if changed:
        return ("update" if update_metadata else "metadata-changed"), f"metadata changed since the deposit: {', '.join(changed)}"
    if row.edit is not None:  # a run stopped during an update: an edit may be open on the repository
        return ("update" if update_metadata else "metadata-changed"), "an update of its metadata was not finished"
    if update_metadata and row.metadata is None:
        return "update", "the ledger does not know what was sent: what the repository publishes is compared with it"
    return "skip", f"already registered as {row.doi}"


def decide_with_files(
    record: Record, row: LedgerRow | None, policy: Policy, export_dir: Path, deposited: dict[str, tuple[int, str, bool]], *,
    new_versions: bool, update_metadata: bool = False, unsent: tuple[str, ...] = (),
) -> tuple[Action, str]:
    """``decide``, and for a registered record whose report files are not the ones deposited
    (``deposited``: the ledger's files of its row), a new version: files cannot change in place."""
    action, why = decide(record, row, policy, new_versions=new_versions, update_metadata=update_metadata, unsent=unsent)
    if row is not None and row.state == "registered" and action in ("skip", "register", "metadata-changed", "update") and \
            artifact_changed(record, export_dir, deposited):
        return ("new-version" if new_versions else "drifted"), "the report artifact changed since the deposit"
    return action, why


def needs_lookup(action: str, row: LedgerRow | None) -> bool:
    """A record to deposit that the ledger knows nothing remote of: no row, or a first attempt
    that names no deposition. The repository is asked before anything is created."""
    return action == "deposit" and (row is None or (row.attempt == 1 and row.deposition_id is None))
