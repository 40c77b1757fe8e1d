"""report: the HTML page of an export; near misses, escaping, and its bounded table."""

from __future__ import annotations

from archiver import report
from archiver.policy import DEFAULT_POLICY
from archiver.report import HtmlReport

TOTALS = {"records": 2, "valid": 1, "invalid": 1, "eligible": 0, "already_registered": 0, "computed_tiers": {"Watchlist": 1}}


def _add(page: HtmlReport, **changes) -> None:
    row = dict(
        record_id="SRCH:00000001", source="a.txt", valid=True, score=6.8, claims=6, declared="Watchlist",
        computed="Watchlist", eligible=False, reasons=["below-doi-grade"], next_action="none: not DOI grade",
    )
    row.update(changes)
    page.add(**row)


def test_a_near_miss_is_within_half_a_point_or_two_claims_of_the_bars():
    page = HtmlReport(DEFAULT_POLICY)  # DOI grade at 7.0 and 5 claims
    assert page.is_near_miss(6.6, 5, "Watchlist") and page.is_near_miss(7.2, 3, "Watchlist")
    assert not page.is_near_miss(6.4, 9, "Watchlist") and not page.is_near_miss(7.2, 2, "Watchlist")
    assert not page.is_near_miss(7.5, 9, "DOI grade") and not page.is_near_miss(None, 9, None)


def test_the_page_escapes_what_records_carry_and_marks_invalid_rows(tmp_path):
    page = HtmlReport(DEFAULT_POLICY)
    _add(page, source="<script>alert(1)</script>.txt")
    _add(page, record_id=None, valid=False, score=None, errors=[("id-missing", "no <id> line")])
    page.write(tmp_path / "report.html", TOTALS, "2026-01-01T00:00:00Z")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in text and "&lt;script&gt;" in text
    assert 'class="invalid"' in text and "no &lt;id&gt; line" in text and "<code>id-missing</code>" in text
    assert page.near_misses == 1


def test_the_table_stops_at_its_limit_but_the_counts_do_not(monkeypatch):
    monkeypatch.setattr(report, "MAX_TABLE_ROWS", 3)
    page = HtmlReport(DEFAULT_POLICY)
    for _ in range(5):
        _add(page)
    assert len(page.rows) == 3 and page.total_rows == 5 and sum(page.bins.values()) == 5
