"""A curator's day without guessing: every run-level refusal one line `archiver: message [code]`,
exit 2, no traceback; standard input for validate; strict policy values with the closest key
named; a broken pipe that keeps the run's exit code; UTF-16 without a byte-order mark; hints that
paste as printed; status --remote and reconcile asking the ledger's server; a failing server that
stops the run soon, and a stopping run that waits on nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from archiver.findings import ArchiverError
from archiver.zenodo.double import Faults, ZenodoDouble
from archiver.zenodo.pacing import RateLimiter
from archiver.zenodo.transport import Transport, TransportError
from conftest import EXAMPLES, FakeClock, base_manifest, run_cli

TOKEN = "tok_CURATOR_DAY_0123456789abcdefghijklmno"
ARCHIVER = str(Path(sys.executable).parent / "archiver")


def one_line_refusal(run, code: str) -> str:
    assert run.code == 2, (run.code, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("archiver: ") and lines[0].endswith(f"[{code}]") and "Traceback" not in run.err
    return lines[0]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("day") / "ex one"
    assert run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code == 0
    return out


@pytest.mark.parametrize(("argv", "code", "says"), [
    (["validate", "one", "--bogus"], "usage", "unrecognized arguments: --bogus (see archiver --help)"),
    (["export", "x", "--out", "y", "--jobs", "99"], "usage", "--jobs takes 1 to 64"),
    (["nonsense"], "usage", "invalid choice: 'nonsense'"),
    (["export", "/dev/null", "--out", "{tmp}/out"], "nothing-readable", "nothing readable: /dev/null (empty-input: the input is empty)"),
    (["deposit", "{export}", "--dry-run", "--only", "SRCH:DEADBEEF"], "usage", "--only SRCH:DEADBEEF: no such record in"),
    (["deposit", "{export}", "--dry-run", "--only", "7C1E9B40"], "usage", "not a record id (SRCH: and eight hex digits"),
    (["deposit", "{export}", "--dry-run", "--limit", "0"], "usage", "--limit takes 1 or more, not 0"),
    (["deposit", "{export}", "--dry-run", "--limit", "-1"], "usage", "--limit"),
    (["zenodo-double", "--port", "99999"], "usage", "--port takes 0 to 65535, not 99999"),
    (["zenodo-double", "--faults", "notjson"], "usage", "'notjson' is not JSON"),
    (["zenodo-double", "--faults", '{"boom": 1}'], "usage", "boom is no fault of the double"),
])
def test_every_refusal_is_one_line_in_one_form(argv, code, says, export_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("ZENODO_SANDBOX_TOKEN", raising=False)
    monkeypatch.setenv("ZENODO_DOUBLE_TOKENS", "t")
    line = one_line_refusal(run_cli(*(a.replace("{export}", str(export_dir)).replace("{tmp}", str(tmp_path)) for a in argv)), code)
    assert says in line


def test_help_and_version_still_exit_0():
    assert run_cli("--version").code == 0 and run_cli("deposit", "--help").code == 0


def test_validate_reads_standard_input():
    valid = run_cli("validate", "-", stdin=json.dumps(base_manifest()).encode())
    assert valid.code == 0
    invalid = run_cli("validate", "-", stdin=json.dumps({**base_manifest(), "review_score": 12.4}).encode())
    assert invalid.code == 1 and invalid.out.startswith("<stdin>:$.review_score: 12.4 is greater than the maximum of 10 [range]")
    one_line_refusal(run_cli("validate", "-", "-", stdin=b"{}"), "usage")


@pytest.mark.parametrize(("toml", "says"), [
    ('doi_min_score = "7"\n', "$.doi_min_score: must be a number (7.5, without quotes), not text '7'"),
    ("doi_min_verified_claims = 5.5\n", "$.doi_min_verified_claims: must be a whole number (5, without quotes), not a number 5.5"),
    ('require_gate_verified = "yes"\n', "$.require_gate_verified: must be true or false (without quotes), not text 'yes'"),
    ("doi_min_scor = 7.5\n", "$.doi_min_scor: unknown setting 'doi_min_scor'; did you mean 'doi_min_score'?"),
    ('[[creators]]\nname = "Doe, Jane"\norcd = "0000-0002-1825-0097"\n', "$.creators[0].orcd: unknown setting 'orcd'; did you mean 'orcid'?"),
    ("zzz = 1\n", "$.zzz: unknown setting 'zzz'; known: quarantine_below, doi_min_score"),
])
def test_policy_values_are_typed_strictly_and_a_typo_names_the_closest_key(toml, says, tmp_path):
    config = tmp_path / "archiver.toml"
    config.write_text(toml)
    line = one_line_refusal(run_cli("eligibility", EXAMPLES, "--config", config), "policy-invalid")
    assert f"{config}:{says}" in line
    config.write_text("doi_min_score = 7\nquarantine_below = 4.5\n")  # a whole number is a number
    assert run_cli("eligibility", EXAMPLES, "--config", config).code == 0


@pytest.mark.e2e
def test_a_broken_pipe_keeps_the_runs_exit_code(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    with (pages / "batch.jsonl").open("w") as handle:
        for index in range(3000):  # far more output than a pipe holds
            handle.write(json.dumps({**base_manifest(), "id": f"SRCH:{index:08X}"}) + "\n")
    (pages / "broken.json").write_text(json.dumps({**base_manifest(), "id": "SRCH:FFFFFFFF", "review_score": 12.4}))
    full = subprocess.run([ARCHIVER, "eligibility", str(pages)], capture_output=True, text=True)
    assert full.returncode == 1
    shell = subprocess.run(["bash", "-c", f"set -o pipefail; {ARCHIVER} eligibility {pages} | head -1"], capture_output=True, text=True)
    assert len(shell.stdout.splitlines()) == 1
    assert shell.returncode == 1, shell.stderr  # not 0: the reader left, the run still failed
    assert "Traceback" not in shell.stderr and "BrokenPipe" not in shell.stderr


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(encoding, tmp_path):
    page = (EXAMPLES / "01-kv-cache-web.txt").read_text(encoding="utf-8")
    (tmp_path / "page.txt").write_bytes(page.encode(encoding))  # no BOM
    run = run_cli("eligibility", tmp_path / "page.txt", "--json")
    assert run.code == 0 and run.json()["records"][0]["id"] == "SRCH:4A7C19E2"


def test_a_url_without_api_names_the_fix(tmp_path):
    with ZenodoDouble(tokens={TOKEN}, index_lag=0) as double:
        transport = Transport(double.url, TOKEN, "archiver-test", sleep=lambda s: None)
        with pytest.raises(TransportError) as raised:
            transport.send("GET", "deposit/depositions", retry=True, expect=(200,))
    assert raised.value.status == 404
    assert f"is {double.url} the API's root? Zenodo and InvenioRDM serve it under /api: try {double.url}/api" in raised.value.message
    with ZenodoDouble(tokens={TOKEN}, index_lag=0) as double:  # past the root: the root is named, not /api appended again
        transport = Transport(f"{double.url}/api/records", TOKEN, "archiver-test", sleep=lambda s: None)
        with pytest.raises(TransportError) as raised:
            transport.send("GET", "deposit/depositions", retry=True, expect=(200,))
    assert raised.value.message.endswith(f"try {double.url}/api)")


def test_a_stopping_run_begins_no_wait():
    slept: list[float] = []
    limiter = RateLimiter(clock=lambda: 100.0, sleep=slept.append)
    limiter.blocked_until = 159.0  # the server said: the window resets in 59 s
    assert limiter.wait(lambda: True) is False and slept == []
    assert limiter.wait(lambda: False) is True and slept == [59.0]


def test_an_answer_of_the_wrong_shape_is_said_in_archivers_words():
    from requests.structures import CaseInsensitiveDict

    from archiver.zenodo.answers import parse_answer
    from archiver.zenodo.legacy_client import LegacyDeposition
    from archiver.zenodo.transport import Answer

    for body, said in ((b"[1, 2]", "at $, a list, where it should be an object"),
                       (b'{"id": "<b>x</b>"}', "at $.id, text, where it should be a whole number")):
        with pytest.raises(TransportError) as raised:
            parse_answer(LegacyDeposition, Answer(200, CaseInsensitiveDict(), body, "u"), "create")
        assert raised.value.message == f"create: the answer is not one archiver can read: {said}"
        assert "<b>" not in raised.value.message and "input_value" not in raised.value.message


def test_assess_of_a_record_that_could_not_be_read_raises_archiver_error():
    import archiver

    (result,) = archiver.read_records([str(EXAMPLES / "01-kv-cache-web.txt")])
    assert archiver.assess(result.record).eligible
    with pytest.raises(ArchiverError) as raised:
        archiver.assess(None)
    assert raised.value.code == "manifest-invalid"


@pytest.mark.e2e
def test_status_remote_and_reconcile_ask_the_server_the_ledger_names_and_hints_paste(export_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    hosts: list[str] = []
    real_send = requests.Session.send

    def recording(self, request, **kwargs):
        hosts.append(requests.utils.urlparse(request.url).hostname)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", recording)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=0, clock=FakeClock()) as double:
        assert run_cli("deposit", export_dir, "--zenodo-url", double.api_url, "--quiet").code == 0
        remote = run_cli("status", export_dir, "--remote")  # no --zenodo-url: the ledger's server
        assert remote.code == 0, remote.out + remote.err
        assert run_cli("reconcile", export_dir).code == 0
        config = tmp_path / "archiver.toml"
        config.write_text('publisher = "Another Research Organisation"\n')
        hint = run_cli("status", export_dir, "--config", config)
    assert set(hosts) == {"127.0.0.1"}  # never the sandbox
    (line, *_) = [line for line in hint.out.splitlines() if line.startswith("drift: ")]
    command = line.split("`")[1]
    assert command == f"archiver deposit '{export_dir}' --zenodo-url {double.api_url} --update-metadata"


@pytest.mark.e2e
@pytest.mark.parametrize("api", ["deposit", "records"])
def test_a_server_that_keeps_failing_stops_the_run_and_a_rerun_registers_each_once(api, tmp_path, monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import soak

    source = soak.eligible_batch(tmp_path / "batch.jsonl", 16)
    out = tmp_path / "export"
    assert run_cli("export", source, "--out", out, "--quiet").code == 0
    config = tmp_path / "archiver.toml"
    config.write_text(f'api = "{api}"\n')
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=0, faults=Faults(fail_uploads=True)) as double:
        run = subprocess.run([ARCHIVER, "deposit", str(out), "--zenodo-url", double.api_url, "--config", str(config), "--json"],
                             capture_output=True, text=True)
        summary = json.loads(run.stdout)
        assert run.returncode == 2 and summary["failing"] and run.stderr.strip().endswith("[server-failing]")
        assert "keeps failing: 3 records in a row ended on a server failure" in run.stderr
        totals = summary["totals"]
        assert totals["failed"] <= 3 + 4 and totals["not-started"] >= 16 - 3 - 4  # the workers' records in flight, no more
        assert summary["requests"] <= 16 * 8  # no record after the stop spends its retries on the server
        double.state.faults.fail_uploads = False  # the server recovers
        rerun = subprocess.run([ARCHIVER, "deposit", str(out), "--zenodo-url", double.api_url, "--config", str(config), "--json"],
                               capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        assert double.state.counters["create"] == 16 and double.state.counters["publish"] == 16  # each once
