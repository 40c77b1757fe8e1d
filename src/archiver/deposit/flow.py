"""Deposit eligible records of an export to Zenodo exactly once, and register the DOI in their manifests.

Per record, through one DepositAPI (either Zenodo API, deposit/api.py): look the record up by its
id, create a draft with its metadata (read back), upload the files (md5 compared after each), check
for a rival deposition, publish (or submit for a community's review), read the minted DOI and write
the registration back. The ledger records every step before and after it is taken, so a rerun
resumes the same deposition. This module names no URL, API field or status other than "not found".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html import escape as html_escape
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archiver.deposit.api import DepositAPI, adapter_for
from archiver.deposit.lookup import LOOKUP_BATCH, Found, find_records
from archiver.deposit.metadata import describe, legacy_payload, records_payload
from archiver.eligibility import Facts, assess
from archiver.exportdir import PLAN, REPORT_JSON, ExportLock, ReportJsonReader, ledger_path, refresh_after_deposit, state_dir_for
from archiver.findings import ArchiverError
from archiver.fsutil import atomic_write_bytes, safe_stem
from archiver.ledger import Deposit, Ledger, check_server, registered_dois
from archiver.manifest import build_manifest
from archiver.model import Record, correction_hash
from archiver.package import RECORD_MANIFEST_FILE, RECORD_PACKAGE_FILE, record_package
from archiver.policy import Policy
from archiver.zenodo.deposit_api import Deposition, ZenodoClient, ZenodoError
from archiver.zenodo.records_api import RecordsClient
from archiver.zenodo.transport import ANNOUNCE_AFTER

# --------------------------------------------------------------------------- files of a deposit


@dataclass
class DepositFile:
    name: str
    path: Path
    size: int
    md5: str


def _md5_of(path: Path) -> str:
    digest = hashlib.md5()  # noqa: S324 - Zenodo's checksum, not a security measure
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class HashingReader:
    """A file opened for upload that hashes (md5) exactly the bytes that were sent."""

    def __init__(self, path: Path, size: int) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed when read to the end, or by close()
        self._size = size
        self.md5 = hashlib.md5()  # noqa: S324 - Zenodo's checksum, not a security measure

    def __len__(self) -> int:  # lets requests send Content-Length instead of chunking
        return self._size

    def read(self, amount: int = -1) -> bytes:
        chunk = self._file.read(amount)
        self.md5.update(chunk)
        if not chunk:
            self._file.close()
        return chunk

    def close(self) -> None:
        self._file.close()


def content_hashes(record: Record) -> tuple[str, str]:
    """(hash of the record apart from its registration, hash of its correction record)."""
    manifest = record.to_manifest()
    provenance = dict(manifest["provenance"])
    provenance.pop("external_record", None)
    provenance.pop("public_provenance", None)
    manifest["provenance"] = provenance
    whole = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
    return whole, correction_hash(manifest["correction_record"])


def build_files(record: Record, policy: Policy, export_dir: Path, directory: Path) -> list[DepositFile]:
    """The files of one deposit: the manifest, the record's own data package as one zip (its
    datapackage.json, four CSVs and the manifest: `frictionless validate` reads it as it is), and
    the report artifact when the record names one. Two or three uploads per record."""
    directory.mkdir(parents=True, exist_ok=True)
    verdict = assess(Facts.of_record(record), policy)
    package = record_package(record, verdict, license_id=policy.license, publisher=policy.publisher)
    names: list[tuple[str, Path]] = []
    for name, data in ((RECORD_MANIFEST_FILE, record.manifest_bytes()), (RECORD_PACKAGE_FILE, package)):
        path = directory / name
        atomic_write_bytes(path, data)
        names.append((name, path))
    artifact = record.provenance.report_artifact
    if artifact and artifact.path:
        source = Path(artifact.path)
        source = source if source.is_absolute() else export_dir / source
        if not source.is_file():
            raise ArchiverError(f"{record.id}: report artifact {artifact.path!r} is not a file", code="artifact-missing")
        if source.stat().st_size == 0:
            raise ArchiverError(f"{record.id}: report artifact {artifact.path!r} is empty; Zenodo refuses empty files", code="artifact-empty")
        names.append((safe_stem(source.name), source))
    return [DepositFile(name, path, path.stat().st_size, _md5_of(path)) for name, path in names]


# --------------------------------------------------------------------------- the run


def decide(record: Record, row: Deposit | None, policy: Policy, *, new_versions: bool) -> tuple[str, str]:
    """What to do with a record given its latest ledger row:
    ('deposit' | 'register' | 'skip' | 'drifted' | 'new-version', why)."""
    if row is not None and row.state == "registered":
        if row.correction_hash != content_hashes(record)[1]:
            return ("new-version" if new_versions else "drifted"), "the correction record changed since the deposit"
        if record.doi == row.doi:
            return "skip", f"already registered as {row.doi}"
        return "register", "published; the manifest does not carry the DOI yet"
    if row is not None and row.state == "published":
        return "register", "published; registration not yet written"
    if row is None and record.doi is not None and record.provenance.external_record.deposition_id is not None:
        return "skip", (f"registered in its manifest as {record.doi}, but unknown to the ledger (a lost state directory?): "
                        "`archiver reconcile` rebuilds the ledger from Zenodo, and a deposit then sees any correction since")
    if row is not None and not (row.state == "planned" and row.version == 1):
        return "deposit", f"resume from {row.state}"
    verdict = assess(Facts.of_record(record), policy)
    if not verdict.eligible:
        return "skip", "not eligible: " + ", ".join(verdict.reasons)
    if row is not None and row.last_error:
        answer = row.last_error.split(": ", 1)[-1]  # Zenodo's answer, without the request line
        return "deposit", f"new deposit; an earlier attempt created nothing on Zenodo ({answer})"
    return "deposit", "new deposit"


@dataclass
class RecordResult:
    record_id: str
    # deposited, resumed, new-version, adopted (found published on Zenodo), registered, skipped, drafted,
    # drifted, deferred (a concurrent run's deposition wins), in-review (waits for its community),
    # failed, not-started, not-published
    action: str
    detail: str = ""
    doi: str | None = None
    deposition_id: int | None = None

    def as_dict(self) -> dict:
        return {"id": self.record_id, "action": self.action, "detail": self.detail, "doi": self.doi, "deposition_id": self.deposition_id}


@dataclass
class DepositSummary:
    environment: str
    results: list[RecordResult] = field(default_factory=list)
    requests: int = 0
    throttled: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    token_refused: str | None = None
    unreachable: str | None = None  # Zenodo gave no answer: the run stopped starting records
    rate_limited: bool = False  # ... because its rate limit never let up (the transport's waits are spent)

    @property
    def failed(self) -> int:
        """Records not done: failed, drifted (they wait for --new-versions) or deferred (to the next run)."""
        return sum(r.action in ("failed", "drifted", "deferred") for r in self.results)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130  # as a shell reports a run ended by Ctrl-C
        if self.token_refused or self.unreachable:
            return 2  # could not run: no record can go with this token, or to a server that does not answer
        return 1 if self.failed else 0

    def as_dict(self) -> dict:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.action] = counts.get(result.action, 0) + 1
        return {
            "environment": self.environment,
            "totals": dict(sorted(counts.items())),
            "requests": self.requests,
            "429_received": self.throttled,
            "seconds": round(self.seconds, 3),
            "records": [r.as_dict() for r in self.results],
            "interrupted": self.interrupted,
            "token_refused": self.token_refused,
            "unreachable": self.unreachable,
            "rate_limited": self.rate_limited,
            "exit_code": self.exit_code,
        }


def iter_manifests(export_dir: Path) -> Iterator[Path]:
    """Manifests of the export in report order."""
    report = export_dir / REPORT_JSON
    if not report.is_file():
        raise ArchiverError(f"{export_dir} is not an archiver export (no {REPORT_JSON})", code="usage")
    for entry in ReportJsonReader(report).entries():
        if entry.get("manifest"):
            yield export_dir / entry["manifest"]


def load_record(path: Path) -> Record:
    try:
        return Record.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise ArchiverError(f"{path}: not a valid manifest ({str(exc).splitlines()[0]})", code="manifest-invalid") from None


@dataclass
class Job:
    """One record on its way through a group's stages (look up, prepare, check, publish)."""

    path: Path
    record: Record
    action: str  # what decide() said: deposit, register, new-version (skip and drifted end at once)
    why: str
    row: Deposit | None
    kind: str = "deposited"  # how a success is reported: deposited, resumed, new-version
    current: Deposition | None = None  # the deposition as this run last read it, when it has
    rivals: tuple[int, ...] = ()  # drafts of the record that lost the check to this one's
    concept: str | None = None  # a new version's concept, as read from the published version
    result: RecordResult | None = None  # set once the record is done, at whichever stage


