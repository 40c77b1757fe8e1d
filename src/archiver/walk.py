"""Walking source folders and opening sources: regular files only in a walk, never a blocking open.

A FIFO, device or socket inside a folder is skipped with a warning (reading one could hang or never
end); one named directly is read once, as ``cat`` would. Imports only the standard library: the
``archiver validate`` path uses it too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator

SPECIAL_FILE = "special-file"

OnSkip = Callable[[str, str, str], None]  # (path, code, message)


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def walk_files(
    top: str,
    *,
    keep_dir: Callable[[str], bool] = lambda name: True,
    keep_file: Callable[[str], bool] = lambda name: True,
    on_skip: OnSkip | None = None,
) -> Iterator[str]:
    """Regular files below ``top`` in sorted order (names compared as strings, directories walked
    depth first). Symbolic links to directories are not followed, so a link loop cannot trap the
    walk; entries that are not regular files are reported to ``on_skip`` and never opened."""
    try:
        with os.scandir(top) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        if on_skip:
            on_skip(top, "unreadable", f"cannot list the directory: {exc.strerror or exc}")
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if keep_dir(entry.name):
                    yield from walk_files(entry.path, keep_dir=keep_dir, keep_file=keep_file, on_skip=on_skip)
                continue
            if not keep_file(entry.name):
                continue
            if entry.is_file():  # follows a link to a regular file; d_type spares a stat for most
                yield entry.path
                continue
            if entry.is_symlink() and entry.is_dir():
                continue  # a link to a directory: not followed, as os.walk does not
            mode = entry.stat(follow_symlinks=False).st_mode if not entry.is_symlink() else None
        except OSError:
            mode = None
        if on_skip:
            if mode is None:
                try:
                    mode = os.stat(entry.path).st_mode
                    what = kind_of(mode)
                except OSError:
                    what = "a broken symbolic link"
            else:
                what = kind_of(mode)
            on_skip(entry.path, SPECIAL_FILE, f"skipped: {what}, not a regular file")


def open_source(path: str) -> tuple[int, os.stat_result | None]:
    """Open ``path`` for reading without ever blocking (a FIFO with no writer opens at once).

    Returns the descriptor and, for a regular file, its stat (None for a FIFO, device or the
    like, whose descriptor is put back in blocking mode so that reads wait for a writer's data;
    on a regular file O_NONBLOCK changes nothing, so it costs no further call)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            return fd, info
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, None


def read_at_most(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from ``fd`` (to its end, or the limit: a device such as /dev/zero
    never ends)."""
    chunks = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
