"""findings: one shape for every error and warning, rendered on one line."""

from __future__ import annotations

from archiver.findings import ArchiverError, Finding, json_path


def test_findings_render_on_one_line_whatever_they_carry():
    from archiver.findings import Finding

    assert Finding("x", "two\nlines\r", "$.a\nb").render("f") == "f:$.a\\nb: two\\nlines\\r [x]"


def test_a_finding_as_data_and_paths_as_text():
    assert Finding("range", "too high", "$.review_score", 4).as_dict() == {
        "code": "range", "line": 4, "location": "$.review_score", "message": "too high",
    }
    assert "line" not in Finding("range", "too high").as_dict()
    assert json_path(["provenance", "external_record", 0, "a b", "it's"]) == "$.provenance.external_record[0]['a b']['it\\'s']"
    assert str(ArchiverError("no token", code="no-token")) == "no token [no-token]"
