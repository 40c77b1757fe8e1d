"""What is public stays true: metadata drift seen by `status` (from the ledger) and `status --remote`
(from the repository, through its renamings), on both APIs; and advice that never names a command
that would refuse (an export older than what is published says to re-export)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from archiver.deposit.adapters import open_port
from archiver.deposit.decide import decide
from archiver.deposit.ledger import LedgerRow
from archiver.deposit.refresh import _corrected_next_action
from archiver.deposit.runner import run_deposit
from archiver.exportdir import ledger_path
from archiver.policy import DEFAULT_POLICY
from archiver.zenodo.double import ZenodoDouble
from archiver.zenodo.target import resolve_target
from conftest import EXAMPLES, FakeClock, run_cli

pytestmark = pytest.mark.e2e

TOKEN = "tok_PUBLIC_DRIFT_0123456789abcdefghijklmn"
ELIGIBLE = ("SRCH:2B9E4410", "SRCH:4A7C19E2", "SRCH:D1CE0F00")


@pytest.fixture(params=["deposit", "records"])
def deposited(request, tmp_path, monkeypatch):
    """An export deposited through one API, and its policy file (the API named there)."""
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=0.0, clock=FakeClock()) as double:
        out = tmp_path / "ex one"  # a folder name a hint must quote
        assert run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code in (0, 1)
        config = tmp_path / "archiver.toml"
        config.write_text(f'api = "{request.param}"\n')
        target = resolve_target(zenodo_url=double.api_url, environ={"ZENODO_SANDBOX_TOKEN": TOKEN})
        port = open_port(request.param, target, sleep=double.state.clock.advance, backoff=0.0)
        assert run_deposit(out, port, DEFAULT_POLICY.model_copy(update={"api": request.param})).exit_code == 0
        yield double, out, config


def status(double, out, config, *extra):
    return run_cli("status", out, "--config", config, "--zenodo-url", double.api_url, *extra)


def test_right_after_a_deposit_neither_status_sees_drift(deposited):
    double, out, config = deposited
    assert status(double, out, config).code == 0
    remote = status(double, out, config, "--remote")
    assert remote.code == 0, remote.out  # every renaming the repository applies is known (licence, HTML, creators)


def test_a_policy_change_is_drift_locally_and_remotely_naming_record_fields_and_fix(deposited):
    double, out, config = deposited
    config.write_text(config.read_text() + 'publisher = "Another Research Organisation"\nkeywords = ["evidence synthesis"]\n')
    local = status(double, out, config)
    assert local.code == 1
    lines = [line for line in local.out.splitlines() if line.startswith("drift: ")]
    assert len(lines) == len(ELIGIBLE)
    # the legacy API sends no publisher (the publisher reaches it as the creator)
    fields = "creators, keywords" if 'api = "deposit"' in config.read_text() else "creators, publisher, keywords"
    for record_id, line in zip(ELIGIBLE, lines, strict=True):
        assert line.startswith(f"drift: {record_id}: metadata changed since the deposit: {fields}; ")
    # pastes as printed: the folder quoted, the server the ledger's deposits went to named
    assert all(f"`archiver deposit '{out}' --zenodo-url {double.api_url} --update-metadata`" in line for line in lines)
    remote = status(double, out, config, "--remote", "--json").json()
    said = {item["id"]: item["remote"] for item in remote["drift"] if "Zenodo publishes" in item["remote"]}
    assert set(said) == set(ELIGIBLE)
    assert all("creators" in text and "keywords" in text and "--update-metadata" in text for text in said.values())
    fixed = run_cli("deposit", out, "--config", config, "--zenodo-url", double.api_url, "--update-metadata", "--quiet")
    assert fixed.code == 0, fixed.err
    assert status(double, out, config).code == 0 and status(double, out, config, "--remote").code == 0


def test_a_change_made_on_zenodo_is_seen_by_status_remote_only(deposited):
    double, out, config = deposited
    with double.state.lock:  # a curator retitles one record on the web page
        dep = next(d for d in double.state.depositions.values() if "SRCH:4A7C19E2" in d.metadata.get("keywords", []))
        dep.metadata["title"] = "Retitled by hand"
        if dep.rdm is not None:
            dep.rdm["title"] = "Retitled by hand"
    assert status(double, out, config).code == 0
    remote = status(double, out, config, "--remote", "--json")
    assert remote.code == 1
    (item,) = remote.json()["drift"]
    assert item["id"] == "SRCH:4A7C19E2" and "title" in item["remote"] and "--update-metadata" in item["remote"]


def _as_if_zenodo_published_more_corrections(out):
    """The ledger as after a deposit of a later page: two corrections published (version 3)."""
    db = sqlite3.connect(ledger_path(out))
    db.execute("UPDATE deposits SET correction_hash = 'later', published_version = '3' WHERE record_id = 'SRCH:4A7C19E2'")
    db.commit()
    db.close()


def test_an_older_export_is_told_to_re_export_never_to_run_a_command_that_refuses(deposited):
    double, out, config = deposited
    _as_if_zenodo_published_more_corrections(out)
    local = status(double, out, config)
    assert local.code == 1
    (line,) = [line for line in local.out.splitlines() if line.startswith("drift: SRCH:4A7C19E2")]
    assert "export the current record pages" in line and "--new-versions" not in line
    run = run_cli("deposit", out, "--config", config, "--zenodo-url", double.api_url, "--new-versions", "--verbose")
    assert run.code == 1
    (said,) = [line for line in run.out.splitlines() if line.startswith("SRCH:4A7C19E2")]
    assert "failed" in said and "[correction-behind]" in said and "export the current record pages" in said and "--new-versions" not in said
    report = json.loads((out / "report.json").read_text())
    entry = next(e for e in report["records"] if e["id"] == "SRCH:4A7C19E2")
    assert "older than the version the repository publishes" in entry["next_action"]


def test_the_decision_and_the_report_agree_on_an_older_export():
    from archiver.model import Record
    from conftest import seed_003_manifest

    record = Record.model_validate(seed_003_manifest())
    row = LedgerRow(record.id, "sandbox", 1, "u", "c", "other", "m", "registered", 7, None, record.doi, None, None, 0, None, "",
                    published_version=str(2 + record.correction_record.correction_count))
    action, why = decide(record, row, DEFAULT_POLICY, new_versions=True)
    assert action == "behind" and "export the current record pages" in why
    row.published_version = str(1 + record.correction_record.correction_count)  # the same count: a real correction
    assert decide(record, row, DEFAULT_POLICY, new_versions=True)[0] == "new-version"
    row.published_version = "v2"  # a version archiver did not write: nothing to compare
    assert decide(record, row, DEFAULT_POLICY, new_versions=False)[0] == "drifted"
    manifest = {"correction_record": {"correction_count": 1}}
    assert "older" in _corrected_next_action(manifest, "3")
    assert "--new-versions" in _corrected_next_action(manifest, "2") and "--new-versions" in _corrected_next_action(manifest, None)


def test_a_field_the_api_does_not_send_is_no_drift(deposited):
    """The legacy API sends no publisher: with creators of their own, a new publisher changes nothing
    Zenodo shows there, so neither status nor deposit says drift; the records API sends it: drift."""
    double, out, config = deposited
    api = config.read_text()
    config.write_text(api + '[[creators]]\nname = "Doe, Jane"\norcid = "0000-0002-1825-0097"\n')
    assert run_cli("deposit", out, "--config", config, "--zenodo-url", double.api_url, "--update-metadata", "--quiet").code == 0
    config.write_text(api + 'publisher = "Another Research Organisation"\n[[creators]]\nname = "Doe, Jane"\norcid = "0000-0002-1825-0097"\n')
    local = status(double, out, config)
    plan = run_cli("deposit", out, "--config", config, "--zenodo-url", double.api_url, "--dry-run", "--update-metadata").json()
    kinds = {entry["kind"] for entry in plan["records"] if entry["id"] in ELIGIBLE}
    if 'api = "deposit"' in api:
        assert local.code == 0 and "drift:" not in local.out and kinds == {"nothing"}
    else:
        assert local.code == 1 and "metadata changed since the deposit: publisher;" in local.out and kinds == {"metadata update"}


def test_status_says_when_the_ledger_does_not_know_what_was_sent(deposited, tmp_path):
    double, out, config = deposited
    second = tmp_path / "second"
    assert run_cli("export", EXAMPLES, "--out", second, "--created", "2026-01-01T00:00:00Z", "--quiet").code in (0, 1)
    assert run_cli("deposit", second, "--config", config, "--zenodo-url", double.api_url, "--quiet").code == 0  # adopted
    plain = status(double, second, config)
    assert plain.code == 0 and "the ledger does not know what 3 registered record(s) were sent" in plain.err
    assert "`status --remote` compares" in plain.err
