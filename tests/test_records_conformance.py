"""The double's records API held to InvenioRDM's own REST tests and Zenodo's configuration, in this project's words.

Facts from inveniosoftware/invenio-rdm-records (tests/resources/test_resources.py: create, update,
publish, versions; the files and review tests; services/schemas/metadata.py) and zenodo/zenodo-rdm
(invenio.cfg, the DataCite provider's publisher check). The behaviours archiver relies on.
"""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from archiver.zenodo.double import ZenodoDouble
from conftest import FakeClock

pytestmark = pytest.mark.e2e

TOKEN = "tok_RECORDS_CONFORMANCE_0123456789abcdefghij"
UI_JSON = "application/vnd.inveniordm.v1+json"
AUTH = {"Authorization": f"Bearer {TOKEN}", "User-Agent": "conformance/1", "Accept": UI_JSON}
METADATA = {
    "resource_type": {"id": "publication-report"},
    "title": "A synthesis of routing methods",
    "publication_date": "2026-06-01",
    "creators": [{"person_or_org": {"type": "organizational", "name": "Assignee Research"}}],
    "description": "<p>An abstract.</p>",
    "additional_descriptions": [{"description": "Record SRCH:0123ABCD.", "type": {"id": "notes"}}],
    "rights": [{"id": "cc-by-4.0"}],
    "subjects": [{"subject": "synthesis"}, {"subject": "SRCH:0123ABCD"}],
    "languages": [{"id": "eng"}],
    "version": "1",
    "publisher": "Assignee Research",
}


@pytest.fixture
def zenodo():
    with ZenodoDouble(tokens={TOKEN}, rate_limit=1000, index_lag=2.0, clock=FakeClock()) as running:
        yield running


def api(zenodo, method, path, **kwargs):
    headers = {**AUTH, **kwargs.pop("headers", {})}
    url = path if path.startswith("http") else f"{zenodo.api_url}/{path}"
    return requests.request(method, url, headers=headers, timeout=10, **kwargs)


def draft(zenodo, metadata=None, **changes):
    body = {"metadata": {**(METADATA if metadata is None else metadata), **changes}, "access": {"record": "public", "files": "public"}}
    response = api(zenodo, "POST", "records", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def add_file(zenodo, record_id, key="manifest.json", data=b'{"a": 1}\n'):
    assert api(zenodo, "POST", f"records/{record_id}/draft/files", json=[{"key": key}]).status_code == 201
    assert api(zenodo, "PUT", f"records/{record_id}/draft/files/{key}/content", data=data,
               headers={"Content-Type": "application/octet-stream"}).status_code == 200
    return api(zenodo, "POST", f"records/{record_id}/draft/files/{key}/commit")


def published(zenodo, **changes):
    created = draft(zenodo, **changes)
    assert add_file(zenodo, created["id"]).status_code == 200
    response = api(zenodo, "POST", f"records/{created['id']}/draft/actions/publish")
    assert response.status_code == 202, response.text
    return response.json()


def test_a_draft_is_created_with_its_metadata_and_no_doi_until_publish(zenodo):
    created = draft(zenodo)
    assert created["is_published"] is False and created["status"] == "draft" and created["pids"] == {}
    assert created["metadata"] == METADATA
    assert created["id"].isdigit() and created["parent"]["id"].isdigit()
    record = published(zenodo)
    assert record["status"] == "published" and record["is_published"] is True
    assert record["pids"]["doi"]["identifier"] == f"10.5072/zenodo.{record['id']}"
    assert record["parent"]["pids"]["doi"]["identifier"] == f"10.5072/zenodo.{record['parent']['id']}"


def test_save_is_lenient_and_says_what_it_did_not_store_only_with_the_ui_json(zenodo):
    created = draft(zenodo, description="x", not_a_field="dropped")
    assert "description" not in created["metadata"] and "not_a_field" not in created["metadata"]
    fields = {error["field"] for error in created["errors"]}
    assert {"metadata.description", "metadata.not_a_field", "files.enabled"} <= fields
    plain = api(zenodo, "POST", "records", json={"metadata": {**METADATA, "description": "x"}}, headers={"Accept": "application/json"})
    assert plain.status_code == 201 and "errors" not in plain.json()  # Zenodo's plain JSON leaves the errors out ...
    assert "parent" not in plain.json() and "is_published" not in plain.json()  # ... in its older shape: archiver asks for the UI JSON


@pytest.mark.parametrize(
    ("field", "value", "refused"),
    [
        ("rights", [{"id": "cc-zero"}], "cc-zero"),  # a legacy id: the records API knows cc0-1.0
        ("languages", [{"id": "en"}], "en"),  # three-letter ids only
        ("resource_type", {"id": "publication-thesis"}, "publication-thesis"),
        ("related_identifiers", [{"identifier": "https://example.org/x", "scheme": "url", "relation_type": {"id": "isIdenticalTo"}}],
         "isIdenticalTo"),  # relation types are lower-case ids
    ],
)
def test_an_id_outside_a_vocabulary_is_a_400_at_save(zenodo, field, value, refused):
    response = api(zenodo, "POST", "records", json={"metadata": {**METADATA, field: value}})
    assert response.status_code == 400 and response.json()["message"] == f"Invalid value {refused}."


def test_an_orcid_with_a_wrong_check_digit_passes_save_and_files_and_is_refused_at_publish(zenodo):
    person = {"person_or_org": {"type": "personal", "family_name": "Carberry", "given_name": "Josiah",
                                "identifiers": [{"scheme": "orcid", "identifier": "0000-0002-1825-0098"}]}}
    created = draft(zenodo, creators=[person])
    assert add_file(zenodo, created["id"]).status_code == 200
    response = api(zenodo, "POST", f"records/{created['id']}/draft/actions/publish")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "metadata.creators.0.person_or_org.identifiers.0.identifier", "messages": ["Invalid ORCID identifier."]}
    ]


