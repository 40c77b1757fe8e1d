"""Turn Records into paper manifests: JSON data checked against the contract, and files on disk."""

from __future__ import annotations

from pathlib import Path

from archiver.findings import Finding
from archiver.fsutil import atomic_write_bytes, inside, safe_stem
from archiver.model import Record
from archiver.validation import validate_document


def build_manifest(record: Record) -> tuple[dict, list[Finding]]:
    """The manifest of a record, and what the public JSON Schema contract says of it.

    Every manifest is held to the contract, not only to the model that made it.
    """
    manifest = record.to_manifest()
    return manifest, validate_document(manifest)


def manifest_filename(record_id: str) -> str:
    return f"{safe_stem(record_id)}.json"


def write_manifest(directory: Path, record: Record) -> Path:
    path = inside(directory, manifest_filename(record.id))
    atomic_write_bytes(path, record.manifest_bytes())
    return path
