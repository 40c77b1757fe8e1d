"""The double held to Zenodo's own legacy deposit REST tests and server code, in this project's words.

Each scenario names where its facts come from in zenodo/zenodo-rdm (site/tests/legacy/deposits/
test_api_simpleflow.py and test_api_metadata.py, site/zenodo_rdm/legacy/) or invenio-rdm-records
and invenio-app; the facts carry over, the code does not. They are the behaviours archiver relies on.
"""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from archiver.zenodo.double import ZenodoDouble
from conftest import FakeClock

pytestmark = pytest.mark.e2e  # an end-to-end suite: `pytest -m 'not e2e'` runs the unit tests alone

TOKEN = "tok_CONFORMANCE_0123456789abcdefghijklmnop"
AUTH = {"Authorization": f"Bearer {TOKEN}", "User-Agent": "conformance/1"}
METADATA = {
    "title": "A synthesis of routing methods", "upload_type": "publication", "publication_type": "report",
    "publication_date": "2026-06-01", "description": "<p>An abstract.</p>", "creators": [{"name": "Doe, Jane"}],
    "access_right": "open", "license": "cc-by-4.0", "keywords": ["synthesis", "SRCH:0123ABCD"],
    "notes": "Record SRCH:0123ABCD. archiver deposit key: SRCH:0123ABCD/sandbox/v1/0123456789abcdef",
    "version": "1", "language": "eng",
}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def zenodo(clock):
    with ZenodoDouble(tokens={TOKEN}, rate_limit=1000, index_lag=2.0, clock=clock) as running:
        yield running


def api(zenodo, method, path, **kwargs):
    headers = {**AUTH, **kwargs.pop("headers", {})}
    url = path if path.startswith("http") else f"{zenodo.api_url}/{path}"
    return requests.request(method, url, headers=headers, timeout=10, **kwargs)


def create(zenodo, metadata=None):
    response = api(zenodo, "POST", "deposit/depositions", json={"metadata": dict(METADATA if metadata is None else metadata)})
    assert response.status_code == 201, response.text
    return response.json()


def upload(zenodo, deposition, name="manifest.json", data=b'{"a": 1}\n'):
    return api(zenodo, "PUT", f"{deposition['links']['bucket']}/{name}", data=data,
               headers={"Content-Type": "application/octet-stream"})


def published(zenodo):
    deposition = create(zenodo)
    assert upload(zenodo, deposition).status_code == 201
    response = api(zenodo, "POST", deposition["links"]["publish"])
    assert response.status_code == 202, response.text
    return response.json()


def listed(zenodo, clock, query=None, size=None, **extra):
    clock.advance(5)  # past the index lag
    params = {**({"q": query} if query else {}), **({"size": size} if size else {}), **extra}
    response = api(zenodo, "GET", "deposit/depositions", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------- lifecycle (test_api_simpleflow)


def test_simple_flow_create_upload_publish_and_a_published_record_is_closed(zenodo):
    anonymous = requests.post(f"{zenodo.api_url}/deposit/depositions", json={}, timeout=10)
    assert anonymous.status_code == 403
    deposition = create(zenodo)
    assert api(zenodo, "GET", deposition["links"]["self"]).status_code == 200
    stored = upload(zenodo, deposition)
    assert stored.status_code == 201 and stored.json()["checksum"].startswith("md5:")
    done = api(zenodo, "POST", deposition["links"]["publish"])
    assert done.status_code == 202
    body = done.json()
    assert body["doi"] == f"10.5072/zenodo.{deposition['id']}" and body["state"] == "done" and body["submitted"] is True
    assert body["links"]["latest_draft"] == deposition["links"]["self"]  # a published record names itself
    assert api(zenodo, "POST", deposition["links"]["publish"]).status_code == 404
    assert api(zenodo, "PUT", deposition["links"]["self"], json={"metadata": METADATA}).status_code == 404
    assert api(zenodo, "DELETE", deposition["links"]["self"]).status_code == 404


def test_simple_delete(zenodo, clock):
    deposition = create(zenodo)
    assert len(listed(zenodo, clock)) == 1
    assert api(zenodo, "DELETE", deposition["links"]["self"]).status_code == 204
    assert listed(zenodo, clock) == []
    assert api(zenodo, "DELETE", deposition["links"]["self"]).status_code == 404


def test_invalid_create_names_the_unknown_top_level_field_and_creates_nothing(zenodo, clock):
    response = api(zenodo, "POST", "deposit/depositions", json={"metadata": METADATA, "id": 1})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "id", "messages": ["Unknown field."]}]
    assert listed(zenodo, clock) == []


