"""Hardening: concurrent runs, hosts contacted, hostile ids, full and read-only disks, huge artifacts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from archiver.deposit.adapters import port_for
from archiver.deposit.runner import run_deposit
from archiver.policy import DEFAULT_POLICY
from archiver.zenodo.double import Faults, ZenodoDouble
from archiver.zenodo.legacy_client import LegacyClient
from archiver.zenodo.target import resolve_target
from conftest import EXAMPLES, REPO, base_manifest, run_cli

pytestmark = pytest.mark.e2e  # an end-to-end suite: `pytest -m 'not e2e'` runs the unit tests alone

TOKEN = "tok_HARDENING_0123456789abcdefghijklmnopq"
ARCHIVER = str(Path(sys.executable).parent / "archiver")
CREATED = "2026-01-01T00:00:00Z"


def export_examples(out: Path) -> Path:
    assert run_cli("export", EXAMPLES, "--out", out, "--created", CREATED, "--quiet").code == 0
    return out


def tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- concurrency


def test_two_deposits_started_together_one_proceeds_the_other_refuses(tmp_path):
    out = export_examples(tmp_path / "export")
    env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN}
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, faults=Faults(latency_ms=40)) as double:
        command = [ARCHIVER, "deposit", str(out), "--zenodo-url", double.api_url, "--quiet"]
        first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        results = [(p.wait(timeout=300), p.stderr.read()) for p in (first, second)]
        depositions = list(double.state.depositions.values())
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "another archiver process is writing" in refused and "Traceback" not in refused
    assert len(depositions) == 3 and all(d.state == "done" for d in depositions)


# --------------------------------------------------------------------------- where requests go


class RecordingAdapter(requests.adapters.HTTPAdapter):
    """Records every host asked for and answers 503 without touching the network."""

    def __init__(self, hosts: list[str]) -> None:
        super().__init__()
        self.hosts = hosts

    def send(self, request, **kwargs):
        self.hosts.append(requests.utils.urlparse(request.url).hostname)
        response = requests.Response()
        response.status_code = 503
        response._content = b'{"status": 503, "message": "recorded"}'
        response.url = request.url
        response.request = request
        return response


def test_without_production_no_request_goes_to_zenodo_org(tmp_path):
    out = export_examples(tmp_path / "export")
    hosts: list[str] = []
    session = requests.Session()
    session.mount("https://", RecordingAdapter(hosts))
    session.mount("http://", RecordingAdapter(hosts))
    target = resolve_target(environ={"ZENODO_SANDBOX_TOKEN": TOKEN})
    summary = run_deposit(out, port_for(LegacyClient(target, session=session, sleep=lambda s: None, max_attempts=2)), DEFAULT_POLICY)
    assert summary.exit_code == 2 and summary.unreachable  # no answer: the run stops, nothing more is started
    assert set(hosts) == {"sandbox.zenodo.org"}


def test_production_without_its_token_fails_before_any_request(tmp_path, monkeypatch):
    out = export_examples(tmp_path / "export")
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)  # present, but never used for production
    monkeypatch.delenv("ZENODO_TOKEN", raising=False)
    sent = []
    monkeypatch.setattr(requests.Session, "send", lambda self, *a, **k: sent.append(a) or pytest.fail("a request was sent"))
    run = run_cli("deposit", out, "--production")
    assert run.code == 2 and "ZENODO_TOKEN is not set" in run.err and sent == []


# --------------------------------------------------------------------------- hostile ids and names


HOSTILE_IDS = [
    "../x", "/etc/passwd", "SRCH:../../x", "SRCH:0123ABC\x00", "SRCH:\uff10\uff11\uff12\uff13ABCD",
    "SRCH:0123ABCD/../../escape", "CON", "SRCH:" + "A" * 5000, "SRCH:0123abcd", "C:\\Windows\\x",
]


def test_hostile_ids_are_refused_and_nothing_is_written_outside_the_export(tmp_path):
    lines = []
    for hostile in HOSTILE_IDS:
        manifest = base_manifest()
        manifest["id"] = hostile
        lines.append(json.dumps(manifest))
    lines.append(json.dumps(base_manifest()))
    source = tmp_path / "in" / "hostile.jsonl"
    source.parent.mkdir()
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "export"
    run = run_cli("export", source, "--out", out, "--created", CREATED)
    assert run.code == 1
    report = json.loads((out / "report.json").read_text())
    codes = [e["errors"][0]["code"] if e["errors"] else None for e in report["records"]]
    assert codes == ["id-invalid"] * len(HOSTILE_IDS) + [None]
    assert all("\n" not in e["errors"][0]["message"] for e in report["records"][:-1])
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert all(name.startswith(("in/", "export/", ".export")) for name in written), written
    assert sorted(p.name for p in (out / "manifests").iterdir()) == ["SRCH_0123ABCD.json"]


def test_hostile_input_file_names_are_read_not_trusted(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for index, name in enumerate(("a..manifest", "CON", "\u0430\u0440\u0441h.json", "x" * 200, "-rf")):
        manifest = base_manifest()
        manifest["id"] = f"SRCH:{index:08X}"
        (source / name).write_text(json.dumps(manifest))
    out = tmp_path / "export"
    run = run_cli("export", source, "--out", out, "--created", CREATED)
    assert run.code == 0, run.err
    assert len(list((out / "manifests").iterdir())) == 5
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["export", "in"]


def test_a_source_file_name_that_is_not_utf8_is_exported_not_a_crash(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    name = os.fsdecode(b"bad-\xff.json")  # held by Python as a surrogate escape
    (source / name).write_text(json.dumps(base_manifest()))
    out = tmp_path / "export"
    for given in (source, source / name):  # found in a directory, and named on the command line
        run = run_cli("export", given, "--out", out, "--created", CREATED, "--quiet")
        assert run.code == 0, run.err
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert report["records"][0]["source"] == str(source / name)  # JSON escapes it; it reads back exactly
        assert "bad-\\xff.json" in (out / "report.html").read_text(encoding="utf-8")
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert package["sources"] == [{"title": str(source).rstrip("/") + "/bad-\\xff.json"}]


# --------------------------------------------------------------------------- full and read-only disks


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_keeps_the_previous_export_and_says_so(small_disk, tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import synthetic

    out = export_examples(small_disk / "export")
    before = tree(out)
    big = synthetic.write_jsonl(tmp_path / "big.jsonl", 4000)  # far more than 3 MB of output
    run = run_cli("export", big, "--out", out, "--created", CREATED)
    assert run.code == 2
    assert "No space left on device" in run.err and "is unchanged" in run.err and "Traceback" not in run.err
    assert tree(out) == before
    assert not list(small_disk.glob(".export.tmp-*"))


def test_a_read_only_export_directory_is_a_clear_error(small_disk):
    out = export_examples(small_disk / "export")
    before = tree(out)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    run = run_cli("export", EXAMPLES, "--out", out, "--created", "2027-01-01T00:00:00Z")
    assert run.code == 2 and "Read-only file system" in run.err and "Traceback" not in run.err
    assert tree(out) == before
    env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN}
    with ZenodoDouble(tokens={TOKEN}) as double:
        deposit = subprocess.run(
            [ARCHIVER, "deposit", str(out), "--zenodo-url", double.api_url], capture_output=True, text=True, env=env
        )
        assert double.state.counters["requests"] == 0
    assert deposit.returncode == 2 and "Read-only file system" in deposit.stderr and "Traceback" not in deposit.stderr


# --------------------------------------------------------------------------- a multi-GB artifact


@pytest.mark.slow
def test_a_multi_gigabyte_artifact_is_uploaded_streaming(tmp_path):
    size = 3 * 1024**3
    artifact = tmp_path / "artifact.bin"
    with open(artifact, "wb") as handle:
        handle.truncate(size)  # sparse: no disk used
    manifest = base_manifest()
    manifest["provenance"]["report_artifact"]["path"] = str(artifact)
    source = tmp_path / "in.json"
    source.write_text(json.dumps(manifest))
    out = tmp_path / "export"
    assert run_cli("export", source, "--out", out, "--created", CREATED, "--quiet").code == 0
    env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN}
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000) as double:
        started = time.perf_counter()
        process = subprocess.Popen([ARCHIVER, "deposit", str(out), "--zenodo-url", double.api_url, "--quiet"], env=env)
        peak_kb = 0
        # VmHWM is the peak RSS of the program itself (exec resets it); ru_maxrss of a child would
        # also count the pages it shared with this large test process before exec.
        while process.poll() is None:
            try:
                for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        (dep,) = double.state.depositions.values()
    assert process.returncode == 0
    stored = {f.filename: f for f in dep.files}
    assert stored["artifact.bin"].size == size
    import hashlib

    zeros = hashlib.md5(usedforsecurity=False)
    block = bytes(1 << 20)
    for _ in range(size // len(block)):
        zeros.update(block)
    assert stored["artifact.bin"].data_md5 == zeros.hexdigest()
    assert 0 < peak_kb / 1024 < 200, f"peak RSS {peak_kb / 1024:.0f} MB for a {size >> 30} GB upload"
    assert elapsed < 600
