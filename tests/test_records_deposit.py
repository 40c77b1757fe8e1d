"""Deposits through the records API: metadata a curator would sign, nothing refused at publish that
could be caught before, the read-back after each save, communities, and the plan of a dry run.

The exactly-once and hostile-server guarantees run on both APIs in their own suites
(test_exactly_once.py, test_hostile_server.py); this suite is about what only the records path does.
"""

from __future__ import annotations

import json

import pytest

from archiver.deposit.adapters import open_port as open_api
from archiver.deposit.adapters.records import RecordDeposits
from archiver.deposit.runner import run_deposit
from archiver.findings import ArchiverError
from archiver.policy import Policy
from archiver.zenodo.double import ZenodoDouble
from archiver.zenodo.double import rdm_mapping as double_records
from archiver.zenodo.legacy_client import LegacyClient
from archiver.zenodo.records_client import RecordsClient
from archiver.zenodo.target import resolve_target
from archiver.zenodo.transport import TransportError
from conftest import EXAMPLES, FakeClock, run_cli

pytestmark = pytest.mark.e2e

TOKEN = "tok_RECORDS_DEPOSIT_0123456789abcdefghijklm"
ELIGIBLE = {"SRCH:4A7C19E2", "SRCH:2B9E4410", "SRCH:D1CE0F00"}
CURATED = Policy(
    api="records",
    publisher="Assignee Research",
    publisher_ror="05a28rw58",
    record_url="https://records.example.org/{id}",
)


@pytest.fixture
def double():
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as running:
        yield running


@pytest.fixture
def export_dir(tmp_path):
    out = tmp_path / "export"
    assert run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code in (0, 1)
    return out


def api_for(double, name="records"):
    target = resolve_target(zenodo_url=double.api_url, environ={"ZENODO_SANDBOX_TOKEN": TOKEN})
    return open_api(name, target, sleep=double.state.clock.advance, backoff=0.0)


def stored(double, record_id):
    (dep,) = [d for d in double.state.depositions.values() if record_id in d.metadata.get("keywords", [])]
    return dep


def test_the_records_path_deposits_what_a_curator_would_sign(double, export_dir):
    summary = run_deposit(export_dir, api_for(double), CURATED)
    assert summary.exit_code == 0, [r.as_dict() for r in summary.results]
    assert {r.action for r in summary.results if r.record_id in ELIGIBLE} == {"deposited"}
    dep = stored(double, "SRCH:4A7C19E2")
    metadata = dep.rdm
    assert metadata["creators"] == [
        {"person_or_org": {"type": "organizational", "name": "Assignee Research", "identifiers": [{"scheme": "ror", "identifier": "05a28rw58"}]}}
    ]
    assert metadata["publisher"] == "Assignee Research"
    assert metadata["resource_type"] == {"id": "publication-report"}
    assert metadata["rights"] == [{"id": "cc-by-4.0"}] and metadata["languages"] == [{"id": "eng"}]
    assert {"subject": "SRCH:4A7C19E2"} in metadata["subjects"]
    assert metadata["related_identifiers"] == [{
        "identifier": "https://records.example.org/SRCH:4A7C19E2", "scheme": "url",
        "relation_type": {"id": "isidenticalto"}, "resource_type": {"id": "publication-report"},
    }]
    assert metadata["additional_descriptions"][0]["type"] == {"id": "notes"}
    manifest = json.loads((export_dir / "manifests" / "SRCH_4A7C19E2.json").read_text())
    assert manifest["provenance"]["external_record"]["doi"] == dep.doi == f"10.5072/zenodo.{dep.id}"
    assert run_cli("validate", export_dir / "manifests").code == 0


def test_persons_with_orcid_and_ror_affiliations_on_the_records_path(double, export_dir):
    policy = CURATED.model_copy(update={"creators": Policy.model_validate({"creators": [
        {"name": "Carberry, Josiah", "orcid": "0000-0002-1825-0097", "affiliation": "Brown University", "affiliation_ror": "05gq02987"},
    ]}).creators})
    assert run_deposit(export_dir, api_for(double), policy, only=["SRCH:4A7C19E2"]).exit_code == 0
    (creator,) = stored(double, "SRCH:4A7C19E2").rdm["creators"]
    assert creator == {
        "person_or_org": {"type": "personal", "family_name": "Carberry", "given_name": "Josiah",
                          "identifiers": [{"scheme": "orcid", "identifier": "0000-0002-1825-0097"}]},
        "affiliations": [{"id": "05gq02987"}],
    }