def test_full_metadata_sent_at_create_comes_back_on_read(zenodo):
    deposition = create(zenodo, {**METADATA, "not_a_legacy_key": "dropped"})
    read = api(zenodo, "GET", deposition["links"]["self"]).json()["metadata"]
    assert {key: read[key] for key in METADATA} == METADATA
    assert "not_a_legacy_key" not in read  # unknown keys inside metadata are dropped, silently


def test_every_creator_is_a_person(zenodo):
    deposition = create(zenodo, {**METADATA, "creators": [{"name": "Assignee Research", "type": "organizational"}]})
    assert api(zenodo, "GET", deposition["links"]["self"]).json()["metadata"]["creators"] == [{"name": "Assignee Research"}]


@pytest.mark.parametrize(("field", "value"), [("title", "AB"), ("notes", "ok")])
def test_title_and_notes_under_three_characters_are_refused_only_at_publish(zenodo, field, value):
    deposition = create(zenodo, {**METADATA, field: value})  # save is lenient: the create passes
    assert upload(zenodo, deposition).status_code == 201
    response = api(zenodo, "POST", deposition["links"]["publish"])
    assert response.status_code == 400
    assert {"field": f"metadata.{field}", "messages": ["Missing data for required field."]} in response.json()["errors"]


def test_a_description_under_three_characters_is_dropped_at_save_and_the_record_publishes_without_one(zenodo):
    deposition = create(zenodo, {**METADATA, "description": "x"})
    assert "description" not in api(zenodo, "GET", deposition["links"]["self"]).json()["metadata"]
    assert upload(zenodo, deposition).status_code == 201
    published = api(zenodo, "POST", deposition["links"]["publish"])
    assert published.status_code == 202 and "description" not in published.json()["metadata"]


def test_an_orcid_with_a_wrong_check_digit_passes_save_and_upload_and_is_refused_at_publish(zenodo):
    creators = [{"name": "Carberry, Josiah", "orcid": "0000-0002-1825-0098"}]
    deposition = create(zenodo, {**METADATA, "creators": creators})
    assert upload(zenodo, deposition).status_code == 201
    response = api(zenodo, "POST", deposition["links"]["publish"])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "metadata.creators.0.person_or_org.identifiers.0.identifier", "messages": ["Invalid ORCID identifier."]}
    ]


@pytest.mark.parametrize(("sent", "read"), [("cc0-1.0", "cc-zero"), ("mit", "mit-license"), ("apache-2.0", "apache2.0"),
                                            ("odc-by-1.0", "odc-by"), ("cc-by-4.0", "cc-by-4.0"), ("CC-BY", "cc-by-4.0")])
def test_licence_ids_read_back_as_the_legacy_serializer_names_them(zenodo, sent, read):
    deposition = create(zenodo, {**METADATA, "license": sent})
    assert api(zenodo, "GET", deposition["links"]["self"]).json()["metadata"]["license"] == read


@pytest.mark.parametrize(("field", "value"), [("license", "not-a-licence"), ("language", "en")])
def test_unknown_licence_and_language_ids_are_refused_at_save(zenodo, field, value):
    response = api(zenodo, "POST", "deposit/depositions", json={"metadata": {**METADATA, field: value}})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == f"metadata.{field}"


def test_publish_needs_a_file_and_empty_files_are_refused(zenodo):
    deposition = create(zenodo)
    response = api(zenodo, "POST", deposition["links"]["publish"])
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "files.enabled"
    empty = upload(zenodo, deposition, data=b"")
    assert empty.status_code == 400 and empty.json() == {"status": 400, "message": "Empty files are not accepted."}


# ---------------------------------------------------------------------------- related identifiers (test_api_metadata)


