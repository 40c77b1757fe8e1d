"""`archiver export`: outputs, the Data Package (checked by frictionless itself), reports, exit codes,
determinism and atomicity under kill -9."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archiver.export import export
from archiver.exportdir import ExportLock
from archiver.findings import ArchiverError
from archiver.policy import DEFAULT_POLICY
from conftest import EXAMPLES, REPO, base_manifest, run_cli

sys.path.insert(0, str(REPO / "benchmarks"))
import synthetic

pytestmark = pytest.mark.e2e  # an end-to-end suite: `pytest -m 'not e2e'` runs the unit tests alone

CREATED = "2026-11-22T00:00:00Z"
FRICTIONLESS = str(Path(sys.executable).parent / "frictionless")
ARCHIVER = str(Path(sys.executable).parent / "archiver")


def tree(directory: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file below ``directory``."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def example_export(tmp_path_factory):
    out = tmp_path_factory.mktemp("exp") / "examples"
    run = run_cli("export", EXAMPLES, "--out", out, "--created", CREATED)
    assert run.code == 0, run.err
    return out


def test_export_writes_manifests_package_and_reports(example_export):
    out = example_export
    manifests = sorted(p.name for p in (out / "manifests").iterdir())
    assert manifests == sorted(
        f"SRCH_{i}.json" for i in ("4A7C19E2", "B03D5F71", "7E21C0D4", "5C0FFEE1", "2B9E4410", "9A0B1C2D", "D1CE0F00")
    )
    assert sorted(p.name for p in (out / "data").iterdir()) == [
        "corrections.csv", "eligibility.csv", "quality_dimensions.csv", "records.csv"
    ]
    for name in ("datapackage.json", "report.json", "report.html"):
        assert (out / name).is_file()
    assert not list(out.parent.glob(".examples.tmp-*"))


def test_the_real_frictionless_cli_validates_the_package(example_export):
    result = subprocess.run([FRICTIONLESS, "validate", str(example_export / "datapackage.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INVALID" not in result.stdout


def test_the_package_passes_the_projects_own_checks(example_export):
    run = run_cli("validate", example_export / "manifests")
    assert run.code == 0, run.out
    descriptor = json.loads((example_export / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        data = (example_export / resource["path"]).read_bytes()
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        fields = resource["schema"]["fields"]
        assert all(f["type"] in ("string", "integer", "number", "boolean", "date") for f in fields)
        if resource["name"] != "records":
            assert resource["schema"]["foreignKeys"][0]["reference"] == {"resource": "records", "fields": ["id"]}
    assert descriptor["created"] == CREATED
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["contributors"] and descriptor["sources"]
    records_csv = (example_export / "data" / "records.csv").read_text().splitlines()
    assert len(records_csv) == 1 + 7


def test_report_json_is_the_documented_interface(example_export):
    report = json.loads((example_export / "report.json").read_text())
    assert len(report["records"]) == 7
    for entry in report["records"]:
        assert {"source", "id", "valid", "errors", "warnings", "tier", "eligible", "reasons", "doi"} <= set(entry)
        assert set(entry["tier"]) == {"declared", "computed"}
        assert entry["tier"]["computed"] in ("Quarantine candidate", "Watchlist", "DOI grade", None)
    by_id = {e["id"]: e for e in report["records"]}
    assert by_id["SRCH:4A7C19E2"]["eligible"] is True and by_id["SRCH:4A7C19E2"]["reasons"] == []
    assert by_id["SRCH:9A0B1C2D"]["reasons"] == ["already-registered"]
    assert by_id["SRCH:9A0B1C2D"]["doi"] == "10.5072/zenodo.123456"
    assert by_id["SRCH:B03D5F71"]["reasons"] == ["no-submission-date"]
    assert by_id["SRCH:B03D5F71"]["warnings"][0]["code"] == "score-from-abstract"
    assert report["totals"]["records"] == 7 and report["totals"]["eligible"] == 3


def test_report_html_is_self_contained_and_draws_the_thresholds(example_export):
    page = (example_export / "report.html").read_text()
    for marker in ("<script src", "<link", "@import", "url(", 'src="http'):
        assert marker not in page
    # the only addresses are links a reader follows: each DOI to doi.org, nothing the page loads
    assert re.findall(r'href="([^"]+)"', page) == ['https://doi.org/10.5072/zenodo.123456']
    assert '<a href="https://doi.org/10.5072/zenodo.123456">10.5072/zenodo.123456</a>' in page
    assert "<svg" in page and "DOI grade from 7.0" in page and "5 verified claims" in page
    assert "SRCH:4A7C19E2" in page and "eligible for deposit" in page


def test_report_html_shows_each_invalid_records_errors_and_the_fix_comes_first(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    good = (EXAMPLES / "01-kv-cache-web.txt").read_text()
    # Registered with a DOI, but its L1 level contradicts its 9 claims: invalid, and it carries a DOI.
    broken = (
        good.replace("SRCH:4A7C19E2", "SRCH:4A7C19E3")
        .replace("Paper levelL2, Source-grounded claims", "Paper levelL1, Literature synthesis")
        .replace("External recordNot registered", "External recordRegistered\nDOI10.5281/zenodo.1")
        .replace("Public provenanceL3, Claim aggregate record", "Public provenanceL4, External archival record")
    )
    assert broken.count("SRCH:4A7C19E3") == 1 and "External recordRegistered" in broken
    (pages / "a.txt").write_text(good)
    (pages / "b.txt").write_text(broken)
    out = tmp_path / "out"
    assert run_cli("export", pages, "--out", out, "--created", CREATED).code == 1
    entry = json.loads((out / "report.json").read_text())["records"][1]
    assert entry["valid"] is False and entry["reasons"] == ["manifest-invalid"] and entry["tier"]["computed"] is None
    assert entry["next_action"] == "fix the record's errors and export again"
    page = (out / "report.html").read_text()
    row = page[page.index("<td>SRCH:4A7C19E3<br>") - 20 :]
    row = row[: row.index("</tr>")]
    assert row.startswith('<tr class="invalid">') or 'class="invalid"' in row
    assert '<code>l1-claims</code>' in row and "must have 0 source-grounded claims" in row
    assert "fix the record&#x27;s errors and export again" in row
    assert "none: already registered" not in row


def test_same_input_gives_byte_identical_exports(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert run_cli("export", EXAMPLES, "--out", out, "--created", CREATED).code == 0
    assert tree(first) == tree(second)


def test_source_date_epoch_pins_created(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    assert run_cli("export", EXAMPLES, "--out", tmp_path / "o").code == 0
    assert json.loads((tmp_path / "o" / "datapackage.json").read_text())["created"] == "2026-05-28T20:26:40Z"


def test_seed_batch_exports_valid_records_and_reports_the_invalid_one(tmp_path, seed_dir):
    run = run_cli("export", seed_dir, "--out", tmp_path / "o", "--created", CREATED, "--json")
    assert run.code == 1
    summary = run.json()
    assert summary["totals"]["records"] == 5 and summary["totals"]["invalid"] == 1
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    (bad,) = [e for e in report["records"] if not e["valid"]]
    assert bad["id"] is None and bad["errors"][0]["code"] == "id-missing"
    assert bad["tier"]["declared"] == "Quarantine candidate"
    assert len(list((tmp_path / "o" / "manifests").iterdir())) == 4
    registered = next(e for e in report["records"] if e["id"] == "SRCH:08EA5386")
    assert registered["doi"] == "10.5281/zenodo.20432521" and registered["reasons"] == ["already-registered"]


def test_nothing_readable_exits_two_and_keeps_the_previous_export(tmp_path, example_export):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.bin").write_bytes(b"\x00\x01")
    (junk / "b.txt").write_text("")
    before = tree(example_export)
    run = run_cli("export", junk, "--out", example_export, "--created", CREATED)
    assert run.code == 2
    assert "nothing readable" in run.err
    assert tree(example_export) == before


def test_usage_errors_exit_two(tmp_path):
    assert run_cli("export", EXAMPLES).code == 2  # no --out
    assert run_cli("export", EXAMPLES, "--out", tmp_path, "--package-check", "maybe").code == 2
    (tmp_path / "file").write_text("x")
    run = run_cli("export", EXAMPLES, "--out", tmp_path / "file")
    assert run.code == 2 and "is not a directory" in run.err
    run = run_cli("export", EXAMPLES, "--out", tmp_path / "o", "--created", "yesterday")
    assert run.code == 2 and "--created" in run.err


def test_jsonl_on_stdin(tmp_path):
    data = "".join(json.dumps(synthetic.manifest(i)) + "\n" for i in range(20)).encode()
    run = run_cli("export", "-", "--out", tmp_path / "o", "--created", CREATED, "--json", stdin=data)
    assert run.code == 0, run.err
    assert run.json()["totals"]["records"] == 20


def test_duplicate_ids_are_refused_not_overwritten(tmp_path):
    first = base_manifest()
    second = base_manifest()
    second["title"] = "A different record claiming the same id"
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    run = run_cli("export", source, "--out", tmp_path / "o", "--created", CREATED)
    assert run.code == 1
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert [e["valid"] for e in report["records"]] == [True, False]
    assert report["records"][1]["errors"][0]["code"] == "duplicate-id"
    manifest = json.loads((tmp_path / "o" / "manifests" / "SRCH_0123ABCD.json").read_text())
    assert manifest["title"] == first["title"]


def test_package_check_modes(tmp_path):
    for mode in ("full", "sample", "off"):
        run = run_cli("export", EXAMPLES, "--out", tmp_path / mode, "--created", CREATED, "--package-check", mode, "--json")
        assert run.code == 0
        assert run.json()["package_check"] == mode


def test_a_failing_package_check_keeps_the_previous_export(tmp_path, monkeypatch):
    out = tmp_path / "o"
    assert run_cli("export", EXAMPLES, "--out", out, "--created", CREATED).code == 0
    before = tree(out)
    # the check runs in worker processes started afresh (no monkeypatch reaches them): its answer is set here
    monkeypatch.setattr("archiver.export.start_package_check", lambda descriptor, mode: lambda: ["records: broken [type-error]"])
    run = run_cli("export", EXAMPLES, "--out", out, "--created", "2027-01-01T00:00:00Z")
    assert run.code == 2
    assert "records: broken" in run.err
    assert tree(out) == before


def test_a_second_export_to_the_same_directory_is_refused_while_one_runs(tmp_path):
    out = tmp_path / "o"
    with ExportLock(out), pytest.raises(ArchiverError, match="another archiver process"):
        export([str(EXAMPLES)], out, policy=DEFAULT_POLICY, created=CREATED)


@pytest.mark.slow
def test_kill_9_at_any_moment_leaves_the_old_or_the_new_export(tmp_path):
    source = synthetic.write_jsonl(tmp_path / "batch.jsonl", 3000)
    out = tmp_path / "out"
    reference_new = tmp_path / "reference-new"
    command = [ARCHIVER, "export", str(source), "--quiet", "--package-check", "off"]
    subprocess.run([*command, "--out", str(out), "--created", "2026-01-01T00:00:00Z"], check=True)
    subprocess.run([*command, "--out", str(reference_new), "--created", "2026-02-02T00:00:00Z"], check=True)
    old, new = tree(out), tree(reference_new)
    assert old != new
    start = time.perf_counter()
    subprocess.run([*command, "--out", str(tmp_path / "timing"), "--created", "2026-02-02T00:00:00Z"], check=True)
    duration = time.perf_counter() - start
    rng = random.Random(7)
    outcomes = set()
    for attempt in range(10):
        process = subprocess.Popen([*command, "--out", str(out), "--created", "2026-02-02T00:00:00Z"])
        time.sleep(rng.uniform(0.05, duration * 1.1))
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = tree(out)
        assert state in (old, new), f"attempt {attempt}: a mix of old and new"
        outcomes.add("new" if state == new else "old")
        if state == new:  # go back to the old export for the next attempt
            subprocess.run([*command, "--out", str(out), "--created", "2026-01-01T00:00:00Z"], check=True)
            assert tree(out) == old
    assert "old" in outcomes  # at least one kill landed mid-export
    # the next export clears what killed runs left beside the directory
    subprocess.run([*command, "--out", str(out), "--created", "2026-02-02T00:00:00Z"], check=True)
    assert tree(out) == new
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_parallel_and_serial_exports_are_byte_identical(tmp_path):
    lines = [json.dumps(synthetic.manifest(i)) for i in range(700)]
    lines[300] = json.dumps(synthetic.manifest(5))  # a duplicate id in another chunk
    broken = synthetic.manifest(600)
    broken["review_score"] = 42
    lines[600] = json.dumps(broken)
    lines[650] = "{not json"
    source = tmp_path / "batch.jsonl"
    source.write_text("\n".join(lines) + "\n")
    outs = {}
    for jobs in ("1", "3"):
        outs[jobs] = tmp_path / f"jobs-{jobs}"
        run = run_cli("export", source, "--out", outs[jobs], "--created", CREATED, "--jobs", jobs, "--package-check", "off")
        assert run.code == 1, run.err
    assert tree(outs["1"]) == tree(outs["3"])
    report = json.loads((outs["3"] / "report.json").read_text())
    by_line = {e["source"].rsplit(":", 1)[1]: e for e in report["records"]}
    assert [e["code"] for e in by_line["301"]["errors"]] == ["duplicate-id"]
    assert by_line["301"]["reasons"][0] == "manifest-invalid"
    assert by_line["601"]["errors"][0]["code"] == "range"
    assert by_line["651"]["errors"][0]["code"] == "json-syntax"
    assert report["totals"]["invalid"] == 3 and report["totals"]["valid"] == 697


def test_jobs_must_be_a_sane_number(tmp_path):
    assert run_cli("export", EXAMPLES, "--out", tmp_path, "--jobs", "0").code == 2
    assert run_cli("export", EXAMPLES, "--out", tmp_path, "--jobs", "many").code == 2


def test_eligibility_command_text_and_json(seed_dir):
    run = run_cli("eligibility", seed_dir)
    assert run.code == 1  # page 004 has no id
    assert "SRCH:08EA5386" in run.out and "not eligible: already-registered" in run.out
    assert "computed tier: DOI grade - Review score 7.83 and verified-claim count 6 meet" in run.out
    assert ":$.id: the record has no id line" in run.out and "  error: " in run.out  # FILE:$.id: ..., one line
    report = run_cli("eligibility", seed_dir, "--json").json()
    tiers = {r["id"]: (r["tier"]["declared"], r["tier"]["computed"]) for r in report["records"]}
    assert tiers == {
        "SRCH:C157B341": ("Quarantine candidate", "Quarantine candidate"),
        "SRCH:8F12A054": ("Watchlist", None),
        "SRCH:9DC75331": ("Quarantine candidate", "Quarantine candidate"),
        "SRCH:08EA5386": ("DOI grade", "DOI grade"),
        None: ("Quarantine candidate", None),
    }


def test_eligibility_uses_the_configured_policy(tmp_path):
    config = tmp_path / "archiver.toml"
    config.write_text("doi_min_score = 9.5\n")
    report = run_cli("eligibility", EXAMPLES, "--config", config, "--json").json()
    assert all(not r["eligible"] for r in report["records"])
    bad = tmp_path / "bad.toml"
    bad.write_text("doi_min_score = 99\n")
    run = run_cli("eligibility", EXAMPLES, "--config", bad)
    assert run.code == 2 and f"{bad}:$.doi_min_score:" in run.err and "[policy-invalid]" in run.err


def test_export_off_a_terminal_prints_no_progress(tmp_path):
    result = subprocess.run(
        [ARCHIVER, "export", str(EXAMPLES), "--out", str(tmp_path / "o"), "--created", CREATED],
        capture_output=True, text=True,
    )
    assert result.returncode == 0
    assert "\r" not in result.stderr and "\r" not in result.stdout


def test_the_per_resource_check_catches_a_broken_foreign_key(tmp_path):
    from archiver.export import start_package_check

    out = tmp_path / "o"
    assert run_cli("export", EXAMPLES, "--out", out, "--created", CREATED).code == 0
    assert start_package_check(out / "datapackage.json", "full")() == []
    dims = out / "data" / "quality_dimensions.csv"
    lines = dims.read_text().splitlines()
    lines[1] = "SRCH:DEADBEEF," + lines[1].split(",", 1)[1]
    dims.write_text("\n".join(lines) + "\n")
    descriptor = json.loads((out / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        if resource["name"] == "quality_dimensions":
            data = dims.read_bytes()
            resource["bytes"], resource["hash"] = len(data), "sha256:" + hashlib.sha256(data).hexdigest()
    (out / "datapackage.json").write_text(json.dumps(descriptor))
    errors = start_package_check(out / "datapackage.json", "full")()
    assert len(errors) == 1 and errors[0].startswith("quality_dimensions:") and errors[0].endswith("[foreign-key]")
    # sample mode leaves foreign keys to full mode, but catches what its rows show
    assert start_package_check(out / "datapackage.json", "sample")() == []
    lines[2] = lines[2].rsplit(",", 1)[0] + ",HUGE"
    dims.write_text("\n".join(lines) + "\n")
    sample = start_package_check(out / "datapackage.json", "sample")()
    assert len(sample) == 1 and sample[0].startswith("quality_dimensions:") and sample[0].endswith("[constraint-error]")
    assert not list(out.glob(".sample-*"))


CHROMIUM = next((path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(path)), None)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_html_as_a_real_browser_reads_it(tmp_path):
    """The page as Chromium lays it out at 1280x800: one table row per record, the invalid record's
    error in its row and on the first screen, no horizontal scrolling, a legend, the invalid
    record's out-of-range score said so and not plotted, no Python text, the DOI linked."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for page in EXAMPLES.iterdir():
        (pages / page.name).write_bytes(page.read_bytes())
    (pages / "broken.json").write_text(json.dumps({**base_manifest(), "review_score": 12.4}))
    out = tmp_path / "out"
    assert run_cli("export", pages, "--out", out, "--created", CREATED).code == 1
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,800"]
    # the page as it is, with a probe that writes what the browser laid out into the DOM
    probe = tmp_path / "probe.html"
    probe.write_text((out / "report.html").read_text().replace("</body>", (
        "<div id=probe></div><script>var fix = document.querySelector('.fix').getBoundingClientRect();"
        "document.getElementById('probe').textContent = [document.documentElement.scrollWidth, "
        "document.documentElement.clientWidth, Math.round(fix.top), Math.round(fix.bottom)].join('x')</script></body>")))
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    width, window, fix_top, fix_bottom = map(int, re.search(r'<div id="probe">(\d+)x(\d+)x(\d+)x(\d+)</div>', dom).groups())
    assert width <= window <= 1280, f"the page is {width} px wide in a {window} px window"
    assert fix_bottom <= 800, f"the invalid records end at {fix_bottom} px: below the first screen"
    rows = dom.split("</colgroup>")[1].split("</table>")[0].split("<tr")[2:]
    assert len(rows) == 8
    (invalid,) = [row for row in rows if 'class="invalid"' in row]
    assert "SRCH:0123ABCD" in invalid and "<code>range</code>" in invalid and "12.4 (outside 0–10)" in invalid
    assert 'class="legend"' in dom and "Watchlist" in dom.split('class="legend"')[1].split("</ul>")[0]
    text = re.sub(r"<[^>]+>", " ", dom.split("<body>")[1])
    assert not re.search(r"\bNone\b", text) and "score 12.4" not in dom  # no Python text; the invalid record not plotted
    assert '<a href="https://doi.org/10.5072/zenodo.123456">' in dom
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", (out / "report.html").as_uri()], capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_one_invalid_record_among_thousands_is_shown_first_printed_and_counted(tmp_path):
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    import synthetic

    batch = tmp_path / "batch.jsonl"
    with batch.open("w") as handle:
        for index in range(1500):
            handle.write(json.dumps(synthetic.manifest(index)) + "\n")
        bad = synthetic.manifest(1500)
        bad["review_score"] = 12
        handle.write(json.dumps(bad) + "\n")
    out = tmp_path / "out"
    run = run_cli("export", batch, "--out", out, "--created", CREATED, "--quiet", "--package-check", "off")
    assert run.code == 1
    # quiet silences progress, not errors: the record is named, in the one-line form
    assert f"{batch}:1501:$.review_score:" in run.err and "[range]" in run.err
    assert "1 of 1501 record(s) invalid" in run.err
    page = (out / "report.html").read_text()
    first_row = page.index("<tr class=")
    assert page[first_row:].startswith('<tr class="invalid"><td>SRCH:000005DC<br>')  # before the 1,000 valid rows
    assert "Showing all 1 invalid records, then the first 1,000 of 1,500 valid records; 500 records are not shown" in page
    summary = json.loads((out / "report.json").read_text())["totals"]
    assert sum(summary["computed_tiers"].values()) == 1500  # the invalid record's score judged nothing


