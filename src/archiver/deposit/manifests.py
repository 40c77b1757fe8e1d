"""The export's manifests as the deposit side reads them: in report order, each a valid Record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from archiver.exportdir import ARTIFACTS, REPORT_JSON, ReportJsonReader
from archiver.findings import ArchiverError
from archiver.model import Record
from archiver.policy import Policy


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
