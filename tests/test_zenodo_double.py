"""The local Zenodo double, held to the real sandbox exchanges in ../shared/zenodo-reference/."""

from __future__ import annotations

import json

import pytest
import requests

from archiver.zenodo.double import Faults, ZenodoDouble
from conftest import REPO

REFERENCE = REPO.parent / "shared" / "zenodo-reference"
TOKEN = "double-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")


@pytest.fixture
def reference():
    if not REFERENCE.is_dir():
        pytest.skip(f"reference exchanges not present at {REFERENCE}")
    return lambda name: json.loads((REFERENCE / name).read_text())


@pytest.fixture
def double():
    with ZenodoDouble(tokens={TOKEN}, rate_limit=1000, index_lag=0) as running:
        yield running


def kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def assert_same_shape(ours, theirs, where="$", keys_exact=True):
    """Same keys (where exact) and the same JSON value types, recursively over what both have."""
    assert kind(ours) == kind(theirs) or "null" in (kind(ours), kind(theirs)), f"{where}: {kind(ours)} vs {kind(theirs)}"
    if isinstance(theirs, dict) and isinstance(ours, dict):
        if keys_exact:
            assert set(ours) == set(theirs), f"{where}: keys differ: {sorted(set(ours) ^ set(theirs))}"
        for key in set(ours) & set(theirs):
            assert_same_shape(ours[key], theirs[key], f"{where}.{key}", keys_exact=key not in ("metadata",))
    if isinstance(theirs, list) and isinstance(ours, list) and theirs and ours:
        assert_same_shape(ours[0], theirs[0], f"{where}[0]", keys_exact)


def without_reserved_doi(ref_body):
    """Some recorded drafts show a DOI only because the recorder's account had one reserved."""
    body = dict(ref_body)
    for key in ("doi", "doi_url"):
        body.pop(key, None)
    body["links"] = {k: v for k, v in body["links"].items() if k != "doi"}
    return body


def sent_metadata(ref_body):
    metadata = dict(ref_body["metadata"])
    for generated in ("prereserve_doi", "imprint_publisher", "doi"):
        metadata.pop(generated, None)
    return metadata


def new_deposition(double, metadata=None):
    response = requests.post(f"{double.api_url}/deposit/depositions", json={"metadata": metadata or {}}, headers=AUTH, timeout=5)
    assert response.status_code == 201
    return response.json()


def upload(double, deposition, name="data.csv", data=b"a,b\n1,2\n"):
    return requests.put(
        f"{deposition['links']['bucket']}/{name}", data=data,
        headers={**AUTH, "Content-Type": "application/octet-stream"}, timeout=5,
    )


def test_01_create(double, reference):
    ref = reference("01-create-deposition.json")
    response = requests.post(
        f"{double.api_url}/deposit/depositions", json={"metadata": sent_metadata(ref["response"]["body"])}, headers=AUTH, timeout=5
    )
    assert response.status_code == ref["response"]["status"] == 201
    assert_same_shape(response.json(), ref["response"]["body"])
    for header in RATE_HEADERS:
        assert header in response.headers


def test_02_bucket_upload(double, reference):
    ref = reference("02-bucket-upload.json")
    deposition = new_deposition(double)
    data = b"x" * 625
    response = upload(double, deposition, "data.csv", data)
    assert response.status_code == ref["response"]["status"] == 201
    body = response.json()
    assert_same_shape(body, ref["response"]["body"])
    import hashlib

    assert body["checksum"] == "md5:" + hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert body["size"] == 625


def test_03_get_with_files(double, reference):
    ref = reference("03-get-deposition-with-files.json")
    deposition = new_deposition(double, sent_metadata(ref["response"]["body"]))
    upload(double, deposition, "data2.csv")
    upload(double, deposition, "data.csv")
    response = requests.get(deposition["links"]["self"], headers=AUTH, timeout=5)
    assert response.status_code == ref["response"]["status"] == 200
    body = response.json()
    assert_same_shape(body, without_reserved_doi(ref["response"]["body"]))
    assert [f["filename"] for f in body["files"]] == ["data2.csv", "data.csv"]
    assert len(body["files"][0]["checksum"]) == 32  # bare hex here, "md5:" only in the upload answer


@pytest.mark.parametrize("name", ["04-update-metadata.json", "05-update-metadata-embargo.json"])
def test_04_05_update_metadata(double, reference, name):
    ref = reference(name)
    deposition = new_deposition(double)
    response = requests.put(
        deposition["links"]["self"], json={"metadata": sent_metadata(ref["response"]["body"])}, headers=AUTH, timeout=5
    )
    assert response.status_code == ref["response"]["status"] == 200
    assert_same_shape(response.json(), without_reserved_doi(ref["response"]["body"]))


