"""ledger: rows by column name, steps that survive a restart, clear errors for a ledger it cannot use."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from archiver.deposit.ledger import Ledger, LedgerRow, ledger_registrations
from archiver.exportdir import state_dir_for
from archiver.findings import ArchiverError


def _deposit(**changes) -> LedgerRow:
    values = dict(
        record_id="SRCH:4A7C19E2", environment="sandbox", attempt=1, api_url="https://sandbox.zenodo.org/api",
        content_hash="c" * 64, correction_hash="r" * 64, marker="archiver:SRCH:4A7C19E2:v1", state="planned",
        deposition_id=None, files_at=None, doi=None, record_url=None, published_at=None, tries=0,
        last_error=None, updated_at="",
    )
    values.update(changes)
    return LedgerRow(**values)


def _clock():
    return dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_ledger_from_a_newer_version_or_corrupt_is_a_clear_error(tmp_path):
    path = tmp_path / "ledger.sqlite"
    ledger = Ledger(path)
    ledger.db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    ledger.close()
    with pytest.raises(ArchiverError, match="newer than this archiver"):
        Ledger(path)
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ArchiverError, match="ledger is unreadable"):
        Ledger(broken)



def test_rows_round_trip_by_column_name(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite", clock=_clock)
    row = _deposit()
    ledger.begin(row)
    ledger._write(row, state="registered", deposition_id=7, doi="10.5072/zenodo.7", published_at="2026-01-02T03:04:05+00:00")
    ledger.close()
    again = Ledger(tmp_path / "ledger.sqlite", clock=_clock).get("SRCH:4A7C19E2", "sandbox")
    assert again == _deposit(
        state="registered", deposition_id=7, doi="10.5072/zenodo.7", published_at="2026-01-02T03:04:05+00:00",
        updated_at="2026-01-02T03:04:05+00:00",
    )


def test_a_table_with_columns_in_another_order_is_still_read_by_name(tmp_path):
    """A ledger whose table was built (or migrated) with its columns in another order still reads right."""
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE deposits (
            updated_at TEXT NOT NULL, doi TEXT, state TEXT NOT NULL, record_id TEXT NOT NULL,
            environment TEXT NOT NULL, version INTEGER NOT NULL, api_url TEXT NOT NULL,
            content_hash TEXT NOT NULL, correction_hash TEXT NOT NULL, marker TEXT NOT NULL,
            deposition_id INTEGER, bucket_url TEXT, record_url TEXT, published_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, added_later TEXT,
            PRIMARY KEY (record_id, environment, version)
        );
        """
    )
    db.close()
    ledger = Ledger(path, clock=_clock)
    ledger.begin(_deposit(state="created", deposition_id=3))
    row = ledger.get("SRCH:4A7C19E2", "sandbox", 1)
    assert row is not None
    assert (row.state, row.deposition_id, row.doi, row.environment) == ("created", 3, None, "sandbox")
    assert ledger.all("sandbox") == [row]


def test_registrations_come_from_the_ledger_beside_the_export(tmp_path):
    export_dir = tmp_path / "export"
    export_dir.mkdir()
    assert ledger_registrations(export_dir) == {}
    ledger = Ledger(state_dir_for(export_dir) / "ledger.sqlite", clock=_clock)
    row = _deposit()
    ledger.begin(row)
    ledger._write(row, state="registered", deposition_id=9, doi="10.5072/zenodo.9", published_at="2026-01-02T03:04:05+00:00")
    ledger.begin(_deposit(record_id="SRCH:2B9E4410", marker="m2", state="created", deposition_id=10))
    ledger.close()
    registrations = ledger_registrations(export_dir)
    assert list(registrations) == ["SRCH:4A7C19E2"]
    assert registrations["SRCH:4A7C19E2"].doi == "10.5072/zenodo.9"
    assert registrations["SRCH:4A7C19E2"].registered_at == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_file_plans_keep_an_upload_only_while_the_md5_is_the_same(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite", clock=_clock)
    row = _deposit()
    ledger.begin(row)
    ledger.plan_file(row, "manifest.json", 10, "a" * 32)
    ledger.file_uploaded(row, "manifest.json")
    ledger.plan_file(row, "manifest.json", 10, "a" * 32)
    assert ledger.files(row) == {"manifest.json": (10, "a" * 32, True)}
    ledger.plan_file(row, "manifest.json", 11, "b" * 32)
    assert ledger.files(row) == {"manifest.json": (11, "b" * 32, False)}