def test_an_orcid_with_a_wrong_check_digit_is_refused_before_anything_is_sent(double, export_dir, tmp_path, monkeypatch):
    config = tmp_path / "archiver.toml"
    config.write_text('api = "records"\n[[creators]]\nname = "Carberry, Josiah"\norcid = "0000-0002-1825-0098"\n')
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    run = run_cli("deposit", export_dir, "--config", config, "--zenodo-url", double.api_url)
    assert run.code == 2 and "check digit" in run.err and "[policy-invalid]" in run.err
    assert double.state.counters["requests"] == 0


@pytest.mark.parametrize(("setting", "value"), [("languages", ["en"]), ("license", "not-a-licence")])
def test_ids_outside_zenodos_vocabularies_are_refused_when_the_policy_loads(setting, value):
    with pytest.raises(ValueError, match="vocabulary|not one of"):
        Policy.model_validate({setting: value})


@pytest.mark.parametrize("api_name", ["deposit", "records"])
def test_a_field_the_save_did_not_keep_stops_the_record_before_publish(double, export_dir, monkeypatch, api_name):
    """Zenodo's save is lenient: what its schema refuses is silently left out. The read-back after
    each save catches it, and nothing is published with metadata other than what was planned."""
    if api_name == "records":
        real = double_records.save

        def drop_languages(*args):
            kept, errors, refusal = real(*args)
            kept.pop("languages", None)
            return kept, errors, refusal

        monkeypatch.setattr(double_records, "save", drop_languages)
        missing = "metadata.languages"
    else:
        from archiver.zenodo.double import store

        real_stored = store.stored_metadata
        monkeypatch.setattr(store, "stored_metadata", lambda metadata: {k: v for k, v in real_stored(metadata).items() if k != "notes"})
        missing = "metadata.notes"
    policy = CURATED.model_copy(update={"api": api_name})
    summary = run_deposit(export_dir, api_for(double, api_name), policy, only=["SRCH:4A7C19E2"])
    (result,) = summary.results
    assert result.action == "failed" and "[metadata-not-kept]" in result.detail and missing in result.detail
    assert double.state.counters["publish"] == 0
    monkeypatch.undo()
    again = run_deposit(export_dir, api_for(double, api_name), policy, only=["SRCH:4A7C19E2"])  # the server fixed: the draft goes on
    assert [r.action for r in again.results] == ["resumed"] and double.state.counters["create"] == 1


def test_a_community_reviews_each_first_deposit_and_status_shows_it_waiting(double, export_dir, monkeypatch):
    double.state.add_community("assignee-research")
    policy = CURATED.model_copy(update={"communities": ("assignee-research",)})
    first = run_deposit(export_dir, api_for(double), policy)
    assert first.exit_code == 0
    assert {r.action for r in first.results if r.record_id in ELIGIBLE} == {"in-review"}
    assert double.state.counters["publish"] == 0
    rows = {row["id"]: row for row in run_cli("status", export_dir, "--json").json()["records"]}
    assert {rows[r]["state"] for r in ELIGIBLE} == {"in-review"} and {rows[r]["doi"] for r in ELIGIBLE} == {None}
    assert {rows[r]["api"] for r in ELIGIBLE} == {"records"}
    assert run_cli("status", export_dir).out.count("in-review (waits for the community's review; no DOI yet)") == len(ELIGIBLE)
    waiting = run_deposit(export_dir, api_for(double), policy)  # nothing decided yet: still waiting, nothing sent twice
    assert {r.action for r in waiting.results if r.record_id in ELIGIBLE} == {"in-review"}
    assert double.state.counters["create"] == len(ELIGIBLE)
    accepted, declined = stored(double, "SRCH:4A7C19E2"), stored(double, "SRCH:2B9E4410")
    assert double_records.decide_review(double.state, accepted.id, True)
    assert double_records.decide_review(double.state, declined.id, False)
    later = {r.record_id: r for r in run_deposit(export_dir, api_for(double), policy).results}
    assert later["SRCH:4A7C19E2"].action == "deposited" and later["SRCH:4A7C19E2"].doi == accepted.doi
    assert later["SRCH:2B9E4410"].action == "failed" and "[review-declined]" in later["SRCH:2B9E4410"].detail
    assert later["SRCH:D1CE0F00"].action == "in-review"
    manifest = json.loads((export_dir / "manifests" / "SRCH_4A7C19E2.json").read_text())
    assert manifest["provenance"]["external_record"]["status"] == "Registered"