class Depositor:
    """Deposits records through one Zenodo API (a DepositAPI) in stages, keeping the ledger and the export in step.

    Zenodo is the source of truth and the ledger a cache of it: a record the ledger does not know
    as registered is looked up on Zenodo by its id before anything is created, and a first deposit
    is published only once Zenodo's search shows no rival deposition of the record that must win.
    """

    def __init__(
        self,
        export_dir: Path,
        api: DepositAPI,
        ledger: Ledger,
        policy: Policy,
        *,
        draft_only: bool = False,
        new_versions: bool = False,
        clock: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
        find_attempts: int = 5,
        delete_orphans: bool = True,
    ) -> None:
        self.export_dir = Path(export_dir)
        self.api = api
        self.ledger = ledger
        self.policy = policy
        self.draft_only = draft_only
        self.new_versions = new_versions
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.sleep = sleep or api.sleep  # one notion of waiting for the client and the searches
        self.find_attempts = find_attempts
        self.delete_orphans = delete_orphans  # False for reconcile, which sends no write
        self.environment = api.target.environment
        self.files_root = state_dir_for(self.export_dir) / "files"
        self.token_refused: str | None = None  # Zenodo's 401/403: the run stops starting records
        self.unreachable: str | None = None  # no answer after the transport's attempts: likewise
        self.rate_limited = False

    # ------------------------------------------------------------------ decisions

    def decide(self, record: Record) -> tuple[str, str, Deposit | None]:
        row = self.ledger.get(record.id, self.environment)
        action, why = decide(record, row, self.policy, new_versions=self.new_versions)
        return action, why, row

    def job(self, manifest_path: Path) -> Job:
        """A record read from the export and what the ledger says to do with it."""
        record = load_record(manifest_path)
        action, why, row = self.decide(record)
        job = Job(manifest_path, record, action, why, row)
        if action == "skip":
            job.result = RecordResult(record.id, "skipped", why, record.doi)
        elif action == "drifted":
            job.result = RecordResult(record.id, "drifted", why + "; rerun with --new-versions", record.doi)
        return job

    @staticmethod
    def needs_lookup(job: Job) -> bool:
        """A record the ledger knows nothing on Zenodo of: not registered, no deposition named."""
        row = job.row
        return job.result is None and job.action == "deposit" and (row is None or (row.version == 1 and row.deposition_id is None))

    def _fail(self, job: Job, exc: Exception) -> None:
        message = self.api.scrub(str(exc))
        if job.row is not None:
            self.ledger.update(job.row, last_error=message)
        if isinstance(exc, ZenodoError) and exc.code == "token-refused":
            self.token_refused = self.api.scrub(exc.message)  # every other record would be refused alike
        if isinstance(exc, ZenodoError) and exc.code in ("no-answer", "rate-limited"):
            # every other record would wait out the same silence, or the same refusal to serve
            self.unreachable = self.api.scrub(exc.message)
            self.rate_limited = exc.code == "rate-limited"
        job.result = RecordResult(job.record.id, "failed", message, None, job.row.deposition_id if job.row else None)

    @property
    def halted(self) -> str | None:
        """Why no further record may start or go on, when Zenodo cannot be worked with."""
        if self.token_refused is not None:
            return "Zenodo refused the token"
        if self.unreachable is not None:
            return "Zenodo did not answer, or kept refusing for its rate limit"
        return None

    def wait(self, seconds: float, why: str) -> None:
        """A wait of the flow's own (the search index catching up), said aloud when it is long."""
        announce = self.api.announce
        if seconds >= ANNOUNCE_AFTER and announce is not None:
            announce(f"waiting {seconds:.0f} s: {why}")
        self.sleep(seconds)

    def _now_text(self) -> str:
        return self.clock().replace(microsecond=0).isoformat()

    # ------------------------------------------------------------------ the ledger, rebuilt from Zenodo

    def begin_row(self, record: Record, version: int = 1) -> Deposit:
        """A new ledger row for a deposit of ``record`` (its ``version``-th), written before anything is sent."""
        content, corrections = content_hashes(record)
        marker = f"{record.id}/{self.environment}/v{version}/{content[:16]}"  # local only: never sent
        row = Deposit(
            record.id, self.environment, version, self.api.target.api_url, content, corrections, marker,
            "planned", None, None, None, None, None, 0, None, "", api=self.api.name,
        )
        self.ledger.begin(row)
        return row

    def _remember(self, job: Job, deposition: Deposition, *, state: str, correction_hash: str | None = None) -> Deposit:
        """The job's ledger row made to name ``deposition`` as Zenodo holds it."""
        row = job.row or self.begin_row(job.record)
        if row.deposition_id != deposition.id:
            self.ledger.forget_files(row)  # what an earlier attempt uploaded went to another deposition
        changes: dict[str, Any] = {"state": state, "deposition_id": deposition.id, "bucket_url": deposition.links.bucket, "last_error": None}
        if correction_hash is not None:
            changes["correction_hash"] = correction_hash
        if deposition.submitted:
            minted = self.api.minted(deposition)  # the DOI Zenodo mints for this id, or answer-mismatch
            changes.update(doi=minted.doi, concept_doi=minted.conceptdoi, record_url=minted.links.html, published_at=self._now_text())
        job.row = self.ledger.update(row, **changes)
        return job.row

    def remote_corrections(self, record: Record, deposition: Deposition) -> str:
        """The correction-record hash of the record as ``deposition`` holds it: the same as ours
        when its manifest.json is the very file this record would upload (no request), else read
        from that file."""
        listed = next((f for f in deposition.files if f.filename == RECORD_MANIFEST_FILE), None)
        ours = hashlib.md5(record.manifest_bytes()).hexdigest()  # noqa: S324 - Zenodo's checksum
        if listed is not None and listed.checksum == ours:
            return content_hashes(record)[1]
        unreadable = ArchiverError(
            f"{record.id}: deposition {deposition.id} on Zenodo carries this record's id, but archiver cannot read "
            f"its {RECORD_MANIFEST_FILE}; compare it by hand before depositing this record again",
            code="remote-unrecognised",
        )
        try:
            manifest = json.loads(self.api.download(deposition, RECORD_MANIFEST_FILE))
            if manifest.get("id") != record.id:  # another record's deposition that names this id too
                raise unreadable
            return correction_hash(manifest["correction_record"])
        except ZenodoError as exc:
            if exc.status == 404:
                raise unreadable from None
            raise
        except (ValueError, KeyError, TypeError, RecursionError):
            raise unreadable from None

    def _adopt_published(self, job: Job, found: Found) -> None:
        """A published deposition of the record: registered here without a new deposit when its
        correction record is ours, else the drift path (a new version with --new-versions)."""
        assert found.published is not None
        published = self.api.minted(found.published)  # another record's DOI never reaches a manifest
        theirs = self.remote_corrections(job.record, published)
        self._remember(job, published, state="registered", correction_hash=theirs)
        extra = f"; Zenodo also holds {found.other_concepts} later duplicate(s) of it" if found.other_concepts else ""
        orphans = [d.id for d in found.first_drafts]
        if orphans and self.delete_orphans:
            # Drafts of this record that never became it (a killed run's, whose ledger is gone): no
            # run can publish them (a rival is published, so its check gives way), so they go.
            deleted = [draft_id for draft_id in orphans if self.api.delete_draft(draft_id)]
            extra += f"; deleted orphan draft(s) {', '.join(map(str, deleted))}" if deleted else ""
        elif orphans:
            extra += f"; Zenodo holds orphan draft(s) {', '.join(map(str, orphans))} of it (a deposit deletes them)"
        if theirs == content_hashes(job.record)[1]:
            if job.record.doi == published.doi:  # the manifest says so already: keep its bytes
                external = job.record.provenance.external_record
                if external.registered_at is not None:
                    self.ledger.update(job.row, published_at=external.registered_at.isoformat())  # type: ignore[arg-type]
                updated = job.record
            else:
                updated = self._register(job.row, job.path, job.record)  # type: ignore[arg-type]
            job.result = RecordResult(
                job.record.id, "adopted", f"published on Zenodo as deposition {published.id}; registered, nothing deposited{extra}",
                updated.doi, published.id,
            )
        elif (behind := self._behind(job.record, published)) is not None:
            self._fail(job, behind)
        elif self.new_versions:
            job.action, job.kind, job.why = "new-version", "new-version", "the correction record changed since the deposit found on Zenodo"
        else:
            job.result = RecordResult(
                job.record.id, "drifted",
                f"the correction record changed since deposition {published.id} on Zenodo; rerun with --new-versions{extra}",
                None, published.id,
            )

    @staticmethod
    def _behind(record: Record, published: Deposition) -> ArchiverError | None:
        """Corrections are additive: a record whose correction record has fewer corrections than
        the version Zenodo publishes (its ``version`` is 1 + the count) is an older export, and a
        new version of it would undo a correction under a DOI that can never be withdrawn."""
        ours = 1 + record.correction_record.correction_count
        try:
            theirs = int(str(published.metadata.version))
        except ValueError:
            return None  # a version archiver did not write: nothing to compare
        if ours >= theirs:
            return None
        return ArchiverError(
            f"{record.id}: deposition {published.id} on Zenodo is version {theirs} of this record, with {theirs - 1} "
            f"correction(s); this export's record has {ours - 1}: it is older than what is published. Nothing was sent: "
            "export the current record pages and deposit that",
            code="correction-behind",
        )

    # ------------------------------------------------------------------ stage 1: ask Zenodo first

    def look_up(self, jobs: list[Job]) -> None:
        """One batched search for every record the ledger knows nothing on Zenodo of; what
        Zenodo holds decides: adopt a published deposition, resume an open draft, or create."""
        wanted = [job for job in jobs if self.needs_lookup(job)]
        if not wanted:
            return
        try:
            found = find_records(self.api, [job.record.id for job in wanted])
            # A create sent before a crash may have happened moments ago: its draft shows once the
            # index refreshes, so those records are asked again a few times before "none".
            lost = [job for job in wanted if job.row is not None and job.row.state == "creating"]
            for attempt in range(1, self.find_attempts):
                missing = [job.record.id for job in lost if not found[job.record.id].depositions]
                if not missing:
                    break
                self.wait(min(2.0 * attempt, 10.0), "Zenodo's search index catching up with a create sent before a crash")
                found.update(find_records(self.api, missing))
        except ZenodoError as exc:
            for job in wanted:
                self._fail(job, exc)
            return
        for job in wanted:
            self.settle(job, found[job.record.id])

    def settle(self, job: Job, found: Found) -> None:
        try:
            if found.published is not None:
                self._adopt_published(job, found)
            elif found.first_drafts and (draft := self._read_listed(found.first_drafts[0].id)) is not None:
                # the lowest id: the draft a concurrent run would also keep
                if draft.submitted:  # the index was behind: published since
                    self._adopt_published(job, Found(found.record_id, (draft,)))
                    return
                if draft.review is not None and draft.review not in ("created", "cancelled", "expired"):
                    self._remember(job, draft, state="in-review")
                    self._reviewed(job, draft)
                    return
                self._remember(job, draft, state="created")
                job.current = draft
                job.kind, job.why = "resumed", f"resumed draft {draft.id} found on Zenodo"
            elif job.row is not None and job.row.state == "creating":
                # a create whose answer was lost: Zenodo lists no deposition of the record, so none was made
                job.row = self.ledger.update(job.row, state="planned")
        except (ZenodoError, ArchiverError, OSError) as exc:
            self._fail(job, exc)

    def _read_listed(self, deposition_id: int) -> Deposition | None:
        """A deposition the search listed, as it is now (the index lags): None when it is gone
        (a concurrent run that lost deleted its draft)."""
        try:
            return self.api.read(deposition_id)
        except ZenodoError as exc:
            if exc.status == 404:
                return None
            raise

    # ------------------------------------------------------------------ stage 2: a draft ready to publish

    def prepare(self, job: Job) -> None:
        """Create (or resume, or open a new version), upload, describe; registers a row that is
        published already. Leaves ``job.result`` unset when the draft waits for the check."""
        record, row = job.record, job.row
        try:
            if row is not None and row.state == "in-review" and self.api.name != "records":
                raise ArchiverError(
                    f"{record.id}: draft {row.deposition_id} waits for its community's review, which only the records API "
                    "follows: run with api = \"records\" until the community has decided", code="usage",
                )
            if row is not None and row.api != self.api.name and not row.reached("published"):
                # Begun through the other API (or rebuilt by a reconcile through it): on Zenodo both
                # APIs see the same draft, but the link where files go is the other API's, and so is
                # the ledger's note of what arrived: the draft is read afresh, files compared by md5.
                self.ledger.forget_files(row)
                row = job.row = self.ledger.update(row, api=self.api.name, bucket_url=None)
            if row is not None and row.state == "in-review":
                draft = self.api.read(row.remote_id)
                if draft.submitted or draft.review not in (None, "created", "cancelled", "expired"):
                    self._reviewed(job, draft)
                    return
                # the submission never went: the draft goes through the stages again (its metadata
                # and files made current, the check), and the publish stage submits it
                row = job.row = self.ledger.update(row, state="described")
            if row is not None and row.state == "publishing":
                # a publish whose outcome this run does not know: published (register it), or not
                # (the draft is described again and published with the metadata of now)
                held = self.api.read(row.remote_id)
                if held.submitted:
                    row = job.row = self._remember(job, held, state="published")
                    job.action = "register"
                else:
                    row = job.row = self.ledger.update(row, state="described")
            if row is not None and row.deposition_id is not None and not row.reached("in-review") and row.content_hash != content_hashes(record)[0]:
                # The record changed since its draft was made (a re-export after --draft-only or a
                # kill): the draft's files are the old record's. They are compared and replaced, and
                # the draft described again, so that what is published is this record as it is now.
                self.ledger.forget_files(row)
                content, corrections = content_hashes(record)
                row = job.row = self.ledger.update(row, state="created", content_hash=content, correction_hash=corrections)
            if job.action == "register" and row is not None:
                updated = self._register(row, job.path, record)
                job.result = RecordResult(record.id, "registered", job.why, updated.doi, row.deposition_id)
                return
            if job.action == "new-version" and row is not None and row.state == "registered":
                published = self.api.read(row.remote_id)
                behind = self._behind(record, published)
                if behind is not None:
                    raise behind
                job.concept = published.conceptrecid
                row = self.begin_row(record, version=row.version + 1)
                job.kind = "new-version"
            elif row is None:
                row = self.begin_row(record)
            elif job.kind == "deposited" and not (row.state == "planned" and row.version == 1):
                job.kind = "new-version" if row.version > 1 else "resumed"
            job.row = row
            described = False
            if not row.reached("uploaded"):
                row, current, described = self._adopt_or_create(row, record, job.concept)
                current = current or job.current
                job.row = row
                files = build_files(record, self.policy, self.export_dir, self.files_root / safe_stem(record.id) / f"v{row.version}")
                row = job.row = self._upload(row, files, current, prune=not described)
            if not row.reached("described"):
                if not described:  # resumed or a new version: send the record's metadata now
                    self._described(self.api.set_metadata(row.remote_id, record, self.api.payload(record, self.policy)))
                row = job.row = self.ledger.update(row, state="described")
            elif row.state == "described" and not described:
                # Described by an earlier run (--draft-only, a kill, the other API): the policy or the
                # record may have changed since, so the draft gets the metadata of now (one PUT, read
                # back) and the DOI says what this run's plan says.
                self._described(self.api.set_metadata(row.remote_id, record, self.api.payload(record, self.policy)))
            if self.draft_only:
                job.result = RecordResult(record.id, "drafted", "draft ready, not published (--draft-only)", None, row.deposition_id)
        except ZenodoError as exc:
            if not self._published_meanwhile(job):
                self._fail(job, exc)
        except (ArchiverError, OSError) as exc:
            self._fail(job, exc)

    def _forget_deposition(self, job: Job) -> None:
        """The job's first-deposit draft is no more (deleted): its row plans the record afresh."""
        assert job.row is not None
        job.row = self.ledger.update(job.row, state="planned", deposition_id=None, bucket_url=None, last_error=None)
        self.ledger.forget_files(job.row)

    def _published_meanwhile(self, job: Job) -> bool:
        """After a request about the job's first-deposit draft failed: whether the draft was
        published meanwhile (a concurrent run resumed it and got there first: it is the record's
        deposition, adopted as any published one is) or is gone (a concurrent run's deposition won
        and deleted it: the next run registers that one). True when the job is settled so."""
        row = job.row
        if row is None or row.deposition_id is None or row.version > 1:
            return False
        try:
            current = self.api.read(row.deposition_id)
        except ZenodoError as exc:
            if exc.status != 404:
                return False
            gone = row.deposition_id
            self._forget_deposition(job)
            job.result = RecordResult(
                job.record.id, "deferred",
                f"draft {gone} is gone from Zenodo (deleted: by a concurrent run whose deposition of this record won, or by "
                "hand); the next run registers that deposition, or deposits the record afresh",
            )
            return True
        if not current.submitted:
            return False
        try:
            self._adopt_published(job, Found(job.record.id, (current,)))
        except (ZenodoError, ArchiverError, OSError) as exc:
            self._fail(job, exc)
        return True

    # ------------------------------------------------------------------ stage 3: one deposition per record

    def check(self, jobs: list[Job]) -> list[Job]:
        """The jobs that may publish. A first deposit publishes only when Zenodo's search shows
        its own draft and no rival deposition of the record that wins: a published one, or a draft
        with a lower id (a concurrent run's). The loser deletes its draft and registers the
        winner's DOI, or is ``deferred`` to the next run while the winner is still a draft.

        New versions need no check: Zenodo keeps one draft per concept, so concurrent runs share it."""
        ready = [job for job in jobs if job.result is None and job.row is not None and job.row.version > 1]
        pending = {job.record.id: job for job in jobs if job.result is None and job.row is not None and job.row.version == 1}
        for attempt in range(self.find_attempts):
            if not pending:
                break
            try:
                found = find_records(self.api, list(pending))
            except ZenodoError as exc:
                for job in pending.values():
                    self._fail(job, exc)
                break
            for record_id, job in list(pending.items()):
                own = next((d for d in found[record_id].depositions if d.id == job.row.deposition_id), None)  # type: ignore[union-attr]
                if own is None and attempt + 1 < self.find_attempts:
                    continue  # the search index has not caught up with this run's draft yet
                del pending[record_id]
                if own is None and self._published_meanwhile(job):
                    continue  # not listed because it is gone (a rival won and deleted it) or published by another run
                if own is None:
                    job.result = RecordResult(
                        record_id, "deferred",
                        f"Zenodo's search does not list draft {job.row.deposition_id} yet, so no concurrent deposit of this "  # type: ignore[union-attr]
                        "record can be ruled out; the next run checks again and publishes it",
                        None, job.row.deposition_id,  # type: ignore[union-attr]
                    )
                    continue
                rivals = [d for d in found[record_id].depositions if d.conceptrecid != own.conceptrecid]
                winner = next((d for d in rivals if d.submitted), None) or next((d for d in rivals if d.id < own.id), None)
                if winner is None:
                    job.rivals = tuple(d.id for d in rivals)  # higher ids, all drafts: they give way to this one
                    ready.append(job)
                else:
                    self._give_way(job, winner, found[record_id])
            if pending:
                self.wait(min(1.0 * (attempt + 1), 5.0), "Zenodo's search index catching up with this run's new drafts")
        return ready

    def _give_way(self, job: Job, winner: Deposition, found: Found) -> None:
        """This run's draft loses to ``winner``: delete it, then register the winner if published."""
        row = job.row
        assert row is not None and row.deposition_id is not None
        own = row.deposition_id
        try:
            if not self.api.delete_draft(own):
                mine = self._read_listed(own)
                if mine is not None and mine.submitted:  # published meanwhile (another run resumed it): it is the record's
                    self._remember(job, mine, state="published")
                    job.action = "register"
                    self.prepare(job)
                    return
            self._forget_deposition(job)
            if winner.submitted:
                self._adopt_published(job, Found(found.record_id, tuple(d for d in found.depositions if d.id != own)))
            else:
                job.result = RecordResult(
                    job.record.id, "deferred",
                    f"another run is depositing this record as draft {winner.id} (the lowest id wins); this run deleted its "
                    f"own draft {own}; the next run registers the winner's DOI",
                )
        except (ZenodoError, ArchiverError, OSError) as exc:
            self._fail(job, exc)

    # ------------------------------------------------------------------ stage 4: publish and register

    def publish(self, job: Job) -> None:
        row = job.row
        assert row is not None
        try:
            if self.policy.communities and self.api.name == "records" and row.version == 1:
                # a first deposit goes to the community's review; it is published when accepted
                job.row = self.ledger.update(row, state="in-review", attempts=row.attempts + 1)
                self._reviewed(job, None)
                return
            published = self._publish(row)  # checked: this deposition, published, its own DOI
            job.why += self._communities_read_back(published)
            row = job.row = self.ledger.update(
                row, state="published", doi=published.doi, concept_doi=published.conceptdoi, record_url=published.links.html,
                published_at=self._now_text(),
            )
            updated = self._register(row, job.path, job.record)
            job.result = RecordResult(job.record.id, job.kind, job.why + self._delete_rivals(job), updated.doi, row.deposition_id)
        except ZenodoError as exc:
            if not self._published_meanwhile(job):
                self._fail(job, exc)
        except (ArchiverError, OSError) as exc:
            self._fail(job, exc)

    def _reviewed(self, job: Job, draft: Deposition | None) -> None:
        """A draft for its community's review (``draft`` as read, None when about to be submitted):
        submitted when it has not gone yet (a first try, or one that failed, was cancelled or
        expired), registered once the community accepted it (it is then published), failed when
        declined, else still waiting (``in-review``, no DOI yet)."""
        assert job.row is not None
        slug = self.policy.communities[0] if self.policy.communities else "its community"
        if draft is None or (not draft.submitted and draft.review in (None, "created", "cancelled", "expired")):
            if not self.policy.communities:
                raise ArchiverError(f"{job.record.id}: draft {job.row.deposition_id} was to be reviewed, but the policy names no community "
                                    "now: name it again, or publish the draft by hand", code="community-missing")
            message = f"<p>{html_escape(job.record.id)}: {html_escape(job.record.archival_title)}</p>" \
                      f"<p>Deposited by archiver for {html_escape(self.policy.publisher)}.</p>"
            draft = self.api.submit_for_review(job.row.remote_id, slug, message)
        if draft.submitted:
            published = self.api.minted(draft)
            job.row = self.ledger.update(
                job.row, state="published", doi=published.doi, concept_doi=published.conceptdoi, record_url=published.links.html,
                published_at=self._now_text(), last_error=None,
            )
            updated = self._register(job.row, job.path, job.record)
            job.result = RecordResult(job.record.id, job.kind, f"accepted by community {slug!r} and published", updated.doi, published.id)
        elif draft.review == "declined":
            self._fail(job, ArchiverError(
                f"{job.record.id}: community {slug!r} declined draft {draft.id}; it is not published. Delete the draft or "
                "submit it elsewhere by hand, then deposit again", code="review-declined",
            ))
        elif draft.review in (None, "created", "cancelled", "expired"):
            self._fail(job, ArchiverError(
                f"{job.record.id}: the submission of draft {draft.id} to community {slug!r} did not go through (its review "
                f"is {draft.review or 'not set'}); the next run submits it again", code="review-not-submitted",
            ))
        else:
            self.ledger.update(job.row, last_error=None)
            job.result = RecordResult(
                job.record.id, "in-review", f"draft {draft.id} waits for community {slug!r} to review it; its DOI is "
                "registered by the first run after the community accepts it", None, draft.id,
            )

    def _communities_read_back(self, published: Deposition) -> str:
        """Legacy API: the communities asked for are added after publish, and a failure is
        silently ignored there, so the record is read back and a community it is not in is said."""
        if not self.policy.communities or self.api.name != "deposit":
            return ""
        held = self.api.read(published.id).stored_metadata.get("communities") or []
        slugs = {c.get("identifier") for c in held if isinstance(c, dict)}
        missing = [slug for slug in self.policy.communities if slug not in slugs]
        if not missing:
            return ""
        return f"; not in community {', '.join(missing)} after publish (Zenodo may hold an inclusion request for a curator) [community-missing]"

    def _delete_rivals(self, job: Job) -> str:
        """Once the record is published, the rival drafts its check saw can never be published:
        delete them, so that a rival whose run died (its ledger lost with it) is not left open. A
        rival still running finds its draft gone and defers to its next run, which registers this
        deposition."""
        deleted = []
        for draft_id in job.rivals:
            try:
                if self.api.delete_draft(draft_id):
                    deleted.append(draft_id)
            except ZenodoError:
                continue  # best effort: the draft's own run deletes it when it checks
        return f"; deleted rival draft(s) {', '.join(map(str, deleted))}" if deleted else ""

    # ------------------------------------------------------------------ steps

    def _find_lost_create(self, record: Record) -> Deposition | None:
        """After a create whose outcome is unknown: the record's draft, once Zenodo's search lists
        it (the index shows a new draft after it refreshes, so it is asked a few times)."""
        for attempt in range(self.find_attempts):
            for listed in find_records(self.api, [record.id])[record.id].first_drafts:
                draft = self._read_listed(listed.id)
                if draft is not None and not draft.submitted:  # the index may still show a published one as a draft
                    return draft
            if attempt + 1 < self.find_attempts:
                self.wait(min(2.0 * (attempt + 1), 10.0), "Zenodo's search index catching up with a create whose answer was lost")
        return None

    def _find_open_draft(self, previous_id: int) -> Deposition | None:
        """The open draft of the concept of ``previous_id`` (Zenodo keeps at most one per concept)."""
        for attempt in range(self.find_attempts):
            item = self.api.open_draft_of(previous_id)
            if item is not None:
                draft = self._read_listed(item.id)
                if draft is not None and not draft.submitted:  # the index may be behind a publish
                    return draft
            if attempt + 1 < self.find_attempts:
                self.wait(min(2.0 * (attempt + 1), 10.0), "Zenodo's search index catching up with a new-version draft")
        return None

    def _created(self, row: Deposit, deposition: Deposition) -> Deposit:
        return self.ledger.update(row, state="created", deposition_id=deposition.id, bucket_url=deposition.links.bucket)

    def _described(self, deposition: Deposition) -> Deposition:
        """``deposition`` when a save kept the metadata as sent; else a coded error, before publish:
        Zenodo's save is lenient (what its schema refuses is silently not stored), so a field it
        dropped or changed would otherwise be published under a DOI that can never be withdrawn."""
        if deposition.unkept:
            raise ArchiverError(
                f"deposition {deposition.id}: Zenodo did not keep {', '.join(deposition.unkept[:5])} as sent; "
                "nothing was published: correct the policy or the record and run again",
                code="metadata-not-kept",
            )
        return deposition

    def _create(self, row: Deposit, record: Record) -> tuple[Deposit, Deposition, bool]:
        """Create the draft with its full metadata: one request, no metadata update afterwards
        (unless the answer was lost: a draft found instead is described again)."""
        payload = self.api.payload(record, self.policy)
        self.ledger.update(row, state="creating", attempts=row.attempts + 1)
        try:
            created = self.api.create(record, payload)
        except ZenodoError as exc:
            if exc.refused:
                # Zenodo refused in so many words (a wrong token, a refused payload): nothing was
                # created, and the next run says "deposited", not "resumed". Any other outcome (no
                # answer, 5xx, an answer archiver cannot read or that is not this record's) may
                # hide a deposition: it is looked for, never created again blindly.
                self.ledger.update(row, state="planned")
                raise
            found = self._find_lost_create(record)  # the create may have happened: never create blindly
            if found is None:
                raise ZenodoError(
                    f"{record.id}: the create's outcome is unknown ({exc}) and Zenodo's search lists no draft of "
                    "this record yet; the next run looks again before it creates anything",
                    code="create-unknown",
                ) from None
            if self.api.announce is not None:
                self.api.announce(f"{record.id}: the create's answer could not be used ({exc}); its draft {found.id} was found on Zenodo")
            return self._created(row, found), found, False
        row = self._created(row, created)
        self._described(created)
        return row, created, True

    def _open_new_version(self, row: Deposit, previous_id: int, concept: str | None = None) -> tuple[Deposit, Deposition]:
        """A new-version draft of the published deposition.

        On a resume the open draft of the concept is looked for first; a server that says a draft
        is open without naming it (``draft-open``) is also answered by looking for it."""
        concept = concept or self.api.read(previous_id).conceptrecid  # the answer's draft must be of this concept
        resuming = row.state == "creating"
        self.ledger.update(row, state="creating", attempts=row.attempts + 1)
        draft = self._find_open_draft(previous_id) if resuming else None
        if draft is None:
            try:
                draft = self.api.new_version(previous_id)
            except ZenodoError as exc:
                draft_is_open = exc.code == "draft-open"
                if exc.status is not None and exc.status < 500 and not draft_is_open:
                    raise
                draft = self._find_open_draft(previous_id)
                if draft is None:
                    if draft_is_open:
                        raise ZenodoError(
                            f"{row.record_id}: Zenodo has an open new-version draft of deposition {previous_id} "
                            "that its search does not list yet; run again in a minute",
                            code="draft-not-listed",
                        ) from None
                    draft = self.api.new_version(previous_id)
        if draft.conceptrecid != concept:
            raise ZenodoError(
                f"{row.record_id}: the new-version draft {draft.id} is of concept {draft.conceptrecid}, not {concept} "
                f"(that of deposition {previous_id}): refused, nothing sent to it",
                code="answer-mismatch",
            )
        return self._created(row, draft), draft

    def _adopt_or_create(self, row: Deposit, record: Record, concept: str | None = None) -> tuple[Deposit, Deposition | None, bool]:
        """The deposition to upload into: (row, its answer when this run has it, whether this run
        sent it the record's current metadata)."""
        if row.deposition_id is not None:
            return row, None, False
        if row.version > 1:
            previous = self.ledger.get(record.id, self.environment, row.version - 1)
            if previous is None:
                raise ArchiverError(f"{record.id}: the ledger lost version {row.version - 1}", code="ledger-corrupt")
            row, draft = self._open_new_version(row, previous.remote_id, concept)
            return row, draft, False  # a new version keeps neither version nor publication date
        return self._create(row, record)

    def _upload(self, row: Deposit, files: list[DepositFile], current: Deposition | None = None, prune: bool = False) -> Deposit:
        """Upload what the ledger has not seen arrive. With ``prune`` (a new-version draft carries
        the previous files; a resumed draft may hold what an older flow uploaded) the files not in
        this set are deleted afterwards."""
        known = self.ledger.files(row)
        for item in files:
            self.ledger.plan_file(row, item.name, item.size, item.md5)
        known = self.ledger.files(row)
        if row.bucket_url is None or (current is None and not any(uploaded for _size, _md5, uploaded in known.values())):
            # no bucket yet, or a draft this run did not make and whose files the ledger does not
            # know (resumed from Zenodo, or after reconcile): read it, to upload only what it lacks
            current = self.api.read(row.remote_id)
            row = self.ledger.update(row, bucket_url=current.links.bucket)
        bucket = row.bucket_url
        if bucket is None:
            raise ZenodoError(f"{row.record_id}: deposition {row.remote_id} has no bucket link", code="answer-invalid")
        # a draft resumed from Zenodo may hold some files already: the same name and md5 need no upload
        remote = {stored.filename: stored.checksum for stored in current.files} if current is not None else {}
        pending = []
        for item in files:
            if known[item.name][2]:
                continue
            if remote.get(item.name) == item.md5:
                self.ledger.file_uploaded(row, item.name)
                continue
            pending.append(item)
        self.api.begin_uploads(row.remote_id, [item.name for item in pending], set(remote) if current is not None else None)
        for item in pending:
            readers: list[HashingReader] = []

            def fresh_stream(item: DepositFile = item, readers: list[HashingReader] = readers) -> HashingReader:
                readers.append(HashingReader(item.path, item.size))  # each attempt streams from the start
                return readers[-1]

            try:
                checksum = self.api.upload(bucket, item.name, fresh_stream, item.size)
            finally:
                for reader in readers:
                    reader.close()
            sent = readers[-1].md5.hexdigest()
            if not checksum == sent == item.md5:
                raise ZenodoError(
                    f"{row.record_id}: {item.name}: planned md5 {item.md5}, sent {sent}, Zenodo has {checksum}",
                    code="checksum-mismatch",
                )
            self.ledger.file_uploaded(row, item.name)
        if prune:
            wanted = {item.name for item in files}
            if current is None:
                current = self.api.read(row.remote_id)
            for stale in current.files:
                if stale.filename not in wanted:
                    self.api.delete_file(row.remote_id, stale)
        return self.ledger.update(row, state="uploaded")

    def _publish(self, row: Deposit) -> Deposition:
        """Publish once; the answer (or, when it is lost, unreadable or lying, the deposition read
        back) must be this deposition, published under its own DOI."""
        self.ledger.update(row, state="publishing", attempts=row.attempts + 1)
        for attempt in range(1, 6):
            try:
                return self.api.publish(row.remote_id)
            except ZenodoError as exc:
                if exc.refused and exc.status != 404:
                    raise  # refused in so many words (a 400 validation error): nothing was published
                # A lost answer, a 5xx, an answer that cannot be read or believed, or a 404 (no
                # draft: published already) may hide a success: read the deposition itself.
                current = self.api.read(row.remote_id)
                if current.submitted:
                    return self.api.minted(current)
                if exc.status == 404 or exc.code in ("answer-mismatch", "answer-invalid", "foreign-link", "redirect-refused"):
                    raise
                self.wait(min(2.0**attempt, 30.0), f"publish of deposition {row.remote_id} failed ({exc.code}); trying again")
        raise ZenodoError(f"{row.record_id}: publish did not go through", code="publish-failed")

    def _register(self, row: Deposit, manifest_path: Path, record: Record) -> Record:
        if row.doi is None:
            raise ArchiverError(f"{row.record_id}: the ledger holds no DOI to register", code="ledger-corrupt")
        registered_at = dt.datetime.fromisoformat(row.published_at) if row.published_at else self.clock()
        updated = record.registered(row.doi, row.remote_id, row.environment, registered_at, row.concept_doi)
        _manifest, findings = build_manifest(updated)
        if findings:
            raise ArchiverError(f"{row.record_id}: the registered manifest fails its contract: {findings[0].message}", code="manifest-invalid")
        atomic_write_bytes(manifest_path, updated.manifest_bytes())
        self.ledger.update(row, state="registered", last_error=None)  # an earlier failure is history now
        return updated