def test_without_a_publisher_save_passes_and_publish_is_refused_for_the_doi(zenodo):
    metadata = {key: value for key, value in METADATA.items() if key != "publisher"}
    created = draft(zenodo, metadata)
    assert {"field": "metadata.publisher", "messages": ["Missing publisher field required for DOI registration."]} in created["errors"]
    assert add_file(zenodo, created["id"]).status_code == 200
    response = api(zenodo, "POST", f"records/{created['id']}/draft/actions/publish")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "metadata.publisher"


def test_files_are_initialised_uploaded_and_committed_and_publish_needs_one(zenodo):
    created = draft(zenodo)
    refused = api(zenodo, "POST", f"records/{created['id']}/draft/actions/publish")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "files.enabled"
    init = api(zenodo, "POST", f"records/{created['id']}/draft/files", json=[{"key": "a.json"}, {"key": "b.zip"}])
    assert init.status_code == 201 and [e["status"] for e in init.json()["entries"]] == ["pending", "pending"]
    again = api(zenodo, "POST", f"records/{created['id']}/draft/files", json=[{"key": "a.json"}])
    assert again.status_code == 400 and again.json()["message"] == "File with key a.json already exists."
    content = api(zenodo, "PUT", f"records/{created['id']}/draft/files/a.json/content", data=b"abc",
                  headers={"Content-Type": "application/octet-stream"})
    assert content.status_code == 200 and content.json()["status"] == "pending"
    commit = api(zenodo, "POST", f"records/{created['id']}/draft/files/a.json/commit")
    assert commit.status_code == 200 and commit.json()["checksum"] == "md5:900150983cd24fb0d6963f7d28e17f72"
    empty = api(zenodo, "POST", f"records/{created['id']}/draft/files/b.zip/commit")
    assert empty.status_code == 400 and empty.json()["message"] == "Empty files are not accepted."
    assert api(zenodo, "DELETE", f"records/{created['id']}/draft/files/b.zip").status_code == 204
    assert [e["key"] for e in api(zenodo, "GET", f"records/{created['id']}/draft/files").json()["entries"]] == ["a.json"]


