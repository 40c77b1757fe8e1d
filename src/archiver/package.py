"""Write the export's Frictionless data package: CSV resources streamed row by row, and its descriptor."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

from archiver import rdm_ids
from archiver.exportdir import DATA, DESCRIPTOR
from archiver.fsutil import printable_path, safe_stem
from archiver.model import ORIGIN_PATTERN, Record
from archiver.vocabulary import (
    DIMENSION_NAMES,
    LICENSE_INFO,
    PACKAGE_DOI_PATTERN,
    RECORD_ID_BODY,
    CorrectionStatus,
    DimensionLevel,
    ExternalStatus,
    GateStatus,
    Level,
    Tier,
    values,
)

ID_PATTERN = RECORD_ID_BODY
# grouped: a validator anchors the whole pattern, and an alternation must not slip out of the anchors
DEPOSITION_ID_PATTERN = f"([1-9][0-9]*|{rdm_ids.PATTERN.strip('^$')})"
REPOSITORY_PATTERN = f"(sandbox|production|{ORIGIN_PATTERN.strip('^$')})"
TIERS = list(values(Tier))
LEVELS = list(values(Level))


def _field(name, type_, description, **constraints):
    field = {"name": name, "type": type_, "description": description}
    if constraints:
        field["constraints"] = constraints
    return field


def _fk(field: str = "record_id") -> list[dict]:
    return [{"fields": [field], "reference": {"resource": "records", "fields": ["id"]}}]


RESOURCES: dict[str, dict] = {
    "records": {
        "title": "Synthesis records",
        "description": "One row per exported record; the paper manifest is at the path in 'manifest'.",
        "schema": {
            "fields": [
                _field("id", "string", "Record id", required=True, unique=True, pattern=ID_PATTERN),
                _field("title", "string", "Title as on the record page", required=True, minLength=1),
                _field("title_truncated", "boolean", "The page title is cut off", required=True),
                _field("submitted", "date", "Submission date"),
                _field("review_score", "number", "Automated review score out of 10", minimum=0, maximum=10),
                _field("verification_level", "string", "Verification level", required=True, enum=LEVELS),
                _field("source_grounded_claims", "integer", "Source-grounded (verified) claims", required=True, minimum=0),
                _field("gate_status", "string", "Gate 2 (Truth-Engine) status", enum=list(values(GateStatus))),
                _field("declared_tier", "string", "Quality tier as declared on the page", enum=TIERS),
                _field("correction_status", "string", "Correction record status", required=True,
                       enum=list(values(CorrectionStatus))),
                _field("correction_count", "integer", "Number of corrections", required=True, minimum=0),
                _field("public_provenance", "string", "Public provenance level", required=True, enum=LEVELS),
                _field("external_record", "string", "External archival record", required=True,
                       enum=list(values(ExternalStatus))),
                _field("doi", "string", "DOI of this version when registered", pattern=PACKAGE_DOI_PATTERN),
                _field("concept_doi", "string", "DOI of all versions (Zenodo's concept DOI) when registered", pattern=PACKAGE_DOI_PATTERN),
                _field("manifest", "string", "Path of the paper manifest in this export", required=True),
                # Added after manifest: columns read by position before stay where they were.
                _field("deposition_id", "string", "The record's id in its repository when registered: a number on Zenodo, "
                       "an InvenioRDM id (such as q5jr8-hny72) on another InvenioRDM repository", pattern=DEPOSITION_ID_PATTERN),
                _field("repository", "string", "Where the record is registered: Zenodo's sandbox or production, or the "
                       "origin of another InvenioRDM repository", pattern=REPOSITORY_PATTERN),
            ],
            "primaryKey": ["id"],
            "missingValues": [""],
        },
    },
    "quality_dimensions": {
        "title": "Quality dimensions (long form)",
        "description": "One row per record and rated dimension.",
        "schema": {
            "fields": [
                _field("record_id", "string", "Record id", required=True, pattern=ID_PATTERN),
                _field("dimension", "string", "Quality dimension", required=True, enum=list(DIMENSION_NAMES)),
                _field("level", "string", "Rating", required=True, enum=list(values(DimensionLevel))),
            ],
            "primaryKey": ["record_id", "dimension"],
            "foreignKeys": _fk(),
            "missingValues": [""],
        },
    },
    "corrections": {
        "title": "Corrections",
        "description": "Additive public corrections, numbered from 1 per record.",
        "schema": {
            "fields": [
                _field("record_id", "string", "Record id", required=True, pattern=ID_PATTERN),
                _field("sequence", "integer", "Correction number", required=True, minimum=1),
                _field("date", "date", "Date of the correction", required=True),
                _field("field", "string", "Field corrected"),
                _field("description", "string", "What was corrected", required=True, minLength=1),
            ],
            "primaryKey": ["record_id", "sequence"],
            "foreignKeys": _fk(),
            "missingValues": [""],
        },
    },
    "eligibility": {
        "title": "DOI-grade eligibility",
        "description": "Declared and computed tier, and whether the record may be deposited.",
        "schema": {
            "fields": [
                _field("record_id", "string", "Record id", required=True, unique=True, pattern=ID_PATTERN),
                _field("declared_tier", "string", "Tier declared on the page", enum=TIERS),
                _field("computed_tier", "string", "Tier computed by the policy", enum=TIERS),
                _field("eligible", "boolean", "May be deposited", required=True),
                _field("reasons", "string", "Reason codes, space separated"),
                _field("next_action", "string", "What to do next", required=True),
            ],
            "primaryKey": ["record_id"],
            "foreignKeys": _fk(),
            "missingValues": [""],
        },
    },
}


class HashingWriter:
    """A binary sink that counts bytes and hashes them while writing (no second pass over the file)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.sha256.update(data)
        self.bytes += len(data)

    def close(self) -> None:
        self._file.close()


