"""The report in the archive: `export --artifacts DIR` (or the policy's `artifacts`) keeps each
record's report in the export and names it in the manifest; a deposit sends it first, md5 checked,
within Zenodo's limits checked before anything is sent; a record said Available without its file
is held back unless the policy allows; a changed artifact after publishing is a new version."""

from __future__ import annotations

import json
import os

import pytest

from archiver.artifacts import MAX_FILE_BYTES, artifact_stem, exported_path, find_artifacts, zenodo_limits
from archiver.deposit.runner import run_deposit
from archiver.policy import DEFAULT_POLICY
from archiver.zenodo.double import ZenodoDouble
from conftest import EXAMPLES, FakeClock, port_to, run_cli

TOKEN = "tok_ARTIFACTS_0123456789abcdefghijklmnopq"
WITH_FILE, WITH_FOLDER, WITHOUT = "SRCH:4A7C19E2", "SRCH:2B9E4410", "SRCH:D1CE0F00"  # the eligible records of the examples
REPORT = b"%PDF-1.4 the synthesis of 4A7C19E2\n"


@pytest.fixture
def artifacts(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "SRCH-4A7C19E2.pdf").write_bytes(REPORT)
    (folder / "SRCH-2B9E4410").mkdir()
    (folder / "SRCH-2B9E4410" / "report.html").write_text("<html><body>the synthesis</body></html>")
    (folder / "SRCH-2B9E4410" / "claims.csv").write_text("claim,source\nc1,s1\n")
    (folder / "SRCH-2B9E4410" / ".DS_Store").write_text("not a report")
    return folder


def export(tmp_path, *extra, name="export"):
    out = tmp_path / name
    run = run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", *extra)
    assert run.code == 0, run.err
    return out, run


def manifest(out, record_id):
    return json.loads((out / "manifests" / f"{record_id.replace(':', '_')}.json").read_text())


def test_finding_naming_and_limits():
    assert artifact_stem("SRCH:7C1E9B40") == "SRCH-7C1E9B40"
    assert zenodo_limits([("a", 1), ("b", MAX_FILE_BYTES)]) is None
    assert zenodo_limits([("a", 0)]).code == "artifact-empty"
    assert zenodo_limits([("a", MAX_FILE_BYTES + 1)]).code == "artifact-too-large"
    assert zenodo_limits([(str(n), 1) for n in range(101)]).code == "too-many-files"
    assert zenodo_limits([(str(n), 1) for n in range(100)]) is None


def test_the_export_keeps_each_report_and_names_it_in_the_manifest(tmp_path, artifacts):
    out, run = export(tmp_path, "--artifacts", artifacts)
    kept = out / "artifacts" / "SRCH-4A7C19E2.pdf"
    assert kept.read_bytes() == REPORT and os.stat(kept).st_ino == os.stat(artifacts / "SRCH-4A7C19E2.pdf").st_ino  # a hard link
    assert sorted(p.name for p in (out / "artifacts" / "SRCH-2B9E4410").iterdir()) == ["claims.csv", "report.html"]
    assert manifest(out, WITH_FILE)["provenance"]["report_artifact"] == {"status": "Available", "path": "artifacts/SRCH-4A7C19E2.pdf"}
    assert manifest(out, WITH_FOLDER)["provenance"]["report_artifact"] == {"status": "Available", "path": "artifacts/SRCH-2B9E4410"}
    assert "path" not in manifest(out, WITHOUT)["provenance"]["report_artifact"]
    assert "kept 2 report artifact(s)" in run.out
    assert f"{WITHOUT}" in run.err and "[report-artifact-file-missing]" in run.err
    report = {entry["id"]: entry for entry in map(json.loads, _entries(out))}
    assert "report-artifact-file-missing" in report[WITHOUT]["reasons"] and not report[WITHOUT]["eligible"]
    assert report[WITH_FILE]["eligible"] and report[WITH_FOLDER]["eligible"]
    assert run_cli("validate", out / "manifests").code == 0  # the manifests keep their contract


def _entries(out):
    lines = (out / "report.json").read_text().splitlines()
    return [line.rstrip(",") for line in lines if line.startswith('{"')]


