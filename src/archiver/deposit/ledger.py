"""The deposit ledger: SQLite (WAL) records each remote step before and after it happens.

It lives in a state directory beside the export (``.DIR.state/ledger.sqlite``), never inside
DIR, so a re-export's atomic directory swap cannot take it away. One row per record, environment
and attempt (1, then one more per new version); the deposit resumes from the last confirmed step
and never creates a second deposition for a row that already has one. A row changes state only
through the named steps below, each from the states it may follow.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from archiver.exportdir import ledger_path
from archiver.findings import ArchiverError
from archiver.model import DepositionId, Registration, Registrations

SCHEMA_VERSION = 4  # 2: concept_doi; 3: api (which Zenodo API made the row); 4: metadata, edit, published_version
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
    -- Zenodo's number, or another InvenioRDM repository's id (q5jr8-hny72): SQLite keeps each as
    -- given, an integer as INTEGER and such an id (never all digits) as TEXT, under this affinity.
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
    metadata TEXT,
    edit TEXT,
    published_version TEXT,
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
class LedgerRow:
    """One deposit of a record in one environment: its ``attempt`` (1, then one more per new
    version), the state it reached, and what the repository named at each step."""

    record_id: str
    environment: str
    attempt: int
    api_url: str
    content_hash: str
    correction_hash: str
    marker: str
    state: str
    deposition_id: DepositionId | None
    files_at: str | None
    doi: str | None
    record_url: str | None
    published_at: str | None
    tries: int  # creates, new versions, submissions and publishes sent for this row
    last_error: str | None
    updated_at: str
    concept_doi: str | None = None
    api: str = "deposit"  # the API that made the row: an unfinished row resumes only through it
    # the public fields last sent to the deposition (deposit/description.py), as canonical JSON
    # text; None where the ledger does not know them (a deposition found on the repository)
    metadata: str | None = None
    edit: str | None = None  # "open": an edit of the published deposition may be open (an update in place)
    published_version: str | None = None  # the version the repository publishes (1 + the corrections archiver wrote)

    def reached(self, state: str) -> bool:
        return STATES.index(self.state) >= STATES.index(state)

    def newer_than(self, corrections: int) -> bool:
        """Whether the repository publishes more corrections than ``corrections`` (an older export):
        corrections are additive, so a new version from it would undo one."""
        try:
            return int(str(self.published_version)) > 1 + corrections
        except ValueError:
            return False  # a version archiver did not write, or none known: nothing to compare

    @property
    def remote_id(self) -> DepositionId:
        """The deposition id, for a step that comes after the deposition exists."""
        if self.deposition_id is None:
            raise ArchiverError(f"{self.record_id}: the ledger names no deposition for a step that needs one", code="ledger-corrupt")
        return self.deposition_id


_BEFORE_CREATED = frozenset({"planned", "creating"})
_ADOPTABLE = frozenset({"created", "in-review", "published", "registered"})


@dataclass(frozen=True)
class RemoteState:
    """What the ledger keeps of a deposition the repository holds."""

    deposition_id: DepositionId
    files_at: str | None
    doi: str | None = None  # set for a published one (checked to be the DOI the repository mints)
    concept_doi: str | None = None
    record_url: str | None = None
    version: str | None = None  # the version a published one shows


# Rows are read and written by column name, so a column added to the table (or reordered by a
# migration) cannot shift a value into the wrong field. Three fields are named for what they
# are; their columns keep the names of the first ledgers.
_COLUMN_OF = {"attempt": "version", "files_at": "bucket_url", "tries": "attempts"}
_FIELDS = tuple(field.name for field in fields(LedgerRow))
_COLUMNS = tuple(_COLUMN_OF.get(name, name) for name in _FIELDS)
_SELECT_ROWS = f"SELECT {', '.join(_COLUMNS)} FROM deposits"  # noqa: S608 - column names are ours
_INSERT_ROW = (
    f"INSERT INTO deposits ({', '.join(_COLUMNS)}) "  # noqa: S608 - column names are ours
    f"VALUES ({', '.join(':' + name for name in _COLUMNS)})"
)


def _row_from(row: sqlite3.Row) -> LedgerRow:
    return LedgerRow(**{name: row[_COLUMN_OF.get(name, name)] for name in _FIELDS})


def _values_of(row: LedgerRow) -> dict:
    return {_COLUMN_OF.get(name, name): getattr(row, name) for name in _FIELDS}


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
                for column in ("metadata", "edit", "published_version"):  # schema 4
                    if column not in columns:
                        self.db.execute(f"ALTER TABLE deposits ADD COLUMN {column} TEXT")
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

    def get(self, record_id: str, environment: str, attempt: int | None = None) -> LedgerRow | None:
        """The record's latest row in ``environment``, or the row of that ``attempt``."""
        if attempt is None:
            rows = self._execute(
                _SELECT_ROWS + " WHERE record_id = ? AND environment = ? ORDER BY version DESC LIMIT 1",
                (record_id, environment),
            )
        else:
            rows = self._execute(
                _SELECT_ROWS + " WHERE record_id = ? AND environment = ? AND version = ?",
                (record_id, environment, attempt),
            )
        return _row_from(rows[0]) if rows else None

    def all(self, environment: str | None = None) -> list[LedgerRow]:
        query = _SELECT_ROWS
        args: tuple = ()
        if environment:
            query += " WHERE environment = ?"
            args = (environment,)
        return [_row_from(row) for row in self._execute(query + " ORDER BY record_id, version", args)]

    def begin(self, row: LedgerRow) -> LedgerRow:
        """The row for a new deposit, written before anything is sent."""
        row.updated_at = self.now()
        self._execute(_INSERT_ROW, _values_of(row))
        return row

    def _write(self, row: LedgerRow, at: str | None = None, **changes: object) -> LedgerRow:
        """``changes`` written to the row, at ``at`` (now, unless a step names the moment)."""
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = at or self.now()
        columns = ", ".join(f"{_COLUMN_OF.get(key, key)} = ?" for key in (*changes, "updated_at"))
        self._execute(
            f"UPDATE deposits SET {columns} WHERE record_id = ? AND environment = ? AND version = ?",  # noqa: S608 - column names are ours
            (*changes.values(), row.updated_at, row.record_id, row.environment, row.attempt),
        )
        return row

    def _move(self, row: LedgerRow, to: str, allowed: frozenset[str], at: str | None = None, **changes: object) -> LedgerRow:
        """``row`` in state ``to``, from one of the ``allowed`` states only: a step out of order is a
        defect that must stop the record, never a deposit taken on from the wrong place."""
        if row.state not in allowed:
            raise ArchiverError(
                f"{row.record_id}: the ledger cannot go from {row.state!r} to {to!r} (attempt {row.attempt})", code="ledger-corrupt"
            )
        return self._write(row, at, state=to, **changes)

    # ------------------------------------------------------------------ the steps of a deposit, in order

    def creating(self, row: LedgerRow) -> LedgerRow:
        """A create (or a new version) is about to be sent: from here its outcome may be unknown."""
        return self._move(row, "creating", _BEFORE_CREATED, tries=row.tries + 1)

    def not_created(self, row: LedgerRow) -> LedgerRow:
        """The create was refused, or the repository lists nothing it made: the record is planned again."""
        return self._move(row, "planned", _BEFORE_CREATED)

    def created(self, row: LedgerRow, deposition_id: DepositionId, files_at: str | None) -> LedgerRow:
        """The draft this run created (or found after a lost answer) exists."""
        return self._move(row, "created", _BEFORE_CREATED, deposition_id=deposition_id, files_at=files_at)

    def files_moved(self, row: LedgerRow, files_at: str | None) -> LedgerRow:
        """Where the draft's files go, as read from the repository now."""
        return self._write(row, files_at=files_at)

    def uploaded(self, row: LedgerRow) -> LedgerRow:
        return self._move(row, "uploaded", frozenset({"created", "uploaded"}))

    def described(self, row: LedgerRow) -> LedgerRow:
        """The draft holds the metadata of now. Also the way back for a draft whose review request
        never went, or whose publish did not happen: it goes through the check and publish again."""
        return self._move(row, "described", frozenset({"uploaded", "described", "in-review", "publishing"}))

    def in_review(self, row: LedgerRow) -> LedgerRow:
        """The draft is submitted to its community's review."""
        return self._move(row, "in-review", frozenset({"described", "in-review"}), tries=row.tries + 1)

    def publishing(self, row: LedgerRow) -> LedgerRow:
        """A publish is about to be sent: from here its outcome may be unknown."""
        return self._move(row, "publishing", frozenset({"described", "publishing"}), tries=row.tries + 1)

    def published(self, row: LedgerRow, doi: str | None, concept_doi: str | None, record_url: str | None,
                  version: str | None = None) -> LedgerRow:
        """Published under ``doi`` (as ``version``): the DOI exists, the manifest does not say so yet."""
        now = self.now()
        return self._move(
            row, "published", frozenset({"described", "in-review", "publishing", "published"}), now,
            doi=doi, concept_doi=concept_doi, record_url=record_url, published_at=now, last_error=None, published_version=version,
        )

    def registered(self, row: LedgerRow) -> LedgerRow:
        """The manifest carries the DOI; an earlier failure is history now."""
        return self._move(row, "registered", frozenset({"published", "registered"}), last_error=None)

    def sent(self, row: LedgerRow, metadata: str) -> LedgerRow:
        """The deposition now holds ``metadata`` (its public fields), as sent and read back."""
        return self._write(row, metadata=metadata)

    # ------------------------------------------------------------------ an update of the published metadata in place

    def editing(self, row: LedgerRow) -> LedgerRow:
        """An edit of the registered deposition is about to be opened: from here one may be open."""
        return self._move(row, "registered", frozenset({"registered"}), edit="open", tries=row.tries + 1)

    def edited(self, row: LedgerRow, metadata: str) -> LedgerRow:
        """The repository publishes ``metadata`` for the deposition (edited now, or found so): no edit is open."""
        return self._move(row, "registered", frozenset({"registered"}), edit=None, metadata=metadata, last_error=None)

    def edit_closed(self, row: LedgerRow) -> LedgerRow:
        """The edit was discarded, or none is open: the published metadata is as it was."""
        return self._move(row, "registered", frozenset({"registered"}), edit=None)

    # ------------------------------------------------------------------ a row set right by what the repository holds

    def adopted(self, row: LedgerRow, remote: RemoteState, state: str, correction_hash: str | None = None) -> LedgerRow:
        """The row made to name a deposition as the repository holds it, found there (a lookup,
        a rival's that won, a draft published meanwhile): in any state, since what the repository
        holds is the truth the ledger caches. A published one comes with its DOI and landing page."""
        if state not in _ADOPTABLE:
            raise ArchiverError(f"{row.record_id}: a deposition found is not adopted as {state!r}", code="ledger-corrupt")
        changes: dict[str, object] = {"state": state, "deposition_id": remote.deposition_id, "files_at": remote.files_at, "last_error": None}
        if row.deposition_id != remote.deposition_id:
            self.forget_files(row)  # what an earlier attempt uploaded went to another deposition
            changes["metadata"] = None  # nor was its metadata what this ledger sent
        now = self.now()
        if correction_hash is not None:
            changes["correction_hash"] = correction_hash
        if remote.doi is not None:
            changes.update(doi=remote.doi, concept_doi=remote.concept_doi, record_url=remote.record_url, published_at=now,
                           published_version=remote.version)
        return self._write(row, now, **changes)

    def registered_at(self, row: LedgerRow, published_at: str) -> LedgerRow:
        """The time its manifest says the record was registered, kept as the row's."""
        return self._write(row, published_at=published_at)

    def deposition_forgotten(self, row: LedgerRow) -> LedgerRow:
        """The row's first-deposit draft is gone (deleted): the record is planned afresh."""
        self.forget_files(row)
        return self._write(row, state="planned", deposition_id=None, files_at=None, last_error=None)

    def record_changed(self, row: LedgerRow, content_hash: str, correction_hash: str) -> LedgerRow:
        """The record changed since its draft was made: the draft's files and metadata are made again."""
        if row.reached("in-review"):
            raise ArchiverError(f"{row.record_id}: a draft in review or published is not made again", code="ledger-corrupt")
        self.forget_files(row)
        return self._write(row, state="created", content_hash=content_hash, correction_hash=correction_hash)

    def api_switched(self, row: LedgerRow, api: str) -> LedgerRow:
        """An unfinished row taken on through the other API: the draft is read afresh, its files compared by md5."""
        if row.reached("published"):
            raise ArchiverError(f"{row.record_id}: a published row is not taken on again", code="ledger-corrupt")
        self.forget_files(row)
        return self._write(row, api=api, files_at=None)

    def failed(self, row: LedgerRow, message: str | None) -> LedgerRow:
        """What went wrong last (None: nothing now), for status and the next run's words."""
        return self._write(row, last_error=message)

    # ------------------------------------------------------------------ files

    def files(self, row: LedgerRow) -> dict[str, tuple[int, str, bool]]:
        rows = self._execute(
            "SELECT filename, size, md5, uploaded FROM files WHERE record_id = ? AND environment = ? AND version = ?",
            (row.record_id, row.environment, row.attempt),
        )
        return {entry["filename"]: (entry["size"], entry["md5"], bool(entry["uploaded"])) for entry in rows}

    def plan_file(self, row: LedgerRow, filename: str, size: int, md5: str) -> None:
        self._execute(
            "INSERT INTO files (record_id, environment, version, filename, size, md5, uploaded) VALUES (?,?,?,?,?,?,0) ON CONFLICT DO UPDATE SET size = excluded.size, md5 = excluded.md5, "
            "uploaded = CASE WHEN files.md5 = excluded.md5 THEN files.uploaded ELSE 0 END",
            (row.record_id, row.environment, row.attempt, filename, size, md5),
        )

    def file_uploaded(self, row: LedgerRow, filename: str) -> None:
        self._execute(
            "UPDATE files SET uploaded = 1 WHERE record_id = ? AND environment = ? AND version = ? AND filename = ?",
            (row.record_id, row.environment, row.attempt, filename),
        )

    def files_found(self, row: LedgerRow, files: list[tuple[str, str]]) -> None:
        """The files (name, md5) a deposition found on the repository holds, as the row's: what a
        later run compares the record's files with (their sizes are not known: 0)."""
        self.forget_files(row)
        for name, md5 in files:
            self._execute(
                "INSERT INTO files (record_id, environment, version, filename, size, md5, uploaded) VALUES (?,?,?,?,0,?,1)",
                (row.record_id, row.environment, row.attempt, name, md5),
            )

    def forget_files(self, row: LedgerRow) -> None:
        """The row's files as never uploaded: its deposition changed (another draft was adopted or
        this one was deleted), so what was uploaded before is not there."""
        self._execute(
            "DELETE FROM files WHERE record_id = ? AND environment = ? AND version = ?",
            (row.record_id, row.environment, row.attempt),
        )

    # ------------------------------------------------------------------ rebuilt from the repository

    def drop(self, record_id: str, environment: str) -> None:
        """Every row of a record in one environment, with its files: the ledger is rebuilt from the repository."""
        for table in ("files", "deposits"):
            self._execute(f"DELETE FROM {table} WHERE record_id = ? AND environment = ?", (record_id, environment))  # noqa: S608 - table names are ours

    def restore(self, record_id: str, environment: str, rows: list[LedgerRow]) -> None:
        """Put back a record's rows as they were (``rows``, read before a rebuild that failed); their
        files' upload notes are not kept, so a resume reads the draft for them."""
        self.drop(record_id, environment)
        for row in rows:
            self._execute(_INSERT_ROW, _values_of(row))

    def servers(self, environment: str) -> set[str]:
        """The API URLs the ledger's deposits in ``environment`` went to."""
        return {row["api_url"] for row in self._execute("SELECT DISTINCT api_url FROM deposits WHERE environment = ?", (environment,))}

    def places(self, *, with_doi: bool = False) -> dict[str, set[str]]:
        """Where the ledger's deposits count (Zenodo's environments, other repositories' origins), with
        their API URLs; ``with_doi``: only where a deposit was published (its manifest may carry the DOI)."""
        found: dict[str, set[str]] = {}
        query = ("SELECT DISTINCT environment, api_url FROM deposits WHERE doi IS NOT NULL" if with_doi
                 else "SELECT DISTINCT environment, api_url FROM deposits")
        for row in self._execute(query):
            found.setdefault(row["environment"], set()).add(row["api_url"])
        return found
