"""A record's report artifact: found in a folder by the record's id, kept in the export, and held to
Zenodo's limits before anything is sent.

The report of ``SRCH:7C1E9B40`` is ``SRCH-7C1E9B40.<any extension>`` in the artifacts folder (``:``
cannot be in a file name everywhere), or several files in a folder ``SRCH-7C1E9B40/``. The export
keeps a copy under ``artifacts/`` (a hard link where the file system allows) and names it in the
manifest's ``provenance.report_artifact.path``; the deposit sends it as the record's first file.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from archiver.exportdir import ARTIFACTS, glob_escape

# Zenodo's limits (zenodo-rdm invenio.cfg: RDM_FILES_DEFAULT_MAX_FILE_SIZE = 50 GB; invenio-rdm-records
# RDM_RECORDS_MAX_FILES_COUNT = 100; RECORDS_RESOURCES_ALLOW_EMPTY_FILES = False)
MAX_FILE_BYTES = 50 * 10**9
MAX_FILES = 100


def artifact_stem(record_id: str) -> str:
    """The file or folder name a record's report goes by: its id, ``:`` written as ``-``."""
    return record_id.replace(":", "-")


def find_artifacts(folder: Path, record_id: str) -> list[Path]:
    """The record's report files in ``folder``: the files of its own folder, else every
    ``STEM.<extension>`` file, sorted by name (the first is the one Zenodo previews)."""
    stem = artifact_stem(record_id)
    own = folder / stem
    if own.is_dir():
        return sorted(path for path in own.iterdir() if path.is_file() and not path.name.startswith("."))
    return sorted(path for path in folder.glob(f"{glob_escape(stem)}.*") if path.is_file())


def exported_path(record_id: str, found: list[Path]) -> str:
    """Where the export keeps the report, as the manifest names it: the one ``STEM.<extension>``
    file, or a folder named by the record (each record's files apart, whatever they are called)."""
    stem = artifact_stem(record_id)
    if len(found) == 1 and found[0].name.startswith(stem + "."):
        return f"{ARTIFACTS}/{found[0].name}"
    return f"{ARTIFACTS}/{stem}"


def keep_in_export(staged: Path, record_id: str, found: list[str]) -> None:
    """Copy the report files into the staged export (a hard link where possible: no second copy of
    a large report), where ``exported_path`` says."""
    paths = [Path(name) for name in found]
    target = staged / exported_path(record_id, paths)
    target = target.parent if target.name == paths[0].name and len(paths) == 1 else target
    target.mkdir(parents=True, exist_ok=True)
    for name in found:
        source, destination = Path(name), target / Path(name).name
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)


def artifact_files(export_dir: Path, path: str) -> list[Path]:
    """The files an exported ``report_artifact.path`` names (a file, or the files of a folder)."""
    source = Path(path)
    source = source if source.is_absolute() else export_dir / source
    if source.is_dir():
        return sorted(item for item in source.iterdir() if item.is_file() and not item.name.startswith("."))
    return [source]


@dataclass(frozen=True)
class LimitProblem:
    code: str
    message: str


def zenodo_limits(files: list[tuple[str, int]]) -> LimitProblem | None:
    """The first of Zenodo's limits that ``files`` (name, size) break, or None."""
    if len(files) > MAX_FILES:
        return LimitProblem(code="too-many-files", message=f"{len(files)} files; Zenodo takes at most {MAX_FILES} a record")
    for name, size in files:
        if size == 0:
            return LimitProblem(code="artifact-empty", message=f"{name} is empty; Zenodo refuses empty files")
        if size > MAX_FILE_BYTES:
            return LimitProblem(code="artifact-too-large", message=f"{name} is {size:,} bytes; Zenodo takes at most 50 GB a file")
    return None