def test_a_curators_token_includes_directly_and_an_unknown_community_stops_the_run_before_any_draft(double, export_dir, monkeypatch):
    double.state.add_community("open-one", review_policy="open", curator=True)
    summary = run_deposit(export_dir, api_for(double), CURATED.model_copy(update={"communities": ("open-one",)}), only=["SRCH:4A7C19E2"])
    assert [r.action for r in summary.results] == ["deposited"] and stored(double, "SRCH:4A7C19E2").communities
    creates = double.state.counters["create"]
    with pytest.raises(ArchiverError) as missing:
        run_deposit(export_dir, api_for(double), CURATED.model_copy(update={"communities": ("nobody",)}), only=["SRCH:2B9E4410"])
    assert missing.value.code == "community-missing" and double.state.counters["create"] == creates
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    config = export_dir.parent / "archiver.toml"
    config.write_text('api = "records"\ncommunities = ["nobody"]\n')
    run = run_cli("deposit", export_dir, "--config", config, "--zenodo-url", double.api_url)
    assert run.code == 2 and run.err.strip().endswith("[community-missing]") and "Traceback" not in run.err


def test_a_submission_that_never_went_is_sent_by_the_next_run(double, export_dir, monkeypatch):
    double.state.add_community("assignee-research")
    policy = CURATED.model_copy(update={"communities": ("assignee-research",)})
    real = RecordsClient.set_review

    def refused(self, *args, **kwargs):
        raise TransportError("set review: no answer", code="no-answer")

    monkeypatch.setattr(RecordsClient, "set_review", refused)
    first = run_deposit(export_dir, api_for(double), policy, only=["SRCH:4A7C19E2"])
    assert [r.action for r in first.results] == ["failed"]
    monkeypatch.setattr(RecordsClient, "set_review", real)
    second = run_deposit(export_dir, api_for(double), policy, only=["SRCH:4A7C19E2"])
    assert [r.action for r in second.results] == ["in-review"]
    dep = stored(double, "SRCH:4A7C19E2")
    assert dep.review is not None and dep.review["status"] == "submitted" and double.state.counters["create"] == 1
    assert double_records.decide_review(double.state, dep.id, True)
    assert [r.action for r in run_deposit(export_dir, api_for(double), policy, only=["SRCH:4A7C19E2"]).results] == ["deposited"]


@pytest.mark.parametrize("api_name", ["deposit", "records"])
def test_a_draft_made_earlier_is_published_with_the_metadata_of_now(double, export_dir, api_name):
    """--draft-only (or a kill) leaves a described draft; the policy changes; the publish that
    follows carries what the plan of now says, not what the draft was given then."""
    before = CURATED.model_copy(update={"api": api_name})
    assert run_deposit(export_dir, api_for(double, api_name), before, only=["SRCH:4A7C19E2"], draft_only=True).exit_code == 0
    after = before.model_copy(update={"license": "cc0-1.0", "publisher": "New Publisher Org"})
    summary = run_deposit(export_dir, api_for(double, api_name), after, only=["SRCH:4A7C19E2"])
    assert [r.action for r in summary.results] == ["resumed"], [r.as_dict() for r in summary.results]
    dep = stored(double, "SRCH:4A7C19E2")
    assert dep.submitted
    if api_name == "records":
        assert dep.rdm["rights"] == [{"id": "cc0-1.0"}] and dep.rdm["publisher"] == "New Publisher Org"
        assert dep.rdm["creators"][0]["person_or_org"]["name"] == "New Publisher Org"
    else:
        assert dep.metadata["license"] == "cc-zero" and dep.metadata["creators"] == [{"name": "New Publisher Org"}]