def test_update_rejects_anything_but_metadata_at_the_top(double):
    deposition = new_deposition(double)
    response = requests.put(deposition["links"]["self"], json={"metadata": {}, "id": 1}, headers=AUTH, timeout=5)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "id"


def test_06_list_has_no_bucket_links(double, reference):
    ref = reference("06-list-depositions.json")
    new_deposition(double, sent_metadata(ref["response"]["body"][0]))
    response = requests.get(f"{double.api_url}/deposit/depositions", headers=AUTH, timeout=5)
    assert response.status_code == ref["response"]["status"] == 200
    (entry,) = response.json()
    assert "bucket" not in entry["links"]
    assert set(entry) >= {"id", "conceptrecid", "metadata", "links", "state", "submitted", "files"}


def publishable(double):
    deposition = new_deposition(
        double,
        {"title": "A title", "upload_type": "publication", "publication_type": "report", "publication_date": "2026-06-01",
         "description": "A description", "creators": [{"name": "Org"}], "access_right": "open", "license": "cc-by-4.0"},
    )
    upload(double, deposition)
    return deposition


def test_07_publish_mints_a_sandbox_doi(double, reference):
    ref = reference("07-publish.json")
    deposition = publishable(double)
    response = requests.post(deposition["links"]["publish"], headers=AUTH, timeout=5)
    assert response.status_code == ref["response"]["status"] == 202
    body = response.json()
    assert set(body) == set(ref["response"]["body"])
    assert body["doi"] == f"10.5072/zenodo.{deposition['id']}"
    # the double mints what it pre-reserves (the real sandbox pre-reserves under production's prefix)
    assert body["metadata"]["prereserve_doi"]["doi"] == body["doi"]
    assert body["state"] == "done" and body["submitted"] is True
    second = requests.post(deposition["links"]["publish"], headers=AUTH, timeout=5)
    assert second.status_code == 404


def test_publish_without_files_is_refused(double):
    deposition = new_deposition(double, {"title": "T"})
    response = requests.post(deposition["links"]["publish"], headers=AUTH, timeout=5)
    assert response.status_code == 400
    fields = [e["field"] for e in response.json()["errors"]]
    assert "files.enabled" in fields


def test_10_validation_error_current_shape(double, reference):
    ref = reference("10-error-400-validation-current.json")
    deposition = new_deposition(double)
    response = requests.put(deposition["links"]["self"], json={"metadata": {"license": "cc-by-9999"}}, headers=AUTH, timeout=5)
    assert response.status_code == ref["response"]["status"] == 400
    assert response.json() == ref["response"]["body"]


