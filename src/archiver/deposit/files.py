"""The files of one deposit: built from the record, hashed once, streamed with the md5 of what was sent."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

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
    return [DepositFile(name, path, path.stat().st_size, md5_of(path)) for name, path in names]
