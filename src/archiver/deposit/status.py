"""What the ledger says of each record, and where it and the repository or the export disagree (drift)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from shlex import quote as shell_quote

from archiver.deposit.decide import decide_with_files
from archiver.deposit.errors import RemoteError
from archiver.deposit.files import content_hashes
from archiver.deposit.ledger import Ledger, LedgerRow
from archiver.deposit.manifests import iter_manifests, load_record, record_id_of
from archiver.deposit.port import DepositPort, RemoteDeposition
from archiver.exportdir import ledger_path
from archiver.model import Record
from archiver.policy import Policy


def status(export_dir: Path, environment: str | None = None) -> list[dict]:
    path = ledger_path(Path(export_dir))
    if not path.exists():
        return []
    with Ledger(path) as ledger:
        return [
            # "attempt": the ledger's count of deposits of the record (1, then one more per new
            # version); "version" is Zenodo's word, for the version number it shows
            {"id": row.record_id, "environment": row.environment, "attempt": row.attempt, "state": row.state,
             "deposition_id": row.deposition_id, "doi": row.doi, "updated_at": row.updated_at, "last_error": row.last_error,
             "correction_hash": row.correction_hash, "api": row.api, "server": row.api_url,
             "metadata_known": row.metadata is not None}
            for row in ledger.all(environment)
        ]


def unknown_registrations(export_dir: Path, rows: list[dict]) -> list[str]:
    """Records whose manifest names a deposit (a deposition id) that the ledger has no row for:
    a lost or other state directory, which `archiver reconcile` rebuilds from the repository."""
    known = {row["id"] for row in rows}
    unknown = []
    for path in iter_manifests(Path(export_dir)):
        external = load_record(path).provenance.external_record
        if external.deposition_id is not None and record_id_of(path) not in known:
            unknown.append(record_id_of(path))
    return unknown


def local_drift(rows: list[dict], export_dir: Path, policy: Policy, default_servers: Mapping[str, str] | None = None,
                unsent: tuple[str, ...] = ()) -> list[dict]:
    """Registered records whose manifest or policy would send otherwise than the deposit did (no
    network): a correction record changed (a new version awaits, or the export is older than what
    is published), or metadata changed (an update in place awaits). Marks those rows ``drifted``."""
    latest: dict[str, dict] = {}
    for row in rows:
        row.setdefault("drifted", False)
        if row["state"] == "registered" and row["attempt"] >= latest.get(row["id"], {}).get("attempt", 0):
            latest[row["id"]] = row
    manifests = {record_id_of(path): path for path in iter_manifests(Path(export_dir))}
    drift = []
    with Ledger(ledger_path(Path(export_dir))) as ledger:
        for record_id, row in sorted(latest.items()):
            path = manifests.get(record_id)
            kept = ledger.get(record_id, row["environment"], row["attempt"])
            if path is None or kept is None:
                continue
            said = _drift_of(load_record(path), kept, policy, Path(export_dir), ledger.files(kept), default_servers or {}, unsent)
            if said:
                row["drifted"] = True
                drift.append({**row, "remote": said})
    return drift


def command_target(export_dir: Path, environment: str, server: str, default_servers: Mapping[str, str]) -> str:
    """What a hint's command names so that it pastes as printed: the export folder shell-quoted,
    --production for production, and the server the ledger's deposits went to when it is not the
    environment's own (``default_servers``: environment -> its API URL). A repository the policy
    names ([repository]) is the policy's to say: the command names no server for it."""
    words = [shell_quote(str(export_dir))]
    if environment == "production":
        words.append("--production")
    if environment in default_servers and server.rstrip("/") != default_servers[environment].rstrip("/"):
        words.append(f"--zenodo-url {shell_quote(server)}")
    return " ".join(words)