def test_switching_api_after_a_draft_publishes_it_once_with_the_new_apis_metadata(double, export_dir):
    assert run_deposit(export_dir, api_for(double, "deposit"), Policy(), only=["SRCH:4A7C19E2"], draft_only=True).exit_code == 0
    summary = run_deposit(export_dir, api_for(double, "records"), CURATED, only=["SRCH:4A7C19E2"])
    assert [r.action for r in summary.results] == ["resumed"], [r.as_dict() for r in summary.results]
    dep = stored(double, "SRCH:4A7C19E2")
    assert dep.submitted and double.state.counters["create"] == 1
    assert dep.rdm["creators"][0]["person_or_org"]["type"] == "organizational" and dep.rdm["publisher"] == "Assignee Research"


def test_a_new_version_draft_of_another_concept_is_refused(double, export_dir, monkeypatch):
    assert run_deposit(export_dir, api_for(double), CURATED, only=["SRCH:4A7C19E2"]).exit_code == 0
    manifest = export_dir / "manifests" / "SRCH_4A7C19E2.json"
    document = json.loads(manifest.read_text())
    document["correction_record"].update(status="CORRECTED", correction_count=1,
                                          corrections=[{"sequence": 1, "date": "2026-11-01", "description": "Fixed a claim count."}])
    manifest.write_text(json.dumps(document, indent=2))
    real = RecordDeposits.new_version
    monkeypatch.setattr(RecordDeposits, "new_version", lambda self, previous: real(self, previous).model_copy(update={"concept": "1"}))
    summary = run_deposit(export_dir, api_for(double), CURATED, only=["SRCH:4A7C19E2"], new_versions=True)
    (result,) = summary.results
    assert result.action == "failed" and "[answer-mismatch]" in result.detail
    assert double.state.counters["publish"] == 1 and double.state.counters["update"] == 0


def test_the_legacy_path_reads_communities_back_after_publish(double, export_dir):
    double.state.add_community("open-one", review_policy="open", curator=True)
    double.state.add_community("closed-one")
    policy = Policy(communities=("open-one", "closed-one"))
    summary = run_deposit(export_dir, api_for(double, "deposit"), policy, only=["SRCH:4A7C19E2"])
    (result,) = summary.results
    assert result.action == "deposited" and "not in community closed-one after publish" in result.detail
    assert "[community-missing]" in result.detail and "open-one" not in result.detail.split("not in community")[1]


@pytest.mark.parametrize(("api_name", "key"), [("records", "rdm"), ("deposit", "metadata")])
def test_the_dry_run_plan_holds_the_exact_body_the_path_sends(double, export_dir, tmp_path, monkeypatch, api_name, key):
    config = tmp_path / "archiver.toml"
    config.write_text(f'api = "{api_name}"\npublisher_ror = "05a28rw58"\nrecord_url = "https://records.example.org/{{id}}"\n')
    plan = run_cli("deposit", export_dir, "--config", config, "--dry-run").json()
    entry = {e["id"]: e for e in plan["records"]}["SRCH:4A7C19E2"]
    other = {"rdm", "metadata"} - {key}
    assert key in entry and not other & set(entry) and entry["api"] == api_name
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    assert run_cli("deposit", export_dir, "--config", config, "--zenodo-url", double.api_url, "--only", "SRCH:4A7C19E2").code == 0
    dep = stored(double, "SRCH:4A7C19E2")
    if api_name == "records":
        assert entry["rdm"]["metadata"] == dep.rdm
    else:
        sent = entry["metadata"]
        assert {k: dep.metadata[k] for k in ("title", "keywords", "notes", "version", "creators")} == {
            k: sent[k] for k in ("title", "keywords", "notes", "version", "creators")}


class Crash(Exception):
    pass


def _edit_manifest(export_dir, record_id, **changes):
    path = export_dir / "manifests" / f"{record_id.replace(':', '_')}.json"
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document, indent=2))
    return path


@pytest.mark.parametrize("api_name", ["deposit", "records"])
def test_a_record_changed_since_its_draft_is_published_with_its_files_of_now(double, export_dir, api_name):
    policy = CURATED.model_copy(update={"api": api_name})
    assert run_deposit(export_dir, api_for(double, api_name), policy, only=["SRCH:4A7C19E2"], draft_only=True).exit_code == 0
    _edit_manifest(export_dir, "SRCH:4A7C19E2", abstract="A corrected abstract, re-exported after the draft was made.")
    summary = run_deposit(export_dir, api_for(double, api_name), policy, only=["SRCH:4A7C19E2"])
    assert [r.action for r in summary.results] == ["resumed"], [r.as_dict() for r in summary.results]
    dep = stored(double, "SRCH:4A7C19E2")
    (manifest_file,) = [f for f in dep.files if f.filename == "manifest.json"]
    assert b"A corrected abstract" in manifest_file.data and double.state.counters["create"] == 1
    assert "A corrected abstract" in (dep.rdm["description"] if api_name == "records" else dep.metadata["description"])


