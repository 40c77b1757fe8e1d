"""refresh: the export's package and reports brought in line with a deposit's registrations, once."""

from __future__ import annotations

import os

from archiver.deposit.refresh import refresh_after_deposit
from archiver.deposit.registered import RegisteredDoi
from archiver.exportdir import REPORT_JSON, ReportJsonReader, state_dir_for
from archiver.policy import DEFAULT_POLICY
from conftest import EXAMPLES, run_cli
from test_exportdir import snapshot

CREATED = "2026-11-22T00:00:00Z"


def test_refresh_after_a_deposit_registers_the_export_once(tmp_path):
    out = tmp_path / "export"
    assert run_cli("export", EXAMPLES, "--out", out, "--created", CREATED, "--quiet").code == 0
    record_id = "SRCH:4A7C19E2"
    state_dir_for(out).mkdir()
    registered = {record_id: RegisteredDoi("10.5072/zenodo.42", "10.5072/zenodo.41", None, None, 42, "sandbox")}
    refresh_after_deposit(out, registered, DEFAULT_POLICY)
    reader = ReportJsonReader(out / REPORT_JSON)
    entries = {e["id"]: e for e in reader.entries()}
    assert entries[record_id]["doi"] == "10.5072/zenodo.42"
    assert entries[record_id]["reasons"] == ["already-registered"]
    # the example SRCH:9A0B1C2D arrived registered; this one joins it
    assert reader.tail["totals"]["already_registered"] == 2
    records_csv = (out / "data" / "records.csv").read_text()
    assert "10.5072/zenodo.42,10.5072/zenodo.41,manifests/SRCH_4A7C19E2.json,42,sandbox\n" in records_csv  # DOIs, then where
    first = snapshot(out)
    inode = os.stat(out / REPORT_JSON).st_ino
    refresh_after_deposit(out, registered, DEFAULT_POLICY)
    assert snapshot(out) == first
    assert os.stat(out / REPORT_JSON).st_ino == inode  # the stamp says it was applied: not even rewritten
