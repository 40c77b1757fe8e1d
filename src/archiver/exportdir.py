"""An export directory: its layout and marker, which --out it may replace, its lock, the atomic swap,
and its report.json (the refresh after a deposit is the deposit side's: deposit/refresh.py).

archiver replaces a directory only when it is empty or is an export archiver wrote (it holds the
marker file and nothing archiver does not write), so a folder of someone's files, a git repository
or a source folder is never swapped out. The lock and the staging directory beside DIR are gone
after every run; only a kill can leave them, and the next run clears them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from archiver.findings import ArchiverError
from archiver.fsutil import fsync_directory

# --------------------------------------------------------------------------- layout

MARKER = ".archiver-export"
MARKER_TEXT = b"This directory is an archiver export: `archiver export --out` replaces it as a whole.\n"
MANIFESTS = "manifests"
DATA = "data"
DESCRIPTOR = "datapackage.json"
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
PLAN = "plan.json"  # written by `deposit --dry-run`
PLAN_HTML = "plan.html"  # the review page `deposit --dry-run` writes beside it
ARTIFACTS = "artifacts"  # the records' report files (export --artifacts)
# Every entry archiver writes at the top of an export.
LAYOUT = frozenset({MARKER, MANIFESTS, DATA, DESCRIPTOR, REPORT_JSON, REPORT_HTML, PLAN, PLAN_HTML, ARTIFACTS})
# Exports written before the marker existed are recognised by their layout alone.
_UNMARKED_EXPORT_NEEDS = frozenset({DESCRIPTOR, REPORT_JSON, MANIFESTS})
LEDGER = "ledger.sqlite"  # in the state directory
REFRESH_STAMP = "refreshed"  # in the state directory


def state_dir_for(export_dir: Path) -> Path:
    """``.DIR.state`` beside DIR: the ledger and deposit files live there, so a re-export's swap
    of DIR cannot take them away."""
    export_dir = Path(export_dir).resolve()
    return export_dir.parent / f".{export_dir.name}.state"


def ledger_path(export_dir: Path) -> Path:
    return state_dir_for(export_dir) / LEDGER


def resolve_out(out: str | os.PathLike, sources: Iterable[str]) -> Path:
    """The real path of ``--out``, refusing what archiver may not replace (exit 2, nothing touched)."""
    out_path = Path(os.path.realpath(out))
    if out_path.parent == out_path:
        raise ArchiverError(f"--out {out}: the file system root cannot be an export directory", code="out-refused")
    for source in sources:
        if source == "-":
            continue
        source_path = Path(os.path.realpath(source))
        if out_path == source_path or source_path in out_path.parents:
            raise ArchiverError(
                f"--out {out} is inside SOURCE {source}: the export would read itself on the next run; "
                "choose a directory outside every source",
                code="out-overlaps-source",
            )
        if out_path in source_path.parents:
            raise ArchiverError(
                f"SOURCE {source} is inside --out {out}: replacing the export would delete it; "
                "choose a directory outside every source",
                code="out-overlaps-source",
            )
    if out_path.exists() or out_path.is_symlink():
        if not out_path.is_dir():
            raise ArchiverError(f"--out {out} exists and is not a directory", code="out-refused")
        foreign = foreign_entries(out_path)
        if foreign:
            shown = ", ".join(repr(name) for name in foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise ArchiverError(
                f"--out {out} holds files archiver did not write ({shown}); it replaces only an empty "
                "directory or an earlier archiver export: choose another directory",
                code="out-not-export",
            )
    return out_path


def foreign_entries(directory: Path) -> list[str]:
    """Top-level entries of ``directory`` that archiver would not have written there (sorted)."""
    names = set(os.listdir(directory))
    if not names:
        return []
    if MARKER not in names and not names >= _UNMARKED_EXPORT_NEEDS:
        return sorted(names)
    return sorted(names - LAYOUT)


def write_marker(staged: Path) -> None:
    fd = os.open(staged / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, MARKER_TEXT)
    finally:
        os.close(fd)


def staging_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.tmp-{os.getpid()}"


# --------------------------------------------------------------------------- atomic directory swap

_RENAME_EXCHANGE = 2
_libc: ctypes.CDLL | bool | None = None


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False when the system cannot."""
    global _libc
    if _libc is None:  # looked up once; False when this system has no C library to ask
        name = ctypes.util.find_library("c") or "libc.so.6"
        try:
            _libc = ctypes.CDLL(name, use_errno=True)
        except OSError:
            _libc = False
    libc = _libc if isinstance(_libc, ctypes.CDLL) else None
    if libc is None or not hasattr(libc, "renameat2"):
        return False
    at_fdcwd = -100
    result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def swap_into_place(staged: Path, out: Path) -> None:
    """Make ``staged`` appear at ``out`` in one step; the previous ``out`` is removed afterwards."""
    if not out.exists():
        os.rename(staged, out)
        fsync_directory(out.parent)
        return
    if _renameat2_exchange(staged, out):
        fsync_directory(out.parent)
        shutil.rmtree(staged)  # now holds the previous export
        return
    # Without an atomic exchange: move the old one aside, then the new one in. A crash between
    # the two renames leaves DIR missing and the old export at .DIR.old; recover_interrupted
    # puts it back on the next run.
    aside = out.parent / f".{out.name}.old"
    shutil.rmtree(aside, ignore_errors=True)
    os.rename(out, aside)
    os.rename(staged, out)
    fsync_directory(out.parent)
    shutil.rmtree(aside, ignore_errors=True)