class CsvResource:
    """One CSV resource: rendered rows are appended through a small buffer to a hashing sink."""

    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self.path = f"{DATA}/{name}.csv"
        self.fields = [f["name"] for f in RESOURCES[name]["schema"]["fields"]]
        self.sink = HashingWriter(directory / self.path)
        self.chunks: list[str] = [render_rows([self.fields])]
        self.pending = 0

    def append(self, text: str) -> None:
        if text:
            self.chunks.append(text)
            self.pending += len(text)
            if self.pending > 1 << 16:
                self.flush()

    def flush(self) -> None:
        self.sink.write("".join(self.chunks).encode("utf-8"))
        self.chunks = []
        self.pending = 0

    def close(self) -> dict:
        self.flush()
        self.sink.close()
        return resource_descriptor(self.name, self.path, self.sink.bytes, self.sink.sha256.hexdigest())


def resource_descriptor(name: str, path: str, size: int, sha256: str, *, described: bool = True) -> dict:
    """The descriptor of one CSV resource; ``described`` adds its title and description."""
    descriptor = {
        "name": name,
        "path": path,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": size,
        "hash": "sha256:" + sha256,
        "schema": RESOURCES[name]["schema"],
    }
    if described:
        descriptor["title"] = RESOURCES[name]["title"]
        descriptor["description"] = RESOURCES[name]["description"]
    return descriptor


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_render_buffer = io.StringIO()
_render_writer = csv.writer(_render_buffer, lineterminator="\n")


def _render_with_csv(rows: list[list]) -> str:
    _render_buffer.seek(0)
    _render_buffer.truncate()
    _render_writer.writerows(rows)
    return _render_buffer.getvalue()


def render_rows(rows: list[list[str]]) -> str:
    """CSV text of rows of strings (RFC 4180 quoting as the csv module does it, \\n line ends).

    Most rows need no quoting at all; those are joined directly, which is several times cheaper
    than the csv module's character-by-character pass. Any row that may need quoting, or that
    the join alone could render ambiguously, goes through the csv module.
    """
    lines = []
    for row in rows:
        line = ",".join(row)
        if line.count(",") != len(row) - 1 or '"' in line or "\n" in line or "\r" in line or len(row) < 2:
            return _render_with_csv(rows)
        lines.append(line)
    return "\n".join(lines) + "\n"


RESOURCE_ORDER = tuple(RESOURCES)  # records, quality_dimensions, corrections, eligibility


def record_rows(record: Record, manifest_path: str, eligibility) -> tuple[list[list[str]], ...]:
    """One record's rows for each resource, in RESOURCE_ORDER; every cell already text."""
    # Cells written out by type rather than through _text: this runs once per record.
    score = record.review_score
    provenance = record.provenance
    records = [
        [
            record.id,
            record.title,
            "true" if record.title_truncated else "false",
            record.submitted.isoformat() if record.submitted else "",
            "" if score is None else str(score),
            record.verification.level,
            str(record.verification.source_grounded_claims),
            record.gate.status if record.gate else "",
            record.quality_tier.tier if record.quality_tier else "",
            record.correction_record.status,
            str(record.correction_record.correction_count),
            provenance.public_provenance.level,
            provenance.external_record.status,
            provenance.external_record.doi or "",
            provenance.external_record.concept_doi or "",
            manifest_path,
            _text(provenance.external_record.deposition_id),
            provenance.external_record.repository or provenance.external_record.environment or "",
        ]
    ]
    # getattr by name: iterating a pydantic model costs more than building the whole row.
    dims = record.quality_dimensions
    dimensions = [[record.id, name, level] for name in DIMENSION_NAMES if (level := getattr(dims, name)) is not None]
    corrections = [
        [record.id, str(c.sequence), c.date.isoformat(), _text(c.field), c.description]
        for c in record.correction_record.corrections
    ]
    verdict = [
        [
            record.id,
            eligibility.declared_tier or "",
            eligibility.computed_tier or "",
            "true" if eligibility.eligible else "false",
            " ".join(eligibility.reasons),
            eligibility.next_action,
        ]
    ]
    return records, dimensions, corrections, verdict


def render_record(record: Record, manifest_path: str, eligibility) -> tuple[str, ...]:
    """CSV text per resource (empty when the record has no rows there): what workers hand the writer."""
    return tuple(render_rows(rows) if rows else "" for rows in record_rows(record, manifest_path, eligibility))


