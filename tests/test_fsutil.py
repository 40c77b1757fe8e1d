"""fsutil: atomic writes keep a plain write's mode and survive a crash; safe file names."""

from __future__ import annotations

import os
import stat

import pytest

from archiver import fsutil
from archiver.fsutil import atomic_write_bytes, safe_stem


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_file_gets_the_mode_a_plain_write_gives(tmp_path, umask_022):
    plain = tmp_path / "plain.json"
    plain.write_bytes(b"{}")
    atomic = tmp_path / "atomic.json"
    atomic_write_bytes(atomic, b"{}")
    assert _mode(atomic) == _mode(plain) == 0o644


def test_umask_is_honoured(tmp_path):
    old = os.umask(0o077)
    try:
        atomic_write_bytes(tmp_path / "private.json", b"{}")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "private.json") == 0o600


def test_replacing_a_file_keeps_its_mode(tmp_path, umask_022):
    target = tmp_path / "manifest.json"
    target.write_bytes(b"old")
    os.chmod(target, 0o664)
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o664


def test_directory_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        calls.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        return real_fsync(fd)

    monkeypatch.setattr(fsutil.os, "fsync", recording_fsync)
    atomic_write_bytes(tmp_path / "a.json", b"{}")
    assert calls == [False, True]  # the file's data first, then the directory entry


def test_failed_write_leaves_no_temporary_and_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.json"
    target.write_bytes(b"old")

    def failing_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(fsutil.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk gone"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_safe_stem_of_a_record_id():
    assert safe_stem("SRCH:9DC75331") == "SRCH_9DC75331"


def test_safe_file_names_refuse_what_cannot_be_made_safe():
    from archiver.findings import ArchiverError
    from archiver.fsutil import safe_stem

    assert safe_stem("SRCH:9DC75331") == "SRCH_9DC75331"
    assert safe_stem("../../etc/passwd") == "etc_passwd"
    for unusable in ("..", "CON", "nul", "LPT1", "\x00", "///"):
        with pytest.raises(ArchiverError):
            safe_stem(unusable)
    assert len(safe_stem("A" * 5000)) <= 120