# Records move through the stages in groups of this size: one lookup and one pre-publish check
# per group (LOOKUP_BATCH ids per search), and the search index has the time the group's creates
# and uploads take to catch up before the check.
DEPOSIT_GROUP = LOOKUP_BATCH


def run_deposit(
    export_dir: Path,
    client: DepositAPI | ZenodoClient | RecordsClient,
    policy: Policy,
    *,
    only: Iterable[str] | None = None,
    limit: int | None = None,
    draft_only: bool = False,
    new_versions: bool = False,
    workers: int = 4,
    on_record: Callable[[RecordResult], None] | None = None,
    stop: threading.Event | None = None,
    in_progress: set[str] | None = None,
    group_size: int = DEPOSIT_GROUP,
) -> DepositSummary:
    """Deposit an export's records, in groups that move through four stages together: look the
    group up on Zenodo (one search), prepare each draft (up to ``workers`` at once, all sharing the
    client's pacer), check for rival depositions (one search), publish and register. Results are
    reported in the export's order.

    Once ``stop`` is set no further record is started and nothing more is published; the ones in
    progress (their ids are kept in ``in_progress`` for the caller to show) finish their step.
    Whatever ends the run, the export's package and reports are brought in line with the manifests
    before it returns or raises.
    """
    from concurrent.futures import ThreadPoolExecutor

    export_dir = Path(export_dir)
    api = adapter_for(client)
    wanted = set(only or [])
    summary = DepositSummary(api.target.environment)
    in_progress = set() if in_progress is None else in_progress
    started = time.perf_counter()
    with ExportLock(export_dir):
        ledger = Ledger(ledger_path(export_dir))
        try:
            check_server(ledger, api.target.environment, api.target.api_url)
            if policy.communities and api.name == "records" and not draft_only:
                api.community_id(policy.communities[0])  # one that does not exist stops the run before any draft is made
            depositor = Depositor(export_dir, api, ledger, policy, draft_only=draft_only, new_versions=new_versions)
            selected = (p for p in iter_manifests(export_dir) if not wanted or p.stem.replace("_", ":", 1) in wanted)

            def halted() -> bool:
                return (stop is not None and stop.is_set()) or depositor.halted is not None

            def not_started(job: Job) -> None:
                reason = depositor.halted or "the run was interrupted"
                if job.row is not None and job.row.deposition_id is not None and job.row.reached("created"):
                    job.result = RecordResult(job.record.id, "not-published", f"{reason}; draft {job.row.deposition_id} "
                                              "is kept and the next run publishes it", None, job.row.deposition_id)
                else:
                    job.result = RecordResult(job.record.id, "not-started", f"not started: {reason}")

            def each(pool: ThreadPoolExecutor, jobs: list[Job], step: Callable[[Job], None], *, begun: bool = False) -> None:
                """``step`` for every job not yet done, up to ``workers`` at once. A job not ``begun``
                is not started once the run is halted; a begun one (its draft is being prepared) is
                carried through after the first Ctrl-C, but not past a refused token."""

                def work(job: Job) -> None:
                    if depositor.halted is not None or (not begun and halted()):
                        not_started(job)
                        return
                    in_progress.add(job.record.id)
                    try:
                        step(job)
                    finally:
                        in_progress.discard(job.record.id)

                list(pool.map(work, [job for job in jobs if job.result is None]))

            def run_group(pool: ThreadPoolExecutor, jobs: list[Job]) -> None:
                if not halted():
                    depositor.look_up(jobs)
                each(pool, jobs, depositor.prepare)
                if any(job.result is None for job in jobs) and depositor.halted is None:
                    ready = {id(job) for job in depositor.check(jobs)}
                    for job in jobs:  # a draft the check neither passed nor settled waits for the next run
                        if job.result is None and id(job) not in ready:
                            not_started(job)
                    each(pool, jobs, depositor.publish, begun=True)
                for job in jobs:
                    if job.result is None:
                        not_started(job)
                    summary.results.append(job.result)  # type: ignore[arg-type]  # every record is accounted for
                    if on_record:
                        on_record(job.result)  # type: ignore[arg-type]

            with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="deposit") as pool:
                group: list[Job] = []
                acted = 0
                for manifest_path in selected:
                    if limit is not None and acted >= limit:
                        break
                    job = depositor.job(manifest_path)
                    if job.result is None and halted():
                        not_started(job)  # every record is accounted for, the ones never reached too
                    if job.result is not None and not group:  # skipped, drifted or not started: nothing to send
                        summary.results.append(job.result)
                        if on_record:
                            on_record(job.result)
                        continue
                    acted += job.result is None
                    group.append(job)
                    if len([j for j in group if j.result is None]) >= max(1, group_size):
                        run_group(pool, group)
                        group = []
                if group:
                    run_group(pool, group)
                summary.interrupted = stop is not None and stop.is_set()
                summary.token_refused = depositor.token_refused
                summary.unreachable = depositor.unreachable
                summary.rate_limited = depositor.rate_limited
        finally:
            try:  # even when interrupted: report.json, report.html and the CSVs follow the manifests
                registrations = registered_dois(ledger, api.target.environment)
                refresh_after_deposit(export_dir, registrations, policy)
            finally:
                ledger.close()
    summary.requests = api.stats["requests"]
    summary.throttled = api.stats["429"]
    summary.seconds = time.perf_counter() - started
    return summary


