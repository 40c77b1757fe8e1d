"""The export's manifests as the deposit side reads them: in report order, each a valid Record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from archiver.exportdir import ARTIFACTS, REPORT_JSON, ReportJsonReader
from archiver.findings import ArchiverError
from archiver.model import Record
from archiver.policy import RECORD_ID, Policy


def iter_manifests(export_dir: Path) -> Iterator[Path]:
    """Manifests of the export in report order."""
    report = export_dir / REPORT_JSON
    if not report.is_file():
        raise ArchiverError(f"{export_dir} is not an archiver export (no {REPORT_JSON})", code="usage")
    for entry in ReportJsonReader(report).entries():
        if entry.get("manifest"):
            yield export_dir / entry["manifest"]


def record_id_of(path: Path) -> str:
    """The record id a manifest's file name stands for (``SRCH_9DC75331.json``)."""
    return path.stem.replace("_", ":", 1)


def load_record(path: Path) -> Record:
    try:
        return Record.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise ArchiverError(f"{path}: not a valid manifest ({str(exc).splitlines()[0]})", code="manifest-invalid") from None


def export_policy(export_dir: Path, policy: Policy) -> Policy:
    """The policy a deposit of this export judges by. An export made with an artifacts folder keeps
    ``artifacts/`` (empty or not), so a record whose page says its report is Available without a
    file there is held back by the deposit as by the export, whatever policy file the deposit reads."""
    if policy.artifacts is None and (Path(export_dir) / ARTIFACTS).is_dir():
        return policy.model_copy(update={"artifacts": str(Path(export_dir) / ARTIFACTS)})
    return policy


def check_only(export_dir: Path, only: Iterable[str] | None) -> set[str]:
    """The record ids ``--only`` names, each a record of the export; else a usage error naming the
    ones that are not (with the form a record id takes)."""
    wanted = set(only or [])
    if not wanted:
        return wanted
    malformed = sorted(record_id for record_id in wanted if not RECORD_ID.fullmatch(record_id))
    if malformed:
        raise ArchiverError(f"--only {', '.join(malformed)}: not a record id (SRCH: and eight hex digits, e.g. SRCH:7C1E9B40)",
                            code="usage")
    unknown = wanted - {record_id_of(path) for path in iter_manifests(export_dir)}
    if unknown:
        raise ArchiverError(f"--only {', '.join(sorted(unknown))}: no such record in {export_dir} (its manifests/ name the records)",
                            code="usage")
    return wanted
