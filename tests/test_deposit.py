"""`archiver deposit` against the local Zenodo double over loopback: exactly once, faults, resume, secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from archiver.deposit.adapters import port_for
from archiver.deposit.ledger import Ledger
from archiver.deposit.manifests import iter_manifests
from archiver.deposit.runner import run_deposit
from archiver.exportdir import state_dir_for
from archiver.findings import ArchiverError
from archiver.policy import DEFAULT_POLICY
from archiver.zenodo.double import Faults, ZenodoDouble
from archiver.zenodo.legacy_client import LegacyClient
from archiver.zenodo.target import resolve_target
from archiver.zenodo.transport import TransportError
from conftest import EXAMPLES, REPO, FakeClock, run_cli

pytestmark = pytest.mark.e2e  # an end-to-end suite: `pytest -m 'not e2e'` runs the unit tests alone

TOKEN = "tok_RECOGNISABLE_0123456789abcdefghijklmnop"
ELIGIBLE = {"SRCH:4A7C19E2", "SRCH:2B9E4410", "SRCH:D1CE0F00"}
ARCHIVER = str(Path(sys.executable).parent / "archiver")


@pytest.fixture
def double():
    # Zenodo's list shows a new deposition only once its index refreshes: a second of lag, on a
    # clock that the client's sleeps advance.
    with ZenodoDouble(tokens={TOKEN}, rate_limit=10_000, index_lag=1.0, clock=FakeClock()) as running:
        yield running


@pytest.fixture
def export_dir(tmp_path):
    out = tmp_path / "export"
    assert run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code == 0
    return out


def legacy_client(double, **kwargs):
    target = resolve_target(zenodo_url=double.api_url, environ={"ZENODO_SANDBOX_TOKEN": TOKEN})
    return LegacyClient(target, sleep=getattr(double.state.clock, "advance", lambda s: None), **kwargs)


def client_for(double, **kwargs):
    """The deposit port over the legacy client of ``double``."""
    return port_for(legacy_client(double, **kwargs))


def registered(export_dir):
    out = {}
    for path in iter_manifests(export_dir):
        manifest = json.loads(path.read_text())
        external = manifest["provenance"]["external_record"]
        if external["status"] == "Registered":
            out[manifest["id"]] = external
    return out


def record_of(dep):
    """The record a deposition is of: its keyword that is a record id (how archiver finds it again)."""
    (record_id,) = [k for k in dep.metadata.get("keywords", []) if k.startswith("SRCH:")]
    return record_id


def assert_each_eligible_record_published_once(double, export_dir):
    depositions = list(double.state.depositions.values())
    published = [d for d in depositions if d.state == "done"]
    keys = [record_of(d) for d in depositions]
    assert sorted(keys) == sorted(ELIGIBLE), "one deposition per eligible record, no more"
    assert len(published) == len(ELIGIBLE)
    marks = registered(export_dir)
    for dep in published:
        record_id = record_of(dep)
        assert marks[record_id]["doi"] == dep.doi == f"10.5072/zenodo.{dep.id}"
        assert marks[record_id]["deposition_id"] == dep.id
        assert marks[record_id]["environment"] == "sandbox"


def test_deposit_publishes_each_eligible_record_and_registers_it(double, export_dir):
    summary = run_deposit(export_dir, client_for(double), DEFAULT_POLICY)
    assert summary.exit_code == 0
    assert sorted(r.record_id for r in summary.results if r.action == "deposited") == sorted(ELIGIBLE)
    assert_each_eligible_record_published_once(double, export_dir)
    # per record: create with metadata, 2 uploads, publish; per group: one lookup before anything is
    # created and the check for rival depositions before publishing, asked again once because the
    # index shows the new drafts only after its lag
    assert summary.requests == 4 * len(ELIGIBLE) + 1 + 2
    manifest = json.loads((export_dir / "manifests" / "SRCH_4A7C19E2.json").read_text())
    assert manifest["provenance"]["public_provenance"] == {"level": "L4", "label": "External archival record"}
    assert run_cli("validate", export_dir / "manifests").code == 0
    dep = next(d for d in double.state.depositions.values() if record_of(d) == "SRCH:4A7C19E2")
    assert dep.metadata["publication_date"] == "2026-06-12"
    assert dep.metadata["upload_type"] == "publication" and dep.metadata["publication_type"] == "report"
    assert "doi" not in dep.metadata or dep.metadata["doi"] == dep.doi  # never sent by us
    assert sorted(f.filename for f in dep.files) == ["datapackage.zip", "manifest.json"]
    # a rerun sends nothing and creates nothing
    again = run_deposit(export_dir, client_for(double), DEFAULT_POLICY)
    assert again.requests == 0 and {r.action for r in again.results} == {"skipped"}
    assert double.state.counters["create"] == len(ELIGIBLE)


def test_truncated_title_is_archived_under_the_full_question(double, tmp_path, seed_dir):
    import shutil

    source = tmp_path / "in"
    source.mkdir()
    page = (seed_dir / "003_e8bdc2e24ab10b64.txt").read_text()
    page = page.replace("DOI: 10.5281/zenodo.20432521\n", "").replace("External recordRegistered", "External recordNot registered")
    page = page.replace("Public provenanceL4, External archival record", "Public provenanceL3, Claim aggregate record")
    (source / "page.txt").write_text(page)
    out = tmp_path / "export"
    assert run_cli("export", source, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code == 0
    run_deposit(out, client_for(double), DEFAULT_POLICY)
    (dep,) = double.state.depositions.values()
    assert dep.metadata["title"].endswith("on multimodal reasoning benchmarks like MMMU and MathVista?")
    shutil.rmtree(out)


def test_faults_together_still_give_exactly_one_deposition_per_record(export_dir):
    faults = Faults(error_share=0.15, burst_every=7, burst_length=2, drop_upload_share=0.1, publish_504_share=0.5, seed=11)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=10_000, faults=faults) as double:
        for _ in range(4):  # records that failed on a fault are retried by rerunning, as a user would
            summary = run_deposit(export_dir, client_for(double, backoff=0.0), DEFAULT_POLICY)
            if summary.exit_code == 0:
                break
        assert summary.exit_code == 0, [r.as_dict() for r in summary.results if r.action in ("failed", "deferred", "drifted")]
        assert_each_eligible_record_published_once(double, export_dir)
        assert double.state.counters["faults"] > 0 and double.state.counters["429"] > 0


class Crash(Exception):
    pass


@pytest.mark.parametrize("step", ["create_deposition", "upload", "publish"])
def test_a_crash_after_each_remote_step_resumes_the_same_deposition(double, export_dir, step, monkeypatch):
    real = getattr(LegacyClient, step)

    def crash_after(self, *args, **kwargs):
        real(self, *args, **kwargs)  # the server did it ...
        raise Crash(step)  # ... and the process died before hearing back

    monkeypatch.setattr(LegacyClient, step, crash_after)
    with pytest.raises(Crash):
        run_deposit(export_dir, client_for(double), DEFAULT_POLICY)
    monkeypatch.setattr(LegacyClient, step, real)
    summary = run_deposit(export_dir, client_for(double), DEFAULT_POLICY)
    assert summary.exit_code == 0
    assert_each_eligible_record_published_once(double, export_dir)


def test_a_lost_create_answer_is_found_again_by_its_key(double, export_dir, monkeypatch):
    real = LegacyClient.create_deposition
    calls = []

    def lost_answer(self, metadata=None):
        calls.append(1)
        if len(calls) == 1:
            real(self, metadata)
            raise TransportError("POST: no answer", status=None, code="no-answer")
        return real(self, metadata)

    monkeypatch.setattr(LegacyClient, "create_deposition", lost_answer)
    assert run_deposit(export_dir, client_for(double), DEFAULT_POLICY).exit_code == 0
    assert_each_eligible_record_published_once(double, export_dir)


def test_draft_only_stops_before_publish_and_a_later_run_publishes(double, export_dir):
    summary = run_deposit(export_dir, client_for(double), DEFAULT_POLICY, draft_only=True)
    assert {r.action for r in summary.results if r.record_id in ELIGIBLE} == {"drafted"}
    assert all(d.state == "unsubmitted" for d in double.state.depositions.values())
    assert registered(export_dir).keys() == {"SRCH:9A0B1C2D"}
    assert run_deposit(export_dir, client_for(double), DEFAULT_POLICY).exit_code == 0
    assert_each_eligible_record_published_once(double, export_dir)


def test_only_and_limit(double, export_dir):
    summary = run_deposit(export_dir, client_for(double), DEFAULT_POLICY, only=["SRCH:2B9E4410"])
    assert [r.record_id for r in summary.results] == ["SRCH:2B9E4410"]
    summary = run_deposit(export_dir, client_for(double), DEFAULT_POLICY, limit=1)
    assert [r.action for r in summary.results].count("deposited") == 1


def test_missing_token_is_a_clear_error_before_any_work():
    with pytest.raises(ArchiverError, match="ZENODO_SANDBOX_TOKEN is not set"):
        resolve_target(environ={"ZENODO_TOKEN": "prod-token"})  # never falls back to the other token
    with pytest.raises(ArchiverError, match="ZENODO_TOKEN is not set"):
        resolve_target(production=True, environ={"ZENODO_SANDBOX_TOKEN": "sandbox-token"})
    assert resolve_target(environ={"ZENODO_SANDBOX_TOKEN": "x"}).api_url == "https://sandbox.zenodo.org/api"
    assert resolve_target(production=True, environ={"ZENODO_TOKEN": "x"}).api_url == "https://zenodo.org/api"


def test_token_goes_only_to_the_configured_host(double):
    seen = []

    class Recorder(requests.Session):
        def send(self, request, **kwargs):
            seen.append((request.url, request.headers.get("Authorization")))
            return super().send(request, **kwargs)

    target = resolve_target(zenodo_url=double.api_url, environ={"ZENODO_SANDBOX_TOKEN": TOKEN})
    client = LegacyClient(target, session=Recorder(), sleep=lambda s: None, max_attempts=1)
    client.list_depositions()
    with pytest.raises(TransportError) as elsewhere:
        client.send("GET", "http://localhost:9/elsewhere", retry=False, expect=(200,))
    assert elsewhere.value.code == "foreign-link"  # another origin is never requested at all
    assert seen == [(f"{double.api_url}/deposit/depositions?size=100&page=1", f"Bearer {TOKEN}")]
    from archiver.zenodo.transport import BearerToHost

    foreign = BearerToHost(TOKEN, double.api_url)(requests.Request("GET", "http://localhost:9/x").prepare())
    assert "Authorization" not in foreign.headers  # and the token would not go with it
    assert TOKEN not in repr(client.target) and TOKEN not in repr(client.session.auth)


def test_token_never_appears_in_output_ledger_plans_or_errors(tmp_path):
    """A full run (export, dry run, verbose deposit against a server that echoes requests in its
    error bodies, status with --remote) with a recognisable token: it appears nowhere."""
    out = tmp_path / "export"
    env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN}
    runs = [subprocess.run([ARCHIVER, "export", str(EXAMPLES), "--out", str(out)], capture_output=True, text=True, env=env)]
    with ZenodoDouble(tokens={TOKEN}, faults=Faults(echo_request=True, error_share=0.3, seed=5)) as double:
        runs.append(subprocess.run([ARCHIVER, "deposit", str(out), "--dry-run"], capture_output=True, text=True, env=env))
        for _ in range(3):
            runs.append(
                subprocess.run(
                    [ARCHIVER, "deposit", str(out), "--zenodo-url", double.api_url, "--verbose"],
                    capture_output=True, text=True, env=env,
                )
            )
        runs.append(subprocess.run([ARCHIVER, "status", str(out), "--remote", "--zenodo-url", double.api_url], capture_output=True, text=True, env=env))
        echoed = double.state.counters["faults"]
    assert echoed > 0, "the server never echoed a request: the test proved nothing"
    for run in runs:
        assert TOKEN not in run.stdout + run.stderr
    for path in [*out.rglob("*"), *state_dir_for(out).rglob("*")]:
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert registered(out).keys() >= ELIGIBLE  # and the deposits did go through


def test_server_echoing_the_request_does_not_leak_the_token(export_dir):
    with ZenodoDouble(tokens={TOKEN}, faults=Faults(error_share=1.0, echo_request=True, seed=1)) as double:
        client = legacy_client(double, max_attempts=1)
        with pytest.raises(TransportError) as caught:
            client.update_metadata(1, {"title": "x"})
    assert "***" in str(caught.value) or "Authorization" not in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_dry_run_writes_a_plan_and_sends_nothing(export_dir, monkeypatch):
    monkeypatch.delenv("ZENODO_SANDBOX_TOKEN", raising=False)
    run = run_cli("deposit", export_dir, "--dry-run")
    assert run.code == 0
    plan = json.loads((export_dir / "plan.json").read_text())
    actions = {entry["id"]: entry["action"] for entry in plan["records"]}
    assert {k for k, v in actions.items() if v == "deposit"} == ELIGIBLE
    entry = next(e for e in plan["records"] if e["id"] == "SRCH:4A7C19E2")
    assert [f["name"] for f in entry["files"]] == ["manifest.json", "datapackage.zip"]
    assert all(len(f["md5"]) == 32 for f in entry["files"])
    assert entry["metadata"]["publication_date"] == "2026-06-12" and "doi" not in entry["metadata"]


def test_cli_deposit_exit_codes(double, export_dir, monkeypatch):
    monkeypatch.delenv("ZENODO_SANDBOX_TOKEN", raising=False)
    run = run_cli("deposit", export_dir, "--zenodo-url", double.api_url)
    assert run.code == 2 and "ZENODO_SANDBOX_TOKEN is not set" in run.err
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    assert run_cli("deposit", export_dir.parent / "nowhere", "--zenodo-url", double.api_url).code == 2
    run = run_cli("deposit", export_dir, "--zenodo-url", double.api_url, "--json")
    assert run.code == 0 and run.json()["totals"]["deposited"] == 3
    status = run_cli("status", export_dir, "--json").json()
    assert {r["id"] for r in status["records"] if r["state"] == "registered"} == ELIGIBLE
    remote = run_cli("status", export_dir, "--remote", "--zenodo-url", double.api_url)
    assert remote.code == 0 and "drift" not in remote.out


def test_after_a_deposit_the_package_and_reports_carry_the_dois(double, export_dir):
    import csv

    run_deposit(export_dir, client_for(double), DEFAULT_POLICY)
    frictionless = str(Path(sys.executable).parent / "frictionless")
    checked = subprocess.run([frictionless, "validate", str(export_dir / "datapackage.json")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    marks = registered(export_dir)
    with open(export_dir / "data" / "records.csv", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    for record_id in ELIGIBLE:
        assert rows[record_id]["external_record"] == "Registered"
        assert rows[record_id]["doi"] == marks[record_id]["doi"]
        assert rows[record_id]["public_provenance"] == "L4"
    report = json.loads((export_dir / "report.json").read_text())
    by_id = {e["id"]: e for e in report["records"]}
    for record_id in ELIGIBLE:
        assert by_id[record_id]["doi"] == marks[record_id]["doi"]
        assert by_id[record_id]["eligible"] is False and by_id[record_id]["reasons"] == ["already-registered"]
    assert report["totals"]["eligible"] == 0 and report["totals"]["already_registered"] == 4
    assert "already registered as 10.5072/zenodo." in (export_dir / "report.html").read_text()
    before = {p.name: p.read_bytes() for p in export_dir.rglob("*") if p.is_file()}
    run_deposit(export_dir, client_for(double), DEFAULT_POLICY)  # idempotent
    after = {p.name: p.read_bytes() for p in export_dir.rglob("*") if p.is_file()}
    assert before == after


def test_a_re_export_remembers_the_registrations_of_the_ledger_beside_it(double, export_dir):
    assert run_deposit(export_dir, client_for(double), DEFAULT_POLICY).exit_code == 0
    deposited = {p.name: p.read_bytes() for p in (export_dir / "manifests").iterdir()}
    marks = registered(export_dir)
    rerun = run_cli("export", EXAMPLES, "--out", export_dir, "--created", "2026-01-01T00:00:00Z", "--quiet")
    assert rerun.code == 0, rerun.err
    assert {p.name: p.read_bytes() for p in (export_dir / "manifests").iterdir()} == deposited
    report = json.loads((export_dir / "report.json").read_text())
    by_id = {e["id"]: e for e in report["records"]}
    for record_id in ELIGIBLE:
        assert by_id[record_id]["doi"] == marks[record_id]["doi"]
        assert by_id[record_id]["reasons"] == ["already-registered"]
        assert by_id[record_id]["next_action"] == f"none: already registered as {marks[record_id]['doi']}"
    assert report["totals"]["eligible"] == 0
    again = run_deposit(export_dir, client_for(double), DEFAULT_POLICY)
    assert again.requests == 0 and {r.action for r in again.results} == {"skipped"}


def test_a_pages_correction_count_sets_the_deposit_version(double, tmp_path):
    page = (EXAMPLES / "01-kv-cache-web.txt").read_text()
    assert "Correction count0" in page
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "corrected.txt").write_text(page.replace("StatusCURRENT", "StatusCORRECTED").replace("Correction count0", "Correction count2"))
    out = tmp_path / "out"
    assert run_cli("export", pages, "--out", out, "--quiet").code == 0
    assert run_deposit(out, client_for(double), DEFAULT_POLICY).exit_code == 0
    (dep,) = double.state.depositions.values()
    assert dep.metadata["version"] == "3"


@pytest.mark.slow
def test_sigkill_at_random_moments_never_deposits_twice(tmp_path):
    import random
    import signal
    import time

    sys.path.insert(0, str(REPO / "benchmarks"))
    import synthetic

    source = synthetic.write_jsonl(tmp_path / "batch.jsonl", 120)
    out = tmp_path / "export"
    assert run_cli("export", source, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code == 0
    eligible = {e["id"] for e in json.loads((out / "report.json").read_text())["records"] if e["eligible"]}
    assert len(eligible) >= 8
    env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN}
    rng = random.Random(5)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, faults=Faults(latency_ms=15, seed=2)) as double:
        command = [ARCHIVER, "deposit", str(out), "--zenodo-url", double.api_url, "--quiet"]
        for _ in range(8):
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 2.5))
            process.send_signal(signal.SIGKILL)
            process.wait()
        final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert final.returncode == 0, final.stdout + final.stderr
        depositions = list(double.state.depositions.values())
    keys = [record_of(d) for d in depositions]
    assert sorted(keys) == sorted(eligible), "exactly one deposition per eligible record"
    assert all(d.state == "done" for d in depositions)
    marks = registered(out)
    for dep in depositions:
        record_id = record_of(dep)
        assert marks[record_id]["doi"] == dep.doi


def _add_correction(manifest_path):
    manifest = json.loads(manifest_path.read_text())
    manifest["correction_record"].update(
        status="CORRECTED",
        correction_count=len(manifest["correction_record"]["corrections"]) + 1,
        corrections=[
            *manifest["correction_record"]["corrections"],
            {"sequence": len(manifest["correction_record"]["corrections"]) + 1, "date": "2026-11-01", "description": "Fixed a claim count."},
        ],
    )
    manifest_path.write_text(json.dumps(manifest, indent=2))


def test_a_corrected_registered_record_is_drifted_or_gets_a_new_version(double, export_dir):
    assert run_deposit(export_dir, client_for(double), DEFAULT_POLICY).exit_code == 0
    path = export_dir / "manifests" / "SRCH_4A7C19E2.json"
    first_doi = json.loads(path.read_text())["provenance"]["external_record"]["doi"]
    _add_correction(path)
    drifted = run_deposit(export_dir, client_for(double), DEFAULT_POLICY)
    assert [r.action for r in drifted.results if r.record_id == "SRCH:4A7C19E2"] == ["drifted"]
    assert drifted.requests == 0 and drifted.exit_code == 1  # not done until --new-versions
    plan = run_cli("deposit", export_dir, "--dry-run", "--new-versions").json()
    (entry,) = [e for e in plan["records"] if e["id"] == "SRCH:4A7C19E2"]
    assert entry["action"] == "new-version" and entry["steps"][0].startswith("open a new version of deposition")

    result = run_deposit(export_dir, client_for(double), DEFAULT_POLICY, new_versions=True)
    (versioned,) = [r for r in result.results if r.record_id == "SRCH:4A7C19E2"]
    assert versioned.action == "new-version" and versioned.doi != first_doi
    external = json.loads(path.read_text())["provenance"]["external_record"]
    assert external["doi"] == versioned.doi and external["deposition_id"] == versioned.deposition_id
    drafts = [d for d in double.state.depositions.values() if record_of(d) == "SRCH:4A7C19E2"]
    assert len(drafts) == 2 and len({d.conceptrecid for d in drafts}) == 1 and all(d.state == "done" for d in drafts)
    newest = max(drafts, key=lambda d: d.id)
    assert newest.metadata["version"] == "2"
    assert sorted(f.filename for f in newest.files) == ["datapackage.zip", "manifest.json"]
    assert result.requests == 6  # a GET of the published version (corrections only move forward), newversion, 2 uploads, metadata PUT, publish
    again = run_deposit(export_dir, client_for(double), DEFAULT_POLICY, new_versions=True)
    assert again.requests == 0


def test_a_new_version_interrupted_after_newversion_resumes_the_same_draft(double, export_dir, monkeypatch):
    assert run_deposit(export_dir, client_for(double), DEFAULT_POLICY).exit_code == 0
    _add_correction(export_dir / "manifests" / "SRCH_2B9E4410.json")
    real = LegacyClient.new_version

    def lost(self, deposition_id):
        real(self, deposition_id)
        raise Crash("after newversion")

    monkeypatch.setattr(LegacyClient, "new_version", lost)
    with pytest.raises(Crash):
        run_deposit(export_dir, client_for(double), DEFAULT_POLICY, new_versions=True, only=["SRCH:2B9E4410"])
    monkeypatch.setattr(LegacyClient, "new_version", real)
    summary = run_deposit(export_dir, client_for(double), DEFAULT_POLICY, new_versions=True, only=["SRCH:2B9E4410"])
    assert summary.exit_code == 0, [r.as_dict() for r in summary.results]
    records = [d for d in double.state.depositions.values() if record_of(d) == "SRCH:2B9E4410"]
    assert len(records) == 2 and all(d.state == "done" for d in records)


def test_status_remote_reports_drift_between_ledger_and_zenodo(double, export_dir, monkeypatch):
    assert run_deposit(export_dir, client_for(double), DEFAULT_POLICY).exit_code == 0
    ledger = Ledger(state_dir_for(export_dir) / "ledger.sqlite")
    row = ledger.get("SRCH:4A7C19E2", "sandbox")
    ledger._write(row, doi="10.5072/zenodo.1")  # the ledger and Zenodo now disagree
    ledger.close()
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    run = run_cli("status", export_dir, "--remote", "--zenodo-url", double.api_url)
    assert run.code == 1
    assert "drift: SRCH:4A7C19E2: Zenodo holds DOI" in run.out


@pytest.mark.parametrize("step", ["new_version", "upload", "update_metadata", "publish"])
def test_a_crash_after_each_step_of_a_new_version_resumes_without_a_second_draft(double, export_dir, step, monkeypatch):
    assert run_deposit(export_dir, client_for(double), DEFAULT_POLICY).exit_code == 0
    path = export_dir / "manifests" / "SRCH_2B9E4410.json"
    _add_correction(path)
    real = getattr(LegacyClient, step)

    def crash_after(self, *args, **kwargs):
        real(self, *args, **kwargs)  # Zenodo did it ...
        raise Crash(step)  # ... and archiver died before hearing back

    monkeypatch.setattr(LegacyClient, step, crash_after)
    with pytest.raises(Crash):
        run_deposit(export_dir, client_for(double), DEFAULT_POLICY, new_versions=True, only=["SRCH:2B9E4410"])
    monkeypatch.setattr(LegacyClient, step, real)
    summary = run_deposit(export_dir, client_for(double), DEFAULT_POLICY, new_versions=True, only=["SRCH:2B9E4410"])
    assert summary.exit_code == 0, [r.as_dict() for r in summary.results]
    versions = sorted((d for d in double.state.depositions.values() if record_of(d) == "SRCH:2B9E4410"), key=lambda d: d.id)
    assert [d.state for d in versions] == ["done", "done"], "one new version, published once"
    count = json.loads(path.read_text())["correction_record"]["correction_count"]
    assert versions[1].metadata["version"] == str(1 + count)
    assert sorted(f.filename for f in versions[1].files) == ["datapackage.zip", "manifest.json"]
    assert json.loads(path.read_text())["provenance"]["external_record"]["doi"] == versions[1].doi


def test_deposit_metadata_is_what_zenodo_accepts(double, export_dir, tmp_path):
    from archiver.deposit.adapters.metadata import legacy_payload
    from archiver.deposit.description import describe
    from archiver.policy import Policy

    record = next(r for r in map(__import__("archiver.deposit.manifests", fromlist=["load_record"]).load_record, iter_manifests(export_dir)) if r.id == "SRCH:4A7C19E2")
    default = legacy_payload(describe(record, DEFAULT_POLICY))
    assert default["related_identifiers"] == []  # a bare SRCH id has no scheme Zenodo recognises
    assert "SRCH:4A7C19E2" in default["keywords"] and "SRCH:4A7C19E2" in default["notes"]
    assert default["creators"] == [{"name": "Assignee Research"}]
    policy = Policy(
        record_url="https://records.example.org/{id}",
        creators=[{"name": "Doe, Jane", "orcid": "0000-0002-1825-0097", "affiliation": "Assignee Research"}],
    )
    chosen = legacy_payload(describe(record, policy))
    assert chosen["related_identifiers"] == [
        {"identifier": "https://records.example.org/SRCH:4A7C19E2", "relation": "isIdenticalTo", "resource_type": "publication-report"}
    ]
    assert chosen["creators"] == [{"name": "Doe, Jane", "affiliation": "Assignee Research", "orcid": "0000-0002-1825-0097"}]
    summary = run_deposit(export_dir, client_for(double), policy, only=["SRCH:4A7C19E2"])
    assert summary.exit_code == 0, [r.as_dict() for r in summary.results]
    (dep,) = double.state.depositions.values()
    assert dep.metadata["related_identifiers"][0]["identifier"] == "https://records.example.org/SRCH:4A7C19E2"
    with pytest.raises(ArchiverError, match="title"):
        legacy_payload(describe(record.model_copy(update={"title": "AB", "title_truncated": None}), DEFAULT_POLICY))


def test_a_wrong_token_then_the_right_one_reports_plain_first_deposits(double, export_dir):
    target = resolve_target(zenodo_url=double.api_url, environ={"ZENODO_SANDBOX_TOKEN": "wrong-token-0123456789"})
    refused = run_deposit(export_dir, port_for(LegacyClient(target, sleep=lambda s: None)), DEFAULT_POLICY, workers=1)
    assert refused.exit_code == 2 and "403" in refused.token_refused  # could not start
    # the first request is the batched lookup: refused, it settles every record of the group at once
    assert {r.action for r in refused.results if r.record_id in ELIGIBLE} == {"failed"}
    assert refused.requests == 1, "one refusal is enough: no further record is started"
    assert double.state.counters["create"] == 0
    summary = run_deposit(export_dir, client_for(double), DEFAULT_POLICY)
    results = {r.record_id: r for r in summary.results if r.record_id in ELIGIBLE}
    assert {r.action for r in results.values()} == {"deposited"}
    assert all(r.detail == "new deposit" for r in results.values())  # nothing was ever created: plain first deposits
    rows = run_cli("status", export_dir, "--json").json()["records"]
    assert all(row["last_error"] is None and row["state"] == "registered" for row in rows), rows


def test_status_remote_reports_corrections_changed_since_the_deposit(double, export_dir, monkeypatch):
    assert run_deposit(export_dir, client_for(double), DEFAULT_POLICY).exit_code == 0
    _add_correction(export_dir / "manifests" / "SRCH_D1CE0F00.json")
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    run = run_cli("status", export_dir, "--remote", "--zenodo-url", double.api_url)
    assert run.code == 1
    assert "drift: SRCH:D1CE0F00: the correction record changed since the deposit" in run.out
    assert run.out.count("drift:") == 1


@pytest.mark.slow
def test_the_first_ctrl_c_finishes_the_record_in_progress_and_leaves_the_export_in_line(export_dir):
    import signal
    import time

    with ZenodoDouble(tokens={TOKEN}, rate_limit=10_000, faults=Faults(latency_ms=150)) as double:
        env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN}
        process = subprocess.Popen(
            [ARCHIVER, "deposit", str(export_dir), "--zenodo-url", double.api_url, "--workers", "1", "-v"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        deadline = time.monotonic() + 60
        while double.state.counters["create"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)  # the first record is on its way
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 130, err
        assert "interrupted: finishing SRCH:" in err and "Traceback" not in err
        assert double.state.counters["create"] == 1, "no record is started after the first Ctrl-C"
        marks = registered(export_dir)
        assert len(marks) == 2  # the one finished now, and the example that carried a DOI already
        report = {e["id"]: e for e in json.loads((export_dir / "report.json").read_text())["records"]}
        for record_id, external in marks.items():
            assert report[record_id]["doi"] == external["doi"]
        records_csv = (export_dir / "data" / "records.csv").read_text()
        assert all(external["doi"] in records_csv for external in marks.values())
        assert (export_dir / "report.html").read_text().count("already registered as") == 2
        summary = run_deposit(export_dir, client_for(double), DEFAULT_POLICY)
        assert summary.exit_code == 0
        assert double.state.counters["create"] == len(ELIGIBLE)


def test_the_deposited_data_package_is_one_deterministic_zip_frictionless_validates(tmp_path, export_dir):
    import zipfile

    from archiver.deposit.files import build_files
    from archiver.deposit.manifests import load_record

    record = load_record(export_dir / "manifests" / "SRCH_4A7C19E2.json")
    first = build_files(record, DEFAULT_POLICY, export_dir, tmp_path / "a")
    second = build_files(record, DEFAULT_POLICY, export_dir, tmp_path / "b")
    assert [f.name for f in first] == ["manifest.json", "datapackage.zip"]
    assert [f.md5 for f in first] == [f.md5 for f in second]  # a resume re-sends the same bytes
    package = first[1].path
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["datapackage.json", "records.csv", "quality_dimensions.csv", "corrections.csv", "eligibility.csv", "manifest.json"]
        )
        assert archive.read("manifest.json") == first[0].path.read_bytes()
    frictionless = str(Path(sys.executable).parent / "frictionless")
    checked = subprocess.run([frictionless, "validate", str(package)], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout
