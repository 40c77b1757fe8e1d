"""reporters: one reporter per output form; text streams items as they come, JSON prints one document at the end."""

from __future__ import annotations

import json

from archiver.findings import Finding
from archiver.reporters import JsonReporter, TextReporter, reporter_for


class _Result:
    path = "m.json"
    findings = [Finding("range", "12.4 is greater than 10", "$.review_score")]

    def as_dict(self) -> dict:
        return {"path": self.path, "valid": False, "errors": [f.as_dict() for f in self.findings]}


def test_the_output_form_picks_the_reporter():
    assert isinstance(reporter_for(True), JsonReporter)
    assert isinstance(reporter_for(False, quiet=True), TextReporter)


def test_text_streams_each_finding_then_a_summary_on_stderr(capsys):
    reporter = TextReporter()
    reporter.validated(_Result())
    assert capsys.readouterr().out == "m.json:$.review_score: 12.4 is greater than 10 [range]\n"  # before the end
    reporter.validate_done(files=1, invalid=1, unreadable=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "1 of 1 file invalid, 0 valid\n"


def test_json_gathers_the_items_into_one_document(capsys):
    reporter = JsonReporter()
    reporter.validated(_Result())
    assert capsys.readouterr().out == ""  # nothing until the end: one document
    reporter.validate_done(files=1, invalid=1, unreadable=0)
    document = json.loads(capsys.readouterr().out)
    assert document["valid"] is False and document["totals"] == {"files": 1, "invalid": 1, "unreadable": 0}
    assert document["files"][0]["errors"][0]["code"] == "range"


def test_status_in_both_forms(capsys):
    rows = [{"id": "SRCH:00000001", "environment": "sandbox", "attempt": 1, "state": "registered",
             "deposition_id": 7, "doi": "10.5072/zenodo.7", "last_error": None, "api": "records"}]
    drift = [{"id": "SRCH:00000001", "remote": "DOI differs"}]
    TextReporter().status(rows, drift)
    text = capsys.readouterr().out.splitlines()
    assert text == ["SRCH:00000001  sandbox  attempt 1  registered  deposition 7  10.5072/zenodo.7  records API", "drift: SRCH:00000001: DOI differs"]
    JsonReporter().status(rows, drift)
    assert json.loads(capsys.readouterr().out) == {"records": rows, "drift": drift}
    TextReporter().status([], [])
    assert capsys.readouterr().out == "no deposits recorded for this export\n"
