"""Deposit eligible records of an export to Zenodo exactly once, and register the DOI in their manifests.

Per record: create a deposition, upload the files through the bucket (md5 compared after each),
set the metadata with one PUT, publish, read the minted DOI, write the registration back. The
ledger records every step before and after it is taken, so a rerun resumes the same deposition.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archiver.eligibility import Facts, assess
from archiver.exportdir import PLAN, REPORT_JSON, ExportLock, ReportJsonReader, ledger_path, refresh_after_deposit, state_dir_for
from archiver.findings import ArchiverError
from archiver.fsutil import atomic_write_bytes, safe_stem
from archiver.ledger import Deposit, Ledger
from archiver.manifest import build_manifest
from archiver.model import Record
from archiver.package import RECORD_MANIFEST_FILE, RECORD_PACKAGE_FILE, record_package
from archiver.policy import Policy
from archiver.zenodo import Deposition, ZenodoClient, ZenodoError

SYNTHESIS_NOTE = "Machine-generated synthesis of existing literature. Not primary research."


# --------------------------------------------------------------------------- metadata mapping


class Creator(BaseModel):
    """A legacy deposit creator: Zenodo stores every one as a person ("Family, Given")."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1)]
    affiliation: str | None = None
    orcid: str | None = None


class RelatedIdentifier(BaseModel):
    model_config = ConfigDict(extra="forbid")
    identifier: Annotated[str, Field(min_length=1)]
    relation: Literal["isIdenticalTo", "isDerivedFrom", "isSupplementTo", "isNewVersionOf", "isAlternateIdentifier"]
    resource_type: str | None = None


class DepositMetadata(BaseModel):
    """The legacy deposit metadata archiver sends; checked here before anything is sent."""

    model_config = ConfigDict(extra="forbid")
    upload_type: Literal["publication"] = "publication"
    publication_type: Literal["report"] = "report"
    publication_date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    # Zenodo refuses titles, descriptions and notes shorter than 3 characters at publish.
    title: Annotated[str, Field(min_length=3, max_length=1000)]
    creators: Annotated[list[Creator], Field(min_length=1)]
    description: Annotated[str, Field(min_length=3)]
    access_right: Literal["open"] = "open"
    license: Annotated[str, Field(min_length=1)]
    keywords: list[str] = []
    notes: Annotated[str, Field(min_length=3)]
    version: str
    language: str = "eng"
    related_identifiers: list[RelatedIdentifier] = []