@pytest.mark.parametrize(
    ("related", "field", "message"),
    [
        ({"identifier": "x"}, "metadata.related_identifiers", "related_identifiers must be a list"),
        (["x"], "metadata.related_identifiers.0", "Each related identifier must be an object"),
        ([{"identifier": "10.5072/x", "relation": 7}], "metadata.related_identifiers.0.relation", "relation must be a string"),
        ([{"identifier": "SRCH:9DC75331", "relation": "isIdenticalTo"}], "metadata.related_identifiers.scheme",
         "No valid scheme recognized for identifier."),
    ],
    ids=["not-a-list", "not-an-object", "relation-not-a-string", "no-scheme"],
)
def test_malformed_related_identifiers_are_refused_on_create_and_put(zenodo, related, field, message):
    for response in (
        api(zenodo, "POST", "deposit/depositions", json={"metadata": {**METADATA, "related_identifiers": related}}),
        api(zenodo, "PUT", create(zenodo)["links"]["self"], json={"metadata": {**METADATA, "related_identifiers": related}}),
    ):
        assert response.status_code == 400
        assert response.json()["errors"] == [{"field": field, "messages": [message]}]


@pytest.mark.parametrize(
    "identifier",
    ["https://example.org/records/SRCH:9DC75331", "10.5072/zenodo.123", "urn:srch:9DC75331", "arXiv:2101.00001"],
)
def test_identifiers_idutils_classifies_pass(zenodo, identifier):
    deposition = create(zenodo, {**METADATA, "related_identifiers": [{"identifier": identifier, "relation": "isIdenticalTo"}]})
    assert deposition["metadata"]["related_identifiers"][0]["identifier"] == identifier


# ---------------------------------------------------------------------------- versions (test_versioning_rest_flow)


def test_newversion_answers_with_the_new_draft_its_files_imported(zenodo):
    record = published(zenodo)
    response = api(zenodo, "POST", record["links"]["newversion"])
    assert response.status_code == 201
    draft = response.json()
    assert draft["id"] != record["id"] and draft["conceptrecid"] == record["conceptrecid"]
    assert draft["state"] == "unsubmitted" and draft["submitted"] is False
    assert draft["links"]["latest_draft"] == draft["links"]["self"]
    assert [f["filename"] for f in draft["files"]] == ["manifest.json"]
    assert "version" not in draft["metadata"] and "doi" not in draft
    assert draft["metadata"]["publication_date"] == dt.datetime.now(dt.UTC).date().isoformat()
    again = api(zenodo, "GET", record["links"]["self"]).json()
    assert again["links"]["latest_draft"] == record["links"]["self"]  # never the open draft


def test_one_draft_per_concept_a_second_newversion_is_refused_while_it_holds_files(zenodo):
    record = published(zenodo)
    draft = api(zenodo, "POST", record["links"]["newversion"]).json()
    second = api(zenodo, "POST", record["links"]["newversion"])
    assert second.status_code == 400
    assert second.json()["errors"] == [{"field": "files.enabled", "messages": ["Please remove all files first."]}]
    for stored in draft["files"]:
        assert api(zenodo, "DELETE", f"deposit/depositions/{draft['id']}/files/{stored['id']}").status_code == 204
    third = api(zenodo, "POST", record["links"]["newversion"])
    assert third.status_code == 201 and third.json()["id"] == draft["id"] and len(third.json()["files"]) == 1


# ---------------------------------------------------------------------------- the list (legacy search)


def test_the_list_searches_field_queries_and_honours_size(zenodo, clock):
    first = create(zenodo)
    other = create(zenodo, {**METADATA, "notes": "Record SRCH:0123ABCE.", "keywords": ["SRCH:0123ABCE"]})
    hits = listed(zenodo, clock, 'notes:"SRCH:0123ABCD/sandbox/v1/0123456789abcdef"')
    assert [entry["id"] for entry in hits] == [first["id"]]
    assert all("bucket" not in entry["links"] for entry in hits)
    assert [e["id"] for e in listed(zenodo, clock, f'conceptrecid:"{other["conceptrecid"]}"')] == [other["id"]]
    assert [e["id"] for e in listed(zenodo, clock, '"SRCH:0123ABCE"')] == [other["id"]]  # a bare phrase: every field
    assert listed(zenodo, clock, "SRCH:0123ABCE") == []  # unquoted, "SRCH" reads as a field name
    assert len(listed(zenodo, clock, size=1)) == 1
    assert api(zenodo, "GET", "deposit/depositions", params={"size": 101}).status_code == 400


