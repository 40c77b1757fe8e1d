"""Metadata updated in place (deposit --update-metadata) against the double, on both APIs: seen as
metadata-changed by a plain deposit, edited under the same DOI with no new version in at most four
requests a record, never half-published, and exactly once across kills, a lost ledger, a second
folder and two runs at once. Each test ends with what the double holds: no edit left open, the
metadata of now published, one deposition per record."""

from __future__ import annotations

import shlex
import shutil
import threading

import pytest

from archiver.deposit.ledger import Ledger
from archiver.deposit.reconcile import reconcile
from archiver.deposit.runner import run_deposit
from archiver.exportdir import ledger_path, state_dir_for
from archiver.policy import DEFAULT_POLICY
from archiver.zenodo import legacy_client, records_client
from archiver.zenodo.double import ZenodoDouble, rdm_mapping, store
from conftest import EXAMPLES, FakeClock, double_of, policy_for, port_to, run_cli

pytestmark = pytest.mark.e2e

TOKEN = "tok_UPDATE_IN_PLACE_0123456789abcdefghijk"
ELIGIBLE = {"SRCH:4A7C19E2", "SRCH:2B9E4410", "SRCH:D1CE0F00"}
BEFORE = DEFAULT_POLICY
AFTER = DEFAULT_POLICY.model_copy(update={"publisher": "Another Research Organisation"})
# per API: the client method of each request an update sends
CLIENT = {"deposit": legacy_client.LegacyClient, "records": records_client.RecordsClient}
SAVE = {"deposit": "update_metadata", "records": "update_draft"}


@pytest.fixture(params=["deposit", "records", "repository"])
def double(request):
    with double_of(request.param, TOKEN, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as running:
        yield running


def port(double):
    return port_to(double, TOKEN)


def export(tmp_path, name):
    out = tmp_path / name
    assert run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code in (0, 1)
    return out


def deposited(double, tmp_path, name="export"):
    out = export(tmp_path, name)
    assert run_deposit(out, port(double), policy_for(double, BEFORE)).exit_code == 0
    double.state.clock.advance(5)
    return out


def publisher_of(double, dep) -> str:
    """What the deposition publishes as its publisher, in the API's own place."""
    published = double.state.as_published(dep)
    if double.api_name == "records":
        return published.rdm["publisher"]
    return published.metadata["creators"][0]["name"]  # the legacy API: the publisher is the creator


def assert_published_now(double, publisher=AFTER.publisher):
    """One published deposition per record, no edit open, ``publisher`` public, no new version."""
    depositions = list(double.state.depositions.values())
    assert len(depositions) == len(ELIGIBLE) and double.state.counters["newversion"] == 0
    for dep in depositions:
        assert dep.submitted and not dep.editing and dep.state == "done", f"{dep.id}: an edit is left open"
        assert dep.doi == double.state.minted(dep.id)
        assert publisher_of(double, dep) == publisher


def test_a_plain_deposit_names_the_changed_fields_and_the_command_that_fixes_them(double, tmp_path):
    out = deposited(double, tmp_path)
    summary = run_deposit(out, port(double), policy_for(double, AFTER))
    changed = [r for r in summary.results if r.action == "metadata-changed"]
    assert summary.exit_code == 1 and {r.record_id for r in changed} == ELIGIBLE
    assert summary.requests == 0  # seen from the ledger: nothing asked
    fields = "creators" if double.api_name == "deposit" else "creators, publisher"  # the legacy API sends no publisher
    server = "" if double.state.repository else f" --zenodo-url {double.api_url}"  # a repository is the policy's to name
    command = f"`archiver deposit {shlex.quote(str(out))}{server} --update-metadata`"  # pastes as printed
    assert all(f"metadata changed since the deposit: {fields};" in r.detail and command in r.detail for r in changed), changed
    assert_published_now(double, BEFORE.publisher)


def test_an_update_edits_in_place_in_four_requests_and_a_rerun_sends_nothing(double, tmp_path):
    out = deposited(double, tmp_path)
    before = {dep.id: (dep.doi, [(f.filename, f.data_md5) for f in dep.files]) for dep in double.state.depositions.values()}
    manifests = {path.name: path.read_bytes() for path in (out / "manifests").iterdir()}
    summary = run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True)
    assert summary.exit_code == 0
    assert {r.record_id: r.action for r in summary.results if r.action != "skipped"} == dict.fromkeys(ELIGIBLE, "updated")
    # read, edit, save (read back), publish; a repository other than Zenodo is asked once per run
    # for each vocabulary entry the body names (resource type, licence, language, description type)
    assert summary.requests == 4 * len(ELIGIBLE) + (4 if double.state.repository else 0)
    counters = double.state.counters
    assert (counters["edit"], counters["publish_edit"], counters["discard"], counters["publish"]) == (3, 3, 0, 3)
    assert {dep.id: (dep.doi, [(f.filename, f.data_md5) for f in dep.files]) for dep in double.state.depositions.values()} == before
    assert {path.name: path.read_bytes() for path in (out / "manifests").iterdir()} == manifests  # same DOI, same record
    assert_published_now(double)
    again = run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True)
    assert again.requests == 0 and again.exit_code == 0
    assert run_deposit(out, port(double), policy_for(double, AFTER)).exit_code == 0  # nothing left to say