@pytest.mark.parametrize("api_name", ["deposit", "records"])
def test_a_publish_killed_before_it_went_is_published_with_the_metadata_of_now(double, export_dir, monkeypatch, api_name):
    owner, name = (RecordsClient, "publish") if api_name == "records" else (LegacyClient, "publish")

    def killed(self, *args, **kwargs):
        raise Crash("killed before the publish was sent")

    monkeypatch.setattr(owner, name, killed)
    policy = CURATED.model_copy(update={"api": api_name})
    with pytest.raises(Crash):
        run_deposit(export_dir, api_for(double, api_name), policy, only=["SRCH:4A7C19E2"])
    monkeypatch.undo()
    changed = policy.model_copy(update={"publisher": "Changed Publisher"})
    summary = run_deposit(export_dir, api_for(double, api_name), changed, only=["SRCH:4A7C19E2"])
    assert [r.action for r in summary.results] == ["resumed"], [r.as_dict() for r in summary.results]
    dep = stored(double, "SRCH:4A7C19E2")
    assert dep.submitted and double.state.counters["publish"] == 1
    assert (dep.rdm["publisher"] if api_name == "records" else dep.metadata["creators"][0]["name"]) == "Changed Publisher"


def test_a_review_submitted_again_carries_the_metadata_of_now(double, export_dir, monkeypatch):
    double.state.add_community("assignee-research")
    policy = CURATED.model_copy(update={"communities": ("assignee-research",)})
    monkeypatch.setattr(RecordsClient, "set_review", lambda self, *a, **k: (_ for _ in ()).throw(TransportError("no answer", code="no-answer")))
    first = run_deposit(export_dir, api_for(double), policy, only=["SRCH:4A7C19E2"])
    assert [r.action for r in first.results] == ["failed"]
    monkeypatch.undo()
    changed = policy.model_copy(update={"publisher": "Changed Publisher"})
    assert [r.action for r in run_deposit(export_dir, api_for(double), changed, only=["SRCH:4A7C19E2"]).results] == ["in-review"]
    dep = stored(double, "SRCH:4A7C19E2")
    assert dep.rdm["publisher"] == "Changed Publisher" and dep.review["status"] == "submitted"
    switched = run_deposit(export_dir, api_for(double, "deposit"), Policy(communities=("assignee-research",)), only=["SRCH:4A7C19E2"])
    (result,) = switched.results
    assert result.action == "failed" and 'api = "records"' in result.detail and "[usage]" in result.detail


def test_reconcile_that_fails_for_a_record_keeps_its_ledger_rows(double, export_dir, monkeypatch):
    from archiver.deposit import reconcile as reconciling
    from archiver.deposit.reconcile import reconcile
    from archiver.deposit.results import RecordResult

    assert run_deposit(export_dir, api_for(double), CURATED, only=["SRCH:4A7C19E2"]).exit_code == 0
    before = [r for r in run_cli("status", export_dir, "--json").json()["records"] if r["id"] == "SRCH:4A7C19E2"]

    def failing(run, job, found):
        job.result = RecordResult(job.record.id, "failed", "the manifest could not be read [zenodo-error]")

    monkeypatch.setattr(reconciling, "apply_found", failing)
    double.state.clock.advance(5)
    results = {r.record_id: r for r in reconcile(export_dir, api_for(double), CURATED)}
    assert results["SRCH:4A7C19E2"].state == "failed"
    after = [r for r in run_cli("status", export_dir, "--json").json()["records"] if r["id"] == "SRCH:4A7C19E2"]
    assert [(r["state"], r["doi"], r["deposition_id"]) for r in after] == [(r["state"], r["doi"], r["deposition_id"]) for r in before]


