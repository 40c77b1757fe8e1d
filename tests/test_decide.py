"""decide: what a deposit does with a record, given its latest ledger row and the policy (pure).

The record is seed page 003 (SRCH:08EA5386, DOI grade) before its deposit: external record Not
registered and public provenance L3, the only values changed from the page.
"""

from __future__ import annotations

import copy

import pytest

from archiver.deposit.decide import decide, needs_lookup
from archiver.deposit.files import content_hashes
from archiver.deposit.ledger import LedgerRow
from archiver.model import Record
from archiver.policy import DEFAULT_POLICY
from conftest import seed_003_manifest


@pytest.fixture(scope="module")
def manifest() -> dict:
    return seed_003_manifest(before_deposit=True)


@pytest.fixture(scope="module")
def record(manifest) -> Record:
    return Record.model_validate(manifest)


@pytest.fixture(scope="module")
def registered(record) -> Record:
    return record.registered("10.5072/zenodo.7", 7, "sandbox", record.gate.evaluated)


def _row(record: Record, state: str, **changes) -> LedgerRow:
    content, corrections = content_hashes(record)
    values = dict(
        record_id=record.id, environment="sandbox", attempt=1, api_url="https://sandbox.zenodo.org/api", content_hash=content,
        correction_hash=corrections, marker="m", state=state, deposition_id=None, files_at=None, doi=None, record_url=None,
        published_at=None, tries=0, last_error=None, updated_at="",
    )
    values.update(changes)
    return LedgerRow(**values)


def test_a_record_the_ledger_does_not_know_is_a_new_deposit(record):
    assert decide(record, None, DEFAULT_POLICY, new_versions=False) == ("deposit", "new deposit")


def test_a_registered_row_whose_manifest_says_so_is_skipped(registered):
    row = _row(registered, "registered", deposition_id=7, doi="10.5072/zenodo.7")
    assert decide(registered, row, DEFAULT_POLICY, new_versions=False) == ("skip", "already registered as 10.5072/zenodo.7")
    assert decide(registered, row, DEFAULT_POLICY, new_versions=True) == ("skip", "already registered as 10.5072/zenodo.7")


def test_a_registered_row_whose_manifest_lacks_the_doi_is_registered(record):
    row = _row(record, "registered", deposition_id=7, doi="10.5072/zenodo.7")
    assert decide(record, row, DEFAULT_POLICY, new_versions=False) == (
        "register", "published; the manifest does not carry the DOI yet")


def test_a_correction_since_the_deposit_is_drift_or_a_new_version(registered):
    row = _row(registered, "registered", deposition_id=7, doi="10.5072/zenodo.7", correction_hash="0" * 64)
    why = "the correction record changed since the deposit"
    assert decide(registered, row, DEFAULT_POLICY, new_versions=False) == ("drifted", why)
    assert decide(registered, row, DEFAULT_POLICY, new_versions=True) == ("new-version", why)


def test_a_published_row_is_registered(record):
    row = _row(record, "published", deposition_id=7, doi="10.5072/zenodo.7")
    assert decide(record, row, DEFAULT_POLICY, new_versions=False) == ("register", "published; registration not yet written")


def test_a_manifest_registered_elsewhere_points_to_reconcile(registered, record):
    action, why = decide(registered, None, DEFAULT_POLICY, new_versions=True)
    assert action == "skip"
    assert why == ("registered in its manifest as 10.5072/zenodo.7, but unknown to the ledger (a lost state directory?): "
                   "`archiver reconcile` rebuilds the ledger from Zenodo, and a deposit then sees any correction since")
    doi_only = copy.deepcopy(registered.to_manifest())
    del doi_only["provenance"]["external_record"]["deposition_id"]  # a DOI the page carried, not a deposit of archiver's
    action, why = decide(Record.model_validate(doi_only), None, DEFAULT_POLICY, new_versions=False)
    assert (action, why) == ("skip", "not eligible: already-registered")


@pytest.mark.parametrize("state", ["creating", "created", "uploaded", "described", "in-review", "publishing"])
def test_a_row_under_way_is_resumed_whatever_the_policy_says_now(record, state):
    row = _row(record, state, deposition_id=7)
    strict = DEFAULT_POLICY.model_copy(update={"doi_min_score": 9.5})
    assert decide(record, row, strict, new_versions=False) == ("deposit", f"resume from {state}")