# The list endpoint (LegacyRecordResource -> search_drafts with ZENODO_LEGACY_SEARCH_MAP in
# site/zenodo_rdm/queryparser.py and QueryParser in invenio-records-resources): facts from the code.


def test_keywords_map_to_subjects_and_an_or_group_finds_many_records_in_one_request(zenodo, clock):
    ids = [f"SRCH:0000{n:04X}" for n in range(5)]
    made = {record_id: create(zenodo, {**METADATA, "keywords": ["synthesis", record_id]})["id"] for record_id in ids}
    group = " OR ".join(f'"{record_id}"' for record_id in ids[:3])
    hits = listed(zenodo, clock, f"keywords:({group})")
    assert sorted(entry["id"] for entry in hits) == sorted(made[record_id] for record_id in ids[:3])
    # the map applies inside groups and beside other fields; AND binds tighter than OR
    mixed = listed(zenodo, clock, f'(keywords:"{ids[3]}" AND title:routing) OR keywords:"{ids[4]}"')
    assert sorted(entry["id"] for entry in mixed) == sorted([made[ids[3]], made[ids[4]]])
    assert listed(zenodo, clock, f'keywords:"{ids[3]}" AND NOT title:routing') == []


def test_a_keyword_phrase_matches_words_not_the_whole_keyword(zenodo, clock):
    # metadata.subjects.subject is analysed text: a phrase matches a run of its lower-cased words,
    # so a client checks its hits for the exact keyword
    exact = create(zenodo, {**METADATA, "keywords": ["SRCH:0123ABCD"]})
    longer = create(zenodo, {**METADATA, "keywords": ["see srch:0123abcd too"]})
    hits = listed(zenodo, clock, 'keywords:"SRCH:0123ABCD"')
    assert sorted(entry["id"] for entry in hits) == sorted([exact["id"], longer["id"]])


def test_an_unmapped_field_finds_nothing_and_an_unparsable_query_falls_back_to_its_words(zenodo, clock):
    made = create(zenodo)
    assert listed(zenodo, clock, 'nosuchfield:"SRCH:0123ABCD"') == []
    assert [e["id"] for e in listed(zenodo, clock, 'keywords:("SRCH:0123ABCD"')] == [made["id"]]  # unbalanced: multi_match


def test_pages_of_size_page_past_the_end_empty_and_the_result_window_bounded(zenodo, clock):
    made = [create(zenodo)["id"] for _ in range(5)]
    pages = [listed(zenodo, clock, size=2, page=page) for page in (1, 2, 3, 4)]
    assert [len(page) for page in pages] == [2, 2, 1, 0]  # a page past the end is an empty list, not an error
    assert sorted(entry["id"] for page in pages for entry in page) == sorted(made)
    assert [entry["id"] for entry in pages[0]] == sorted(made, reverse=True)[:2]  # newest first
    too_far = api(zenodo, "GET", "deposit/depositions", params={"size": 100, "page": 101})
    assert too_far.status_code == 400 and too_far.json()["message"] == "Invalid querystring parameters."
    assert api(zenodo, "GET", "deposit/depositions", params={"size": 101}).json()["errors"][0]["messages"] == [
        "Page size cannot be greater than 100."
    ]


def test_the_list_holds_drafts_and_published_the_latest_of_each_concept_unless_all_versions(zenodo, clock):
    record = published(zenodo)
    draft = create(zenodo)
    assert {(e["id"], e["submitted"]) for e in listed(zenodo, clock)} == {(record["id"], True), (draft["id"], False)}
    new_draft = api(zenodo, "POST", record["links"]["newversion"]).json()
    latest = {e["id"] for e in listed(zenodo, clock)}
    assert latest == {new_draft["id"], draft["id"]}  # versions.is_latest_draft: the concept's new draft stands for it
    every = {e["id"] for e in listed(zenodo, clock, all_versions="true")}
    assert every == {record["id"], new_draft["id"], draft["id"]}


def test_a_published_deposition_carries_its_concept_doi_and_a_new_draft_does_not(zenodo, clock):
    draft = create(zenodo)
    assert "conceptdoi" not in draft  # parent pids are empty until the first publish
    record = published(zenodo)
    assert record["conceptdoi"] == f"10.5072/zenodo.{record['conceptrecid']}"
    new_draft = api(zenodo, "POST", record["links"]["newversion"]).json()
    assert new_draft["conceptdoi"] == record["conceptdoi"]  # the parent's DOI is shared by every version


