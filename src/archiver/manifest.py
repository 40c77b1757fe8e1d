"""Turn Records into paper manifests: JSON data, canonical bytes, and files on disk."""

from __future__ import annotations

import json
from pathlib import Path

from archiver.findings import Finding
from archiver.fsutil import atomic_write_bytes, inside, safe_stem
from archiver.model import Record
from archiver.validation import validate_document


def build_manifest(record: Record) -> dict:
    return record.to_manifest()


def manifest_bytes(manifest: dict) -> bytes:
    """Canonical serialisation: sorted keys, two-space indent, UTF-8, trailing newline."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def check_manifest(manifest: dict) -> list[Finding]:
    """Every manifest is held to the public JSON Schema contract, not only to the model."""
    return validate_document(manifest)


def manifest_filename(record_id: str) -> str:
    return f"{safe_stem(record_id)}.json"


def write_manifest(directory: Path, manifest: dict) -> Path:
    path = inside(directory, manifest_filename(manifest["id"]))
    atomic_write_bytes(path, manifest_bytes(manifest))
    return path
