"""ledger: each named step of a deposit from the states it may follow, and refused from any other;
what each step writes; the rows set right by what the repository holds."""

from __future__ import annotations

import datetime as dt

import pytest

from archiver.deposit.ledger import STATES, Ledger, LedgerRow, RemoteState
from archiver.findings import ArchiverError


class Ticking:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.at += dt.timedelta(seconds=1)
        return self.at


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite", clock=Ticking()) as opened:
        yield opened


def _row(ledger: Ledger, state: str, **changes) -> LedgerRow:
    values = dict(
        record_id="SRCH:4A7C19E2", environment="sandbox", attempt=1, api_url="https://sandbox.zenodo.org/api",
        content_hash="c" * 64, correction_hash="r" * 64, marker="m", state=state, deposition_id=None, files_at=None,
        doi=None, record_url=None, published_at=None, tries=0, last_error=None, updated_at="",
    )
    values.update(changes)
    return ledger.begin(LedgerRow(**values))


# step, its arguments, the state it reaches, the states it may follow
STEPS = [
    ("creating", (), "creating", {"planned", "creating"}),
    ("not_created", (), "planned", {"planned", "creating"}),
    ("created", (7, "https://x/files"), "created", {"planned", "creating"}),
    ("uploaded", (), "uploaded", {"created", "uploaded"}),
    ("described", (), "described", {"uploaded", "described", "in-review", "publishing"}),
    ("in_review", (), "in-review", {"described", "in-review"}),
    ("publishing", (), "publishing", {"described", "publishing"}),
    ("published", ("10.5072/zenodo.7", "10.5072/zenodo.6", "https://x/records/7"), "published",
     {"described", "in-review", "publishing", "published"}),
    ("registered", (), "registered", {"published", "registered"}),
    ("editing", (), "registered", {"registered"}),
    ("edited", ('{"title":"T"}',), "registered", {"registered"}),
    ("edit_closed", (), "registered", {"registered"}),
]


@pytest.mark.parametrize(("step", "args", "reached", "allowed"), STEPS, ids=[s[0] for s in STEPS])
def test_each_step_follows_only_the_states_it_may(ledger, step, args, reached, allowed):
    for state in STATES:
        row = _row(ledger, state, record_id=f"SRCH:{STATES.index(state):08X}")
        if state in allowed:
            assert getattr(ledger, step)(row, *args) is row
            assert row.state == reached
            assert ledger.get(row.record_id, "sandbox").state == reached
        else:
            with pytest.raises(ArchiverError) as caught:
                getattr(ledger, step)(row, *args)
            assert caught.value.code == "ledger-corrupt"
            assert caught.value.message == f"{row.record_id}: the ledger cannot go from {state!r} to {reached!r} (attempt 1)"
            assert ledger.get(row.record_id, "sandbox").state == state  # nothing written


def test_what_the_steps_write(ledger):
    row = _row(ledger, "planned")
    ledger.creating(row)
    assert (row.tries, row.updated_at) == (1, "2026-03-01T12:00:02+00:00")
    ledger.created(row, 7, "https://x/files")
    assert (row.deposition_id, row.files_at, row.tries) == (7, "https://x/files", 1)
    ledger.files_moved(row, "https://x/other")
    assert (row.state, row.files_at) == ("created", "https://x/other")
    ledger.uploaded(row)
    ledger.described(row)
    ledger.publishing(row)
    assert row.tries == 2
    ledger.failed(row, "504 from Zenodo")
    ledger.published(row, "10.5072/zenodo.7", "10.5072/zenodo.6", "https://x/records/7", "2")
    assert (row.doi, row.concept_doi, row.record_url, row.last_error) == ("10.5072/zenodo.7", "10.5072/zenodo.6", "https://x/records/7", None)
    assert ledger.get(row.record_id, "sandbox").published_version == "2" and not row.newer_than(1) and row.newer_than(0)
    assert row.published_at == row.updated_at
    ledger.failed(row, "manifest could not be written")
    ledger.registered(row)
    assert row.last_error is None
    assert ledger.get(row.record_id, "sandbox") == row


def test_a_submission_counts_as_a_try(ledger):
    row = _row(ledger, "described")
    assert ledger.in_review(row).tries == 1


def test_a_found_deposition_is_adopted_from_any_state(ledger):
    for state in STATES:
        row = _row(ledger, state, record_id=f"SRCH:{STATES.index(state):08X}", deposition_id=3, files_at="old")
        ledger.plan_file(row, "manifest.json", 1, "a" * 32)
        ledger.adopted(row, RemoteState(9, "https://x/9"), "created")
        assert (row.state, row.deposition_id, row.files_at, row.last_error) == ("created", 9, "https://x/9", None)
        assert ledger.files(row) == {}  # what was uploaded went to another deposition
    found_published = _row(ledger, "publishing", record_id="SRCH:BBBBBBBB", deposition_id=9)
    ledger.adopted(found_published, RemoteState(9, None, "10.5072/zenodo.9", None, None), "published")
    assert (found_published.state, found_published.doi) == ("published", "10.5072/zenodo.9")
    published = _row(ledger, "planned", record_id="SRCH:AAAAAAAA")
    ledger.adopted(published, RemoteState(9, None, "10.5072/zenodo.9", "10.5072/zenodo.8", "https://x/records/9", "3"), "registered", "h" * 64)
    assert ledger.get(published.record_id, "sandbox").published_version == "3"
    assert (published.doi, published.concept_doi, published.record_url, published.correction_hash) == (
        "10.5072/zenodo.9", "10.5072/zenodo.8", "https://x/records/9", "h" * 64)
    assert published.published_at == published.updated_at