def test_a_new_version_begun_is_resumed_even_when_planned(record):
    row = _row(record, "planned", attempt=2)
    assert decide(record, row, DEFAULT_POLICY, new_versions=False) == ("deposit", "resume from planned")


def test_a_record_that_is_not_eligible_is_skipped_with_its_reasons(manifest):
    low = copy.deepcopy(manifest)
    low["review_score"] = 6.0
    record = Record.model_validate(low)
    assert decide(record, None, DEFAULT_POLICY, new_versions=False) == ("skip", "not eligible: below-doi-grade, declared-tier-disagrees")
    planned = _row(record, "planned")
    assert decide(record, planned, DEFAULT_POLICY, new_versions=False)[0] == "skip"


def test_a_planned_row_after_a_refusal_says_what_was_answered(record):
    row = _row(record, "planned", last_error="POST https://sandbox.zenodo.org/api/deposit/depositions: 400 Invalid value notes.")
    assert decide(record, row, DEFAULT_POLICY, new_versions=False) == (
        "deposit", "new deposit; an earlier attempt created nothing on Zenodo (400 Invalid value notes.)")
    colons = _row(record, "planned", last_error="POST https://x/api: 400: Invalid value: notes.")
    assert decide(record, colons, DEFAULT_POLICY, new_versions=False)[1].endswith("(400: Invalid value: notes.)")
    plain = _row(record, "planned", last_error="timed out")
    assert decide(record, plain, DEFAULT_POLICY, new_versions=False) == (
        "deposit", "new deposit; an earlier attempt created nothing on Zenodo (timed out)")


def test_only_a_first_deposit_that_names_no_deposition_is_looked_up(record):
    assert needs_lookup("deposit", None)
    assert needs_lookup("deposit", _row(record, "planned"))
    assert needs_lookup("deposit", _row(record, "creating"))
    assert not needs_lookup("deposit", _row(record, "created", deposition_id=7))
    assert not needs_lookup("deposit", _row(record, "planned", attempt=2))
    for action in ("register", "new-version", "skip", "drifted"):
        assert not needs_lookup(action, None)


# --------------------------------------------------------------------------- published metadata (updates in place)


def _sent(registered: Record, policy=DEFAULT_POLICY) -> str:
    from archiver.deposit.description import public_text

    return public_text(registered, policy)


def test_metadata_as_sent_is_nothing_to_do_and_a_change_waits_for_update_metadata(registered):
    row = _row(registered, "registered", deposition_id=7, doi="10.5072/zenodo.7", metadata=_sent(registered))
    assert decide(registered, row, DEFAULT_POLICY, new_versions=False, update_metadata=True) == (
        "skip", "already registered as 10.5072/zenodo.7")
    changed = DEFAULT_POLICY.model_copy(update={"keywords": ("evidence synthesis",), "languages": ("deu",)})
    why = "metadata changed since the deposit: keywords, languages"
    assert decide(registered, row, changed, new_versions=False) == ("metadata-changed", why)
    assert decide(registered, row, changed, new_versions=True, update_metadata=True) == ("update", why)


def test_a_field_the_api_does_not_send_is_no_change(registered):
    row = _row(registered, "registered", deposition_id=7, doi="10.5072/zenodo.7", metadata=_sent(registered))
    publisher = DEFAULT_POLICY.model_copy(update={"publisher": "Another Research Organisation"})
    assert decide(registered, row, publisher, new_versions=False)[1] == "metadata changed since the deposit: creators, publisher"
    # the legacy API sends no publisher; the publisher is its creator only while creators are empty
    assert decide(registered, row, publisher, new_versions=False, unsent=("publisher",))[1] == (
        "metadata changed since the deposit: creators")


def test_an_update_left_open_or_unknown_metadata_is_looked_at_only_when_asked(registered):
    open_edit = _row(registered, "registered", deposition_id=7, doi="10.5072/zenodo.7", metadata=_sent(registered), edit="open")
    assert decide(registered, open_edit, DEFAULT_POLICY, new_versions=False) == (
        "metadata-changed", "an update of its metadata was not finished")
    assert decide(registered, open_edit, DEFAULT_POLICY, new_versions=False, update_metadata=True)[0] == "update"
    unknown = _row(registered, "registered", deposition_id=7, doi="10.5072/zenodo.7")
    assert decide(registered, unknown, DEFAULT_POLICY, new_versions=False)[0] == "skip"
    assert decide(registered, unknown, DEFAULT_POLICY, new_versions=False, update_metadata=True) == (
        "update", "the ledger does not know what was sent: what the repository publishes is compared with it")