def test_the_policy_setting_does_what_the_option_does_and_may_allow_a_missing_file(tmp_path, artifacts):
    config = tmp_path / "archiver.toml"
    config.write_text(f'artifacts = "{artifacts}"\n')
    by_policy, _ = export(tmp_path, "--config", config, name="by-policy")
    assert manifest(by_policy, WITH_FILE)["provenance"]["report_artifact"]["path"] == "artifacts/SRCH-4A7C19E2.pdf"
    config.write_text(f'artifacts = "{artifacts}"\ndeposit_without_artifact = true\n')
    allowed, run = export(tmp_path, "--config", config, "--json", name="allowed")
    assert run.json()["artifacts_missing_total"] == 0
    report = {entry["id"]: entry for entry in map(json.loads, _entries(allowed))}
    assert report[WITHOUT]["eligible"]


def test_no_folder_or_nothing_found_changes_nothing(tmp_path):
    plain, _ = export(tmp_path, name="plain")
    assert not (plain / "artifacts").exists()
    assert find_artifacts(tmp_path, WITH_FILE) == []
    assert exported_path(WITH_FILE, [tmp_path / "report.pdf"]) == "artifacts/SRCH-4A7C19E2"  # a folder's one file keeps its folder
    refused = run_cli("export", EXAMPLES, "--out", tmp_path / "x", "--artifacts", tmp_path / "missing")
    assert refused.code == 2 and "[usage]" in refused.err and "--artifacts" in refused.err


@pytest.fixture(params=["deposit", "records"])
def double(request):
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=0.0, clock=FakeClock()) as running:
        running.api_name = request.param
        yield running


def port(double):
    return port_to(double, TOKEN)


def deposition_of(double, record_id):
    (dep,) = [d for d in double.state.depositions.values() if record_id in d.metadata.get("keywords", []) and d.submitted and
              d.doi == max(x.doi for x in double.state.depositions.values() if record_id in x.metadata.get("keywords", []) and x.doi)]
    return dep


@pytest.mark.e2e
def test_the_deposit_sends_the_report_first_and_holds_back_a_record_without_it(double, tmp_path, artifacts):
    out, _ = export(tmp_path, "--artifacts", artifacts)
    summary = run_deposit(out, port(double), DEFAULT_POLICY)  # no artifacts in this policy: the export's folder says it
    actions = {r.record_id: r.action for r in summary.results}
    assert actions[WITH_FILE] == actions[WITH_FOLDER] == "deposited" and actions[WITHOUT] == "skipped"
    assert "report-artifact-file-missing" in next(r.detail for r in summary.results if r.record_id == WITHOUT)
    first = deposition_of(double, WITH_FILE)
    import hashlib

    assert [f.filename for f in first.files][0] == "SRCH-4A7C19E2.pdf"
    assert first.files[0].data_md5 == hashlib.md5(REPORT).hexdigest()  # noqa: S324 - the repository's checksum
    assert [f.filename for f in deposition_of(double, WITH_FOLDER).files][:2] == ["claims.csv", "report.html"]


@pytest.mark.e2e
@pytest.mark.parametrize("broken", ["empty", "too-large", "too-many"])
def test_zenodos_limits_are_checked_before_anything_is_sent_for_the_record(double, tmp_path, artifacts, broken):
    if broken == "empty":
        (artifacts / "SRCH-4A7C19E2.pdf").write_bytes(b"")
    elif broken == "too-large":
        with open(artifacts / "SRCH-4A7C19E2.pdf", "r+b") as handle:
            handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written
    else:
        (artifacts / "SRCH-4A7C19E2.pdf").unlink()
        (artifacts / "SRCH-4A7C19E2").mkdir()
        for number in range(99):  # with the manifest and the package: 101 files
            (artifacts / "SRCH-4A7C19E2" / f"part-{number:02}.txt").write_text(str(number))
    out, _ = export(tmp_path, "--artifacts", artifacts)
    summary = run_deposit(out, port(double), DEFAULT_POLICY)
    failed = next(r for r in summary.results if r.record_id == WITH_FILE)
    code = {"empty": "artifact-empty", "too-large": "artifact-too-large", "too-many": "too-many-files"}[broken]
    assert failed.action == "failed" and failed.detail.endswith(f"[{code}]")
    assert not [d for d in double.state.depositions.values() if WITH_FILE in d.metadata.get("keywords", [])]  # nothing sent
    assert next(r for r in summary.results if r.record_id == WITH_FOLDER).action == "deposited"  # the rest goes on


