"""The Python API returns the typed results the CLI renders, in the same words."""

from __future__ import annotations

import json

import archiver
from conftest import EXAMPLES, base_manifest, run_cli, write_json


def test_import_archiver_stays_light_and_names_its_api():
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", "import archiver, sys; print(sorted(m for m in ('pydantic', 'requests', 'frictionless') if m in sys.modules))"],
        capture_output=True, text=True, check=True,
    )
    assert loaded.stdout.strip() == "[]"
    assert set(archiver.__all__) >= {"read_records", "validate", "assess", "export_records", "deposit_records", "load_policy"}


def test_read_validate_assess_and_export_as_the_cli_does(tmp_path):
    bad = base_manifest()
    bad["review_score"] = 12
    source = write_json(tmp_path / "in" / "bad.json", bad)
    (result,) = archiver.read_records([source])
    assert result.record is None and [e.code for e in result.errors] == ["range"]
    cli = run_cli("eligibility", source)
    assert result.errors[0].render(result.source) in cli.out  # the same line the CLI prints

    good = next(iter(archiver.read_records([EXAMPLES / "01-kv-cache-web.txt"])))
    verdict = archiver.assess(good.record)
    assert verdict.computed_tier == "DOI grade" and verdict.eligible

    summary = archiver.export_records([EXAMPLES], tmp_path / "out", created="2026-01-01T00:00:00Z", jobs=1)
    assert summary.exit_code == 0 and summary.totals()["valid"] == 7
    checked = list(archiver.validate([tmp_path / "out"]))
    assert len(checked) == 7 and all(item.valid for item in checked)
    assert json.loads((tmp_path / "out" / "report.json").read_text())["totals"]["records"] == 7


def test_deposit_without_a_token_raises_the_coded_error(tmp_path, monkeypatch):
    import pytest

    import archiver.deposit  # the stage's module does not hide the API's function

    monkeypatch.delenv("ZENODO_SANDBOX_TOKEN", raising=False)
    with pytest.raises(archiver.ArchiverError) as missing:
        archiver.deposit_records(tmp_path)
    assert missing.value.code == "no-token"
