"""Exactly once against Zenodo itself: a second folder, a lost state directory, a crash with the
ledger lost too, two runs at once, a corrected record in a new folder, and the ledger rebuilt.

Each test ends with what Zenodo (the double) holds: one published deposition per record, no draft
left open, and every folder's manifests naming that deposition's DOI.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading

import pytest

from archiver.deposit import runner
from archiver.deposit.adapters import port_for
from archiver.deposit.manifests import iter_manifests
from archiver.deposit.runner import run_deposit
from archiver.exportdir import state_dir_for
from archiver.findings import ArchiverError
from archiver.zenodo.double import ZenodoDouble
from archiver.zenodo.legacy_client import LegacyClient
from archiver.zenodo.records_client import RecordsClient
from archiver.zenodo.target import resolve_target
from conftest import EXAMPLES, REPO, FakeClock, cli_server, double_of, policy_for, port_to, run_cli, shown_id

pytestmark = pytest.mark.e2e

TOKEN = "tok_EXACTLY_ONCE_0123456789abcdefghijklmnop"
ELIGIBLE = {"SRCH:4A7C19E2", "SRCH:2B9E4410", "SRCH:D1CE0F00"}


# Every guarantee holds on both Zenodo APIs and on another InvenioRDM repository: each test runs
# once per API (the policy's `api`), and once against the double speaking as such a repository.
@pytest.fixture(params=["deposit", "records", "repository"])
def double(request):
    with double_of(request.param, TOKEN, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as running:
        yield running


def client_for(double, **kwargs):
    return port_to(double, TOKEN, **kwargs)


# the one request that creates a draft, per API (a test kills the run right after it)
CREATE = {"deposit": (LegacyClient, "create_deposition"), "records": (RecordsClient, "create_draft")}


def export(tmp_path, name, source=EXAMPLES):
    out = tmp_path / name
    assert run_cli("export", source, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code in (0, 1)
    return out


def record_of(dep):
    (record_id,) = [k for k in dep.metadata.get("keywords", []) if k.startswith("SRCH:")]
    return record_id


def registrations(export_dir):
    out = {}
    for path in iter_manifests(export_dir):
        manifest = json.loads(path.read_text())
        external = manifest["provenance"]["external_record"]
        if external["status"] == "Registered" and external.get("deposition_id"):
            out[manifest["id"]] = (external["doi"], external["deposition_id"], external.get("concept_doi"))
    return out


def assert_one_published_deposition_per_record(double, *folders, records=ELIGIBLE):
    depositions = list(double.state.depositions.values())
    published = {}
    for dep in depositions:
        assert dep.submitted, f"draft {dep.id} of {record_of(dep)} left open"
        assert record_of(dep) not in published, f"a second DOI for {record_of(dep)}"
        published[record_of(dep)] = dep
    assert set(published) == set(records)
    for folder in folders:
        marks = registrations(folder)
        for record_id, dep in published.items():
            assert marks[record_id] == (dep.doi, shown_id(double, dep.id), double.state.minted(dep.conceptrecid)), folder
            assert dep.doi == double.state.minted(dep.id)
        assert run_cli("validate", folder / "manifests").code == 0


def test_a_second_folder_adopts_every_deposit_and_sends_only_the_lookup(double, tmp_path):
    first = export(tmp_path, "first")
    assert run_deposit(first, client_for(double), policy_for(double)).exit_code == 0
    writes = {key: double.state.counters[key] for key in ("create", "upload", "update", "publish", "delete")}
    second = export(tmp_path, "second")  # next month's export, a CI runner, a colleague's machine
    double.state.clock.advance(5)  # (at once, the index would still show the drafts: each is read once more)
    summary = run_deposit(second, client_for(double), policy_for(double))
    assert summary.exit_code == 0
    assert {r.action for r in summary.results if r.record_id in ELIGIBLE} == {"adopted"}
    assert summary.requests == 1, "one batched lookup; the manifests' md5 show the same record, nothing to download"
    assert {key: double.state.counters[key] for key in writes} == writes
    assert_one_published_deposition_per_record(double, first, second)
    assert "concept_doi" in (second / "data" / "records.csv").read_text().splitlines()[0]
    again = run_deposit(second, client_for(double), policy_for(double))
    assert again.requests == 0 and {r.action for r in again.results} == {"skipped"}


def test_a_lost_state_directory_after_draft_only_publishes_those_drafts_once(double, tmp_path):
    out = export(tmp_path, "export")
    drafted = run_deposit(out, client_for(double), policy_for(double), draft_only=True)
    assert {r.action for r in drafted.results if r.record_id in ELIGIBLE} == {"drafted"}
    shutil.rmtree(state_dir_for(out))
    uploads = double.state.counters["upload"]
    double.state.clock.advance(5)  # the person reruns a little later: the index has the drafts
    summary = run_deposit(out, client_for(double), policy_for(double))
    assert summary.exit_code == 0, [r.as_dict() for r in summary.results]
    assert {r.action for r in summary.results if r.record_id in ELIGIBLE} == {"resumed"}
    assert double.state.counters["create"] == len(ELIGIBLE)
    assert double.state.counters["upload"] == uploads, "the drafts hold the same files already"
    assert_one_published_deposition_per_record(double, out)


class Crash(Exception):
    pass


@pytest.mark.parametrize("rerun_after", [5.0, 0.0], ids=["rerun-later", "rerun-at-once"])
def test_a_crash_after_create_with_the_ledger_lost_too_leaves_one_doi(double, tmp_path, monkeypatch, rerun_after):
    out = export(tmp_path, "export")
    owner, name = CREATE[double.api_name]
    real = getattr(owner, name)

    def crash_after(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise Crash("killed after the create")

    monkeypatch.setattr(owner, name, crash_after)
    with pytest.raises(Crash):
        run_deposit(out, client_for(double), policy_for(double), workers=1)
    monkeypatch.setattr(owner, name, real)
    orphans = double.state.counters["create"]  # drafts the killed run made (the pool may have started more than one)
    assert orphans >= 1
    shutil.rmtree(state_dir_for(out))
    double.state.clock.advance(rerun_after)
    actions = []
    for _ in range(3):  # at once, the orphan may not be listed yet: that run defers, the next adopts it
        summary = run_deposit(out, client_for(double), policy_for(double))
        actions.append(sorted(r.action for r in summary.results if r.record_id in ELIGIBLE))
        if summary.exit_code == 0:
            break
        double.state.clock.advance(5)
    assert summary.exit_code == 0, actions
    if rerun_after:  # the orphan drafts are resumed, never doubled
        assert actions == [sorted(["resumed"] * orphans + ["deposited"] * (len(ELIGIBLE) - orphans))]
        assert double.state.counters["create"] == len(ELIGIBLE)
    assert_one_published_deposition_per_record(double, out)


def test_two_runs_at_once_from_two_folders_make_one_doi_per_record(double, tmp_path, monkeypatch):
    """Both runs create their drafts before either checks (a barrier holds them): each sees the
    other's draft, the lower id wins, the loser deletes its draft and defers to its next run."""
    one, two = export(tmp_path, "one"), export(tmp_path, "two")
    barrier = threading.Barrier(2, timeout=60)
    real_check = runner.check

    def check_together(run, jobs):
        barrier.wait()
        return real_check(run, jobs)

    monkeypatch.setattr(runner, "check", check_together)
    summaries = {}

    def run(folder):
        summaries[folder.name] = run_deposit(folder, client_for(double), policy_for(double))

    threads = [threading.Thread(target=run, args=(folder,)) for folder in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    actions = sorted(r.action for s in summaries.values() for r in s.results if r.record_id in ELIGIBLE)
    assert actions.count("deposited") == len(ELIGIBLE), actions  # one winner per record ...
    assert actions.count("deferred") == len(ELIGIBLE), actions  # ... and the other run gave way
    assert double.state.counters["publish"] == len(ELIGIBLE)
    monkeypatch.setattr(runner, "check", real_check)
    double.state.clock.advance(5)
    for folder in (one, two):  # the loser's next run registers the winner's DOI
        assert run_deposit(folder, client_for(double), policy_for(double)).exit_code == 0
    assert_one_published_deposition_per_record(double, one, two)


def test_two_runs_at_once_without_a_barrier_still_make_one_doi_per_record(double, tmp_path):
    folders = [export(tmp_path, f"folder{n}") for n in range(3)]
    threads = [threading.Thread(target=run_deposit, args=(f, client_for(double), policy_for(double))) for f in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    double.state.clock.advance(5)
    for folder in folders:
        for _ in range(2):
            if run_deposit(folder, client_for(double), policy_for(double)).exit_code == 0:
                break
            double.state.clock.advance(5)
    assert_one_published_deposition_per_record(double, *folders)


def _add_correction(manifest_path):
    manifest = json.loads(manifest_path.read_text())
    manifest["correction_record"].update(
        status="CORRECTED", correction_count=1,
        corrections=[{"sequence": 1, "date": "2026-11-01", "description": "Fixed a claim count."}],
    )
    manifest_path.write_text(json.dumps(manifest, indent=2))


def test_a_corrected_record_in_a_new_folder_is_drifted_then_gets_one_new_version(double, tmp_path, monkeypatch):
    first = export(tmp_path, "first")
    assert run_deposit(first, client_for(double), policy_for(double)).exit_code == 0
    (v1,) = [d for d in double.state.depositions.values() if record_of(d) == "SRCH:4A7C19E2"]
    second = export(tmp_path, "second")
    _add_correction(second / "manifests" / "SRCH_4A7C19E2.json")
    drifted = run_deposit(second, client_for(double), policy_for(double))
    results = {r.record_id: r for r in drifted.results}
    assert results["SRCH:4A7C19E2"].action == "drifted" and drifted.exit_code == 1
    assert {results[r].action for r in ELIGIBLE - {"SRCH:4A7C19E2"}} == {"adopted"}
    assert double.state.counters["create"] == len(ELIGIBLE) and double.state.counters["newversion"] == 0
    status = run_cli("status", second, *cli_server(double, tmp_path, monkeypatch, TOKEN))
    where = double.url if double.state.repository else "sandbox"
    assert status.code == 1 and f"SRCH:4A7C19E2  {where}  attempt 1  registered, drifted" in status.out  # seen without the network
    summary = run_deposit(second, client_for(double), policy_for(double), new_versions=True)
    assert summary.exit_code == 0, [r.as_dict() for r in summary.results]
    assert [r.action for r in summary.results if r.record_id == "SRCH:4A7C19E2"] == ["new-version"]
    versions = sorted((d for d in double.state.depositions.values() if record_of(d) == "SRCH:4A7C19E2"), key=lambda d: d.id)
    assert [d.id for d in versions][0] == v1.id and len(versions) == 2 and all(d.submitted for d in versions)
    assert versions[1].conceptrecid == v1.conceptrecid and versions[1].metadata["version"] == "2"
    doi, deposition_id, concept_doi = registrations(second)["SRCH:4A7C19E2"]
    assert (doi, deposition_id, concept_doi) == (versions[1].doi, shown_id(double, versions[1].id), double.state.minted(v1.conceptrecid))
    assert run_deposit(second, client_for(double), policy_for(double), new_versions=True).requests == 0


def test_reconcile_rebuilds_a_lost_ledger_and_the_manifests_from_zenodo_sending_no_write(double, tmp_path, monkeypatch):
    out = export(tmp_path, "export")
    assert run_deposit(out, client_for(double), policy_for(double), only=["SRCH:4A7C19E2", "SRCH:2B9E4410"]).exit_code == 0
    assert run_deposit(out, client_for(double), policy_for(double), only=["SRCH:D1CE0F00"], draft_only=True).exit_code == 0
    before = registrations(out)
    shutil.rmtree(state_dir_for(out))
    fresh = export(tmp_path, "export-again")  # a new export: no manifest carries a DOI
    shutil.rmtree(out)
    fresh.rename(out)
    assert registrations(out) == {}
    writes = {key: double.state.counters[key] for key in ("create", "upload", "update", "publish", "delete", "newversion")}
    double.state.clock.advance(5)
    server = cli_server(double, tmp_path, monkeypatch, TOKEN)
    run = run_cli("reconcile", out, *server, "--json")
    assert run.code == 0, run.err
    states = {item["id"]: item["state"] for item in run.json()["records"]}
    assert states == {"SRCH:4A7C19E2": "registered", "SRCH:2B9E4410": "registered", "SRCH:D1CE0F00": "draft"}
    assert {key: double.state.counters[key] for key in writes} == writes, "reconcile sends no write"
    assert registrations(out) == before
    report = {e["id"]: e for e in json.loads((out / "report.json").read_text())["records"]}
    assert report["SRCH:4A7C19E2"]["doi"] == before["SRCH:4A7C19E2"][0]
    rows = {row["id"]: row for row in run_cli("status", out, *server, "--json").json()["records"]}
    assert rows["SRCH:D1CE0F00"]["state"] == "created" and rows["SRCH:4A7C19E2"]["state"] == "registered"
    summary = run_deposit(out, client_for(double), policy_for(double))  # the remembered draft is published
    assert [r.action for r in summary.results if r.record_id == "SRCH:D1CE0F00"] == ["resumed"]
    assert_one_published_deposition_per_record(double, out)


# Per record: the legacy API creates with metadata (1), PUTs two files into the bucket (2) and
# publishes (1); the records API creates (1), initialises both files in one request (1), sends and
# commits each (4) and publishes (1). One lookup and one check per group of 50 come on top.
@pytest.mark.parametrize(("api_name", "budget"), [("deposit", 4.25), ("records", 7.1)])
def test_a_first_deposit_of_40_records_costs_the_fewest_requests_its_api_allows(tmp_path, api_name, budget):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import soak

    batch = soak.eligible_batch(tmp_path / "batch.jsonl", 40)
    out = export(tmp_path, "export", source=batch)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as double:
        double.api_name = api_name
        summary = run_deposit(out, client_for(double), policy_for(double))
        assert summary.exit_code == 0
        assert double.state.counters["publish"] == 40
        assert summary.requests / 40 <= budget, summary.requests
        assert run_deposit(out, client_for(double), policy_for(double)).requests == 0  # with the ledger: nothing to ask


def test_an_older_export_never_publishes_a_version_that_undoes_a_correction(double, tmp_path):
    corrected = export(tmp_path, "corrected")
    _add_correction(corrected / "manifests" / "SRCH_4A7C19E2.json")
    assert run_deposit(corrected, client_for(double), policy_for(double)).exit_code == 0  # published with its correction
    stale = export(tmp_path, "stale")  # last month's pages: no correction yet
    double.state.clock.advance(5)
    for new_versions in (False, True):
        summary = run_deposit(stale, client_for(double), policy_for(double), new_versions=new_versions, only=["SRCH:4A7C19E2"])
        (result,) = summary.results
        assert result.action == "failed" and "[correction-behind]" in result.detail and "--new-versions" not in result.detail
    assert double.state.counters["newversion"] == 0 and double.state.counters["publish"] == len(ELIGIBLE)
    # with a ledger too: a re-export of older pages into the deposited folder is refused the same way
    older = export(tmp_path, "older")
    shutil.rmtree(corrected)
    older.rename(corrected)
    summary = run_deposit(corrected, client_for(double), policy_for(double), new_versions=True, only=["SRCH:4A7C19E2"])
    assert [r.action for r in summary.results] == ["failed"] and "[correction-behind]" in summary.results[0].detail
    assert double.state.counters["newversion"] == 0


def test_a_ledger_of_another_server_is_refused_before_anything_is_sent(double, tmp_path):
    out = export(tmp_path, "export")
    assert run_deposit(out, client_for(double), policy_for(double)).exit_code == 0
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as other:
        target = resolve_target(zenodo_url=other.api_url, environ={"ZENODO_SANDBOX_TOKEN": TOKEN})
        with pytest.raises(ArchiverError) as refused:
            run_deposit(out, port_for(LegacyClient(target)), policy_for(double))
        assert refused.value.code == "ledger-other-server" and other.state.counters["requests"] == 0


def test_status_remote_checks_the_deposition_is_the_records_and_stops_at_a_silent_server(double, tmp_path, monkeypatch):
    out = export(tmp_path, "export")
    assert run_deposit(out, client_for(double), policy_for(double)).exit_code == 0
    server = cli_server(double, tmp_path, monkeypatch, TOKEN)
    for dep in double.state.depositions.values():  # the server now holds other records under those ids
        dep.metadata["keywords"] = ["SRCH:FFFFFFFF"]
        dep.rdm = None  # (the records API shows the legacy metadata then)
    run = run_cli("status", out, "--remote", *server, "--json")
    assert run.code == 1 and sum("is not this record's" in item["remote"] for item in run.json()["drift"]) == len(ELIGIBLE)
    elsewhere = run_cli("status", out, "--remote", *server, "--zenodo-url", "http://127.0.0.1:9/api", "--timeout", "1", "--json")
    if double.state.repository:  # the policy names the server: another is refused before anything is sent
        assert elsewhere.code == 2 and "nothing is sent to a repository the policy does not name" in elsewhere.err
    else:
        assert elsewhere.code == 1 and all("not compared" in item["remote"] for item in elsewhere.json()["drift"])  # another server's ids
    double.stop()  # the same server, gone silent
    silent = run_cli("status", out, "--remote", *server, "--timeout", "1")
    assert silent.code == 2 and silent.err.count("[no-answer]") == 1


def test_status_names_manifests_a_lost_ledger_knew_and_a_resume_after_reconcile_sends_no_file_again(double, tmp_path, monkeypatch):
    out = export(tmp_path, "export")
    assert run_deposit(out, client_for(double), policy_for(double), only=["SRCH:4A7C19E2"]).exit_code == 0
    assert run_deposit(out, client_for(double), policy_for(double), only=["SRCH:2B9E4410"], draft_only=True).exit_code == 0
    shutil.rmtree(state_dir_for(out))
    server = cli_server(double, tmp_path, monkeypatch, TOKEN)
    status = run_cli("status", out, *server)
    assert status.code == 0 and "name deposits the ledger does not know (SRCH:4A7C19E2)" in status.err
    double.state.clock.advance(5)
    assert run_cli("reconcile", out, *server).code == 0
    uploads = double.state.counters["upload"]
    summary = run_deposit(out, client_for(double), policy_for(double), only=["SRCH:2B9E4410"])
    assert [r.action for r in summary.results] == ["resumed"]
    assert double.state.counters["upload"] == uploads, "the draft holds its files already"


def test_a_correction_after_the_deposit_shows_in_status_report_json_and_report_html_offline(double, tmp_path, monkeypatch):
    source = tmp_path / "pages"
    shutil.copytree(EXAMPLES, source)
    out = export(tmp_path, "export", source=source)
    assert run_deposit(out, client_for(double), policy_for(double)).exit_code == 0
    page = source / "01-kv-cache-web.txt"  # SRCH:4A7C19E2: a correction is published on its page
    text = page.read_text()
    assert "StatusCURRENT\nCorrection count0" in text
    page.write_text(text.replace("StatusCURRENT\nCorrection count0", "StatusCORRECTED\nCorrection count1\nCorrection 1 2026-07-01 Fixed a claim count."))
    assert run_cli("export", source, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code == 0  # the re-export
    entry = {e["id"]: e for e in json.loads((out / "report.json").read_text())["records"]}["SRCH:4A7C19E2"]
    assert entry["reasons"] == ["already-registered", "corrected-since-deposit"]
    assert "corrected-since-deposit" in (out / "report.html").read_text()
    status = run_cli("status", out, *cli_server(double, tmp_path, monkeypatch, TOKEN))
    assert status.code == 1 and "attempt 1  registered, drifted" in status.out
    assert run_deposit(out, client_for(double), policy_for(double)).exit_code == 1  # drifted: awaits --new-versions
    entry = {e["id"]: e for e in json.loads((out / "report.json").read_text())["records"]}["SRCH:4A7C19E2"]
    assert "corrected-since-deposit" in entry["reasons"]  # the refresh after a deposit keeps telling it
    assert run_deposit(out, client_for(double), policy_for(double), new_versions=True).exit_code == 0
    entry = {e["id"]: e for e in json.loads((out / "report.json").read_text())["records"]}["SRCH:4A7C19E2"]
    assert entry["reasons"] == ["already-registered"]  # the new version carries the correction
