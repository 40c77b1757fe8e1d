"""The deposit ledger: SQLite (WAL) records each remote step before and after it happens.

It lives in a state directory beside the export (``.DIR.state/ledger.sqlite``), never inside
DIR, so a re-export's atomic directory swap cannot take it away. One row per record, environment
and version; the deposit resumes from the last confirmed step and never creates a second
deposition for a row that already has one.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NamedTuple

from archiver.exportdir import RegisteredDois, ledger_path
from archiver.findings import ArchiverError

SCHEMA_VERSION = 3  # 2: concept_doi; 3: api (which Zenodo API made the row)
# in-review: a records-API draft submitted to its community, published when the community accepts it
STATES = ("planned", "creating", "created", "uploaded", "described", "in-review", "publishing", "published", "registered")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deposits (
    record_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    version INTEGER NOT NULL,
    api_url TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    correction_hash TEXT NOT NULL,
    marker TEXT NOT NULL,
    state TEXT NOT NULL,
    deposition_id INTEGER,
    bucket_url TEXT,
    doi TEXT,
    concept_doi TEXT,
    record_url TEXT,
    published_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    api TEXT NOT NULL DEFAULT 'deposit',
    PRIMARY KEY (record_id, environment, version)
);
CREATE TABLE IF NOT EXISTS files (
    record_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    version INTEGER NOT NULL,
    filename TEXT NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (record_id, environment, version, filename)
);
"""


class Registration(NamedTuple):
    """What a registered deposit wrote into its manifest (Record.registered takes these in order)."""

    doi: str
    deposition_id: int
    environment: str
    registered_at: dt.datetime
    concept_doi: str | None = None
    correction_hash: str | None = None  # of the correction record deposited: a different one has drifted


Registrations = dict[str, Registration]


def ledger_registrations(export_dir: Path) -> Registrations:
    """Record id -> its registration, from the ledger beside ``export_dir`` (empty without one).

    Where a record was registered more than once (a new version, or both environments), the
    registration written last is the one its manifest carries.
    """
    path = ledger_path(export_dir)
    if not path.is_file():
        return {}
    latest: Registrations = {}
    written: dict[str, str] = {}  # record id -> when its registration kept so far was written
    with Ledger(path) as ledger:
        for row in ledger.all():  # by version: of two written in the same second, the later version wins
            if row.state != "registered" or not row.doi or not row.deposition_id:
                continue
            if row.record_id in written and row.updated_at < written[row.record_id]:
                continue
            written[row.record_id] = row.updated_at
            latest[row.record_id] = Registration(
                row.doi, row.deposition_id, row.environment, dt.datetime.fromisoformat(row.published_at or row.updated_at),
                row.concept_doi, row.correction_hash,
            )
    return latest


@dataclass
class Deposit:
    record_id: str
    environment: str
    version: int
    api_url: str
    content_hash: str
    correction_hash: str
    marker: str
    state: str
    deposition_id: int | None
    bucket_url: str | None
    doi: str | None
    record_url: str | None
    published_at: str | None
    attempts: int
    last_error: str | None
    updated_at: str
    concept_doi: str | None = None
    api: str = "deposit"  # the Zenodo API that made the row: an unfinished row resumes only through it

    def reached(self, state: str) -> bool:
        return STATES.index(self.state) >= STATES.index(state)

    @property
    def remote_id(self) -> int:
        """The deposition id, for a step that comes after the deposition exists."""
        if self.deposition_id is None:
            raise ArchiverError(f"{self.record_id}: the ledger names no deposition for a step that needs one", code="ledger-corrupt")
        return self.deposition_id


# Rows are read and written by column name, so a column added to the table (or reordered by a
# migration) cannot shift a value into the wrong field.
_DEPOSIT_COLUMNS = tuple(field.name for field in fields(Deposit))
_SELECT_DEPOSITS = f"SELECT {', '.join(_DEPOSIT_COLUMNS)} FROM deposits"  # noqa: S608 - column names are ours
_INSERT_DEPOSIT = (
    f"INSERT INTO deposits ({', '.join(_DEPOSIT_COLUMNS)}) "  # noqa: S608 - column names are ours
    f"VALUES ({', '.join(':' + name for name in _DEPOSIT_COLUMNS)})"
)


def _deposit_from_row(row: sqlite3.Row) -> Deposit:
    return Deposit(**{name: row[name] for name in _DEPOSIT_COLUMNS})