def test_a_field_the_server_does_not_keep_discards_the_edit_and_publishes_nothing(double, tmp_path, monkeypatch):
    out = deposited(double, tmp_path)
    # the server's lenient save drops the publisher (legacy: the creators) without a word
    if double.api_name == "records":
        real_save = rdm_mapping.save
        monkeypatch.setattr(rdm_mapping, "save", lambda *args: (lambda kept: ({k: v for k, v in kept[0].items() if k != "publisher"}, *kept[1:]))(real_save(*args)))
    else:
        real_stored = store.stored_metadata
        monkeypatch.setattr(store, "stored_metadata", lambda metadata: {k: v for k, v in real_stored(metadata).items() if k != "creators"})
    summary = run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True)
    failed = [r for r in summary.results if r.action == "failed"]
    assert summary.exit_code == 1 and {r.record_id for r in failed} == ELIGIBLE
    assert all("[metadata-not-kept]" in r.detail and "nothing was published" in r.detail for r in failed)
    assert (double.state.counters["publish_edit"], double.state.counters["discard"]) == (0, 3)
    assert_published_now(double, BEFORE.publisher)
    monkeypatch.undo()
    assert run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True).exit_code == 0
    assert_published_now(double)


class Killed(BaseException):
    """The process ends here (nothing after it runs, not even the run's own error handling)."""


def kill_after(monkeypatch, owner, name):
    real = getattr(owner, name)

    def killed(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise Killed(name)

    monkeypatch.setattr(owner, name, killed)


@pytest.mark.parametrize("step", ["edit", "save", "publish"])
@pytest.mark.parametrize("ledger", ["kept", "lost"])
def test_a_kill_at_each_step_leaves_at_most_one_edit_which_the_rerun_finishes(double, tmp_path, monkeypatch, step, ledger):
    out = deposited(double, tmp_path)
    owner = CLIENT[double.api_name]
    kill_after(monkeypatch, owner, {"edit": "edit", "save": SAVE[double.api_name], "publish": "publish"}[step])
    with pytest.raises(Killed):
        run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True, workers=1)
    monkeypatch.undo()
    left_open = sum(dep.editing for dep in double.state.depositions.values())
    assert (left_open >= 1) == (step != "publish")  # the kill left an edit for the rerun (Zenodo keeps one per record)
    if ledger == "lost":
        shutil.rmtree(state_dir_for(out))
        reconcile(out, port(double), policy_for(double, AFTER))  # the ledger rebuilt from the repository: it knows no metadata sent
        with Ledger(ledger_path(out)) as rebuilt:
            assert {row.record_id for row in rebuilt.all() if row.state == "registered"} == ELIGIBLE
    summary = run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True)
    assert summary.exit_code == 0, [r.as_dict() for r in summary.results]
    assert double.state.counters["publish_edit"] == len(ELIGIBLE)  # each record's edit published once
    assert_published_now(double)
    assert run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True).requests == 0


