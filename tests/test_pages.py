"""pages: one table of labels reads both layouts, and every bad value of a page is reported."""

from __future__ import annotations

from pydantic import BaseModel

from archiver.model import Record
from archiver.pages import PAGE_FIELDS, Page, read_page
from archiver.readers import parse_bytes
from test_readers import page

PIPE_PAGE = """SRCH:ABCDEF01
A Short Synthesis Title
Submitted: 2 June 2026
Review score: 6.20/10
Abstract
Abstract: Body of the abstract.
Research Question
A Short Synthesis Title and a longer question?
Verification Level
| Paper level | L2, Source-grounded claims | |
| Source-grounded claims | 4 | |
| Claim record source | parsed source sections |
Quality Tier
| Tier | Watchlist | |
| Basis | Review score or public verified-claim signal is below DOI-grade threshold. |
Quality Dimensions
| Evidence strength | LOW | |
Correction Record
| Status | CURRENT |
| Correction count | 0 |
| Manifest contract | paper-manifest-v1.1 |
| Correction contract | correction-record-v1 |
Provenance
| Publisher | Assignee Research |
| Public provenance | L3, Claim aggregate record |
| Report artifact | Available |
| External record | Not registered |
| Provenance contract | source-provenance-v1 |
"""


def _model_has(path: tuple[str, ...]) -> bool:
    model: type[BaseModel] | None = Record
    for key in path:
        if model is None or key not in model.model_fields:
            return False
        annotation = model.model_fields[key].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return True


def test_every_label_of_the_table_fills_a_field_the_model_has():
    assert [field for field in PAGE_FIELDS if not _model_has(field.path)] == []


def test_both_layouts_read_through_the_same_table_to_the_same_data():
    web = read_page(Page(page().decode()))
    pipe = read_page(Page(PIPE_PAGE))
    assert web.errors == pipe.errors == []
    assert Page(PIPE_PAGE).layout == "pipe-table" and Page(page().decode()).layout == "web-text"
    web_without_header_echo = dict(web.raw)
    web_without_header_echo.pop("gate")  # the web page's header names a Gate status; the pipe page has none
    assert pipe.raw == web_without_header_echo
    assert pipe.lines["$.verification.source_grounded_claims"] == 11
    assert web.lines["$.verification.source_grounded_claims"] == 24


def test_every_bad_value_of_a_page_is_reported_not_just_the_first():
    data = (
        page(score="eleven", claims="three", tier="Gold")
        .replace(b"Submitted: 2 June 2026", b"Submitted: 31 Juneteenth 2026")
        .replace(b"Correction count0", b"Correction countnone")
        .replace(b"Provenance contractsource-provenance-v1", b"Provenance contractsource-provenance-v7")
    )
    [result] = parse_bytes(data, "t.txt")
    found = {(f.code, f.location) for f in result.errors}
    assert found == {
        ("date-invalid", "$.submitted"),
        ("score-invalid", "$.review_score"),
        ("not-a-number", "$.verification.source_grounded_claims"),
        ("not-a-number", "$.correction_record.correction_count"),
        ("contract-unsupported", "$.provenance.contract"),
        ("enum", "$.quality_tier.tier"),  # the model's verdict on a value the page did convert
    }
    assert all(f.line is not None for f in result.errors)
    assert result.record is None and result.record_id == "SRCH:ABCDEF01"


def test_a_value_that_could_not_be_read_is_not_also_reported_as_missing():
    [result] = parse_bytes(page(claims="three"), "t.txt")
    assert [(f.code, f.location) for f in result.errors] == [("not-a-number", "$.verification.source_grounded_claims")]
