"""The files of one deposit: built from the record, hashed once, streamed with the md5 of what was sent."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from archiver.artifacts import artifact_files, zenodo_limits
from archiver.eligibility import Facts, assess
from archiver.findings import ArchiverError
from archiver.fsutil import atomic_write_bytes, safe_stem
from archiver.model import Record, correction_hash
from archiver.package import RECORD_MANIFEST_FILE, RECORD_PACKAGE_FILE, record_package
from archiver.policy import Policy


@dataclass
class DepositFile:
    name: str
    path: Path
    size: int
    md5: str


def md5_of(path: Path) -> str:
    digest = hashlib.md5()  # noqa: S324 - the repository's checksum, not a security measure
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class HashingReader:
    """A file opened for upload that hashes (md5) exactly the bytes that were sent."""

    def __init__(self, path: Path, size: int) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed when read to the end, or by close()
        self._size = size
        self.md5 = hashlib.md5()  # noqa: S324 - the repository's checksum, not a security measure

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


def manifest_md5(record: Record) -> str:
    """The md5 of the manifest file this record uploads."""
    return hashlib.md5(record.manifest_bytes()).hexdigest()  # noqa: S324 - the repository's checksum


def report_files(record: Record, export_dir: Path) -> list[tuple[str, Path]]:
    """The record's report artifact as (name on the repository, file), in the order sent (first:
    the one Zenodo previews); none when the record names no path. Its limits are Zenodo's: a file
    missing, empty or over 50 GB, or more than 100 files, is refused here, before anything is sent."""
    artifact = record.provenance.report_artifact
    if not artifact or not artifact.path:
        return []
    files = artifact_files(export_dir, artifact.path)
    if not files or not all(path.is_file() for path in files):
        raise ArchiverError(f"{record.id}: report artifact {artifact.path!r} is not a file", code="artifact-missing")
    named = [(safe_stem(path.name), path) for path in files]
    if {name for name, _ in named} & {RECORD_MANIFEST_FILE, RECORD_PACKAGE_FILE} or len({name for name, _ in named}) < len(named):
        raise ArchiverError(f"{record.id}: report artifact {artifact.path!r} holds a file named as another of the deposit", code="unsafe-path")
    problem = zenodo_limits([(name, path.stat().st_size) for name, path in named] + [(RECORD_MANIFEST_FILE, 1), (RECORD_PACKAGE_FILE, 1)])
    if problem is not None:
        raise ArchiverError(f"{record.id}: report artifact: {problem.message}", code=problem.code)
    return named


def build_files(record: Record, policy: Policy, export_dir: Path, directory: Path) -> list[DepositFile]:
    """The files of one deposit: the report artifact first when the record names one (Zenodo
    previews the first file), the manifest, and the record's own data package as one zip (its
    datapackage.json, four CSVs and the manifest: `frictionless validate` reads it as it is)."""
    names = report_files(record, export_dir)
    directory.mkdir(parents=True, exist_ok=True)
    verdict = assess(Facts.of_record(record), policy)
    package = record_package(record, verdict, license_id=policy.license, publisher=policy.publisher)
    for name, data in ((RECORD_MANIFEST_FILE, record.manifest_bytes()), (RECORD_PACKAGE_FILE, package)):
        path = directory / name
        atomic_write_bytes(path, data)
        names.append((name, path))
    return [DepositFile(name, path, path.stat().st_size, md5_of(path)) for name, path in names]


def artifact_changed(record: Record, export_dir: Path, deposited: dict[str, tuple[int, str, bool]]) -> bool:
    """Whether the record's report files are not the ones deposited (``deposited``: the ledger's
    files of the deposit, name -> (size, md5, uploaded)); False when the ledger knows none."""
    if not deposited:
        return False  # a deposit found on the repository: its files are not in the ledger
    previous = {name: (size, md5) for name, (size, md5, _uploaded) in deposited.items() if name not in (RECORD_MANIFEST_FILE, RECORD_PACKAGE_FILE)}
    try:
        current = report_files(record, export_dir)
    except ArchiverError:
        return True  # no longer a file archiver could send: not what was deposited
    if {name for name, _ in current} != set(previous):
        return True
    # a size of 0 is unknown (files found on the repository): the md5 decides
    return any((previous[name][0] and path.stat().st_size != previous[name][0]) or md5_of(path) != previous[name][1]
               for name, path in current)
