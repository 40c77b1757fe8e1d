"""ledger: an older ledger migrated, which rows count as registrations, every row operation and the
guards around the file (its mode, its durability, a corrupt or foreign one).

The clock here moves one second per reading, so a row's published_at and updated_at differ
whenever the code writes them at different moments.

Equivalent mutant: removing ``PRAGMA synchronous=FULL`` changes nothing on a SQLite built with
FULL as its default (this one; the test reads the setting back); the pragma stays for builds
whose default is NORMAL, where a power cut could lose a confirmed step.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat

import pytest

from archiver.deposit.ledger import (
    SCHEMA_VERSION,
    STATES,
    Ledger,
    LedgerRow,
    ledger_registrations,
)
from archiver.deposit.registered import check_server, registered_dois
from archiver.exportdir import state_dir_for
from archiver.findings import ArchiverError
from archiver.model import Registration

SANDBOX = "https://sandbox.zenodo.org/api"


class Ticking:
    """A clock that is one second later at every reading."""

    def __init__(self) -> None:
        self.at = dt.datetime(2026, 3, 1, 12, 0, 0, 500_000, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.at += dt.timedelta(seconds=1)
        return self.at


def _row(record_id: str = "SRCH:4A7C19E2", attempt: int = 1, **changes) -> LedgerRow:
    values = dict(
        record_id=record_id, environment="sandbox", attempt=attempt, api_url=SANDBOX,
        content_hash="c" * 64, correction_hash="r" * 64, marker=f"archiver:{record_id}:v{attempt}", state="planned",
        deposition_id=None, files_at=None, doi=None, record_url=None, published_at=None, tries=0,
        last_error=None, updated_at="",
    )
    values.update(changes)
    return LedgerRow(**values)


@pytest.fixture
def ledger(tmp_path):
    opened = Ledger(tmp_path / "state" / "ledger.sqlite", clock=Ticking())
    yield opened
    opened.close()


def test_a_new_ledger_is_private_durable_and_of_this_schema(tmp_path):
    path = tmp_path / "state" / "ledger.sqlite"
    ledger = Ledger(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ledger.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    ledger.close()
    path.chmod(0o644)
    Ledger(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # made private again on every open


def test_the_clock_is_read_to_the_second_in_utc(ledger):
    row = _row()
    ledger.begin(row)
    assert row.updated_at == "2026-03-01T12:00:01+00:00"
    ledger.creating(row)
    assert row.updated_at == "2026-03-01T12:00:02+00:00" and row.state == "creating" and row.tries == 1
    assert ledger.get(row.record_id, "sandbox").updated_at == "2026-03-01T12:00:02+00:00"


def _old_ledger(path, version: int) -> None:
    columns = """record_id TEXT NOT NULL, environment TEXT NOT NULL, version INTEGER NOT NULL, api_url TEXT NOT NULL,
        content_hash TEXT NOT NULL, correction_hash TEXT NOT NULL, marker TEXT NOT NULL, state TEXT NOT NULL,
        deposition_id INTEGER, bucket_url TEXT, doi TEXT, record_url TEXT, published_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, updated_at TEXT NOT NULL"""
    if version >= 2:
        columns += ", concept_doi TEXT"
    if version >= 3:
        columns += ", api TEXT NOT NULL DEFAULT 'deposit'"
    db = sqlite3.connect(path)
    db.executescript(
        f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '{version}');
        CREATE TABLE deposits ({columns}, PRIMARY KEY (record_id, environment, version));
        INSERT INTO deposits (record_id, environment, version, api_url, content_hash, correction_hash, marker, state,
            deposition_id, doi, published_at, updated_at)
        VALUES ('SRCH:4A7C19E2', 'sandbox', 1, '{SANDBOX}', 'c', 'r', 'm', 'registered', 7, '10.5072/zenodo.7',
            '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:01+00:00');
        """  # noqa: S608 - the test's own constants
    )
    db.commit()
    db.close()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_an_older_ledger_is_migrated_in_place_and_keeps_its_rows(tmp_path, version):
    path = tmp_path / "ledger.sqlite"
    _old_ledger(path, version)
    ledger = Ledger(path)
    row = ledger.get("SRCH:4A7C19E2", "sandbox")
    assert (row.state, row.deposition_id, row.doi, row.concept_doi, row.api) == ("registered", 7, "10.5072/zenodo.7", None, "deposit")
    assert (row.metadata, row.edit) == (None, None)  # what was sent is not known from an older ledger
    assert ledger.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    ledger._write(row, concept_doi="10.5072/zenodo.6", api="records", metadata='{"title":"T"}', edit="open")
    ledger.close()
    again = Ledger(path)  # opened again: nothing left to migrate, the new columns hold
    kept = again.get("SRCH:4A7C19E2", "sandbox")
    assert (kept.concept_doi, kept.api, kept.metadata, kept.edit) == ("10.5072/zenodo.6", "records", '{"title":"T"}', "open")
    again.close()


