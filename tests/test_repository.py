"""Another InvenioRDM repository, named by the policy: what reaches it, in whose words, with whose
vocabularies, ids, DOIs, order and limits (the double speaks as such a repository; the shared
suites hold exactly once, hostile answers and updates there too)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from archiver.deposit.lookup import Found, creation_order
from archiver.deposit.port import RemoteDeposition
from archiver.deposit.protocol import winner_over
from archiver.deposit.runner import run_deposit
from archiver.findings import ArchiverError
from archiver.policy import DEFAULT_POLICY, load_policy
from archiver.zenodo.double import ZenodoDouble
from archiver.zenodo.double.records_routes import RecordsRoutes
from archiver.zenodo.pacing import RateLimiter
from archiver.zenodo.target import resolve_target
from conftest import EXAMPLES, REPOSITORY_TOKEN_VARIABLE, FakeClock, cli_server, policy_for, port_to, run_cli

pytestmark = pytest.mark.e2e

TOKEN = "tok_REPOSITORY_0123456789abcdefghijklmnopq"
ELIGIBLE = {"SRCH:4A7C19E2", "SRCH:2B9E4410", "SRCH:D1CE0F00"}
TABLE = '[repository]\nurl = "https://researchdata.tuwien.ac.at/api"\ndoi_prefix = "10.48436"\ntoken_variable = "TUWIEN_TOKEN"\n'


@pytest.fixture
def repository():
    with ZenodoDouble.as_repository(tokens={TOKEN}, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as running:
        running.api_name = "records"
        yield running


def export(tmp_path, name="export"):
    out = tmp_path / name
    assert run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code in (0, 1)
    return out


# ---------------------------------------------------------------------------- named by the policy, and only so


def test_a_repository_table_implies_the_records_api_and_refuses_what_would_reach_zenodo(tmp_path):
    path = tmp_path / "archiver.toml"
    path.write_text(TABLE)
    policy, _ = load_policy(path)
    assert policy.api == "records" and policy.repository is not None and policy.repository_name == "researchdata.tuwien.ac.at"
    for table, words in [
        ('api = "deposit"\n' + TABLE, "Zenodo's legacy API"),
        (TABLE.replace("researchdata.tuwien.ac.at", "zenodo.org"), "is Zenodo"),
        (TABLE.replace("TUWIEN_TOKEN", "ZENODO_TOKEN"), "holds a Zenodo token"),
        (TABLE.replace("10.48436", "10.1"), "doi_prefix"),
        (TABLE + "urll = 1\n", "did you mean 'url'?"),
    ]:
        path.write_text(table)
        with pytest.raises(ArchiverError) as refused:
            load_policy(path)
        assert refused.value.code == "policy-invalid" and words in refused.value.message, refused.value.message


def test_the_target_is_the_named_repository_with_its_own_token_and_nothing_else(tmp_path):
    path = tmp_path / "archiver.toml"
    path.write_text(TABLE)
    named = load_policy(path)[0].repository
    target = resolve_target(named=named, environ={"TUWIEN_TOKEN": "t", "ZENODO_SANDBOX_TOKEN": "z"})
    assert (target.api_url, target.environment, target.token, target.token_variable) == (
        "https://researchdata.tuwien.ac.at/api", "https://researchdata.tuwien.ac.at", "t", "TUWIEN_TOKEN")
    assert target.minted_doi("q5jr8-hny72") == "10.48436/q5jr8-hny72" and target.name == "researchdata.tuwien.ac.at"
    with pytest.raises(ArchiverError) as missing:  # Zenodo's token is never taken for it
        resolve_target(named=named, environ={"ZENODO_SANDBOX_TOKEN": "z"})
    assert missing.value.code == "no-token" and "TUWIEN_TOKEN is not set" in missing.value.message
    for options, words in [({"production": True}, "--production is Zenodo's"),
                           ({"zenodo_url": "https://sandbox.zenodo.org/api"}, "does not name"),
                           ({"doi_prefix": "10.5072"}, "not the prefix the policy names")]:
        with pytest.raises(ArchiverError) as refused:
            resolve_target(named=named, environ={"TUWIEN_TOKEN": "t"}, **options)
        assert refused.value.code == "usage" and words in refused.value.message


def test_an_export_deposited_to_zenodo_is_refused_by_a_run_to_a_repository_before_anything_is_sent(repository, tmp_path):
    out = export(tmp_path)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as zenodo:
        zenodo.api_name = "records"
        assert run_deposit(out, port_to(zenodo, TOKEN), DEFAULT_POLICY).exit_code == 0
    with pytest.raises(ArchiverError) as refused:
        run_deposit(out, port_to(repository, TOKEN), policy_for(repository))
    assert refused.value.code == "ledger-other-server" and repository.state.counters["requests"] == 0


# ---------------------------------------------------------------------------- its vocabularies, asked first


def test_a_licence_the_repository_does_not_serve_is_refused_before_any_draft(repository, tmp_path, monkeypatch):
    served = repository.state.vocabulary_ids
    monkeypatch.setattr(repository.state, "vocabulary_ids", lambda name: served(name) - {"cc-by-4.0"})
    summary = run_deposit(export(tmp_path), port_to(repository, TOKEN), policy_for(repository))
    failed = [r for r in summary.results if r.record_id in ELIGIBLE]
    assert summary.exit_code == 1 and {r.action for r in failed} == {"failed"}
    assert all("[vocabulary-unknown]" in r.detail and "'cc-by-4.0' is not in 127.0.0.1" in r.detail for r in failed), failed
    assert repository.state.counters["create"] == 0
    assert summary.requests <= 5, "the licence asked once for the run, not once per record"


def test_a_repository_that_serves_no_vocabularies_is_held_to_invenios_defaults(repository, tmp_path, monkeypatch):
    monkeypatch.setattr(RecordsRoutes, "_vocabulary", lambda self, served, entry: self.h._not_found())
    summary = run_deposit(export(tmp_path), port_to(repository, TOKEN), policy_for(repository))
    assert summary.exit_code == 0 and {r.action for r in summary.results if r.record_id in ELIGIBLE} == {"deposited"}


def test_zenodos_notes_go_as_invenios_other_description_type(repository, tmp_path):
    assert run_deposit(export(tmp_path), port_to(repository, TOKEN), policy_for(repository)).exit_code == 0
    for dep in repository.state.depositions.values():
        assert [d["type"]["id"] for d in dep.rdm["additional_descriptions"]] == ["other"]


def test_without_the_table_the_repository_is_not_asked_as_zenodo_would_be(repository, tmp_path, monkeypatch):
    """--zenodo-url to it without naming it: archiver sends Zenodo's body, the repository refuses
    the first create (400 Invalid value notes.), and nothing is created or registered."""
    out = export(tmp_path)
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", TOKEN)
    config = tmp_path / "records.toml"
    config.write_text('api = "records"\n')
    run = run_cli("deposit", out, "--zenodo-url", repository.api_url, "--config", config)
    assert run.code == 1 and "Invalid value notes." in run.out + run.err
    assert repository.state.counters["create"] == 0
    assert all(json.loads(p.read_text())["provenance"]["external_record"]["status"] != "Registered" or "SRCH_9A0B1C2D" in p.name
               for p in (out / "manifests").glob("*.json"))


# ---------------------------------------------------------------------------- in its words


def test_the_run_names_the_repository_and_its_codes_are_not_zenodos(repository, tmp_path, monkeypatch):
    out = export(tmp_path)
    server = cli_server(repository, tmp_path, monkeypatch, TOKEN)
    monkeypatch.setattr(RecordsRoutes, "_create", lambda self: self.h._error(400, "Closed for maintenance."))
    run = run_cli("deposit", out, *server)
    said = run.out + run.err
    assert run.code == 1 and "[repository-rejected]" in said and "Zenodo" not in said and "sandbox" not in said, said
    monkeypatch.undo()
    monkeypatch.setenv(REPOSITORY_TOKEN_VARIABLE, TOKEN)
    assert run_cli("deposit", out, *server).code == 0
    reconciled = run_cli("reconcile", out, *server)
    assert reconciled.code == 0 and "Zenodo" not in reconciled.out + reconciled.err
    assert f"nothing was sent to 127.0.0.1:{repository.url.rsplit(':', 1)[1]} but searches and reads" in reconciled.out


def test_the_run_paces_to_the_repositorys_own_headers(tmp_path):
    """A repository that allows 10 requests a second (its X-RateLimit headers say so, on a real
    clock): a deposit of three records needs more than that and is never refused for it."""
    with ZenodoDouble.as_repository(tokens={TOKEN}, rate_limit=10, window=1, hourly_limit=None, index_lag=0.0,
                                     clock=FakeClock()) as repository:
        repository.api_name = "records"
        summary = run_deposit(export(tmp_path), port_to(repository, TOKEN, limiter=RateLimiter()), policy_for(repository), workers=2)
    assert summary.exit_code == 0 and repository.state.counters["429"] == 0
    assert summary.requests > 10, "more requests than one window holds: the run had to wait for the next"


def test_a_long_wait_for_the_rate_limit_names_the_repository():
    now = [1000.0]
    said: list[str] = []
    limiter = RateLimiter(clock=lambda: now[0], sleep=lambda s: None, announce=said.append, server_name="researchdata.tuwien.ac.at")
    limiter.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1060"}, 200)
    limiter.wait()
    assert said == ["waiting 60 s: pacing requests to researchdata.tuwien.ac.at's rate limit (X-RateLimit headers)"]


# ---------------------------------------------------------------------------- order without numbers


def _draft(deposition_id, concept, created, **more):
    return RemoteDeposition(id=deposition_id, concept=concept, created=dt.datetime.fromisoformat(created), **more)


def test_between_two_drafts_the_earliest_created_wins_whatever_its_id():
    early = _draft("zzzzz-zzz90", "c1", "2026-06-01T10:00:00.000001+00:00")
    late = _draft("00000-16j82", "c2", "2026-06-01T10:00:00.000002+00:00")  # sorts first as text, made later
    assert winner_over(late, (early, late)) == early and winner_over(early, (early, late)) is None
    tie = _draft("00000-16j82", "c3", "2026-06-01T10:00:00.000001+00:00")  # the same instant: the id breaks it
    assert winner_over(early, (early, tie)) == tie and winner_over(tie, (early, tie)) is None


def test_on_zenodo_the_rule_gives_todays_answers_the_lower_number_first():
    one, two = RemoteDeposition(id=100001, concept="100000"), RemoteDeposition(id=100003, concept="100002")
    assert winner_over(two, (one, two)) == one and winner_over(one, (one, two)) is None
    assert creation_order(one) < creation_order(two)


def test_the_latest_version_is_the_highest_index_not_the_highest_id():
    first = _draft("zzzzz-zzz90", "c1", "2026-06-01T10:00:00+00:00", published=True, version_index=1)
    second = _draft("00000-16j82", "c1", "2026-06-02T10:00:00+00:00", published=True, version_index=2)
    assert Found("SRCH:4A7C19E2", (second, first)).published == second
    duplicate = _draft("aaaaa-aaa16", "c9", "2026-07-01T10:00:00+00:00", published=True, version_index=1)
    assert Found("SRCH:4A7C19E2", (duplicate, second, first)).published == second  # the earlier concept is the record's


# ---------------------------------------------------------------------------- the contract, as published


def test_a_deposit_there_registers_manifests_and_a_package_that_outside_validators_accept(repository, tmp_path):
    import csv
    import subprocess
    import sys
    from pathlib import Path

    out = export(tmp_path)
    assert run_deposit(out, port_to(repository, TOKEN), policy_for(repository)).exit_code == 0
    with open(out / "data" / "records.csv", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    for dep in repository.state.depositions.values():
        (record_id,) = [k for k in dep.metadata["keywords"] if k.startswith("SRCH:")]
        manifest = json.loads((out / "manifests" / f"{record_id.replace(':', '_')}.json").read_text())
        external = manifest["provenance"]["external_record"]
        assert external["deposition_id"] == repository.state.pid(dep.id) and "environment" not in external
        assert external["repository"] == repository.url and external["doi"] == f"{repository.state.doi_prefix}/{external['deposition_id']}"
        assert (rows[record_id]["deposition_id"], rows[record_id]["repository"]) == (external["deposition_id"], repository.url)
    tools = Path(sys.executable).parent
    schemas = Path(__file__).resolve().parent.parent / "schemas"
    checked = subprocess.run([str(tools / "check-jsonschema"), "--base-uri", (schemas / "paper-manifest-v1.1.schema.json").as_uri(),
                              "--schemafile", str(schemas / "paper-manifest-v1.1.schema.json"), *map(str, (out / "manifests").glob("*.json"))],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout
    packaged = subprocess.run([str(tools / "frictionless"), "validate", str(out / "datapackage.json")], capture_output=True, text=True,
                              timeout=120)
    assert packaged.returncode == 0, packaged.stdout


@pytest.mark.parametrize(("deposition_id", "repository_column", "valid"), [
    ("123456", "sandbox", True), ("q5jr8-hny72", "https://researchdata.tuwien.ac.at", True),
    ("12abc", "sandbox", False), ("q5jr8-hny72x", "production", False), ("0", "sandbox", False),
    ("123", "sandboxes", False), ("123", "https://x.org/api", False),
])
def test_the_packages_two_columns_hold_their_patterns_for_frictionless(tmp_path, deposition_id, repository_column, valid):
    import subprocess
    import sys
    from pathlib import Path

    from archiver.package import RESOURCES

    fields = [f for f in RESOURCES["records"]["schema"]["fields"] if f["name"] in ("deposition_id", "repository")]
    (tmp_path / "rows.csv").write_text(f"deposition_id,repository\n{deposition_id},{repository_column}\n")
    descriptor = {"name": "rows", "path": "rows.csv", "profile": "tabular-data-resource", "schema": {"fields": fields, "missingValues": [""]}}
    (tmp_path / "rows.resource.json").write_text(json.dumps(descriptor))
    done = subprocess.run([str(Path(sys.executable).parent / "frictionless"), "validate", str(tmp_path / "rows.resource.json")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert (done.returncode == 0) == valid, done.stdout


def test_status_without_the_policy_says_where_the_deposits_are_recorded(repository, tmp_path, monkeypatch):
    out = export(tmp_path)
    assert run_deposit(out, port_to(repository, TOKEN), policy_for(repository)).exit_code == 0
    plain = run_cli("status", out)  # no policy naming the repository: the sandbox's rows, of which there are none
    assert plain.code == 0 and f"deposits are recorded for {repository.url}, not sandbox" in plain.err and "reconcile" not in plain.err
    named = run_cli("status", out, *cli_server(repository, tmp_path, monkeypatch, TOKEN))
    assert named.code == 0 and named.out.count(f"  {repository.url}  attempt 1  registered") == len(ELIGIBLE)
    assert run_cli("status", out, "--all").out.count("registered") == len(ELIGIBLE)


def test_a_dry_run_there_plans_in_its_vocabularies_and_words_and_writes_nothing(repository, tmp_path, monkeypatch):
    out = export(tmp_path)
    run = run_cli("deposit", out, "--dry-run", *cli_server(repository, tmp_path, monkeypatch, TOKEN))
    assert run.code == 0, run.err
    plan = json.loads((out / "plan.json").read_text())
    planned = {entry["id"]: entry for entry in plan["records"]}
    for record_id in ELIGIBLE:
        entry = planned[record_id]
        assert [d["type"]["id"] for d in entry["rdm"]["metadata"]["additional_descriptions"]] == ["other"]
        assert any("127.0.0.1" in step for step in entry["steps"]) and not any("Zenodo" in step for step in entry["steps"])
    assert repository.state.counters["create"] == 0 and "Zenodo" not in run.err


def test_a_community_there_reviews_each_first_deposit_and_the_accepted_one_is_registered(repository, tmp_path):
    from archiver.zenodo.double import rdm_mapping

    repository.state.add_community("tuw-research")
    policy = policy_for(repository, DEFAULT_POLICY.model_copy(update={"communities": ("tuw-research",)}))
    out = export(tmp_path)
    first = run_deposit(out, port_to(repository, TOKEN), policy)
    assert first.exit_code == 0 and {r.action for r in first.results if r.record_id in ELIGIBLE} == {"in-review"}
    assert repository.state.counters["publish"] == 0
    by_record = {k: d for d in repository.state.depositions.values() for k in d.metadata["keywords"] if k.startswith("SRCH:")}
    assert rdm_mapping.decide_review(repository.state, by_record["SRCH:4A7C19E2"].id, True)
    assert rdm_mapping.decide_review(repository.state, by_record["SRCH:2B9E4410"].id, False)
    later = {r.record_id: r for r in run_deposit(out, port_to(repository, TOKEN), policy).results}
    accepted = by_record["SRCH:4A7C19E2"]
    assert later["SRCH:4A7C19E2"].action == "deposited" and later["SRCH:4A7C19E2"].doi == repository.state.minted(accepted.id)
    assert later["SRCH:2B9E4410"].action == "failed" and "[review-declined]" in later["SRCH:2B9E4410"].detail
    external = json.loads((out / "manifests" / "SRCH_4A7C19E2.json").read_text())["provenance"]["external_record"]
    assert (external["deposition_id"], external["repository"]) == (repository.state.pid(accepted.id), repository.url)


# ---------------------------------------------------------------------------- a policy that names the wrong thing


def _named_port(double, policy):
    """A port to ``double`` as the repository ``policy`` names, whatever the double speaks as."""
    from archiver.deposit.adapters import open_port

    target = resolve_target(named=policy.repository, environ={REPOSITORY_TOKEN_VARIABLE: TOKEN})
    return open_port("records", target, sleep=double.state.clock.advance, backoff=0.0)


def _naming(double, prefix):
    from archiver.policy import RepositoryPolicy

    named = RepositoryPolicy(url=double.api_url, doi_prefix=prefix, token_variable=REPOSITORY_TOKEN_VARIABLE)
    return DEFAULT_POLICY.model_copy(update={"api": "records", "repository": named})


def test_a_server_answering_as_zenodo_where_the_policy_names_a_repository_stops_the_run_and_is_not_asked_again(tmp_path):
    """Ids of the other kind (numbers) say the server is not the repository named: the run stops at
    once (no draft per record left behind, no wait for a search that cannot tell), and the next run's
    lookup stops too, before it creates anything more."""
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as zenodo:
        policy = _naming(zenodo, "10.80123")
        out = export(tmp_path)
        first = run_deposit(out, _named_port(zenodo, policy), policy, workers=4)  # the first create goes alone
        assert first.exit_code == 2 and first.failing is not None and first.failing.count("[repository-mismatch]") == 1, first.as_dict()
        assert zenodo.state.counters["create"] == 1, "one draft, not one per record"
        assert {r.action for r in first.results if r.record_id in ELIGIBLE} == {"failed"}
        zenodo.state.clock.advance(5)  # the orphan is indexed
        second = run_deposit(out, _named_port(zenodo, policy), policy)
        assert second.exit_code == 2 and zenodo.state.counters["create"] == 1 and zenodo.state.counters["publish"] == 0


def test_a_wrong_doi_prefix_stops_the_run_after_the_first_publish_which_the_corrected_policy_registers(repository, tmp_path):
    out = export(tmp_path)
    wrong = _naming(repository, "10.99999")
    first = run_deposit(out, _named_port(repository, wrong), wrong, workers=4)  # the first publish goes alone
    assert first.exit_code == 2 and first.failing is not None and first.failing.count("[doi-prefix-mismatch]") == 1
    assert "correct the policy's doi_prefix" in first.failing and repository.state.counters["publish"] == 1
    assert not any(json.loads(p.read_text())["provenance"]["external_record"].get("repository") for p in (out / "manifests").glob("*.json"))
    right = policy_for(repository)
    repository.state.clock.advance(5)
    second = run_deposit(out, _named_port(repository, right), right)
    assert second.exit_code == 0 and repository.state.counters["publish"] == len(ELIGIBLE)  # one publish per record, ever
    registered = [p for p in (out / "manifests").glob("*.json") if json.loads(p.read_text())["provenance"]["external_record"].get("repository")]
    assert len(registered) == len(ELIGIBLE)