def test_a_second_folder_finds_the_update_published_and_sends_no_write(double, tmp_path):
    first = deposited(double, tmp_path, "first")
    second = export(tmp_path, "second")
    assert run_deposit(second, port(double), policy_for(double, BEFORE)).exit_code == 0  # adopted: its ledger sent nothing
    assert run_deposit(first, port(double), policy_for(double, AFTER), update_metadata=True).exit_code == 0
    writes = {key: double.state.counters[key] for key in ("edit", "publish_edit", "update", "discard", "publish", "create")}
    summary = run_deposit(second, port(double), policy_for(double, AFTER), update_metadata=True)
    assert summary.exit_code == 0
    assert {r.action for r in summary.results if r.record_id in ELIGIBLE} == {"skipped"}
    assert summary.requests == len(ELIGIBLE)  # one read each: what is published is the metadata of now
    assert {key: double.state.counters[key] for key in writes} == writes
    assert run_deposit(second, port(double), policy_for(double, AFTER), update_metadata=True).requests == 0
    assert_published_now(double)


def test_two_runs_at_once_publish_one_edit(double, tmp_path, monkeypatch):
    """Both runs read what is published before either edits (a barrier holds them): they share the
    one edit Zenodo keeps per record, and the run whose publish finds it published already reads
    the metadata of now there and is done."""
    one = deposited(double, tmp_path, "one")
    two = export(tmp_path, "two")
    assert run_deposit(two, port(double), policy_for(double, BEFORE)).exit_code == 0
    barrier = threading.Barrier(2, timeout=60)
    owner = CLIENT[double.api_name]
    real_edit = owner.edit

    def edit_together(self, *args, **kwargs):
        barrier.wait()
        return real_edit(self, *args, **kwargs)

    monkeypatch.setattr(owner, "edit", edit_together)
    summaries = {}

    def run(folder):
        summaries[folder.name] = run_deposit(folder, port(double), policy_for(double, AFTER), update_metadata=True, workers=1)

    threads = [threading.Thread(target=run, args=(folder,)) for folder in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert {name: s.exit_code for name, s in summaries.items()} == {"one": 0, "two": 0}
    assert double.state.counters["publish_edit"] == len(ELIGIBLE)
    assert_published_now(double)


def test_an_edit_left_open_over_metadata_already_published_is_dropped(double, tmp_path):
    """A run stopped between opening an edit and looking at it, after another run had published the
    same metadata: the next run of that ledger settles the edit it left. The records API's record
    does not show an open edit, but does show what is published: the edit is discarded (two
    requests). The legacy API shows the edit in place of what is published: it is finished, which
    publishes the same metadata again (four requests, no new version, the same DOI)."""
    out = deposited(double, tmp_path)
    assert run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True).exit_code == 0
    import sqlite3

    with sqlite3.connect(ledger_path(out)) as db:
        db.execute("UPDATE deposits SET edit = 'open' WHERE record_id = 'SRCH:4A7C19E2'")
    dep = next(d for d in double.state.depositions.values() if "SRCH:4A7C19E2" in d.metadata.get("keywords", []))
    with double.state.lock:
        double.state.open_edit(dep)
    published_edits = double.state.counters["publish_edit"]
    summary = run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True)
    finished = double.api_name == "deposit"
    assert summary.exit_code == 0 and summary.requests == (4 if finished else 2)
    assert not dep.editing and double.state.counters["publish_edit"] == published_edits + finished
    assert_published_now(double)
    assert run_deposit(out, port(double), policy_for(double, AFTER), update_metadata=True).requests == 0


def test_on_the_legacy_api_an_update_adds_a_community_at_the_edits_publish(tmp_path):
    """zenodo-rdm's LegacyRecordService.publish moves legacy communities to inclusions for an edit
    as for a first publish; the update reads them back, and the next run finds nothing to send."""
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=1.0, clock=FakeClock()) as double:
        double.api_name = "deposit"
        slug = "synthesis-curators"
        double.state.add_community(slug, review_policy="open", curator=True)
        out = deposited(double, tmp_path)
        joined = BEFORE.model_copy(update={"communities": (slug,)})
        summary = run_deposit(out, port(double), joined, update_metadata=True)
        assert summary.exit_code == 0 and {r.action for r in summary.results if r.record_id in ELIGIBLE} == {"updated"}
        community = double.state.communities[slug]["id"]
        assert all(community in dep.communities for dep in double.state.depositions.values())
        assert run_deposit(out, port(double), joined, update_metadata=True).requests == 0