def plan_deposit(
    export_dir: Path, policy: Policy, environment: str, api_url: str, *, only=None, limit=None, new_versions: bool = False
) -> dict:
    """What a deposit would do, per record, without sending anything."""
    export_dir = Path(export_dir)
    path = ledger_path(export_dir)
    ledger = Ledger(path) if path.exists() else None
    wanted = set(only or [])
    entries: list[dict[str, Any]] = []
    try:
        acted = 0
        for manifest_path in iter_manifests(export_dir):
            record = load_record(manifest_path)
            if wanted and record.id not in wanted:
                continue
            if limit is not None and acted >= limit:
                break
            row = ledger.get(record.id, environment) if ledger else None
            action, why = decide(record, row, policy, new_versions=new_versions)
            if action in ("skip", "drifted", "register"):
                entries.append({"id": record.id, "action": action, "why": why})
                continue
            acted += 1
            with tempfile.TemporaryDirectory() as scratch:
                files = build_files(record, policy, export_dir, Path(scratch))
                file_list = [{"name": f.name, "size": f.size, "md5": f.md5} for f in files]
            records = policy.api == "records"
            upload = (f"initialise {len(file_list)} files (one POST), then upload and commit each (two requests per file)"
                      if records else f"upload {len(file_list)} files")
            check = "check Zenodo for a rival deposition of the record (batched)"
            publish = ["publish", "register DOI in manifest"]
            if records and policy.communities and not (action == "new-version" and row is not None):
                publish = [f"submit the draft to community {policy.communities[0]!r} for review (published when accepted)",
                           "register DOI in manifest once the community has accepted it"]
            elif policy.communities and not records:
                publish = ["publish", f"read back the communities {', '.join(policy.communities)}", "register DOI in manifest"]
            if action == "new-version" and row is not None:
                steps = [f"open a new version of deposition {row.deposition_id}", upload, "set metadata (one PUT, read back)", *publish]
                kind = "new-version"
            elif row is not None and row.state == "in-review":
                steps = [f"ask whether community {policy.communities[0] if policy.communities else '?'!r} has decided on draft "
                         f"{row.deposition_id} (submit it again if it never went); register DOI in manifest once accepted"]
                kind = "in-review"
            elif row is not None and row.deposition_id is not None:
                steps = [f"resume from ledger state {row.state!r} of deposition {row.deposition_id}", upload,
                         "set metadata (one PUT, read back)", check, *publish]
                kind = "resume"
            else:
                steps = ["look the record up on Zenodo by its id (batched): adopt a published deposition or resume an "
                         "open draft instead of creating", "create the draft with its metadata (one POST, read back)", upload, check, *publish]
                kind = action
            entries.append(
                {"id": record.id, "action": kind, "api": policy.api, "files": file_list, "steps": steps,
                 # the exact body the chosen API is sent: the draft (records API) or the deposition's metadata
                 **({"rdm": records_payload(describe(record, policy))} if records else {"metadata": legacy_payload(describe(record, policy))})}
            )
    finally:
        if ledger:
            ledger.close()
    return {"environment": environment, "api_url": api_url, "records": entries}