def test_a_failed_migration_leaves_the_ledger_as_it_was(tmp_path):
    path = tmp_path / "ledger.sqlite"
    _old_ledger(path, 1)
    db = sqlite3.connect(path)
    db.execute("CREATE TRIGGER no_meta BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'meta is frozen'); END")
    db.commit()
    db.close()
    with pytest.raises(sqlite3.DatabaseError, match="meta is frozen"):
        Ledger(path)
    db = sqlite3.connect(path)
    columns = {row[1] for row in db.execute("PRAGMA table_info(deposits)")}
    assert "concept_doi" not in columns and "api" not in columns  # the ALTERs were rolled back with the rest
    db.close()


def test_a_ledger_that_is_not_a_database_is_corrupt(tmp_path):
    broken = tmp_path / "ledger.sqlite"
    broken.write_bytes(b"not a database, " * 300)
    with pytest.raises(ArchiverError) as caught:
        Ledger(broken)
    assert caught.value.code == "ledger-corrupt"
    assert caught.value.message.startswith(f"{broken}: the ledger is unreadable (")
    assert caught.value.message.endswith("); move it aside only if you know no deposit is pending")


def test_a_ledger_of_a_newer_archiver_is_refused(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(ArchiverError) as caught:
        Ledger(path)
    assert caught.value.code == "ledger-too-new"
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    db.commit()
    db.close()
    Ledger(path).close()  # the same version opens


def test_states_are_ordered_and_reached_means_at_or_past(ledger):
    row = _row(state="uploaded")
    assert row.reached("planned") and row.reached("created") and row.reached("uploaded")
    assert not row.reached("described") and not row.reached("registered")
    assert STATES[0] == "planned" and STATES[-1] == "registered"


def test_a_step_that_needs_a_deposition_refuses_a_row_without_one():
    assert _row(deposition_id=12).remote_id == 12
    with pytest.raises(ArchiverError) as caught:
        _ = _row().remote_id
    assert caught.value.code == "ledger-corrupt" and caught.value.message.startswith("SRCH:4A7C19E2: ")


def test_get_reads_the_latest_version_or_the_one_asked(ledger):
    ledger.begin(_row(attempt=1, state="registered"))
    ledger.begin(_row(attempt=2, state="created"))
    ledger.begin(_row(attempt=1, environment="production", state="planned"))
    assert ledger.get("SRCH:4A7C19E2", "sandbox").attempt == 2
    assert ledger.get("SRCH:4A7C19E2", "sandbox", 1).state == "registered"
    assert ledger.get("SRCH:4A7C19E2", "sandbox", 3) is None
    assert ledger.get("SRCH:4A7C19E2", "production").state == "planned"
    assert ledger.get("SRCH:00000000", "sandbox") is None
    assert sorted((r.environment, r.attempt) for r in ledger.all()) == [("production", 1), ("sandbox", 1), ("sandbox", 2)]
    assert [(r.environment, r.attempt) for r in ledger.all("sandbox")] == [("sandbox", 1), ("sandbox", 2)]
    assert [r.attempt for r in ledger.all("production")] == [1]


def test_update_writes_only_the_row_it_names(ledger):
    first, second = _row(), _row("SRCH:2B9E4410")
    ledger.begin(first)
    ledger.begin(second)
    ledger.created(ledger.creating(first), 5, None)
    ledger.failed(first, "timeout")
    assert ledger.get("SRCH:2B9E4410", "sandbox").state == "planned"
    stored = ledger.get("SRCH:4A7C19E2", "sandbox")
    assert (stored.state, stored.deposition_id, stored.tries, stored.last_error) == ("created", 5, 1, "timeout")


def test_file_plans_uploads_and_forgetting(ledger):
    row = _row()
    other = _row(attempt=2)
    ledger.begin(row)
    ledger.begin(other)
    ledger.plan_file(row, "manifest.json", 10, "a" * 32)
    ledger.plan_file(row, "datapackage.zip", 20, "b" * 32)
    ledger.plan_file(other, "manifest.json", 11, "c" * 32)
    ledger.file_uploaded(row, "manifest.json")
    assert ledger.files(row) == {"manifest.json": (10, "a" * 32, True), "datapackage.zip": (20, "b" * 32, False)}
    assert ledger.files(other) == {"manifest.json": (11, "c" * 32, False)}
    ledger.forget_files(row)
    assert ledger.files(row) == {}
    assert ledger.files(other) == {"manifest.json": (11, "c" * 32, False)}


def test_drop_deletes_a_records_rows_and_files_in_one_environment_only(ledger):
    row = _row()
    ledger.begin(row)
    ledger.plan_file(row, "manifest.json", 10, "a" * 32)
    ledger.begin(_row(environment="production"))
    ledger.begin(_row("SRCH:2B9E4410"))
    ledger.drop("SRCH:4A7C19E2", "sandbox")
    assert ledger.get("SRCH:4A7C19E2", "sandbox") is None and ledger.files(row) == {}
    assert ledger.get("SRCH:4A7C19E2", "production") is not None
    assert ledger.get("SRCH:2B9E4410", "sandbox") is not None


def test_restore_puts_rows_back_as_they_were(ledger):
    row = _row(state="created", deposition_id=5)
    ledger.begin(row)
    ledger.plan_file(row, "manifest.json", 10, "a" * 32)
    before = ledger.all("sandbox")
    ledger._write(row, state="registered", doi="10.5072/zenodo.5")
    ledger.restore("SRCH:4A7C19E2", "sandbox", before)
    assert ledger.all("sandbox") == before
    assert ledger.files(row) == {}  # upload notes are not kept: a resume reads the draft


def test_servers_and_the_check_against_another(ledger):
    ledger.begin(_row())
    ledger.begin(_row("SRCH:2B9E4410", api_url=SANDBOX + "/"))
    ledger.begin(_row("SRCH:99999999", environment="production", api_url="https://zenodo.org/api"))
    assert ledger.servers("sandbox") == {SANDBOX, SANDBOX + "/"}
    check_server(ledger, "sandbox", SANDBOX)  # a trailing slash is the same server
    check_server(ledger, "sandbox", SANDBOX + "/")
    check_server(ledger, "production", "https://zenodo.org/api")
    with pytest.raises(ArchiverError) as caught:
        check_server(ledger, "sandbox", "http://127.0.0.1:8000/api")
    assert caught.value.code == "ledger-other-server"
    assert f"this export's sandbox deposits went to {SANDBOX}, {SANDBOX}/, not http://127.0.0.1:8000/api" in caught.value.message


def test_registered_dois_keep_the_latest_registered_version(ledger):
    ledger.begin(_row(attempt=1, state="registered", doi="10.5072/zenodo.1", concept_doi="10.5072/zenodo.0"))
    ledger.begin(_row(attempt=2, state="registered", doi="10.5072/zenodo.2", concept_doi="10.5072/zenodo.0", correction_hash="s" * 64,
                      deposition_id=2))
    ledger.begin(_row(attempt=3, state="published", doi="10.5072/zenodo.3"))
    ledger.begin(_row("SRCH:2B9E4410", state="registered", doi=None))
    ledger.begin(_row("SRCH:99999999", environment="production", state="registered", doi="10.5281/zenodo.9"))
    assert registered_dois(ledger, "sandbox") == {"SRCH:4A7C19E2": ("10.5072/zenodo.2", "10.5072/zenodo.0", "s" * 64, None, 2, "sandbox")}
    # another repository's: its id kept as text, its origin where the deposit counts
    origin = "https://researchdata.tuwien.ac.at"
    ledger.begin(_row("SRCH:D1CE0F00", environment=origin, state="registered", doi="10.48436/q5jr8-hny72", deposition_id="q5jr8-hny72"))
    assert registered_dois(ledger, origin)["SRCH:D1CE0F00"][-2:] == ("q5jr8-hny72", origin)


def test_registrations_are_the_rows_registered_with_a_doi_and_a_deposition(tmp_path):
    export_dir = tmp_path / "export"
    export_dir.mkdir()
    ledger = Ledger(state_dir_for(export_dir) / "ledger.sqlite", clock=Ticking())
    whole = _row(state="registered", deposition_id=9, doi="10.5072/zenodo.9", published_at="2026-02-01T00:00:00+00:00",
                 concept_doi="10.5072/zenodo.8")
    ledger.begin(whole)
    ledger.begin(_row("SRCH:11111111", state="registered", deposition_id=None, doi="10.5072/zenodo.10"))
    ledger.begin(_row("SRCH:22222222", state="registered", deposition_id=11, doi=None))
    ledger.begin(_row("SRCH:33333333", state="published", deposition_id=12, doi="10.5072/zenodo.12"))
    unpublished = _row("SRCH:44444444", state="registered", deposition_id=13, doi="10.5072/zenodo.13")
    ledger.begin(unpublished)
    ledger.close()
    registrations = ledger_registrations(export_dir)
    assert sorted(registrations) == ["SRCH:44444444", "SRCH:4A7C19E2"]
    assert registrations["SRCH:4A7C19E2"] == Registration(
        "10.5072/zenodo.9", 9, "sandbox", dt.datetime(2026, 2, 1, tzinfo=dt.UTC), "10.5072/zenodo.8", "r" * 64)
    # without a publication time, the row's last update stands for it
    assert registrations["SRCH:44444444"].registered_at == dt.datetime.fromisoformat(unpublished.updated_at)


def test_the_registration_written_last_is_the_one_a_manifest_carries(tmp_path):
    export_dir = tmp_path / "export"
    export_dir.mkdir()
    ledger = Ledger(state_dir_for(export_dir) / "ledger.sqlite", clock=Ticking())
    ledger.begin(_row(attempt=2, state="registered", deposition_id=2, doi="10.5072/zenodo.2"))
    ledger.begin(_row(attempt=1, state="registered", deposition_id=1, doi="10.5072/zenodo.1"))  # written later
    ledger.begin(_row(attempt=3, state="registered", environment="production", deposition_id=3, doi="10.5281/zenodo.3"))
    ledger.close()
    assert ledger_registrations(export_dir)["SRCH:4A7C19E2"].doi == "10.5281/zenodo.3"


def test_the_ledger_file_is_made_where_it_belongs_however_deep(tmp_path):
    path = tmp_path / "a" / "b" / ".export.state" / "ledger.sqlite"
    Ledger(path).close()
    Ledger(path).close()  # the folder exists now: opened again all the same
    assert path.is_file()


def test_an_up_to_date_ledger_is_opened_without_a_write(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(path).close()
    ledger = Ledger(path)
    assert ledger.db.total_changes == 0  # no migration, no schema row written again
    assert ledger.db.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000  # a concurrent writer is waited for
    ledger.close()


def test_schema_4_is_this_archivers_and_5_a_newer_ones(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(path).close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "4"
    db.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(ArchiverError) as caught:
        Ledger(path)
    assert caught.value.message == (
        f"{path}: ledger schema version 5 is newer than this archiver understands (4); upgrade archiver")


def test_a_migration_cut_short_is_finished_by_the_columns_it_lacks(tmp_path):
    path = tmp_path / "ledger.sqlite"
    _old_ledger(path, 2)
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")  # concept_doi added, the version not yet
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        assert ledger.get("SRCH:4A7C19E2", "sandbox").api == "deposit"


def test_a_failed_migration_step_rolls_back_on_the_open_ledger(tmp_path):
    path = tmp_path / "ledger.sqlite"
    ledger = Ledger(path)
    ledger.db.execute("CREATE TRIGGER no_meta BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'meta is frozen'); END")
    with pytest.raises(sqlite3.DatabaseError):
        ledger._migrate()
    assert not ledger.db.in_transaction
    ledger.close()


def test_a_closed_ledger_is_closed(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.close()
    with pytest.raises(sqlite3.ProgrammingError):
        ledger.all()
    with Ledger(tmp_path / "ledger.sqlite") as opened:
        opened.all()
    with pytest.raises(sqlite3.ProgrammingError):
        opened.all()


def test_deposit_workers_share_the_ledger_across_threads(ledger):
    import threading

    rows = [_row(f"SRCH:0000000{n}") for n in range(4)]
    threads = [threading.Thread(target=ledger.begin, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ledger.all("sandbox")) == 4


def test_every_state_in_its_place():
    assert STATES == ("planned", "creating", "created", "uploaded", "described", "in-review", "publishing", "published", "registered")
    assert _row(state="creating").reached("planned") and not _row(state="creating").reached("created")
    assert _row(state="in-review").reached("described") and not _row(state="in-review").reached("publishing")
    assert _row(state="publishing").reached("in-review") and not _row(state="publishing").reached("published")
    assert _row(state="published").reached("publishing") and not _row(state="published").reached("registered")


def test_a_row_is_the_deposit_apis_unless_it_says_otherwise_and_update_returns_it(ledger):
    row = _row()
    assert row.api == "deposit"
    ledger.begin(row)
    assert ledger.api_switched(row, "records") is row and row.api == "records"


def test_of_two_registrations_written_in_the_same_second_the_later_version_wins(tmp_path):
    export_dir = tmp_path / "export"
    export_dir.mkdir()
    still = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with Ledger(state_dir_for(export_dir) / "ledger.sqlite", clock=lambda: still) as ledger:
        ledger.begin(_row(attempt=1, state="registered", deposition_id=1, doi="10.5072/zenodo.1"))
        ledger.begin(_row(attempt=2, state="registered", deposition_id=2, doi="10.5072/zenodo.2"))
    assert ledger_registrations(export_dir)["SRCH:4A7C19E2"].doi == "10.5072/zenodo.2"


def test_the_refusal_of_another_server_in_full(ledger):
    ledger.begin(_row())
    with pytest.raises(ArchiverError) as caught:
        check_server(ledger, "sandbox", "http://127.0.0.1:8000/api")
    assert caught.value.message == (
        f"{ledger.path}: this export's sandbox deposits went to {SANDBOX}, not http://127.0.0.1:8000/api: its manifests "
        "carry that server's DOIs. To go on with that server, pass --zenodo-url https://sandbox.zenodo.org/api; for this one, "
        "export the records again into a new folder")


def test_a_later_version_written_earlier_gives_way_to_the_one_written_last(tmp_path):
    export_dir = tmp_path / "export"
    export_dir.mkdir()
    with Ledger(state_dir_for(export_dir) / "ledger.sqlite", clock=Ticking()) as ledger:
        ledger.begin(_row(attempt=2, state="registered", deposition_id=2, doi="10.5072/zenodo.2"))
        ledger.begin(_row(attempt=1, state="registered", deposition_id=1, doi="10.5072/zenodo.1"))
    assert ledger_registrations(export_dir)["SRCH:4A7C19E2"].doi == "10.5072/zenodo.1"


def test_a_migration_cut_short_after_both_columns_only_writes_the_version(tmp_path):
    path = tmp_path / "ledger.sqlite"
    _old_ledger(path, 2)
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE deposits ADD COLUMN api TEXT NOT NULL DEFAULT 'records'")
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        assert ledger.get("SRCH:4A7C19E2", "sandbox").api == "records"
        assert ledger.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "4"


def test_places_are_where_deposits_count_with_their_servers_and_those_published_apart(ledger):
    origin = "https://researchdata.tuwien.ac.at"
    ledger.begin(_row(state="registered", doi="10.5072/zenodo.1"))
    ledger.begin(_row("SRCH:2B9E4410", environment=origin, api_url=f"{origin}/api", state="created", deposition_id="q5jr8-hny72"))
    assert ledger.places() == {"sandbox": {SANDBOX}, origin: {f"{origin}/api"}}
    assert ledger.places(with_doi=True) == {"sandbox": {SANDBOX}}  # a draft there carries no DOI into a manifest
    # so a run to that repository is refused (the export's manifests carry the sandbox's DOIs), a run to the sandbox is not
    with pytest.raises(ArchiverError) as refused:
        check_server(ledger, origin, f"{origin}/api")
    assert refused.value.code == "ledger-other-server" and f"published in sandbox ({SANDBOX})" in refused.value.message
    check_server(ledger, "sandbox", SANDBOX)
