"""The export's manifests as the deposit side reads them: in report order, each a valid Record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from archiver.exportdir import REPORT_JSON, ReportJsonReader
from archiver.findings import ArchiverError
from archiver.model import Record


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
