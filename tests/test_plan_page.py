"""The review page of a dry run (plan.html): per record the action and the record as the landing
page will show it; for an update or a new version the changes field by field, from the repository
(read-only requests, counted) or from the ledger; the records that will not go, with their
reasons. Self-contained, and read by headless Chromium at 1280 px without horizontal scrolling."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from archiver.zenodo.double import ZenodoDouble
from conftest import EXAMPLES, FakeClock, run_cli

TOKEN = "tok_PLAN_PAGE_0123456789abcdefghijklmnopq"
ELIGIBLE = {"SRCH:4A7C19E2", "SRCH:2B9E4410", "SRCH:D1CE0F00"}
CHROMIUM = next((path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(path)), None)


def export(tmp_path, name="export"):
    out = tmp_path / name
    assert run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code in (0, 1)
    return out


def sections(page: str) -> dict[str, str]:
    """Each record's section of the page, by record id."""
    return {match.group(1): match.group(0) for match in re.finditer(r"<section class=record id='([^']+)'>.*?</section>", page, re.S)}


def test_without_a_token_the_page_shows_every_record_and_nothing_is_sent(tmp_path, monkeypatch):
    monkeypatch.delenv("ZENODO_SANDBOX_TOKEN", raising=False)
    out = export(tmp_path)
    run = run_cli("deposit", out, "--dry-run")
    assert run.code == 0 and "Zenodo was not asked" in run.err and "plan.html" in run.err
    page = (out / "plan.html").read_text()
    going = sections(page)
    assert set(going) == ELIGIBLE
    first = going["SRCH:4A7C19E2"]
    assert "new deposit" in first and "Key-Value Cache Compression" in first
    plan = json.loads((out / "plan.json").read_text())
    entry = next(e for e in plan["records"] if e["id"] == "SRCH:4A7C19E2")
    for item in entry["files"]:
        assert item["md5"] in first and f"{item['size']:,} bytes" in first
    assert "Assignee Research" in first and "person" in first  # the legacy API stores every creator as a person
    assert "Zenodo (the deposit API sends no publisher" in first
    assert "<strong>Research question:</strong>" in first  # the description as it is rendered
    not_going = page.split("Records that will not be sent")[1]
    for record_id in ("SRCH:B03D5F71", "SRCH:7E21C0D4", "SRCH:5C0FFEE1"):
        assert record_id in not_going
    assert "<td>will not go</td><td>not eligible: below-doi-grade" in not_going
    assert "<td>SRCH:9A0B1C2D</td>" not in not_going and "<td>nothing</td><td>not eligible: already-registered</td>" in not_going
    assert not re.search(r"<(script|link|img|iframe)\b", page)  # self-contained: nothing fetched, nothing run
    assert "default-src 'none'" in page
    assert "None" not in re.sub(r"<[^>]+>", "", page)


def test_on_the_records_api_creators_keep_their_type_and_identifiers(tmp_path, monkeypatch):
    monkeypatch.delenv("ZENODO_SANDBOX_TOKEN", raising=False)
    out = export(tmp_path)
    config = tmp_path / "archiver.toml"
    config.write_text('api = "records"\npublisher_ror = "05a28rw58"\n[[creators]]\nname = "Carberry, Josiah"\n'
                      'orcid = "0000-0002-1825-0097"\naffiliation_ror = "05a28rw58"\n')
    assert run_cli("deposit", out, "--dry-run", "--config", config).code == 0
    first = sections((out / "plan.html").read_text())["SRCH:4A7C19E2"]
    assert "Carberry, Josiah" in first and "(person; ORCID 0000-0002-1825-0097; affiliation  05a28rw58)" in first
    assert "<dt>Publisher</dt><dd>Assignee Research</dd>" in first


@pytest.fixture(params=["deposit", "records"])
def double(request, monkeypatch):
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=0.0, clock=FakeClock()) as running:
        running.api_name = request.param
        yield running


def writes(double):
    return {key: double.state.counters[key] for key in ("create", "upload", "update", "publish", "edit", "publish_edit", "newversion")}


