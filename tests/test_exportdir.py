"""The export directory: --out replaces only an archiver export or an empty directory, never overlaps a
source, and leaves no lock or staging file beside it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from archiver.exportdir import (
    MARKER,
    REPORT_JSON,
    ExportLock,
    ReportJsonReader,
    ReportJsonWriter,
)
from archiver.findings import ArchiverError
from conftest import EXAMPLES, run_cli

CREATED = "2026-11-22T00:00:00Z"


def snapshot(directory: Path) -> dict[str, str]:
    """Every entry below ``directory`` (hidden ones and .git included) with its content hash."""
    out = {}
    for path in sorted(directory.rglob("*")):
        key = str(path.relative_to(directory))
        out[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


def beside(directory: Path) -> list[str]:
    """What archiver left next to ``directory`` (hidden entries named after it)."""
    return sorted(p.name for p in directory.parent.iterdir() if p.name.startswith(f".{directory.name}."))


def export(out, *sources):
    return run_cli("export", *(sources or (EXAMPLES,)), "--out", out, "--created", CREATED, "--quiet")


def test_a_folder_of_someones_files_is_refused_and_left_intact(tmp_path):
    out = tmp_path / "thesis"
    (out / "chapters").mkdir(parents=True)
    (out / "notes.txt").write_text("my notes")
    (out / "chapters" / "one.md").write_text("# One")
    (out / ".hidden").write_text("h")
    before = snapshot(out)
    run = export(out)
    assert run.code == 2
    assert run.err.count("\n") == 1 and "[out-not-export]" in run.err and "'.hidden', 'chapters', 'notes.txt'" in run.err
    assert snapshot(out) == before
    assert beside(out) == []


def test_a_git_repository_is_refused_with_its_history_intact(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "README").write_text("hello")
    before = snapshot(repo)
    run = export(repo)
    assert run.code == 2 and "[out-not-export]" in run.err and "'.git'" in run.err
    assert snapshot(repo) == before
    assert beside(repo) == []


@pytest.mark.parametrize("where", ["same", "out-inside-source", "source-inside-out"])
def test_out_overlapping_a_source_is_refused(tmp_path, where):
    source = tmp_path / "pages"
    source.mkdir()
    for page in EXAMPLES.iterdir():
        (source / page.name).write_bytes(page.read_bytes())
    out = {"same": source, "out-inside-source": source / "export", "source-inside-out": tmp_path}[where]
    before = snapshot(tmp_path)
    run = export(out, source)
    assert run.code == 2 and "[out-overlaps-source]" in run.err, run.err
    assert run.err.count("\n") == 1
    assert snapshot(tmp_path) == before


def test_the_source_folder_itself_as_out_through_a_relative_path_is_refused(tmp_path, monkeypatch):
    source = tmp_path / "pages"
    source.mkdir()
    (source / "a.txt").write_bytes((EXAMPLES / "01-kv-cache-web.txt").read_bytes())
    monkeypatch.chdir(source)
    run = export(".", ".")
    assert run.code == 2 and "[out-overlaps-source]" in run.err
    assert sorted(os.listdir(source)) == ["a.txt"]
    assert beside(source) == []


def test_an_empty_directory_and_an_earlier_export_are_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert export(out).code == 0
    assert (out / MARKER).is_file() and (out / "report.json").is_file()
    first = snapshot(out)
    assert export(out).code == 0
    assert snapshot(out) == first
    assert beside(out) == []


def test_an_export_a_user_added_files_to_is_refused(tmp_path):
    out = tmp_path / "out"
    export(out)
    (out / "my-analysis.ipynb").write_text("{}")
    before = snapshot(out)
    run = export(out)
    assert run.code == 2 and "'my-analysis.ipynb'" in run.err
    assert snapshot(out) == before


def test_an_export_written_before_the_marker_existed_is_still_recognised(tmp_path):
    out = tmp_path / "out"
    export(out)
    (out / MARKER).unlink()
    assert export(out).code == 0
    assert (out / MARKER).is_file()


def test_no_lock_or_staging_file_is_left_beside_dir_after_any_run(tmp_path, monkeypatch):
    out = tmp_path / "out"
    export(out)
    assert beside(out) == []
    empty = tmp_path / "empty-source"
    empty.mkdir()
    run = export(out, empty)  # nothing readable: fails, the export is kept
    assert run.code == 2
    assert beside(out) == []
    cwd = tmp_path / "here"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    assert export(".", EXAMPLES).code == 0
    assert sorted(os.listdir(tmp_path)) == ["empty-source", "here", "out"]


def test_the_lock_is_exclusive_and_its_file_goes_with_the_last_holder(tmp_path):
    out = tmp_path / "out"
    with ExportLock(out) as lock:
        assert lock.path.exists()
        run = export(out)
        assert run.code == 2 and "[busy]" in run.err
    assert not lock.path.exists()
    with ExportLock(out):  # taken again after release
        pass
    assert beside(out) == []


def test_report_json_reader_reads_back_what_the_writer_wrote(tmp_path):
    path = tmp_path / REPORT_JSON
    writer = ReportJsonWriter(path)
    entries = [{"id": "SRCH:00000001", "eligible": True, "reasons": []}, {"id": "SRCH:00000002", "note": "a, b\n"}]
    for entry in entries:
        writer.add_encoded(json.dumps(entry, separators=(",", ":")))
    tail = {"totals": {"records": 2}, "created": CREATED, "skipped": []}
    writer.finish(tail)
    assert json.loads(path.read_text()) == {"records": entries, **tail}  # the whole file is plain JSON
    reader = ReportJsonReader(path)
    assert list(reader.entries()) == entries
    assert reader.tail == tail


def test_report_json_reader_with_no_entries_and_with_a_foreign_file(tmp_path):
    path = tmp_path / REPORT_JSON
    writer = ReportJsonWriter(path)
    writer.finish({"totals": {}})
    reader = ReportJsonReader(path)
    assert list(reader.entries()) == [] and reader.tail == {"totals": {}}
    path.write_text('{"records": []}')
    with pytest.raises(ArchiverError, match="not a report.json archiver wrote"):
        list(ReportJsonReader(path).entries())