def test_12_no_token_is_403(double, reference):
    ref = reference("12-error-403.json")
    response = requests.get(f"{double.api_url}/deposit/depositions", timeout=5)
    assert response.status_code == 403 and response.json() == ref["response"]["body"]
    wrong = requests.get(f"{double.api_url}/deposit/depositions", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 403


def test_13_unknown_deposition_is_404(double, reference):
    ref = reference("13-error-404.json")
    response = requests.get(f"{double.api_url}/deposit/depositions/999999999", headers=AUTH, timeout=5)
    assert response.status_code == 404 and response.json() == ref["response"]["body"]


def test_14_server_error_shape(reference):
    ref = reference("14-error-500.json")
    with ZenodoDouble(tokens={TOKEN}, faults=Faults(error_share=1.0, seed=3)) as double:
        statuses = {}
        for _ in range(30):
            response = requests.get(f"{double.api_url}/deposit/depositions", headers=AUTH, timeout=5)
            statuses[response.status_code] = response.json()
    assert set(statuses) == {500, 502, 503}
    assert_same_shape(statuses[500], ref["response"]["body"])


def test_15_rate_limit_429(reference):
    ref = reference("15-error-429.json")
    with ZenodoDouble(tokens={TOKEN}, rate_limit=3) as double:
        responses = [requests.get(f"{double.api_url}/deposit/depositions", headers=AUTH, timeout=5) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[-1].json() == {"status": 429, "message": "3 per 1 minute"}
    assert set(responses[-1].json()) == set(ref["response"]["body"])
    assert responses[2].headers["X-RateLimit-Remaining"] == "0"
    assert int(responses[-1].headers["Retry-After"]) >= 1


def test_90_new_version_draft_carries_the_files(double, reference):
    ref = reference("90-newversion-pre-2023-migration.json")
    deposition = publishable(double)
    published = requests.post(deposition["links"]["publish"], headers=AUTH, timeout=5).json()
    response = requests.post(published["links"]["newversion"], headers=AUTH, timeout=5)
    assert response.status_code == ref["response"]["status"] == 201
    draft = requests.get(response.json()["links"]["latest_draft"], headers=AUTH, timeout=5).json()
    assert draft["id"] != deposition["id"] and draft["conceptrecid"] == deposition["conceptrecid"]
    assert draft["state"] == "unsubmitted" and [f["filename"] for f in draft["files"]] == ["data.csv"]
    assert set(ref["response"]["body"]) <= set(response.json()) | {"doi", "doi_url", "conceptdoi"}


def test_bursts_of_429_carry_retry_after():
    with ZenodoDouble(tokens={TOKEN}, faults=Faults(burst_every=3, burst_length=2)) as double:
        codes = [requests.get(f"{double.api_url}/deposit/depositions", headers=AUTH, timeout=5).status_code for _ in range(6)]
    assert codes == [200, 200, 429, 429, 200, 429]


def test_publish_504_after_success_really_published():
    with ZenodoDouble(tokens={TOKEN}, faults=Faults(publish_504_share=1.0)) as double:
        deposition = publishable(double)
        response = requests.post(deposition["links"]["publish"], headers=AUTH, timeout=5)
        assert response.status_code == 504
        again = requests.get(deposition["links"]["self"], headers=AUTH, timeout=5).json()
        assert again["state"] == "done" and again["doi"] == f"10.5072/zenodo.{deposition['id']}"


def test_dropped_upload_closes_the_connection():
    with ZenodoDouble(tokens={TOKEN}, faults=Faults(drop_upload_share=1.0)) as double:
        deposition = new_deposition(double)
        with pytest.raises(requests.ConnectionError):
            upload(double, deposition, data=b"y" * 200_000)


def test_the_legacy_edit_of_a_published_deposition(double):
    """zenodo-rdm's legacy resource (legacy/resources.py: item-edit, item-discard; the drafts-resources
    handlers' codes) and serializer (legacyjson.py: state "inprogress" with submitted true while an
    edit is open, the draft read first): edit 201 (again: the same edit), PUT 200, publish 202 under
    the same id and DOI, discard 204 with no body; a PUT or DELETE on a published deposition with no
    edit open is a 404 (test_rest_api_simpleflow.py), its files stay locked."""
    deposition = publishable(double)
    done = requests.post(deposition["links"]["publish"], headers=AUTH, timeout=5).json()
    url = f"{double.api_url}/deposit/depositions/{done['id']}"
    metadata = {key: value for key, value in done["metadata"].items() if key not in ("doi", "prereserve_doi")}
    assert requests.put(url, json={"metadata": metadata}, headers=AUTH, timeout=5).status_code == 404  # edit first
    edit = requests.post(f"{url}/actions/edit", headers=AUTH, timeout=5)
    assert edit.status_code == 201
    assert (edit.json()["id"], edit.json()["state"], edit.json()["submitted"], edit.json()["doi"]) == (done["id"], "inprogress", True, done["doi"])
    assert requests.post(f"{url}/actions/edit", headers=AUTH, timeout=5).status_code == 201 and double.state.counters["edit"] == 1
    saved = requests.put(url, json={"metadata": {**metadata, "title": "An edited title"}}, headers=AUTH, timeout=5)
    assert saved.status_code == 200 and saved.json()["metadata"]["title"] == "An edited title"
    assert requests.get(url, headers=AUTH, timeout=5).json()["metadata"]["title"] == "An edited title"  # the draft, read first
    assert upload(double, deposition, "more.csv").status_code == 403  # the files stay locked
    published = requests.post(f"{url}/actions/publish", headers=AUTH, timeout=5)
    assert published.status_code == 202
    assert (published.json()["id"], published.json()["doi"], published.json()["state"]) == (done["id"], done["doi"], "done")
    assert double.state.counters["newversion"] == 0 and double.state.counters["publish"] == 1
    requests.post(f"{url}/actions/edit", headers=AUTH, timeout=5)
    requests.put(url, json={"metadata": {**metadata, "title": "Not kept"}}, headers=AUTH, timeout=5)
    discarded = requests.post(f"{url}/actions/discard", headers=AUTH, timeout=5)
    assert discarded.status_code == 204 and discarded.content == b""
    after = requests.get(url, headers=AUTH, timeout=5).json()
    assert (after["state"], after["metadata"]["title"]) == ("done", "An edited title")
    assert requests.delete(url, headers=AUTH, timeout=5).status_code == 404  # a published deposition is not deleted
