"""What the ledger says of each record, and where it and the repository or the export disagree (drift)."""

from __future__ import annotations

from pathlib import Path

from archiver.deposit.errors import RemoteError
from archiver.deposit.files import content_hashes
from archiver.deposit.ledger import Ledger
from archiver.deposit.manifests import iter_manifests, load_record, record_id_of
from archiver.deposit.port import DepositPort
from archiver.exportdir import ledger_path


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
             "correction_hash": row.correction_hash, "api": row.api, "server": row.api_url}
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


def local_drift(rows: list[dict], export_dir: Path) -> list[dict]:
    """Registered records whose manifest's correction record is not the one deposited (no network):
    each awaits a new version. Marks those rows ``drifted``."""
    latest: dict[str, dict] = {}
    for row in rows:
        row.setdefault("drifted", False)
        if row["state"] == "registered" and row["attempt"] >= latest.get(row["id"], {}).get("attempt", 0):
            latest[row["id"]] = row
    manifests = {record_id_of(path): path for path in iter_manifests(Path(export_dir))}
    drift = []
    for record_id, row in sorted(latest.items()):
        path = manifests.get(record_id)
        if path is not None and content_hashes(load_record(path))[1] != row["correction_hash"]:
            row["drifted"] = True
            drift.append({**row, "remote": "the correction record changed since the deposit; deposit --new-versions gives it a new version"})
    return drift


def remote_drift(rows: list[dict], port: DepositPort) -> list[dict]:
    """Compare ledger rows with what the repository holds: a DOI other than the ledger's, or a
    deposition published that the ledger does not know as such."""
    drift = []
    for row in rows:
        if row["deposition_id"] is None:
            continue
        if row.get("server") and row["server"] != port.server:
            # another server's deposition ids name other depositions here: nothing to compare
            drift.append({**row, "remote": f"deposited to {row['server']}, not to {port.server}: not compared"})
            continue
        try:
            remote = port.read(row["deposition_id"])
        except RemoteError as exc:
            if exc.code in ("no-answer", "token-refused"):
                raise  # every other row would wait out the same silence, or meet the same refusal: stop
            drift.append({**row, "remote": f"unreachable: {exc.message}"})
            continue
        if row["id"] not in remote.record_ids:
            drift.append({**row, "remote": f"deposition {remote.id} on Zenodo is not this record's (its keywords do not name {row['id']})"})
            continue
        remote_doi = remote.doi if remote.published else None
        if row["state"] in ("published", "registered") and remote_doi != row["doi"]:
            drift.append({**row, "remote": f"Zenodo holds DOI {remote_doi!r}, the ledger {row['doi']!r}"})
        elif row["state"] not in ("published", "registered") and remote.published:
            drift.append({**row, "remote": f"published on Zenodo as {remote_doi}, ledger state {row['state']}"})
    return drift
