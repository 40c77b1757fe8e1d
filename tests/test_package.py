"""package: CSV rendering, resource descriptors, and a record's own package rendered once for export and deposit."""

from __future__ import annotations

import io
import json
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.eligibility import Facts, assess
from archiver.model import Record
from archiver.package import RECORD_MANIFEST_FILE, RESOURCE_ORDER, RESOURCES, record_package, render_record, resource_descriptor
from archiver.policy import DEFAULT_POLICY
from conftest import base_manifest

csv_cells = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t;é')), max_size=6)


@settings(max_examples=500)
@given(st.lists(st.lists(csv_cells, min_size=1, max_size=5), min_size=1, max_size=4))
def test_fast_csv_rendering_matches_the_csv_module(rows):
    import csv
    import io

    from archiver.package import render_rows

    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows(rows)
    assert render_rows(rows) == expected.getvalue()


def test_fast_csv_rendering_quotes_what_needs_quoting():
    from archiver.package import render_rows

    assert render_rows([["a", "b"]]) == "a,b\n"  # the joined fast path
    assert render_rows([["a", 'say "x"', "c,d", "e\nf"]]) == 'a,"say ""x""","c,d","e\nf"\n'
    assert render_rows([[""]]) == '""\n'  # the csv module's rule for a lone empty cell


def test_a_resource_descriptor_is_described_only_when_asked():
    described = resource_descriptor("records", "data/records.csv", 10, "ab")
    bare = resource_descriptor("records", "records.csv", 10, "ab", described=False)
    assert described["title"] == RESOURCES["records"]["title"] and "title" not in bare
    assert bare["hash"] == "sha256:ab" and bare["schema"] is RESOURCES["records"]["schema"]


def test_a_records_own_package_is_deterministic_and_holds_the_exports_rows():
    record = Record.model_validate(base_manifest())
    verdict = assess(Facts.of_record(record), DEFAULT_POLICY)
    first = record_package(record, verdict, license_id="cc-by-4.0", publisher="Assignee Research")
    assert record_package(record, verdict, license_id="cc-by-4.0", publisher="Assignee Research") == first
    archive = zipfile.ZipFile(io.BytesIO(first))
    names = archive.namelist()
    assert names == ["datapackage.json", *(f"{name}.csv" for name in RESOURCE_ORDER), RECORD_MANIFEST_FILE]
    descriptor = json.loads(archive.read("datapackage.json"))
    assert [r["name"] for r in descriptor["resources"]] == list(RESOURCE_ORDER)
    rendered = render_record(record, RECORD_MANIFEST_FILE, verdict)  # the rows the export writes
    for name, text in zip(RESOURCE_ORDER, rendered, strict=True):
        assert archive.read(f"{name}.csv").decode().endswith(text)
    assert archive.read(RECORD_MANIFEST_FILE) == record.manifest_bytes()