def test_a_registered_manifest_unknown_to_the_ledger_says_reconcile(double, export_dir):
    from archiver.exportdir import state_dir_for

    assert run_deposit(export_dir, api_for(double), CURATED, only=["SRCH:4A7C19E2"]).exit_code == 0
    import shutil

    shutil.rmtree(state_dir_for(export_dir))
    (result,) = run_deposit(export_dir, api_for(double), CURATED, only=["SRCH:4A7C19E2"], new_versions=True).results
    assert result.action == "skipped" and "`archiver reconcile`" in result.detail


def test_status_remote_compares_only_rows_of_the_server_it_asks(double, export_dir, monkeypatch):
    from archiver.deposit.status import remote_drift, status

    assert run_deposit(export_dir, api_for(double), CURATED, only=["SRCH:4A7C19E2"]).exit_code == 0
    rows = status(export_dir)
    assert remote_drift(rows, api_for(double)) == []
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as other:
        drift = remote_drift(rows, api_for(other))
        assert [item["remote"].split(":")[0] for item in drift] == ["deposited to http"]
        assert "not compared" in drift[0]["remote"] and other.state.counters["requests"] == 0


def test_reconcile_names_a_draft_waiting_for_its_review(double, export_dir):
    from archiver.deposit.reconcile import reconcile

    double.state.add_community("assignee-research")
    policy = CURATED.model_copy(update={"communities": ("assignee-research",)})
    assert [r.action for r in run_deposit(export_dir, api_for(double), policy, only=["SRCH:4A7C19E2"]).results] == ["in-review"]
    double.state.clock.advance(5)
    results = {r.record_id: r for r in reconcile(export_dir, api_for(double), policy)}
    assert results["SRCH:4A7C19E2"].state == "draft" and "waits for its community's review" in results["SRCH:4A7C19E2"].detail


def test_a_review_status_that_is_not_text_is_an_answer_archiver_cannot_read():
    from archiver.zenodo.records_client import RdmRecord

    target = resolve_target(zenodo_url="http://127.0.0.1:9/api", environ={"ZENODO_SANDBOX_TOKEN": TOKEN})
    adapter = RecordDeposits(RecordsClient(target))
    waiting = adapter.view(RdmRecord.model_validate({"id": "12", "parent": {"id": "11", "review": {"status": "submitted"}}}))
    assert (waiting.review, waiting.review_said) == ("pending", "submitted")
    for status, state in (("created", "unsent"), ("expired", "unsent"), ("declined", "declined"), ("accepted", "accepted")):
        answer = RdmRecord.model_validate({"id": "12", "parent": {"id": "11", "review": {"status": status}}})
        assert adapter.view(answer).review == state
    odd = RdmRecord.model_validate({"id": "12", "parent": {"id": "11", "review": {"status": 3}}})
    with pytest.raises(TransportError) as caught:
        adapter.view(odd)
    assert caught.value.code == "answer-invalid"


@pytest.mark.parametrize("api_name", ["deposit", "records"])
def test_a_new_version_stays_in_the_records_communities(double, export_dir, api_name):
    """Files and corrections cannot change in place: a new version carries them, and stays where
    the record is (the records API's communities are the parent's; the legacy API asks again at publish)."""
    slug = "synthesis-curators"
    double.state.add_community(slug, review_policy="open", curator=True)  # a curator's token includes directly
    policy = Policy(api=api_name, communities=(slug,))
    assert run_deposit(export_dir, api_for(double, api_name), policy, only=["SRCH:4A7C19E2"]).exit_code == 0
    first = stored(double, "SRCH:4A7C19E2")
    community = double.state.communities[slug]["id"]
    assert community in first.communities
    manifest = export_dir / "manifests" / "SRCH_4A7C19E2.json"
    document = json.loads(manifest.read_text())
    document["correction_record"].update(status="CORRECTED", correction_count=1,
                                          corrections=[{"sequence": 1, "date": "2026-11-01", "description": "Fixed a claim count."}])
    manifest.write_text(json.dumps(document, indent=2))
    (result,) = run_deposit(export_dir, api_for(double, api_name), policy, only=["SRCH:4A7C19E2"], new_versions=True).results
    assert result.action == "new-version", result.detail
    newest = double.state.depositions[result.deposition_id]
    assert newest.submitted and newest.id != first.id and newest.conceptrecid == first.conceptrecid
    assert community in newest.communities