def test_corrections_come_before_metadata_and_an_older_export_is_behind(registered):
    changed = DEFAULT_POLICY.model_copy(update={"keywords": ("evidence synthesis",)})
    count = registered.correction_record.correction_count
    row = _row(registered, "registered", deposition_id=7, doi="10.5072/zenodo.7", metadata=_sent(registered),
               correction_hash="another", published_version=str(1 + count))
    assert decide(registered, row, changed, new_versions=True, update_metadata=True) == (
        "new-version", "the correction record changed since the deposit")
    row.published_version = str(2 + count)
    action, why = decide(registered, row, changed, new_versions=True, update_metadata=True)
    assert action == "behind" and why.startswith(f"this export's record has {count} correction(s), the version published as "
                                                 f"10.5072/zenodo.7 has {count + 1}")


# --------------------------------------------------------------------------- the report's files


def _with_report(registered: Record, tmp_path, data: bytes = b"%PDF report") -> tuple[Record, dict]:
    import hashlib

    (tmp_path / "artifacts").mkdir(exist_ok=True)
    (tmp_path / "artifacts" / "SRCH-08EA5386.pdf").write_bytes(data)
    record = registered.with_artifact_path("artifacts/SRCH-08EA5386.pdf")
    deposited = {"SRCH-08EA5386.pdf": (len(data), hashlib.md5(data).hexdigest(), True),  # noqa: S324 - the repository's checksum
                 "manifest.json": (10, "m" * 32, True), "datapackage.zip": (20, "p" * 32, True)}
    return record, deposited


def test_a_report_as_deposited_changes_nothing(registered, tmp_path):
    from archiver.deposit.decide import decide_with_files

    record, deposited = _with_report(registered, tmp_path)
    row = _row(record, "registered", deposition_id=7, doi="10.5072/zenodo.7", metadata=_sent(record))
    assert decide_with_files(record, row, DEFAULT_POLICY, tmp_path, deposited, new_versions=False) == (
        "skip", "already registered as 10.5072/zenodo.7")
    assert decide_with_files(record, row, DEFAULT_POLICY, tmp_path, {}, new_versions=False)[0] == "skip"  # nothing known: no claim
    unknown = _row(record, "registered", deposition_id=7, doi="10.5072/zenodo.7")  # metadata not known: asked only by --update-metadata
    assert decide_with_files(record, unknown, DEFAULT_POLICY, tmp_path, deposited, new_versions=False)[0] == "skip"


@pytest.mark.parametrize("before", ["skip", "register", "metadata-changed", "update"])
def test_a_changed_report_of_a_registered_record_is_a_new_version(registered, tmp_path, before):
    from archiver.deposit.decide import decide_with_files

    record, deposited = _with_report(registered, tmp_path)
    deposited["SRCH-08EA5386.pdf"] = (11, "0" * 32, True)  # what was deposited: another report
    policy = DEFAULT_POLICY.model_copy(update={"keywords": ("evidence synthesis",)}) if before in ("metadata-changed", "update") else DEFAULT_POLICY
    shown = record if before != "register" else record.model_copy(update={"provenance": registered.provenance.model_copy(
        update={"external_record": registered.provenance.external_record.model_copy(update={"doi": None})})})
    row = _row(record, "registered", deposition_id=7, doi="10.5072/zenodo.7", metadata=_sent(record))
    assert decide(shown, row, policy, new_versions=False, update_metadata=before == "update")[0] == before
    why = "the report artifact changed since the deposit"
    assert decide_with_files(shown, row, policy, tmp_path, deposited, new_versions=False, update_metadata=before == "update") == (
        "drifted", why)
    assert decide_with_files(shown, row, policy, tmp_path, deposited, new_versions=True) == ("new-version", why)


def test_a_changed_report_counts_only_for_a_registered_row(registered, tmp_path):
    from archiver.deposit.decide import decide_with_files

    record, deposited = _with_report(registered, tmp_path)
    deposited["SRCH-08EA5386.pdf"] = (11, "0" * 32, True)
    published = _row(record, "published", deposition_id=7, doi="10.5072/zenodo.7")
    assert decide_with_files(record, published, DEFAULT_POLICY, tmp_path, deposited, new_versions=True) == (
        "register", "published; registration not yet written")