def test_a_new_deposition_is_listed_only_after_the_index_lag(zenodo, clock):
    create(zenodo)
    assert api(zenodo, "GET", "deposit/depositions").json() == []
    clock.advance(2.5)
    assert len(api(zenodo, "GET", "deposit/depositions").json()) == 1


def test_the_index_shows_a_just_published_deposition_as_the_draft_it_was(zenodo, clock):
    deposition = create(zenodo)
    clock.advance(2.5)
    assert upload(zenodo, deposition).status_code == 201
    assert api(zenodo, "POST", deposition["links"]["publish"]).status_code == 202
    (stale,) = api(zenodo, "GET", "deposit/depositions").json()
    assert stale["submitted"] is False  # publish commits without an index refresh
    clock.advance(2.5)
    (fresh,) = api(zenodo, "GET", "deposit/depositions").json()
    assert fresh["submitted"] is True and fresh["doi"] == f"10.5072/zenodo.{deposition['id']}"


def test_the_open_new_version_draft_is_found_by_its_concept(zenodo, clock):
    record = published(zenodo)
    draft = api(zenodo, "POST", record["links"]["newversion"]).json()
    hits = listed(zenodo, clock, f'conceptrecid:"{record["conceptrecid"]}"')
    assert [(e["id"], e["submitted"]) for e in hits] == [(draft["id"], False)]  # the latest of the concept


@pytest.mark.parametrize("how", ["DELETE", "discard"])
def test_deleting_a_draft_is_seen_at_once_and_a_published_record_cannot_be_deleted(zenodo, clock, how):
    # delete_draft serves both routes: a hard delete with an index refresh (test_simple_delete)
    def delete(deposition):
        if how == "DELETE":
            return api(zenodo, "DELETE", deposition["links"]["self"])
        return api(zenodo, "POST", deposition["links"]["discard"])

    draft = create(zenodo)
    assert len(listed(zenodo, clock)) == 1
    assert delete(draft).status_code == 204
    assert api(zenodo, "GET", "deposit/depositions").json() == []  # no lag: the delete refreshes the index
    assert delete(draft).status_code == 404
    record = published(zenodo)
    assert delete(record).status_code == 404
    new_draft = api(zenodo, "POST", record["links"]["newversion"]).json()
    assert delete(new_draft).status_code == 204  # a new-version draft goes; its concept keeps the published record
    assert [e["id"] for e in listed(zenodo, clock)] == [record["id"]]


def test_a_published_file_is_read_back_from_the_records_api(zenodo):
    record = published(zenodo)
    content = api(zenodo, "GET", f"records/{record['id']}/files/manifest.json/content")
    assert content.status_code == 200 and content.content == b'{"a": 1}\n'
    assert api(zenodo, "GET", f"records/{record['id']}/files/other.json/content").status_code == 404


# ---------------------------------------------------------------------------- rate limits (invenio-app)


def test_the_rate_limit_is_keyed_by_user_agent_and_address_not_by_token():
    with ZenodoDouble(tokens={TOKEN, "other-token"}, rate_limit=3, index_lag=0) as zenodo:
        one = [api(zenodo, "GET", "deposit/depositions").status_code for _ in range(4)]
        other_token = api(zenodo, "GET", "deposit/depositions", headers={"Authorization": "Bearer other-token"})
        other_agent = api(zenodo, "GET", "deposit/depositions", headers={"User-Agent": "another-client/2"})
    assert one == [200, 200, 200, 429]
    assert other_token.status_code == 429  # same agent and address: the same budget
    assert other_agent.status_code == 200


def test_the_hourly_window_counts_too_and_its_headers_show_when_spent():
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100, hourly_limit=4, index_lag=0) as zenodo:
        answers = [api(zenodo, "GET", "deposit/depositions") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "100"  # the minute's limit until the hour is spent
    assert answers[-1].headers["X-RateLimit-Limit"] == "4" and answers[-1].headers["X-RateLimit-Remaining"] == "0"
    assert int(answers[-1].headers["Retry-After"]) > 60