@pytest.mark.e2e
def test_a_changed_report_after_publishing_is_a_new_version(double, tmp_path, artifacts):
    out, _ = export(tmp_path, "--artifacts", artifacts)
    assert run_deposit(out, port(double), DEFAULT_POLICY).exit_code == 0
    (artifacts / "SRCH-4A7C19E2.pdf").unlink()  # an editor writes a new file (a new inode)
    (artifacts / "SRCH-4A7C19E2.pdf").write_bytes(REPORT + b"corrected figure 2\n")
    out, _ = export(tmp_path, "--artifacts", artifacts)
    plain = run_deposit(out, port(double), DEFAULT_POLICY)
    said = next(r for r in plain.results if r.record_id == WITH_FILE)
    assert plain.exit_code == 1 and said.action == "drifted" and "report artifact changed" in said.detail
    status = run_cli("status", out)
    assert status.code == 1 and "report artifact changed" in status.out and "--new-versions" in status.out
    versioned = run_deposit(out, port(double), DEFAULT_POLICY, new_versions=True)
    assert next(r for r in versioned.results if r.record_id == WITH_FILE).action == "new-version"
    newest = deposition_of(double, WITH_FILE)
    assert newest.files[0].filename == "SRCH-4A7C19E2.pdf" and newest.files[0].size == len(REPORT) + len(b"corrected figure 2\n")
    assert run_deposit(out, port(double), DEFAULT_POLICY).exit_code == 0  # nothing left to say


@pytest.mark.e2e
def test_a_deposition_found_without_this_exports_report_is_drift_never_adopted_as_it(double, tmp_path, artifacts):
    """Deposited from a folder without reports; a new export with them finds the record published on
    Zenodo without its report: not "registered, nothing deposited", but drift, and --new-versions
    gives it a version carrying the report first."""
    plain, _ = export(tmp_path, name="plain")
    assert run_deposit(plain, port(double), DEFAULT_POLICY).exit_code == 0
    with_reports, _ = export(tmp_path, "--artifacts", artifacts, name="with-reports")
    found = run_deposit(with_reports, port(double), DEFAULT_POLICY)
    said = next(r for r in found.results if r.record_id == WITH_FILE)
    assert found.exit_code == 1 and said.action == "drifted" and "does not hold this export's report artifact" in said.detail
    again = run_deposit(with_reports, port(double), DEFAULT_POLICY)  # the ledger now knows what Zenodo holds: still drift
    assert next(r for r in again.results if r.record_id == WITH_FILE).action == "drifted"
    versioned = run_deposit(with_reports, port(double), DEFAULT_POLICY, new_versions=True)
    assert next(r for r in versioned.results if r.record_id == WITH_FILE).action == "new-version"
    newest = deposition_of(double, WITH_FILE)
    assert newest.files[0].filename == "SRCH-4A7C19E2.pdf"
    assert run_deposit(with_reports, port(double), DEFAULT_POLICY).exit_code == 0


def test_a_dry_run_names_a_record_whose_report_breaks_a_limit_and_plans_the_rest(tmp_path, artifacts, monkeypatch):
    monkeypatch.delenv("ZENODO_SANDBOX_TOKEN", raising=False)
    (artifacts / "SRCH-4A7C19E2.pdf").write_bytes(b"")
    out, _ = export(tmp_path, "--artifacts", artifacts)
    run = run_cli("deposit", out, "--dry-run")
    assert run.code == 0, run.err
    entries = {entry["id"]: entry for entry in run.json()["records"]}
    assert entries[WITH_FILE]["kind"] == "will not go" and entries[WITH_FILE]["why"].endswith("[artifact-empty]")
    assert entries[WITH_FOLDER]["kind"] == "new deposit"
    assert "[artifact-empty]" in (out / "plan.html").read_text()