def deposit_metadata(record: Record, policy: Policy, marker: str) -> dict:
    """The Zenodo metadata of a record (see the mapping table in the README). Never carries a DOI."""
    tier = record.quality_tier
    lines = []
    if record.abstract:
        lines.append(f"<p>{html.escape(record.abstract)}</p>")
    if record.research_question:
        lines.append(f"<p><strong>Research question:</strong> {html.escape(record.research_question)}</p>")
    level = record.verification
    lines.append(
        f"<p><strong>Verification level:</strong> {html.escape(level.level)}"
        f"{', ' + html.escape(level.label) if level.label else ''}; "
        f"{level.source_grounded_claims} source-grounded claims.</p>"
    )
    if tier:
        basis = f" ({html.escape(tier.basis)})" if tier.basis else ""
        lines.append(f"<p><strong>Quality tier:</strong> {html.escape(tier.tier)}{basis}</p>")
    lines.append(f"<p>{html.escape(SYNTHESIS_NOTE)}</p>")
    payload = {
        "upload_type": "publication",
        "publication_type": "report",
        "publication_date": record.submitted.isoformat() if record.submitted else "",
        "title": record.archival_title,
        "creators": [creator.model_dump(exclude_none=True) for creator in policy.creators] or [{"name": policy.publisher}],
        "description": "\n".join(lines),
        "access_right": "open",
        "license": policy.license,
        "keywords": [*policy.keywords, record.id],  # the record stays findable on Zenodo by its id
        "notes": f"{SYNTHESIS_NOTE} Record {record.id}. archiver deposit key: {marker}",
        "version": str(1 + record.correction_record.correction_count),
        "language": "eng",
        # Zenodo detects a related identifier's scheme from the identifier alone (idutils) and
        # refuses one it cannot classify, such as a bare SRCH id: only the public page's URL goes.
        "related_identifiers": [
            {"identifier": page, "relation": "isIdenticalTo", "resource_type": "publication-report"}
            for page in (policy.record_page(record.id),)
            if page
        ],
    }
    try:
        return DepositMetadata.model_validate(payload).model_dump(exclude_none=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ArchiverError(f"deposit metadata for {record.id}: {where}: {first['msg']}", code="metadata-invalid") from None


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
    corrections = hashlib.sha256(json.dumps(manifest["correction_record"], sort_keys=True).encode()).hexdigest()
    return whole, corrections


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
    action: str  # deposited, resumed, skipped, failed, planned, drafted
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

    @property
    def failed(self) -> int:
        """Records not done: failed, or drifted (they wait for --new-versions)."""
        return sum(r.action in ("failed", "drifted") for r in self.results)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130  # as a shell reports a run ended by Ctrl-C
        if self.token_refused:
            return 2  # could not start: no record can go with this token
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


class Depositor:
    """Deposits records one by one through a client, keeping the ledger and the export in step."""

    def __init__(
        self,
        export_dir: Path,
        client: ZenodoClient,
        ledger: Ledger,
        policy: Policy,
        *,
        draft_only: bool = False,
        new_versions: bool = False,
        clock: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
        find_attempts: int = 4,
    ) -> None:
        self.export_dir = Path(export_dir)
        self.client = client
        self.ledger = ledger
        self.policy = policy
        self.draft_only = draft_only
        self.new_versions = new_versions
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.sleep = sleep or client.sleep  # one notion of waiting for the client and the searches
        self.find_attempts = find_attempts
        self.environment = client.target.environment
        self.files_root = state_dir_for(self.export_dir) / "files"
        self.token_refused: str | None = None  # Zenodo's 401/403: the run stops starting records

    # ------------------------------------------------------------------ decisions

    def decide(self, record: Record) -> tuple[str, str, Deposit | None]:
        row = self.ledger.get(record.id, self.environment)
        action, why = decide(record, row, self.policy, new_versions=self.new_versions)
        return action, why, row

    # ------------------------------------------------------------------ steps

    def _start(self, record: Record, version: int = 1) -> Deposit:
        content, corrections = content_hashes(record)
        marker = f"{record.id}/{self.environment}/v{version}/{content[:16]}"
        row = Deposit(
            record.id, self.environment, version, self.client.target.api_url, content, corrections, marker,
            "planned", None, None, None, None, None, 0, None, "",
        )
        self.ledger.begin(row)
        return row

    def _search(self, query: str, match: Callable[[Deposition], bool]) -> Deposition | None:
        """The first deposition the list endpoint finds for ``query`` that ``match`` accepts.

        Zenodo's list is a search index that shows a new draft only after it refreshes, so it is
        asked a few times before concluding. Its entries carry no bucket link: the caller reads
        the deposition itself when it needs one."""
        for attempt in range(self.find_attempts):
            for item in self.client.list_depositions(query=query):
                if match(item):
                    return item
            if attempt + 1 < self.find_attempts:
                self.sleep(min(2.0 * (attempt + 1), 10.0))
        return None

    def _find_by_marker(self, marker: str) -> Deposition | None:
        """After a create whose answer was lost: the deposition whose notes hold this deposit key."""
        found = self._search(f'notes:"{marker}"', lambda item: marker in item.metadata.notes)
        return self.client.get_deposition(found.id) if found else None

    def _find_open_draft(self, previous_id: int) -> Deposition | None:
        """The open draft of the concept of ``previous_id`` (Zenodo keeps at most one per concept)."""
        concept = self.client.get_deposition(previous_id).conceptrecid
        found = self._search(
            f'conceptrecid:"{concept}"',
            lambda item: item.conceptrecid == concept and not item.submitted,
        )
        return self.client.get_deposition(found.id) if found else None

    def _created(self, row: Deposit, deposition: Deposition) -> Deposit:
        return self.ledger.update(row, state="created", deposition_id=deposition.id, bucket_url=deposition.links.bucket)

    def _create(self, row: Deposit, record: Record) -> tuple[Deposit, Deposition]:
        """POST the deposition with its full metadata: one request, no metadata PUT afterwards."""
        metadata = deposit_metadata(record, self.policy, row.marker)
        self.ledger.update(row, state="creating", attempts=row.attempts + 1)
        try:
            created = self.client.create_deposition(metadata)
        except ZenodoError as exc:
            if exc.status is not None and exc.status < 500:
                # Zenodo answered and created nothing (a refused token, a refused payload): the
                # record is planned again, so the next run says "deposited", not "resumed".
                self.ledger.update(row, state="planned")
                raise
            found = self._find_by_marker(row.marker)  # the create may have happened
            created = found if found is not None else self.client.create_deposition(metadata)
        return self._created(row, created), created

    def _open_new_version(self, row: Deposit, previous_id: int) -> tuple[Deposit, Deposition]:
        """actions/newversion on the published deposition; its answer is the new draft (before
        2023 it was the previous deposition, whose links.latest_draft named the draft).

        On a resume the open draft of the concept is looked for first: a second newversion while
        one is open makes Zenodo re-import the files and answer 400 ("Please remove all files
        first."), which is also read as "a draft is open: find it"."""
        resuming = row.state == "creating"
        self.ledger.update(row, state="creating", attempts=row.attempts + 1)
        draft = self._find_open_draft(previous_id) if resuming else None
        if draft is None:
            try:
                draft = self._draft_of(self.client.new_version(previous_id), previous_id)
            except ZenodoError as exc:
                draft_is_open = exc.status == 400 and "files.enabled" in exc.message
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
                    draft = self._draft_of(self.client.new_version(previous_id), previous_id)
        return self._created(row, draft), draft

    def _draft_of(self, answer: Deposition, previous_id: int) -> Deposition:
        if answer.id != previous_id:
            return answer  # the new draft itself (the current service)
        if not answer.links.latest_draft:
            raise ZenodoError(f"newversion of {previous_id} named no draft", code="answer-invalid")
        return self.client.get_deposition(answer.links.latest_draft)

    def _adopt_or_create(self, row: Deposit, record: Record) -> tuple[Deposit, Deposition | None, bool]:
        """The deposition to upload into: (row, its answer when this run has it, whether this run
        sent it the record's current metadata)."""
        if row.deposition_id is not None:
            return row, None, False
        if row.version > 1:
            previous = self.ledger.get(record.id, self.environment, row.version - 1)
            if previous is None:
                raise ArchiverError(f"{record.id}: the ledger lost version {row.version - 1}", code="ledger-corrupt")
            row, draft = self._open_new_version(row, previous.remote_id)
            return row, draft, False  # a new version keeps neither version nor publication date
        if row.state == "creating":  # a create was sent before a crash: look for it first
            found = self._find_by_marker(row.marker)
            if found is not None:
                return self._created(row, found), found, False
        row, created = self._create(row, record)
        return row, created, True

    def _upload(self, row: Deposit, files: list[DepositFile], current: Deposition | None = None, prune: bool = False) -> Deposit:
        """Upload what the ledger has not seen arrive. With ``prune`` (a new-version draft carries
        the previous files; a resumed draft may hold what an older flow uploaded) the files not in
        this set are deleted afterwards."""
        known = self.ledger.files(row)
        for item in files:
            self.ledger.plan_file(row, item.name, item.size, item.md5)
        known = self.ledger.files(row)
        if row.bucket_url is None:
            current = self.client.get_deposition(row.remote_id)
            row = self.ledger.update(row, bucket_url=current.links.bucket)
        bucket = row.bucket_url
        if bucket is None:
            raise ZenodoError(f"{row.record_id}: deposition {row.remote_id} has no bucket link", code="answer-invalid")
        for item in files:
            if known[item.name][2]:
                continue
            readers: list[HashingReader] = []

            def fresh_stream(item: DepositFile = item, readers: list[HashingReader] = readers) -> HashingReader:
                readers.append(HashingReader(item.path, item.size))  # each attempt streams from the start
                return readers[-1]

            try:
                answer = self.client.upload(bucket, item.name, fresh_stream, item.size)
            finally:
                for reader in readers:
                    reader.close()
            sent = readers[-1].md5.hexdigest()
            checksum = answer.md5
            if not checksum == sent == item.md5:
                raise ZenodoError(
                    f"{row.record_id}: {item.name}: planned md5 {item.md5}, sent {sent}, Zenodo has {checksum}",
                    code="checksum-mismatch",
                )
            self.ledger.file_uploaded(row, item.name)
        if prune:
            wanted = {item.name for item in files}
            if current is None:
                current = self.client.get_deposition(row.remote_id)
            for stale in current.files:
                if stale.filename not in wanted:
                    self.client.delete_file(row.remote_id, stale.id)
        return self.ledger.update(row, state="uploaded")

    def _publish(self, row: Deposit) -> Deposition:
        self.ledger.update(row, state="publishing", attempts=row.attempts + 1)
        for attempt in range(1, 6):
            try:
                return self.client.publish(row.remote_id)
            except ZenodoError as exc:
                if exc.status is not None and exc.status < 500 and exc.status != 404:
                    raise
                # A lost answer, a 5xx or a 404 (already published) may hide a success: look first.
                current = self.client.get_deposition(row.remote_id)
                if current.registered_doi:
                    return current
                if exc.status == 404:
                    raise
                self.sleep(min(2.0 ** attempt, 30.0))
        raise ZenodoError(f"{row.record_id}: publish did not go through", code="publish-failed")

    def _register(self, row: Deposit, manifest_path: Path, record: Record) -> Record:
        if row.doi is None:
            raise ArchiverError(f"{row.record_id}: the ledger holds no DOI to register", code="ledger-corrupt")
        registered_at = dt.datetime.fromisoformat(row.published_at) if row.published_at else self.clock()
        updated = record.registered(row.doi, row.remote_id, row.environment, registered_at)
        _manifest, findings = build_manifest(updated)
        if findings:
            raise ArchiverError(f"{row.record_id}: the registered manifest fails its contract: {findings[0].message}", code="manifest-invalid")
        atomic_write_bytes(manifest_path, updated.manifest_bytes())
        self.ledger.update(row, state="registered", last_error=None)  # an earlier failure is history now
        return updated

    # ------------------------------------------------------------------ one record

    def deposit(self, manifest_path: Path) -> RecordResult:
        record = load_record(manifest_path)
        action, why, row = self.decide(record)
        if action == "skip":
            return RecordResult(record.id, "skipped", why, record.doi)
        if action == "drifted":
            return RecordResult(record.id, "drifted", why + "; rerun with --new-versions", record.doi)
        if action == "register" and row is not None:
            updated = self._register(row, manifest_path, record)
            return RecordResult(record.id, "registered", why, updated.doi, row.deposition_id)
        if action == "new-version" and row is not None:
            row = self._start(record, version=row.version + 1)
            kind = "new-version"
        elif row is None or (row.state == "planned" and row.version == 1):
            row = row or self._start(record)
            kind = "deposited"  # nothing was created on Zenodo before: a first deposit, whatever failed earlier
        else:
            kind = "new-version" if row.version > 1 else "resumed"
        try:
            described = False
            if not row.reached("uploaded"):
                row, current, described = self._adopt_or_create(row, record)
                files = build_files(record, self.policy, self.export_dir, self.files_root / safe_stem(record.id) / f"v{row.version}")
                row = self._upload(row, files, current, prune=not described)
            if not row.reached("described"):
                if not described:  # resumed or a new version: send the record's metadata now
                    self.client.update_metadata(row.remote_id, deposit_metadata(record, self.policy, row.marker))
                row = self.ledger.update(row, state="described")
            if self.draft_only:
                return RecordResult(record.id, "drafted", "draft ready, not published (--draft-only)", None, row.deposition_id)
            published = self._publish(row)
            doi = published.registered_doi
            if not doi:
                raise ZenodoError(f"{record.id}: publish answered without a DOI", code="no-doi")
            row = self.ledger.update(
                row, state="published", doi=doi, record_url=published.links.html,
                published_at=self.clock().replace(microsecond=0).isoformat(),
            )
            updated = self._register(row, manifest_path, record)
        except (ZenodoError, ArchiverError, OSError) as exc:
            message = self.client.scrub(str(exc))
            self.ledger.update(row, last_error=message)
            if isinstance(exc, ZenodoError) and exc.status in (401, 403):
                self.token_refused = message  # every other record would be refused alike
            return RecordResult(record.id, "failed", message, None, row.deposition_id)
        return RecordResult(record.id, kind, why, updated.doi, row.deposition_id)


def run_deposit(
    export_dir: Path,
    client: ZenodoClient,
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
) -> DepositSummary:
    """Deposit an export's records with up to ``workers`` at once (all sharing the client's pacer);
    results are reported in the export's order.

    Once ``stop`` is set no further record is started; the ones in progress (their ids are kept in
    ``in_progress`` for the caller to show) finish. Whatever ends the run, the export's package and
    reports are brought in line with the manifests before it returns or raises.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    export_dir = Path(export_dir)
    wanted = set(only or [])
    summary = DepositSummary(client.target.environment)
    in_progress = set() if in_progress is None else in_progress
    started = time.perf_counter()
    with ExportLock(export_dir):
        ledger = Ledger(ledger_path(export_dir))
        try:
            depositor = Depositor(export_dir, client, ledger, policy, draft_only=draft_only, new_versions=new_versions)
            selected = (p for p in iter_manifests(export_dir) if not wanted or p.stem.replace("_", ":", 1) in wanted)

            def halted() -> bool:
                return (stop is not None and stop.is_set()) or depositor.token_refused is not None

            def work(manifest_path: Path, record_id: str) -> RecordResult:
                if halted():  # queued before the interrupt or the refusal: not started
                    reason = "the run was interrupted" if depositor.token_refused is None else "Zenodo refused the token"
                    return RecordResult(record_id, "not-started", f"not started: {reason}")
                in_progress.add(record_id)
                try:
                    return depositor.deposit(manifest_path)
                finally:
                    in_progress.discard(record_id)

            def report(result: RecordResult) -> None:
                summary.results.append(result)
                if on_record:
                    on_record(result)

            def settle(record_id: str, future) -> None:
                report(future.result())

            with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="deposit") as pool:
                pending: deque = deque()
                acted = 0
                for manifest_path in selected:
                    if halted():
                        break
                    if limit is not None and acted >= limit:
                        break
                    record = load_record(manifest_path)
                    action, why, _row = depositor.decide(record)
                    if action == "skip":
                        report(RecordResult(record.id, "skipped", why, record.doi))
                        continue
                    acted += 1
                    pending.append((record.id, pool.submit(work, manifest_path, record.id)))
                    while len(pending) >= 2 * max(1, workers):  # bounded: memory stays flat
                        settle(*pending.popleft())
                while pending:
                    settle(*pending.popleft())
                summary.interrupted = stop is not None and stop.is_set()
                summary.token_refused = depositor.token_refused
        finally:
            try:  # even when interrupted: report.json, report.html and the CSVs follow the manifests
                registrations = {
                    row.record_id: row.doi for row in ledger.all(client.target.environment) if row.state == "registered" and row.doi
                }
                refresh_after_deposit(export_dir, registrations, policy)
            finally:
                ledger.close()
    summary.requests = client.stats["requests"]
    summary.throttled = client.stats["429"]
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
            if row is not None and action != "new-version":
                marker = row.marker
            else:
                version = row.version + 1 if row is not None else 1
                marker = f"{record.id}/{environment}/v{version}/{content_hashes(record)[0][:16]}"
            with tempfile.TemporaryDirectory() as scratch:
                files = build_files(record, policy, export_dir, Path(scratch))
                file_list = [{"name": f.name, "size": f.size, "md5": f.md5} for f in files]
            upload = f"upload {len(file_list)} files"
            steps = ["create the deposition with its metadata (one POST)", upload, "publish", "register DOI in manifest"]
            if action == "new-version" and row is not None:
                steps = [f"open a new version of deposition {row.deposition_id}", upload, "set metadata (one PUT)", *steps[2:]]
            elif row is not None and row.deposition_id is not None:
                steps = [f"resume from ledger state {row.state!r} of deposition {row.deposition_id}", upload,
                         "set metadata (one PUT)", *steps[2:]]
            entries.append(
                {"id": record.id, "action": action if row is None or row.deposition_id is None or action == "new-version" else "resume", "files": file_list,
                 "metadata": deposit_metadata(record, policy, marker), "steps": steps}
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
            {"id": row.record_id, "environment": row.environment, "version": row.version, "state": row.state,
             "deposition_id": row.deposition_id, "doi": row.doi, "updated_at": row.updated_at, "last_error": row.last_error,
             "correction_hash": row.correction_hash}
            for row in ledger.all(environment)
        ]
    finally:
        ledger.close()


def remote_drift(rows: list[dict], client: ZenodoClient, export_dir: Path | None = None) -> list[dict]:
    """Compare ledger rows with what Zenodo holds, and registered records with their manifests:
    a record whose correction record changed since its deposit awaits a new version."""
    drift = []
    if export_dir is not None:
        latest: dict[str, dict] = {}
        for row in rows:
            if row["state"] == "registered" and row["version"] >= latest.get(row["id"], {}).get("version", 0):
                latest[row["id"]] = row
        manifests = {path.stem.replace("_", ":", 1): path for path in iter_manifests(Path(export_dir))}
        for record_id, row in sorted(latest.items()):
            path = manifests.get(record_id)
            if path is not None and content_hashes(load_record(path))[1] != row["correction_hash"]:
                drift.append({**row, "remote": "the correction record changed since the deposit; deposit --new-versions gives it a new version"})
    for row in rows:
        if row["deposition_id"] is None:
            continue
        try:
            remote = client.get_deposition(row["deposition_id"])
        except ZenodoError as exc:
            drift.append({**row, "remote": f"unreachable: {exc.message}"})
            continue
        remote_doi = remote.registered_doi
        if row["state"] in ("published", "registered") and remote_doi != row["doi"]:
            drift.append({**row, "remote": f"Zenodo holds DOI {remote_doi!r}, the ledger {row['doi']!r}"})
        elif row["state"] not in ("published", "registered") and remote.submitted:
            drift.append({**row, "remote": f"published on Zenodo as {remote_doi}, ledger state {row['state']}"})
    return drift