def test_a_draft_adopted_again_keeps_its_upload_notes_and_its_hash(ledger):
    row = _row(ledger, "created", deposition_id=9)
    ledger.plan_file(row, "manifest.json", 1, "a" * 32)
    ledger.adopted(row, RemoteState(9, "https://x/9"), "in-review")
    assert ledger.files(row) == {"manifest.json": (1, "a" * 32, False)}
    assert (row.state, row.correction_hash, row.doi, row.published_at) == ("in-review", "r" * 64, None, None)


@pytest.mark.parametrize("state", ["planned", "creating", "uploaded", "described", "publishing"])
def test_a_deposition_is_adopted_only_in_the_states_a_remote_one_can_be_in(ledger, state):
    row = _row(ledger, "planned")
    with pytest.raises(ArchiverError) as caught:
        ledger.adopted(row, RemoteState(9, None), state)
    assert caught.value.code == "ledger-corrupt" and row.state == "planned"


def test_a_forgotten_deposition_plans_the_record_afresh(ledger):
    row = _row(ledger, "uploaded", deposition_id=9, files_at="https://x/9", last_error="gone")
    ledger.plan_file(row, "manifest.json", 1, "a" * 32)
    ledger.deposition_forgotten(row)
    assert (row.state, row.deposition_id, row.files_at, row.last_error) == ("planned", None, None, None)
    assert ledger.files(row) == {}


def test_a_changed_record_makes_its_draft_again_but_never_one_in_review_or_published(ledger):
    row = _row(ledger, "described", deposition_id=9)
    ledger.plan_file(row, "manifest.json", 1, "a" * 32)
    ledger.record_changed(row, "d" * 64, "s" * 64)
    assert (row.state, row.content_hash, row.correction_hash, ledger.files(row)) == ("created", "d" * 64, "s" * 64, {})
    for state in ("in-review", "publishing", "published", "registered"):
        late = _row(ledger, state, record_id=f"SRCH:{STATES.index(state):08X}", deposition_id=9)
        with pytest.raises(ArchiverError) as caught:
            ledger.record_changed(late, "d" * 64, "s" * 64)
        assert caught.value.code == "ledger-corrupt" and late.state == state


def test_a_row_taken_on_through_the_other_api_is_read_afresh_unless_published(ledger):
    row = _row(ledger, "uploaded", deposition_id=9, files_at="https://x/9")
    ledger.plan_file(row, "manifest.json", 1, "a" * 32)
    ledger.api_switched(row, "records")
    assert (row.state, row.api, row.files_at, ledger.files(row)) == ("uploaded", "records", None, {})
    for state in ("published", "registered"):
        done = _row(ledger, state, record_id=f"SRCH:{STATES.index(state):08X}")
        with pytest.raises(ArchiverError) as caught:
            ledger.api_switched(done, "records")
        assert caught.value.code == "ledger-corrupt" and done.api == "deposit"


def test_the_time_a_manifest_says_is_kept(ledger):
    row = _row(ledger, "registered")
    ledger.registered_at(row, "2026-01-01T00:00:00+00:00")
    assert ledger.get(row.record_id, "sandbox").published_at == "2026-01-01T00:00:00+00:00"


def test_an_update_in_place_opens_an_edit_then_keeps_what_was_published(ledger):
    row = _row(ledger, "registered", deposition_id=7, doi="10.5072/zenodo.7", metadata='{"title":"Old"}', tries=3)
    ledger.editing(row)
    kept = ledger.get(row.record_id, "sandbox")
    assert (kept.edit, kept.tries, kept.metadata) == ("open", 4, '{"title":"Old"}')  # the old text until published
    ledger.failed(row, "boom")
    ledger.edited(row, '{"title":"New"}')
    kept = ledger.get(row.record_id, "sandbox")
    assert (kept.edit, kept.metadata, kept.last_error, kept.state) == (None, '{"title":"New"}', None, "registered")
    ledger.editing(row)
    ledger.edit_closed(row)
    kept = ledger.get(row.record_id, "sandbox")
    assert (kept.edit, kept.metadata) == (None, '{"title":"New"}')


def test_what_was_sent_is_kept_and_forgotten_when_another_deposition_is_adopted(ledger):
    row = _row(ledger, "created", deposition_id=7)
    ledger.sent(row, '{"title":"T"}')
    assert ledger.get(row.record_id, "sandbox").metadata == '{"title":"T"}'
    ledger.adopted(row, RemoteState(7, None, "10.5072/zenodo.7"), "registered")
    assert ledger.get(row.record_id, "sandbox").metadata == '{"title":"T"}'  # the same deposition: still what it holds
    ledger.adopted(row, RemoteState(9, None, "10.5072/zenodo.9"), "registered")
    assert ledger.get(row.record_id, "sandbox").metadata is None  # another's metadata is not known


def test_a_published_version_archiver_did_not_write_is_never_newer(ledger):
    row = _row(ledger, "registered", deposition_id=7, published_version="v2")
    assert row.newer_than(0) is False
    row.published_version = None
    assert row.newer_than(0) is False
    row.published_version = "3"
    assert row.newer_than(1) is True and row.newer_than(2) is False


def test_the_files_a_found_deposition_holds_replace_the_rows_files(ledger):
    row = _row(ledger, "registered", deposition_id=7)
    ledger.plan_file(row, "old.pdf", 5, "o" * 32)
    ledger.files_found(row, [("manifest.json", "m" * 32), ("SRCH-4A7C19E2.pdf", "a" * 32)])
    assert ledger.files(row) == {"manifest.json": (0, "m" * 32, True), "SRCH-4A7C19E2.pdf": (0, "a" * 32, True)}