class Ledger:
    def __init__(self, path: Path, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.path = Path(path)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()  # deposit workers share one connection
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # a confirmed step survives a power cut
            self.db.executescript(_SCHEMA)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ArchiverError(
                f"{self.path}: the ledger is unreadable ({exc}); move it aside only if you know no deposit is pending",
                code="ledger-corrupt",
            ) from None
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) < SCHEMA_VERSION:
            self._migrate()
        elif int(row[0]) > SCHEMA_VERSION:
            raise ArchiverError(
                f"{self.path}: ledger schema version {row[0]} is newer than this archiver understands ({SCHEMA_VERSION}); upgrade archiver",
                code="ledger-too-new",
            )
        os.chmod(self.path, 0o600)

    def _migrate(self) -> None:
        """Bring a ledger of an older archiver to this schema, in one transaction."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                columns = {row["name"] for row in self.db.execute("PRAGMA table_info(deposits)")}
                # by the columns themselves: a ledger whose migration was cut short gets what it lacks
                if "concept_doi" not in columns:  # schema 2
                    self.db.execute("ALTER TABLE deposits ADD COLUMN concept_doi TEXT")
                if "api" not in columns:  # schema 3
                    self.db.execute("ALTER TABLE deposits ADD COLUMN api TEXT NOT NULL DEFAULT 'deposit'")
                self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _execute(self, sql: str, args: tuple | dict = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def now(self) -> str:
        return self.clock().replace(microsecond=0).isoformat()

    def get(self, record_id: str, environment: str, version: int | None = None) -> Deposit | None:
        if version is None:
            rows = self._execute(
                _SELECT_DEPOSITS + " WHERE record_id = ? AND environment = ? ORDER BY version DESC LIMIT 1",
                (record_id, environment),
            )
        else:
            rows = self._execute(
                _SELECT_DEPOSITS + " WHERE record_id = ? AND environment = ? AND version = ?",
                (record_id, environment, version),
            )
        return _deposit_from_row(rows[0]) if rows else None

    def all(self, environment: str | None = None) -> list[Deposit]:
        query = _SELECT_DEPOSITS
        args: tuple = ()
        if environment:
            query += " WHERE environment = ?"
            args = (environment,)
        return [_deposit_from_row(row) for row in self._execute(query + " ORDER BY record_id, version", args)]

    def begin(self, deposit: Deposit) -> None:
        """The row for a new deposit, written before anything is sent."""
        deposit.updated_at = self.now()
        self._execute(_INSERT_DEPOSIT, {name: getattr(deposit, name) for name in _DEPOSIT_COLUMNS})

    def update(self, deposit: Deposit, **changes) -> Deposit:
        for key, value in changes.items():
            setattr(deposit, key, value)
        deposit.updated_at = self.now()
        columns = ", ".join(f"{key} = ?" for key in (*changes, "updated_at"))
        self._execute(
            f"UPDATE deposits SET {columns} WHERE record_id = ? AND environment = ? AND version = ?",  # noqa: S608 - column names are ours
            (*changes.values(), deposit.updated_at, deposit.record_id, deposit.environment, deposit.version),
        )
        return deposit

    def files(self, deposit: Deposit) -> dict[str, tuple[int, str, bool]]:
        rows = self._execute(
            "SELECT filename, size, md5, uploaded FROM files WHERE record_id = ? AND environment = ? AND version = ?",
            (deposit.record_id, deposit.environment, deposit.version),
        )
        return {row["filename"]: (row["size"], row["md5"], bool(row["uploaded"])) for row in rows}

    def plan_file(self, deposit: Deposit, filename: str, size: int, md5: str) -> None:
        self._execute(
            "INSERT INTO files (record_id, environment, version, filename, size, md5, uploaded) VALUES (?,?,?,?,?,?,0) ON CONFLICT DO UPDATE SET size = excluded.size, md5 = excluded.md5, "
            "uploaded = CASE WHEN files.md5 = excluded.md5 THEN files.uploaded ELSE 0 END",
            (deposit.record_id, deposit.environment, deposit.version, filename, size, md5),
        )

    def file_uploaded(self, deposit: Deposit, filename: str) -> None:
        self._execute(
            "UPDATE files SET uploaded = 1 WHERE record_id = ? AND environment = ? AND version = ? AND filename = ?",
            (deposit.record_id, deposit.environment, deposit.version, filename),
        )

    def forget_files(self, deposit: Deposit) -> None:
        """The row's files as never uploaded: its deposition changed (another draft was adopted or
        this one was deleted), so what was uploaded before is not there."""
        self._execute(
            "DELETE FROM files WHERE record_id = ? AND environment = ? AND version = ?",
            (deposit.record_id, deposit.environment, deposit.version),
        )

    def drop(self, record_id: str, environment: str) -> None:
        """Every row of a record in one environment, with its files: the ledger is rebuilt from Zenodo."""
        for table in ("files", "deposits"):
            self._execute(f"DELETE FROM {table} WHERE record_id = ? AND environment = ?", (record_id, environment))  # noqa: S608 - table names are ours

    def restore(self, record_id: str, environment: str, rows: list[Deposit]) -> None:
        """Put back a record's rows as they were (``rows``, read before a rebuild that failed); their
        files' upload notes are not kept, so a resume reads the draft for them."""
        self.drop(record_id, environment)
        for row in rows:
            self._execute(_INSERT_DEPOSIT, {name: getattr(row, name) for name in _DEPOSIT_COLUMNS})

    def servers(self, environment: str) -> set[str]:
        """The API URLs the ledger's deposits in ``environment`` went to."""
        return {row["api_url"] for row in self._execute("SELECT DISTINCT api_url FROM deposits WHERE environment = ?", (environment,))}


def check_server(ledger: Ledger, environment: str, api_url: str) -> None:
    """Refuse a ledger whose deposits in this environment went to another server (a trial against
    the local double, then the real sandbox): its DOIs are not that server's, and the run would
    skip records as registered that it never deposited there."""
    others = sorted(server for server in ledger.servers(environment) if server.removesuffix("/") != api_url.removesuffix("/"))
    if others:
        raise ArchiverError(
            f"{ledger.path}: this export's {environment} deposits went to {', '.join(others)}, not {api_url}: its manifests "
            "carry that server's DOIs. Export the records again into a new folder for this server",
            code="ledger-other-server",
        )


def registered_dois(ledger: Ledger, environment: str) -> RegisteredDois:
    """What a refresh of the export needs of every record registered in ``environment`` (the
    latest version's DOI, concept DOI and deposited correction record)."""
    out: RegisteredDois = {}
    for row in ledger.all(environment):  # ordered by version: the latest registration is kept
        if row.state == "registered" and row.doi:
            out[row.record_id] = (row.doi, row.concept_doi, row.correction_hash)
    return out