def _drift_of(record: Record, row: LedgerRow, policy: Policy, export_dir: Path, files: dict, default_servers: Mapping[str, str],
              unsent: tuple[str, ...]) -> str | None:
    """What differs between what ``row`` deposited (with ``files``) and what a deposit of ``record``
    would send now, as the deposit's own decision says it, with the command that settles it (never
    one that would refuse: an older export is told to re-export)."""
    action, why = decide_with_files(record, row, policy, export_dir, files, new_versions=False, unsent=unsent)
    where = command_target(export_dir, row.environment, row.api_url, default_servers)
    if action == "behind":
        return why
    if action == "drifted":
        return f"{why}; `archiver deposit {where} --new-versions` gives it a new version"
    if action == "metadata-changed":
        return f"{why}; `archiver deposit {where} --update-metadata` updates it in place"
    return None


def remote_drift(rows: list[dict], port: DepositPort, *, export_dir: Path | None = None, policy: Policy | None = None,
                 default_servers: Mapping[str, str] | None = None) -> list[dict]:
    """Compare ledger rows with what the repository holds: a DOI other than the ledger's, a
    deposition published that the ledger does not know as such, and (given the export and the
    policy) a record's latest registration publishing metadata other than a deposit would send now."""
    records = {record_id_of(path): path for path in iter_manifests(Path(export_dir))} if export_dir is not None else {}
    latest = {row["id"]: row["attempt"] for row in rows}
    for row in rows:
        latest[row["id"]] = max(latest[row["id"]], row["attempt"])
    drift = []
    for row in rows:
        if row["deposition_id"] is None:
            continue
        if row.get("server") and row["server"] != port.server:
            # another server's deposition ids name other depositions here: nothing to compare
            drift.append({**row, "remote": f"deposited to {row['server']}, not to {port.server}: not compared"})
            continue
        registered = row["state"] in ("published", "registered")
        try:
            remote = port.read_published(row["deposition_id"]) if registered else port.read(row["deposition_id"])
        except RemoteError as exc:
            if exc.code in ("no-answer", "token-refused"):
                raise  # every other row would wait out the same silence, or meet the same refusal: stop
            drift.append({**row, "remote": f"unreachable: {exc.message}"})
            continue
        said = _remote_difference(row, remote, port.repository_name)
        if said is None and registered and policy is not None and row["attempt"] == latest[row["id"]] and row["id"] in records:
            assert export_dir is not None
            command = command_target(export_dir, row["environment"], port.server, default_servers or {})
            said = _published_metadata_differs(row, remote, port, load_record(records[row["id"]]), policy, command)
        if said is not None:
            drift.append({**row, "remote": said})
    return drift


def _remote_difference(row: dict, remote: RemoteDeposition, where: str) -> str | None:
    if row["id"] not in remote.record_ids:
        return f"deposition {remote.id} on {where} is not this record's (its keywords do not name {row['id']})"
    remote_doi = remote.doi if remote.published else None
    if row["state"] in ("published", "registered") and remote_doi != row["doi"]:
        return f"{where} holds DOI {remote_doi!r}, the ledger {row['doi']!r}"
    if row["state"] not in ("published", "registered") and remote.published:
        return f"published on {where} as {remote_doi}, ledger state {row['state']}"
    return None


def _published_metadata_differs(row: dict, remote: RemoteDeposition, port: DepositPort, record: Record, policy: Policy,
                                command: str) -> str | None:
    """The public fields the repository shows otherwise than a deposit of ``record`` would send
    now (compared through the API's renamings); a record whose corrections changed awaits a new
    version instead, which local drift says."""
    if content_hashes(record)[1] != row["correction_hash"]:
        return None
    changed = [name for name in port.metadata_changes(remote, port.payload(record, policy)) if name != "version"]
    if not changed:
        return None
    where = "an edit is open on Zenodo; " if remote.editing else ""
    return (f"{where}{port.repository_name} publishes other metadata than a deposit would send now: {', '.join(changed)}; "
            f"`archiver deposit {command} --update-metadata` updates it in place")
