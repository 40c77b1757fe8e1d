"""Atomic file writes and safe file names derived from record ids."""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

from archiver.findings import ArchiverError
from archiver.vocabulary import RECORD_ID_BODY, RECORD_ID_PREFIX

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_STEM = 120
_RECORD_ID = re.compile(RECORD_ID_BODY + r"\Z")
_SAFE_PREFIX = RECORD_ID_PREFIX.replace(":", "_")


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
        return _SAFE_PREFIX + record_id[len(RECORD_ID_PREFIX):]
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
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a part.

    The new file gets the mode a plain ``open(path, "w")`` would leave: the replaced file's mode,
    or 0666 less the umask for a new file. The directory is fsynced after the rename so the
    rename itself survives a power cut.
    """
    directory = path.parent
    try:
        mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    # os.open applies the umask itself (mkstemp would force 0600); O_EXCL on a random name
    # gives mkstemp's safety without its mode.
    for _attempt in range(100):
        tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise FileExistsError(f"no free temporary name beside {path}")
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
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
    fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory; the rename still happened
        pass
    finally:
        os.close(fd)
