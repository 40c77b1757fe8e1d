"""Atomic file writes and safe file names derived from record ids."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from archiver.findings import ArchiverError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_STEM = 120
_RECORD_ID = re.compile(r"SRCH:[0-9A-F]{8}\Z")


def printable_path(path: str) -> str:
    """A path as text that can be written as UTF-8: bytes of a name that is not UTF-8 (held as
    surrogate escapes) become ``\\xff`` escapes instead of failing the write."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def safe_stem(record_id: str) -> str:
    """A file-name stem for an id: ASCII letters, digits, ``._-`` only; never empty, hidden or reserved.

    ``SRCH:9DC75331`` becomes ``SRCH_9DC75331``. Ids are pattern-checked before they reach here;
    this is the second line of defence against path tricks.
    """
    if _RECORD_ID.match(record_id):  # the shape every valid record has: nothing to clean up
        return f"SRCH_{record_id[5:]}"
    stem = _UNSAFE.sub("_", record_id).strip("._")
    if not stem or stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        raise ArchiverError(f"record id {record_id!r} cannot be turned into a safe file name", code="unsafe-id")
    return stem[:MAX_STEM]


def inside(directory: Path, name: str) -> Path:
    """``directory / name``, refusing anything that would land outside ``directory``."""
    target = (directory / name).resolve()
    if target.parent != directory.resolve():
        raise ArchiverError(f"{name!r} would be written outside {directory}", code="unsafe-path")
    return target


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a part."""
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
