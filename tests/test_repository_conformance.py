"""The double speaking as a plain InvenioRDM repository (not Zenodo), held to InvenioRDM's own code and REST tests.

Facts from inveniosoftware/invenio-rdm-records (tests/resources/test_resources.py: create 201,
publish 202, edit 201, versions 201 with versions.index 2; config.py: DATACITE_FORMAT
"{prefix}/{id}", RDM_SORT_OPTIONS; fixtures/data/vocabularies: no "notes" description type),
invenio-pidstore (RecordIdProviderV2: base32-lib, ten characters, split every five, check digits),
invenio-records-resources (an unknown sort is a 400; pages within the 10,000-hit window),
invenio-vocabularies (GET /vocabularies/{type}/{id}) and invenio-app-rdm (25,000 an hour, 1,000 a
minute for a logged-in user). What archiver relies on when the policy names such a repository.
"""

from __future__ import annotations

import datetime as dt

import pytest

from archiver import rdm_ids
from archiver.zenodo.double import ZenodoDouble
from conftest import FakeClock
from test_records_conformance import METADATA as ZENODO_METADATA
from test_records_conformance import TOKEN, api

pytestmark = pytest.mark.e2e

# the records conformance suite's draft, with notes under InvenioRDM's own description type
METADATA = {**ZENODO_METADATA, "additional_descriptions": [{"description": "Record SRCH:0123ABCD.", "type": {"id": "other"}}]}


@pytest.fixture
def repository():
    with ZenodoDouble.as_repository(tokens={TOKEN}, index_lag=2.0, clock=FakeClock()) as running:
        yield running


def draft(repository, **changes):
    response = api(repository, "POST", "records", json={"metadata": {**METADATA, **changes}, "access": {"record": "public", "files": "public"}})
    assert response.status_code == 201, response.text
    return response.json()


def published(repository):
    created = draft(repository)
    record_id = created["id"]
    assert api(repository, "POST", f"records/{record_id}/draft/files", json=[{"key": "manifest.json"}]).status_code == 201
    assert api(repository, "PUT", f"records/{record_id}/draft/files/manifest.json/content", data=b"{}\n",
               headers={"Content-Type": "application/octet-stream"}).status_code == 200
    assert api(repository, "POST", f"records/{record_id}/draft/files/manifest.json/commit").status_code == 200
    response = api(repository, "POST", f"records/{record_id}/draft/actions/publish")
    assert response.status_code == 202, response.text
    return response.json()


def test_base32_lib_vectors_hold_for_archivers_ids():
    # base32-lib's tests/test_base32.py: encode(1234, checksum=True) == "16j82"; RecordIdProviderV2
    # pads to ten characters and splits every five
    assert rdm_ids.encode(1234) == "00000-16j82" and rdm_ids.is_record_id("00000-16j82")
    assert rdm_ids.is_record_id("q5jr8-hny72") and not rdm_ids.is_record_id("q5jr8-hny73")
    assert not rdm_ids.is_record_id("Q5JR8-HNY72") and not rdm_ids.is_record_id("12345") and not rdm_ids.is_record_id("q5jr8hny72")
    assert rdm_ids.value_of(rdm_ids.encode(2**40 - 1)) == 2**40 - 1


def test_ids_are_invenios_own_and_say_nothing_of_order_and_the_doi_is_prefix_slash_id(repository):
    first, second = draft(repository), draft(repository)
    for created in (first, second):
        assert rdm_ids.is_record_id(created["id"]) and rdm_ids.is_record_id(created["parent"]["id"])
        assert created["versions"]["index"] == 1 and created["pids"] == {}
        assert dt.datetime.fromisoformat(created["created"]).tzinfo is not None
    assert first["id"] != second["id"]
    record = published(repository)
    prefix = repository.state.doi_prefix
    assert record["pids"]["doi"]["identifier"] == f"{prefix}/{record['id']}"  # DATACITE_FORMAT's default
    assert record["parent"]["pids"]["doi"]["identifier"] == f"{prefix}/{record['parent']['id']}"
    assert "zenodo" not in record["pids"]["doi"]["identifier"]
    assert api(repository, "GET", f"records/{record['id']}").json()["id"] == record["id"]
    assert api(repository, "GET", "records/100001").status_code == 404  # a number is no id here


def test_zenodos_notes_description_type_is_refused_at_the_first_create(repository):
    response = api(repository, "POST", "records", json={"metadata": {**METADATA, "additional_descriptions": [
        {"description": "Record SRCH:0123ABCD.", "type": {"id": "notes"}}]}})
    assert response.status_code == 400 and response.json()["message"] == "Invalid value notes."
    assert repository.state.counters["create"] == 0


def test_there_is_no_legacy_deposit_api(repository):
    assert api(repository, "GET", "deposit/depositions").status_code == 404
    assert api(repository, "POST", "deposit/depositions", json={}).status_code == 404


def test_the_vocabularies_are_invenios_defaults_entry_by_entry(repository):
    licence = api(repository, "GET", "vocabularies/licenses/cc-by-4.0")
    assert licence.status_code == 200 and licence.json()["id"] == "cc-by-4.0"
    assert api(repository, "GET", "vocabularies/descriptiontypes/other").status_code == 200
    assert api(repository, "GET", "vocabularies/descriptiontypes/notes").status_code == 404  # Zenodo's addition
    assert api(repository, "GET", "vocabularies/languages/eng").status_code == 200
    assert api(repository, "GET", "vocabularies/resourcetypes/publication-report").status_code == 200
    assert api(repository, "GET", "vocabularies/nosuchtype").status_code == 404
    listed = api(repository, "GET", "vocabularies/descriptiontypes", params={"size": 100}).json()["hits"]
    assert {hit["id"] for hit in listed["hits"]} == {"abstract", "methods", "series-information", "table-of-contents", "technical-info",
                                                     "other"}


def test_searches_take_invenios_sorts_refuse_others_and_page_within_the_window(repository):
    draft(repository)
    repository.state.clock.advance(3)
    query = {"q": 'metadata.subjects.subject:("SRCH:0123ABCD")', "allversions": "true"}
    for sort in ("bestmatch", "newest", "oldest", "updated-desc", "version"):
        assert api(repository, "GET", "user/records", params={**query, "sort": sort}).status_code == 200, sort
    refused = api(repository, "GET", "user/records", params={**query, "sort": "mostrecent"})  # Zenodo's legacy name
    assert refused.status_code == 400
    assert api(repository, "GET", "user/records", params={**query, "size": 500}).status_code == 200  # no page cap of Zenodo's
    assert api(repository, "GET", "user/records", params={**query, "size": 100, "page": 101}).status_code == 400  # 10,000 hits


def test_a_new_version_has_the_next_index_and_an_edit_keeps_id_and_doi(repository):
    record = published(repository)
    version = api(repository, "POST", f"records/{record['id']}/versions")
    assert version.status_code == 201
    body = version.json()
    assert body["versions"]["index"] == 2 and body["parent"]["id"] == record["parent"]["id"] and rdm_ids.is_record_id(body["id"])
    edit = api(repository, "POST", f"records/{record['id']}/draft")
    assert edit.status_code == 201 and (edit.json()["id"], edit.json()["pids"]["doi"]["identifier"]) == (
        record["id"], record["pids"]["doi"]["identifier"])


def test_the_limits_are_invenio_app_rdms_for_a_logged_in_user(repository):
    answer = api(repository, "GET", "vocabularies/licenses/cc-by-4.0")
    assert answer.headers["X-RateLimit-Limit"] == "1000"
    assert int(answer.headers["X-RateLimit-Remaining"]) == 999