def test_versions_answer_the_open_draft_without_files_version_or_old_date(zenodo):
    record = published(zenodo)
    first = api(zenodo, "POST", f"records/{record['id']}/versions")
    assert first.status_code == 201
    new = first.json()
    assert new["id"] != record["id"] and new["parent"]["id"] == record["parent"]["id"] and not new["is_published"]
    assert new["files"]["entries"] == {} and "version" not in new["metadata"]
    assert new["metadata"]["publication_date"] == dt.datetime.now(dt.UTC).date().isoformat()
    second = api(zenodo, "POST", f"records/{record['id']}/versions")
    assert second.status_code == 201 and second.json()["id"] == new["id"]  # one draft per concept


def test_a_deleted_draft_is_gone_and_a_published_record_has_no_draft_to_delete(zenodo):
    created = draft(zenodo)
    assert api(zenodo, "DELETE", f"records/{created['id']}/draft").status_code == 204
    assert api(zenodo, "GET", f"records/{created['id']}/draft").status_code == 404
    record = published(zenodo)
    assert api(zenodo, "DELETE", f"records/{record['id']}/draft").status_code == 404
    assert api(zenodo, "GET", f"records/{record['id']}").status_code == 200


def test_the_owners_records_are_searched_by_subject_with_drafts_after_the_index_refreshes(zenodo):
    record = published(zenodo)
    other = draft(zenodo, subjects=[{"subject": "SRCH:99999999"}])
    query = {"q": 'metadata.subjects.subject:("SRCH:0123ABCD" OR "SRCH:99999999")', "allversions": "true", "size": 100}
    assert api(zenodo, "GET", "user/records", params=query).json()["hits"]["total"] == 0  # not indexed yet
    zenodo.state.clock.advance(3)
    found = api(zenodo, "GET", "user/records", params=query).json()["hits"]
    assert found["total"] == 2 and {hit["id"] for hit in found["hits"]} == {record["id"], other["id"]}
    assert {hit["id"]: hit["is_published"] for hit in found["hits"]} == {record["id"]: True, other["id"]: False}
    assert api(zenodo, "GET", "user/records", params={**query, "size": 101}).status_code == 400


def test_a_draft_submitted_to_a_community_waits_for_its_review_then_is_published_by_the_acceptance(zenodo):
    community = zenodo.state.add_community("assignee-research")
    assert api(zenodo, "GET", "communities/assignee-research").json()["id"] == community
    assert api(zenodo, "GET", "communities/nobody").status_code == 404
    created = draft(zenodo)
    assert add_file(zenodo, created["id"]).status_code == 200
    review = api(zenodo, "PUT", f"records/{created['id']}/draft/review",
                 json={"receiver": {"community": community}, "type": "community-submission"})
    assert review.status_code == 200 and review.json()["status"] == "created"
    submitted = api(zenodo, "POST", f"records/{created['id']}/draft/actions/submit-review", json={"payload": {"content": "please"}})
    assert submitted.status_code == 202 and submitted.json()["status"] == "submitted"
    waiting = api(zenodo, "GET", f"records/{created['id']}/draft").json()
    assert waiting["status"] == "in_review" and waiting["parent"]["review"]["status"] == "submitted"
    direct = api(zenodo, "POST", f"records/{created['id']}/draft/actions/publish")
    assert direct.status_code == 400  # a draft under review is published by the community, not by its owner
    assert requests.post(f"{zenodo.url}/_double/review", timeout=10, json={"record_id": created["id"], "accept": True}).json() == {"ok": True}
    record = api(zenodo, "GET", f"records/{created['id']}").json()
    assert record["is_published"] and record["parent"]["communities"]["ids"] == [community]


def test_a_curator_of_an_open_community_includes_directly(zenodo):
    community = zenodo.state.add_community("open-one", review_policy="open", curator=True)
    created = draft(zenodo)
    assert add_file(zenodo, created["id"]).status_code == 200
    api(zenodo, "PUT", f"records/{created['id']}/draft/review", json={"receiver": {"community": community}, "type": "community-submission"})
    submitted = api(zenodo, "POST", f"records/{created['id']}/draft/actions/submit-review", json={"payload": {"content": "x"}})
    assert submitted.status_code == 202 and submitted.json()["status"] == "accepted"
    assert api(zenodo, "GET", f"records/{created['id']}").json()["is_published"] is True