def write_plan(export_dir: Path, plan: dict) -> Path:
    path = Path(export_dir) / PLAN
    atomic_write_bytes(path, (json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())
    return path


def status(export_dir: Path, environment: str | None = None) -> list[dict]:
    path = ledger_path(Path(export_dir))
    if not path.exists():
        return []
    ledger = Ledger(path)
    try:
        return [
            # "attempt": the ledger's count of deposits of the record (1, then one more per new
            # version); "version" is Zenodo's word, for the version number it shows
            {"id": row.record_id, "environment": row.environment, "attempt": row.version, "state": row.state,
             "deposition_id": row.deposition_id, "doi": row.doi, "updated_at": row.updated_at, "last_error": row.last_error,
             "correction_hash": row.correction_hash, "api": row.api, "server": row.api_url}
            for row in ledger.all(environment)
        ]
    finally:
        ledger.close()


def unknown_registrations(export_dir: Path, rows: list[dict]) -> list[str]:
    """Records whose manifest names a deposit (a deposition id) that the ledger has no row for:
    a lost or other state directory, which `archiver reconcile` rebuilds from Zenodo."""
    known = {row["id"] for row in rows}
    unknown = []
    for path in iter_manifests(Path(export_dir)):
        external = load_record(path).provenance.external_record
        if external.deposition_id is not None and path.stem.replace("_", ":", 1) not in known:
            unknown.append(path.stem.replace("_", ":", 1))
    return unknown


def local_drift(rows: list[dict], export_dir: Path) -> list[dict]:
    """Registered records whose manifest's correction record is not the one deposited (no network):
    each awaits a new version. Marks those rows ``drifted``."""
    latest: dict[str, dict] = {}
    for row in rows:
        row.setdefault("drifted", False)
        if row["state"] == "registered" and row["attempt"] >= latest.get(row["id"], {}).get("attempt", 0):
            latest[row["id"]] = row
    manifests = {path.stem.replace("_", ":", 1): path for path in iter_manifests(Path(export_dir))}
    drift = []
    for record_id, row in sorted(latest.items()):
        path = manifests.get(record_id)
        if path is not None and content_hashes(load_record(path))[1] != row["correction_hash"]:
            row["drifted"] = True
            drift.append({**row, "remote": "the correction record changed since the deposit; deposit --new-versions gives it a new version"})
    return drift


def remote_drift(rows: list[dict], client: DepositAPI | ZenodoClient | RecordsClient) -> list[dict]:
    """Compare ledger rows with what Zenodo holds: a DOI other than the ledger's, or a deposition
    published that the ledger does not know as such."""
    api = adapter_for(client)
    drift = []
    for row in rows:
        if row["deposition_id"] is None:
            continue
        if row.get("server") and row["server"] != api.target.api_url:
            # another server's deposition ids name other depositions here: nothing to compare
            drift.append({**row, "remote": f"deposited to {row['server']}, not to {api.target.api_url}: not compared"})
            continue
        try:
            remote = api.read(row["deposition_id"])
        except ZenodoError as exc:
            if exc.code in ("no-answer", "token-refused"):
                raise  # every other row would wait out the same silence, or meet the same refusal: stop
            drift.append({**row, "remote": f"unreachable: {exc.message}"})
            continue
        if row["id"] not in remote.metadata.keywords:
            drift.append({**row, "remote": f"deposition {remote.id} on Zenodo is not this record's (its keywords do not name {row['id']})"})
            continue
        remote_doi = remote.doi if remote.submitted else None
        if row["state"] in ("published", "registered") and remote_doi != row["doi"]:
            drift.append({**row, "remote": f"Zenodo holds DOI {remote_doi!r}, the ledger {row['doi']!r}"})
        elif row["state"] not in ("published", "registered") and remote.submitted:
            drift.append({**row, "remote": f"published on Zenodo as {remote_doi}, ledger state {row['state']}"})
    return drift