def test_a_killed_export_leaves_no_worker_process_behind(tmp_path):
    """Workers start from a fork server, never by forking a process that has threads: when the
    export is SIGKILLed, its workers and the server end too (none is left blocked on a lock)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import uuid

    sys.path.insert(0, str(REPO / "benchmarks"))
    import synthetic

    batch = synthetic.write_jsonl(tmp_path / "batch.jsonl", 20_000)
    tag = f"ARCHIVER_KILL_TEST={uuid.uuid4().hex}"
    env = {**os.environ, tag.split("=")[0]: tag.split("=")[1]}

    def tagged() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if tag.encode() in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                        found.append(int(entry))
                except OSError:
                    continue
        return found

    archiver = str(Path(sys.executable).parent / "archiver")
    for delay in (0.3, 0.8, 1.5):
        process = subprocess.Popen([archiver, "export", str(batch), "--out", str(tmp_path / f"out{delay}"), "--jobs", "2", "-q"], env=env)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 15
        while tagged() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert tagged() == [], f"processes left behind after a kill at {delay} s"


def test_a_duplicate_id_names_where_it_came_first(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("a.txt", "b.txt"):
        (pages / name).write_text((EXAMPLES / "01-kv-cache-web.txt").read_text())
    run = run_cli("export", pages, "--out", tmp_path / "out", "--created", CREATED, "--quiet")
    assert run.code == 1
    assert f"{pages / 'b.txt'}:$.id: record id SRCH:4A7C19E2 appeared earlier in this batch ({pages / 'a.txt'}) [duplicate-id]" in run.err