def recover_interrupted(out: Path) -> None:
    """Clear what an interrupted export left beside DIR (called with the export lock held)."""
    aside = out.parent / f".{out.name}.old"
    if aside.exists() and not out.exists():
        os.rename(aside, out)
    for stale in out.parent.glob(f".{glob_escape(out.name)}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


class ExportLock:
    """An exclusive lock beside DIR so two exports (or deposits) never write the same directory at once.

    A POSIX record lock (lockf) belongs to this process alone: worker processes forked from it do not
    inherit it, and it is released the moment this process dies, even by SIGKILL. The lock file is
    removed on release; a process that opened it before the removal finds, once it holds the lock,
    that the path no longer names its file, and starts again on the new one.
    """

    _held: set[str] = set()  # record locks do not conflict within one process: track ours here
    _held_guard = threading.Lock()

    def __init__(self, out: Path) -> None:
        out = Path(os.path.realpath(out))
        self.out = out
        self.path = out.parent / f".{out.name}.lock"
        self.key = str(self.path)
        self.fd: int | None = None

    def _busy(self) -> ArchiverError:
        return ArchiverError(f"another archiver process is writing {self.out}", code="busy")

    def _acquire(self) -> int:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise ArchiverError(f"cannot lock {self.out}: {exc.strerror} ({self.path})", code="os-error") from None
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise self._busy() from None
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)  # the holder removed it as we opened it: lock the file that is there now

    def __enter__(self) -> ExportLock:
        with self._held_guard:
            if self.key in self._held:
                raise self._busy()
            self._held.add(self.key)
        try:
            self.fd = self._acquire()
        except BaseException:
            with self._held_guard:
                self._held.discard(self.key)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.path)  # while still holding it, so no one can lock the old file and proceed
        except OSError:
            pass
        fcntl.lockf(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        with self._held_guard:
            self._held.discard(self.key)


def fsync_export(directory: Path) -> None:
    """Flush the small top-level files and the directory entries before the swap publishes them."""
    for name in (DESCRIPTOR, REPORT_JSON, REPORT_HTML):
        with open(directory / name, "rb") as handle:
            os.fsync(handle.fileno())
    for path in (directory, directory / MANIFESTS, directory / DATA):
        fsync_directory(path)


# --------------------------------------------------------------------------- report.json
#
# report.json is written as a stream: ``{``, ``"records": [``, one compact entry per line, ``],``,
# then the summary keys sorted, one per line. Reader and writer keep to that shape together, so
# the refresh after a deposit can stream it through without holding every entry.

_REPORT_HEAD = '{\n"records": [\n'


def _report_tail_text(tail: dict[str, Any]) -> str:
    items = sorted(tail.items())
    return ",\n".join(f"{json.dumps(k)}: {json.dumps(v, sort_keys=True, ensure_ascii=False)}" for k, v in items)


class ReportJsonWriter:
    """report.json, streamed: one entry per input record, then the summary."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in finish()
        self._file.write(_REPORT_HEAD)
        self._first = True

    def source_of(self, record_id: str) -> str | None:
        """The source of the first entry written so far with this record id (entries are compact
        JSON, one per line, their keys sorted: ``"id":"..."`` marks an entry's own id)."""
        self._file.flush()
        needle = '"id":' + json.dumps(record_id)
        with open(self._file.name, encoding="utf-8") as written:
            for line in written:
                if needle in line:
                    found = json.loads(line.rstrip("\n").rstrip(","))
                    if found.get("id") == record_id:
                        return str(found.get("source"))
        return None

    def add_encoded(self, entry_json: str) -> None:
        """Add one entry, already encoded as compact JSON on one line."""
        if not self._first:
            self._file.write(",\n")
        self._first = False
        self._file.write(entry_json)

    def finish(self, tail: dict[str, Any]) -> None:
        self._file.write("\n],\n")
        self._file.write(_report_tail_text(tail))
        self._file.write("\n}\n")
        self._file.close()

    def abort(self) -> None:
        self._file.close()


class ReportJsonReader:
    """Streams the entries of a report.json; ``tail`` holds the summary once they are read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tail: dict[str, Any] = {}

    def entries(self) -> Iterator[dict[str, Any]]:
        with open(self.path, encoding="utf-8") as source:
            head = source.readline() + source.readline()
            if head != _REPORT_HEAD:
                raise ArchiverError(f"{self.path}: not a report.json archiver wrote (line 1-2)", code="report-unreadable")
            for line in source:
                if line.startswith("]"):  # the entries are over; the rest is the summary
                    self.tail = json.loads("{" + line[2:] + source.read())
                    return
                if line != "\n":  # the blank line before "]," when there are no entries
                    yield json.loads(line.rstrip("\n").rstrip(","))
        raise ArchiverError(f"{self.path}: ends before its summary", code="report-unreadable")
