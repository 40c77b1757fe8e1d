"""Special files and deep JSON: no hang, no traceback, a coded line for each, good records still exported.

Every command runs as a subprocess under a timeout, so a hang fails the test instead of the suite.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from archiver.walk import walk_files
from conftest import EXAMPLES, base_manifest

ARCHIVER = str(Path(sys.executable).parent / "archiver")
GOOD_PAGE = EXAMPLES / "01-kv-cache-web.txt"


def archiver(*args, timeout=60, stdin=None):
    return subprocess.run([ARCHIVER, *map(str, args)], capture_output=True, text=True, timeout=timeout, stdin=stdin)


@pytest.fixture
def messy_folder(tmp_path):
    """A folder as people have them: a good page, a FIFO, a socket, a device link, a dangling link."""
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "good.txt").write_bytes(GOOD_PAGE.read_bytes())
    os.mkfifo(folder / "pipe")
    os.mkfifo(folder / "pipe.json")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "sock"))
    (folder / "null").symlink_to("/dev/null")
    (folder / "dangling").symlink_to(folder / "nowhere")
    (folder / "loop").symlink_to(folder)  # a link to a directory is not followed
    yield folder
    server.close()


def test_the_walk_yields_regular_files_and_reports_the_rest(messy_folder):
    skipped = []
    files = list(walk_files(str(messy_folder), on_skip=lambda path, code, message: skipped.append((Path(path).name, code, message))))
    assert [Path(f).name for f in files] == ["good.txt"]
    assert skipped == [
        ("dangling", "special-file", "skipped: a broken symbolic link, not a regular file"),
        ("null", "special-file", "skipped: a character device, not a regular file"),
        ("pipe", "special-file", "skipped: a FIFO (named pipe), not a regular file"),
        ("pipe.json", "special-file", "skipped: a FIFO (named pipe), not a regular file"),
        ("sock", "special-file", "skipped: a socket, not a regular file"),
    ]


def test_export_of_a_messy_folder_skips_specials_with_warnings_and_exports_the_rest(messy_folder, tmp_path):
    run = archiver("export", messy_folder, "--out", tmp_path / "out", "--created", "2026-01-01T00:00:00Z")
    assert run.returncode == 0, run.stderr
    assert "exported 1 of 1 records" in run.stdout
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 5 and all(line.endswith("[special-file]") for line in warnings)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert sorted(Path(item["source"]).name for item in report["skipped"]) == ["dangling", "null", "pipe", "pipe.json", "sock"]
    quiet = archiver("export", messy_folder, "--out", tmp_path / "out", "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_validate_and_the_record_commands_skip_specials_in_a_walk(messy_folder):
    (messy_folder / "m.json").write_text(json.dumps(base_manifest()))
    run = archiver("validate", messy_folder)
    assert run.returncode == 0 and "ok: 1 file valid" in run.stdout
    assert "pipe.json: skipped: a FIFO (named pipe), not a regular file [special-file]" in run.stderr
    for command in ("manifest", "eligibility"):
        run = archiver(command, messy_folder)
        assert run.returncode == 0, run.stderr
        assert run.stderr.count("[special-file]") == 5


def test_special_files_named_directly_are_read_once_and_never_hang(messy_folder, tmp_path):
    run = archiver("export", GOOD_PAGE, messy_folder / "pipe", messy_folder / "sock", "/dev/null", "/dev/zero",
                   "--out", tmp_path / "out", "--created", "2026-01-01T00:00:00Z", timeout=120)
    assert run.returncode == 1, run.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    errors = {Path(entry["source"]).name: entry["errors"][0]["code"] for entry in report["records"] if not entry["valid"]}
    assert errors == {"pipe": "empty-input", "sock": "unreadable", "null": "empty-input", "zero": "input-too-large"}
    assert sum(entry["valid"] for entry in report["records"]) == 1
    for name, code in (("pipe", 1), ("sock", 2)):  # read and empty: invalid; a socket cannot be read
        run = archiver("validate", messy_folder / name)
        assert run.returncode == code and run.stdout.count("\n") == 1, run


def test_a_fifo_with_a_writer_is_read_once_as_jsonl(tmp_path):
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    lines = (EXAMPLES / "04-batch.jsonl").read_bytes()

    def write():
        with open(fifo, "wb") as handle:  # blocks until archiver opens the FIFO
            handle.write(lines)

    writer = threading.Thread(target=write)
    writer.start()
    run = archiver("export", fifo, "--out", tmp_path / "out", "--created", "2026-01-01T00:00:00Z")
    writer.join(timeout=30)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert len(report["records"]) == sum(1 for line in lines.splitlines() if line.strip())


def test_process_substitution_is_read_once(tmp_path):
    script = f'{ARCHIVER} export <(cat {EXAMPLES / "04-batch.jsonl"}) --out {tmp_path / "out"} --quiet'
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert all(entry["layout"] == "jsonl" for entry in json.loads((tmp_path / "out" / "report.json").read_text())["records"])


@pytest.mark.parametrize("depth", [900, 1000, 5000, 200_000])
def test_deep_json_is_one_coded_line_in_every_command_and_the_batch_goes_on(tmp_path, depth):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-good.txt").write_bytes(GOOD_PAGE.read_bytes())
    deep = "[" * depth + "]" * depth
    (folder / "b-deep.json").write_text('{"id": "SRCH:0123ABCD", "title": ' + deep + "}")
    (folder / "c-deep.jsonl").write_text(json.dumps(base_manifest()) + "\n" + '{"title": ' + deep + "}\n")
    manifest = json.dumps(base_manifest())[:-1] + ', "x": ' + deep + "}"
    (tmp_path / "m.json").write_text(manifest)
    runs = [
        archiver("validate", tmp_path / "m.json"),
        archiver("manifest", folder),
        archiver("eligibility", folder),
        archiver("export", folder, "--out", tmp_path / "out", "--created", "2026-01-01T00:00:00Z"),
    ]
    for run in runs:
        assert "Traceback" not in run.stderr + run.stdout
        assert run.returncode in (1, 2), run
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [entry["valid"] for entry in report["records"]] == [True, False, True, False]
    codes = {entry["errors"][0]["code"] for entry in report["records"] if not entry["valid"]}
    assert codes <= {"too-deep", "string-type", "id-missing"}, codes