# --------------------------------------------------------------------------- one record's own package

RECORD_PACKAGE_FILE = "datapackage.zip"
RECORD_MANIFEST_FILE = "manifest.json"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same record gives the same bytes, so a resume re-sends the same md5


def _zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """A deterministic zip: fixed times and modes, stored (no compressor version can change the bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3  # unix, whatever machine made it
            archive.writestr(info, data)
    return buffer.getvalue()


def record_package(record: Record, eligibility, *, license_id: str, publisher: str) -> bytes:
    """One record's own data package as a zip: its datapackage.json, the four CSVs (rendered by
    ``render_record``, as the export's are) and its manifest. ``frictionless validate`` reads it as it is."""
    manifest = record.manifest_bytes()
    members: list[tuple[str, bytes]] = []
    resources = []
    for name, text in zip(RESOURCE_ORDER, render_record(record, RECORD_MANIFEST_FILE, eligibility), strict=True):
        data = (render_rows([[f["name"] for f in RESOURCES[name]["schema"]["fields"]]]) + text).encode("utf-8")
        members.append((f"{name}.csv", data))
        resources.append(resource_descriptor(name, f"{name}.csv", len(data), hashlib.sha256(data).hexdigest(), described=False))
    descriptor = {
        "profile": "tabular-data-package",
        "name": safe_stem(record.id).lower().replace("_", "-"),
        "title": record.archival_title,
        "licenses": [{"name": license_id}],
        "contributors": [{"title": publisher, "role": "publisher"}],
        "resources": resources,
    }
    members.insert(0, (DESCRIPTOR, (json.dumps(descriptor, indent=2, sort_keys=True) + "\n").encode()))
    members.append((RECORD_MANIFEST_FILE, manifest))
    return _zip_bytes(members)


class PackageWriter:
    """Appends each record's rendered rows to every resource; ``finish`` writes datapackage.json."""

    def __init__(self, directory: Path) -> None:
        (directory / DATA).mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.resources = [CsvResource(directory, name) for name in RESOURCE_ORDER]

    def append(self, rendered: tuple[str, ...]) -> None:
        for resource, text in zip(self.resources, rendered, strict=True):
            resource.append(text)

    def finish(self, *, created: str, license_id: str, publisher: str, sources: list[str], records: int) -> dict:
        name, path, title = LICENSE_INFO.get(license_id, (license_id, None, license_id))
        license_entry = {"name": name, "title": title}
        if path:
            license_entry["path"] = path
        descriptor = {
            "profile": "tabular-data-package",
            "name": "archiver-export",
            "title": f"Research-synthesis records exported by archiver ({records} records)",
            "description": "Paper manifests, quality dimensions, corrections and DOI-grade eligibility of "
            "machine-generated literature syntheses.",
            "created": created,
            "licenses": [license_entry],
            "contributors": [{"title": publisher, "role": "publisher"}],
            "sources": [{"title": printable_path(source)} for source in sources],
            "resources": [resource.close() for resource in self.resources],
        }
        data = (json.dumps(descriptor, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        (self.directory / DESCRIPTOR).write_bytes(data)
        return descriptor

    def abort(self) -> None:
        for resource in self.resources:
            resource.sink.close()


def _report_lines(report) -> list[str]:
    lines = []
    for task in report.tasks:
        for error in task.errors:
            lines.append(f"{task.name}: {error.message} [{error.type}]")
    for error in report.errors:
        lines.append(f"package: {error.message} [{error.type}]")
    return lines


def check_resource(descriptor_path: Path, mode: str, name: str | None = None) -> list[str]:
    """Validate the package (or one resource of it, in package context: foreign keys and hash
    included) with frictionless itself; one line per error, empty when valid.

    ``mode`` is ``full`` (every row, hashes and byte counts), ``sample`` (the first rows of each
    resource: structure, types, constraints and keys, without the whole-file hash) or ``off``.
    """
    if mode == "off":
        return []
    from frictionless import Checklist, system, validate  # heavy: imported only when a package is checked

    if mode == "full":
        with system.use_context(trusted=True):
            report = validate(str(descriptor_path), resource_name=name)
        return _report_lines(report)
    # sample: the first rows of each resource. Foreign keys are left to `full`: frictionless would
    # load the whole referenced resource to look them up, and a sample cannot judge them anyway.
    descriptor = json.loads(Path(descriptor_path).read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        resource["schema"].pop("foreignKeys", None)
    sampled = Path(descriptor_path).with_name(f".sample-{name or 'all'}-{os.getpid()}.datapackage.json")
    sampled.write_text(json.dumps(descriptor), encoding="utf-8")
    try:
        with system.use_context(trusted=True):
            report = validate(
                str(sampled), checklist=Checklist(skip_errors=["hash-count", "byte-count"]), limit_rows=10_000, resource_name=name
            )
    finally:
        sampled.unlink(missing_ok=True)
    return _report_lines(report)


def check_package(descriptor_path: Path, mode: str) -> list[str]:
    """The whole package in this process (see check_resource)."""
    return check_resource(descriptor_path, mode)