@pytest.mark.e2e
def test_an_update_shows_what_zenodo_holds_and_what_it_will_hold_reading_only(double, tmp_path):
    out = export(tmp_path)
    config = tmp_path / "archiver.toml"
    config.write_text(f'api = "{double.api_name}"\n')
    assert run_cli("deposit", out, "--config", config, "--zenodo-url", double.api_url, "--quiet").code == 0
    config.write_text(f'api = "{double.api_name}"\nkeywords = ["evidence synthesis"]\n')
    before = writes(double)
    run = run_cli("deposit", out, "--config", config, "--zenodo-url", double.api_url, "--dry-run", "--update-metadata")
    assert run.code == 0 and "3 read-only request(s) sent, nothing written" in run.err
    assert writes(double) == before
    plan = run.json()
    assert plan["requests"] == 3 and plan["asked_repository"]
    page = (out / "plan.html").read_text()
    assert "The repository was asked with 3 read-only request(s)" in page
    section = sections(page)["SRCH:4A7C19E2"]
    assert "metadata update" in section and "what the repository holds now (read-only requests)" in section
    entry = next(e for e in plan["records"] if e["id"] == "SRCH:4A7C19E2")
    (change,) = [c for c in entry["changes"] if c["field"] == "keywords"]
    assert "machine-generated literature synthesis" in json.dumps(change["now"]) and "evidence synthesis" in json.dumps(change["will"])


@pytest.mark.e2e
def test_a_new_version_shows_its_version_and_files_and_a_second_folder_adopts(double, tmp_path, monkeypatch):
    out = export(tmp_path)
    config = tmp_path / "archiver.toml"
    config.write_text(f'api = "{double.api_name}"\n')
    assert run_cli("deposit", out, "--config", config, "--zenodo-url", double.api_url, "--quiet").code == 0
    second = export(tmp_path, "second")
    adopt = run_cli("deposit", second, "--config", config, "--zenodo-url", double.api_url, "--dry-run").json()
    assert {e["kind"] for e in adopt["records"] if e["id"] in ELIGIBLE} == {"adopt"} and adopt["requests"] == 1
    path = out / "manifests" / "SRCH_4A7C19E2.json"
    manifest = json.loads(path.read_text())
    corrections = manifest["correction_record"]["corrections"]
    manifest["correction_record"].update(status="CORRECTED", correction_count=len(corrections) + 1, corrections=[
        *corrections, {"sequence": len(corrections) + 1, "date": "2026-11-01", "description": "Fixed a claim count."}])
    path.write_text(json.dumps(manifest, indent=2))
    plan = run_cli("deposit", out, "--config", config, "--zenodo-url", double.api_url, "--dry-run", "--new-versions").json()
    entry = next(e for e in plan["records"] if e["id"] == "SRCH:4A7C19E2")
    assert entry["kind"] == "new version" and entry["changes_from"] == "repository"
    fields = {c["field"]: c for c in entry["changes"]}
    assert fields["version"]["now"] == "1" and fields["version"]["will"] == "2"
    assert any("manifest.json" in held for held in fields["files"]["now"]) and len(fields["files"]["will"]) == 2
    asked = run_cli("deposit", out, "--config", config, "--dry-run", "--new-versions")  # no URL: the ledger's server is asked
    assert asked.code == 0 and asked.json()["asked_repository"] and asked.json()["requests"] >= 1
    monkeypatch.delenv("ZENODO_SANDBOX_TOKEN")
    local = run_cli("deposit", out, "--config", config, "--dry-run", "--new-versions")  # no token: nothing asked
    assert local.code == 0 and not local.json()["asked_repository"]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_chromium_reads_the_page_at_1280_px_without_horizontal_scrolling(tmp_path, monkeypatch):
    monkeypatch.delenv("ZENODO_SANDBOX_TOKEN", raising=False)
    out = export(tmp_path)
    config = tmp_path / "archiver.toml"
    # an identifier with no place to break, wider than the window
    config.write_text(f'record_url = "https://records.example.org/{"x" * 300}/{{id}}"\n')
    assert run_cli("deposit", out, "--dry-run", "--config", config).code == 0
    # the page as it is, with a probe that writes what the browser laid out into the DOM
    probe = tmp_path / "probe.html"
    probe.write_text((out / "plan.html").read_text().replace(
        "</body>", "<div id=probe></div><script>document.getElementById('probe').textContent = "
        "document.documentElement.scrollWidth + 'x' + document.documentElement.clientWidth</script></body>").replace(
        "default-src 'none'; style-src 'unsafe-inline'", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,800"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    scroll, client = map(int, re.search(r"<div id=\"probe\">(\d+)x(\d+)</div>", dom).groups())
    assert scroll <= client <= 1280, f"the page is {scroll} px wide in a {client} px window"
    assert len(re.findall(r"<section class=\"record\"", dom)) == len(ELIGIBLE)


@pytest.mark.e2e
def test_a_dry_run_that_cannot_read_the_repository_says_so_and_exits_2(tmp_path, monkeypatch):
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    out = export(tmp_path)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=0.0) as double:
        run = run_cli("deposit", out, "--dry-run", "--zenodo-url", double.url)  # no /api: every request a 404
    assert run.code == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archiver: plan written to") and lines[0].endswith("[plan-incomplete]")
    assert "the repository's search failed" in lines[0] and "try " in lines[0] and (out / "plan.html").is_file()