def test_both_apis_see_one_store(zenodo):
    """A draft made through the records API is a deposition of the legacy API, and the other way round."""
    created = draft(zenodo)
    legacy = api(zenodo, "GET", f"deposit/depositions/{created['id']}").json()
    assert legacy["metadata"]["keywords"] == ["synthesis", "SRCH:0123ABCD"] and legacy["submitted"] is False
    assert legacy["metadata"]["creators"] == [{"name": "Assignee Research"}]
    made = api(zenodo, "POST", "deposit/depositions", json={"metadata": {"title": "Old API", "keywords": ["k"], "creators": [{"name": "Doe, Jane"}]}}).json()
    seen = api(zenodo, "GET", f"records/{made['id']}/draft").json()
    assert seen["metadata"]["subjects"] == [{"subject": "k"}]
    assert seen["metadata"]["creators"][0]["person_or_org"] == {"type": "personal", "family_name": "Doe", "given_name": "Jane"}
    assert seen["metadata"]["publisher"] == "Zenodo"  # what the legacy API gives DataCite


def test_an_edit_of_a_published_record_keeps_its_id_doi_and_files_until_published(zenodo):
    """invenio-drafts-resources' edit, update_draft and publish of a published record (its
    test_create_publish_new_revision; rdm-records' edit_published test): the edit is the record's
    own draft (same id, is_published and is_draft), made again it is the same draft; while it is
    open the record shows what is published and the draft's files are locked; publish keeps the
    id and the DOI."""
    record = published(zenodo)
    record_id, doi = record["id"], record["pids"]["doi"]["identifier"]
    assert api(zenodo, "GET", f"records/{record_id}/draft").status_code == 404  # no edit open
    edit = api(zenodo, "POST", f"records/{record_id}/draft")
    assert edit.status_code == 201
    body = edit.json()
    assert (body["id"], body["is_published"], body["is_draft"], body["pids"]["doi"]["identifier"]) == (record_id, True, True, doi)
    again = api(zenodo, "POST", f"records/{record_id}/draft")
    assert again.status_code == 201 and again.json()["revision_id"] == body["revision_id"]  # the open edit, not another
    changed = {**body["metadata"], "title": "An edited title"}
    saved = api(zenodo, "PUT", f"records/{record_id}/draft", json={"metadata": changed, "access": body["access"]})
    assert saved.status_code == 200 and saved.json()["metadata"]["title"] == "An edited title"
    assert api(zenodo, "GET", f"records/{record_id}").json()["metadata"]["title"] != "An edited title"
    locked = api(zenodo, "POST", f"records/{record_id}/draft/files", json=[{"key": "more.txt"}])
    assert locked.status_code == 403 and locked.json()["message"] == "Bucket is locked for modifications."
    done = api(zenodo, "POST", f"records/{record_id}/draft/actions/publish")
    assert done.status_code == 202
    assert (done.json()["id"], done.json()["pids"]["doi"]["identifier"], done.json()["metadata"]["title"]) == (record_id, doi, "An edited title")
    assert [f.filename for f in zenodo.state.depositions[int(record_id)].files] == ["manifest.json"]
    assert zenodo.state.counters["newversion"] == 0 and zenodo.state.counters["publish_edit"] == 1
    assert api(zenodo, "POST", f"records/{record_id}/draft/actions/publish").status_code == 404  # nothing left to publish


def test_an_edit_discarded_leaves_the_record_as_published(zenodo):
    """DELETE /records/{id}/draft of a published record: 204, the edit dropped (delete_draft soft-deletes it)."""
    record = published(zenodo)
    record_id = record["id"]
    edit = api(zenodo, "POST", f"records/{record_id}/draft").json()
    api(zenodo, "PUT", f"records/{record_id}/draft", json={"metadata": {**edit["metadata"], "title": "Not kept"}})
    assert api(zenodo, "DELETE", f"records/{record_id}/draft").status_code == 204
    assert api(zenodo, "GET", f"records/{record_id}").json()["metadata"]["title"] == record["metadata"]["title"]
    assert api(zenodo, "GET", f"records/{record_id}/draft").status_code == 404
    assert api(zenodo, "DELETE", f"records/{record_id}/draft").status_code == 404  # nothing to discard
