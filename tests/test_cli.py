"""The command line: `archiver validate` and `archiver manifest` output lines, JSON report, exit codes, and a lean import graph."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import base_manifest, run_cli, write_json

pytestmark = pytest.mark.e2e  # an end-to-end suite: `pytest -m 'not e2e'` runs the unit tests alone


def test_valid_files_exit_zero(tmp_path):
    write_json(tmp_path / "m" / "a.json", base_manifest())
    run = run_cli("validate", tmp_path / "m")
    assert run.code == 0
    assert run.out.strip() == "ok: 1 file valid"


def test_each_problem_prints_file_path_message_and_code(tmp_path):
    bad = base_manifest()
    bad["review_score"] = 12.4
    bad["correction_record"]["correction_count"] = 1
    path = write_json(tmp_path / "bad.json", bad)
    run = run_cli("validate", path)
    assert run.code == 1
    lines = run.out.strip().splitlines()
    assert f"{path}:$.review_score: 12.4 is greater than the maximum of 10 [range]" in lines
    assert f"{path}:$.correction_record: correction count is 1 but 0 corrections are listed [correction-count]" in lines


def test_json_report_is_machine_readable(tmp_path):
    good = write_json(tmp_path / "good.json", base_manifest())
    bad_doc = base_manifest()
    bad_doc["gate"] = {"status": "VERIFIED"}
    bad = write_json(tmp_path / "bad.json", bad_doc)
    run = run_cli("validate", "--format", "json", good, bad)
    assert run.code == 1
    report = run.json()
    assert report["valid"] is False
    assert report["totals"] == {"files": 2, "invalid": 1, "unreadable": 0}
    by_path = {f["path"]: f for f in report["files"]}
    assert by_path[str(good)]["valid"] is True
    (error,) = by_path[str(bad)]["errors"]
    assert error == {
        "code": "verified-needs-artifact",
        "location": "$.gate",
        "message": "Gate 2 status VERIFIED requires a reproducible artifact reference (gate.artifact)",
    }


def test_a_file_that_is_not_json_is_invalid_and_a_missing_one_unreadable(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    run = run_cli("validate", tmp_path / "broken.json")
    assert run.code == 1  # an invalid input, not a bad command: CI reads it as "fix the file"
    assert "[json-syntax]" in run.out and run.err == "1 of 1 file invalid, 0 valid\n"
    missing = run_cli("validate", tmp_path / "missing.json", tmp_path / "broken.json")
    assert missing.code == 2  # a path that cannot be read: the command could not do its work
    assert "[unreadable]" in missing.out and missing.err == "1 of 2 files invalid, 1 unreadable, 0 valid\n"


def test_validate_given_an_export_reads_its_manifests_only(tmp_path):
    from conftest import EXAMPLES

    out = tmp_path / "export"
    assert run_cli("export", EXAMPLES, "--out", out, "--quiet").code == 0
    run = run_cli("validate", out)
    assert run.code == 0 and run.out.startswith("ok: 7 files valid")
    assert run.err == f"note: {out} is an archiver export: validating its manifests/ only, not archiver's own files\n"


def test_usage_errors_exit_two(tmp_path):
    assert run_cli("validate").code == 2
    assert run_cli("validate", "--format", "xml", tmp_path).code == 2
    assert run_cli("validate", tmp_path).code == 2  # an empty directory holds no manifest


def test_contract_field_picks_the_schema(tmp_path):
    provenance = base_manifest()["provenance"]
    good = write_json(tmp_path / "prov.json", provenance)
    assert run_cli("validate", good).code == 0
    provenance["public_provenance"]["level"] = "L4"
    bad = write_json(tmp_path / "prov-bad.json", provenance)
    run = run_cli("validate", bad)
    assert run.code == 1
    assert "[l4-without-registration]" in run.out
    unknown = write_json(tmp_path / "x.json", {"contract": "nope-v1"})
    assert "[contract-unknown]" in run_cli("validate", unknown).out
    missing = write_json(tmp_path / "y.json", {"id": "SRCH:0123ABCD"})
    assert "[contract-missing]" in run_cli("validate", missing).out


def test_code_rules_report_in_the_schema_error_shape(tmp_path):
    doc = base_manifest()
    doc["submitted"] = "2026-02-30"
    run = run_cli("validate", write_json(tmp_path / "d.json", doc))
    assert run.code == 1
    assert "$.submitted: '2026-02-30' is not a real calendar date (YYYY-MM-DD) [date-invalid]" in run.out


def test_validate_does_not_import_other_stages_dependencies(tmp_path):
    path = write_json(tmp_path / "a.json", base_manifest())
    probe = (
        "import sys; from archiver.cli import main; code = main(['validate', '-q', sys.argv[1]]);"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'frictionless', 'requests', 'jsonschema', 'rfc3987_syntax', 'lark', 'urllib3'));"
        "print(heavy); raise SystemExit(code)"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_python_dash_m_works(tmp_path):
    path = write_json(tmp_path / "a.json", base_manifest())
    result = subprocess.run([sys.executable, "-m", "archiver", "validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.strip() == "ok: 1 file valid"


def test_manifest_command_prints_and_writes(tmp_path):
    source = write_json(tmp_path / "in" / "r.json", base_manifest())
    run = run_cli("manifest", source)
    assert run.code == 0
    assert json.loads(run.out) == base_manifest()
    out = tmp_path / "out"
    run = run_cli("manifest", source, "--out", out)
    assert run.code == 0
    assert json.loads((out / "SRCH_0123ABCD.json").read_text()) == base_manifest()


def test_manifest_prints_jsonl_and_reads_a_page_on_standard_input(tmp_path, seed_dir):
    write_json(tmp_path / "in" / "a.json", base_manifest())
    write_json(tmp_path / "in" / "b.json", {**base_manifest(), "id": "SRCH:0123ABCE"})
    run = run_cli("manifest", tmp_path / "in")
    assert run.code == 0
    assert [json.loads(line)["id"] for line in run.out.splitlines()] == ["SRCH:0123ABCD", "SRCH:0123ABCE"]
    page = (seed_dir / "000_26414e9198898de5.txt").read_bytes()
    piped = run_cli("eligibility", "-", "--json", stdin=page)
    assert piped.code in (0, 1) and "json-syntax" not in piped.out
    (record,) = piped.json()["records"]
    assert record["id"].startswith("SRCH:") and record["source"] == "<stdin>"


def test_manifest_command_reports_bad_records_and_keeps_going(tmp_path):
    write_json(tmp_path / "in" / "a.json", base_manifest())
    (tmp_path / "in" / "b.txt").write_text("")
    run = run_cli("manifest", tmp_path / "in")
    assert run.code == 1
    assert "[empty-input]" in run.err
    assert json.loads(run.out)["id"] == "SRCH:0123ABCD"


def test_empty_input_and_numbers_beyond_a_double_are_coded_one_line_errors(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps(base_manifest()).replace('"review_score": 7.5', '"review_score": 1e400'))
    run = run_cli("validate", empty, huge)
    assert run.code == 1 and run.err == "2 of 2 files invalid, 0 valid\n"
    lines = run.out.strip().splitlines()
    assert lines[0] == f"{empty}:$: the input is empty [empty-input]"
    assert lines[1].startswith(f"{huge}:$: the number 1e400 is too large for a double") and lines[1].endswith("[json-syntax]")


def test_every_command_option_and_argument_has_help():
    import argparse

    from archiver.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in commands.choices.items():
        assert sub.description, f"{name} has no description"
        assert "Exit 0" in sub.description or name == "zenodo-double", f"{name} does not state its exit codes"
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_every_command_ends_with_a_line_that_accounts_for_every_record(tmp_path):
    from conftest import EXAMPLES

    bad = base_manifest()
    bad["review_score"] = 12
    source = write_json(tmp_path / "in" / "bad.json", bad)
    eligibility = run_cli("eligibility", EXAMPLES, source)
    assert eligibility.code == 1 and eligibility.err.splitlines()[-1] == "8 records: 3 eligible for deposit, 4 not eligible, 1 invalid"
    assert run_cli("eligibility", EXAMPLES, source, "--json").json()["totals"] == {"records": 8, "eligible": 3, "not_eligible": 4, "invalid": 1}
    manifest = run_cli("manifest", EXAMPLES, source)
    assert manifest.code == 1 and manifest.err.splitlines()[-1] == "8 records: 7 manifests printed, 1 invalid"
    assert len(manifest.out.splitlines()) == 7
    missing = run_cli("status", tmp_path / "nowhere")
    assert missing.code == 2 and "does not exist [usage]" in missing.err
