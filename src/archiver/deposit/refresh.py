"""The export brought in line with what a deposit registered: its package's CSVs, report.json and report.html.

A deposit (or a reconcile) writes each registration into the record's manifest as it happens; the
files built from all records at once follow at the end of the run, from every registration the
ledger knows, through the export's own writers (exportdir's layout and report.json writer).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from archiver import jsontext
from archiver.deposit.registered import RegisteredDois
from archiver.exportdir import DESCRIPTOR, REFRESH_STAMP, REPORT_HTML, REPORT_JSON, ReportJsonReader, ReportJsonWriter, state_dir_for
from archiver.fsutil import atomic_write_bytes
from archiver.policy import Policy
from archiver.vocabulary import L4, REGISTERED


def _rewrite_csv(path: Path, transform: Callable[[list[str]], list[str]]) -> Path:
    """Stream a CSV through ``transform`` into a temporary file beside it; returns that file."""
    temporary = path.with_name(f".{path.name}.refresh")
    with open(path, newline="", encoding="utf-8") as source, open(temporary, "w", newline="", encoding="utf-8") as target:
        reader = csv.reader(source)
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(next(reader))
        for row in reader:
            writer.writerow(transform(row))
    return temporary


def _registered_next_action(doi: str) -> str:
    return f"none: already registered as {doi}"


def _refresh_package(export_dir: Path, registrations: RegisteredDois) -> None:
    descriptor_path = export_dir / DESCRIPTOR
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    fields = {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in descriptor["resources"]}

    def registered_record(row: list[str]) -> list[str]:
        names = fields["records"]
        registration = registrations.get(row[0])
        if registration:
            row[names.index("external_record")] = REGISTERED
            row[names.index("doi")] = registration.doi
            if "concept_doi" in names:  # exports written before the concept DOI have no such column
                row[names.index("concept_doi")] = registration.concept_doi or ""
            if "deposition_id" in names:  # nor those before another repository's ids, these two
                row[names.index("deposition_id")] = str(registration.deposition_id or "")
                row[names.index("repository")] = registration.environment
            row[names.index("public_provenance")] = L4
        return row

    def registered_verdict(row: list[str]) -> list[str]:
        names = fields["eligibility"]
        registration = registrations.get(row[0])
        if registration:
            doi = registration.doi
            row[names.index("eligible")] = "false"
            row[names.index("reasons")] = "already-registered"
            row[names.index("next_action")] = _registered_next_action(doi)
        return row

    replaced = []
    for resource in descriptor["resources"]:
        transform = {"records": registered_record, "eligibility": registered_verdict}.get(resource["name"])
        if transform is None:
            continue
        path = export_dir / resource["path"]
        temporary = _rewrite_csv(path, transform)
        data = temporary.read_bytes()
        resource["bytes"] = len(data)
        resource["hash"] = "sha256:" + hashlib.sha256(data).hexdigest()
        replaced.append((temporary, path))
    for temporary, path in replaced:
        os.replace(temporary, path)
    atomic_write_bytes(descriptor_path, (json.dumps(descriptor, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())


def _corrected_next_action(manifest: dict, published_version: str | None) -> str:
    corrections = manifest["correction_record"].get("correction_count", 0)
    if str(published_version).isdigit() and int(str(published_version)) > 1 + corrections:
        return "export the current record page: this export is older than the version the repository publishes"
    return "archiver deposit --new-versions: the corrections get a new version"


def _refresh_reports(export_dir: Path, registrations: RegisteredDois, policy: Policy) -> None:
    from archiver.model import correction_hash  # the model (pydantic) only when a refresh happens
    from archiver.report import HtmlReport  # the HTML page likewise

    reader = ReportJsonReader(export_dir / REPORT_JSON)
    staged = export_dir / f".{REPORT_JSON}.refresh"
    writer = ReportJsonWriter(staged)
    html = HtmlReport(policy)
    eligible = registered = 0
    try:
        for entry in reader.entries():
            manifest = json.loads((export_dir / entry["manifest"]).read_text(encoding="utf-8")) if entry.get("manifest") else None
            registration = registrations.get(entry["id"])
            if registration:
                doi, deposited, version = registration.doi, registration.correction_hash, registration.published_version
                reasons, action = ["already-registered"], _registered_next_action(doi)
                if manifest is not None and deposited is not None and correction_hash(manifest["correction_record"]) != deposited:
                    # the drift is told without the network: the corrections await a new version,
                    # unless this export is older than what is published (a new version would refuse)
                    reasons.append("corrected-since-deposit")
                    action = _corrected_next_action(manifest, version)
                entry.update(doi=doi, eligible=False, reasons=reasons, next_action=action)
            eligible += entry["eligible"]
            registered += "already-registered" in entry["reasons"]
            score = claims = None
            if manifest is not None:
                score, claims = manifest.get("review_score"), manifest["verification"]["source_grounded_claims"]
            html.add_entry(entry, score, claims)
            writer.add_encoded(jsontext.compact(entry))
    except BaseException:
        writer.abort()
        staged.unlink(missing_ok=True)
        raise
    tail = reader.tail
    tail["totals"]["eligible"] = eligible
    tail["totals"]["already_registered"] = registered
    writer.finish(tail)
    os.replace(staged, export_dir / REPORT_JSON)
    html.write(export_dir / f".{REPORT_HTML}.refresh", tail["totals"], tail["created"])
    os.replace(export_dir / f".{REPORT_HTML}.refresh", export_dir / REPORT_HTML)


def refresh_registrations(export_dir: Path, registrations: RegisteredDois, policy: Policy) -> None:
    """Bring the export's package and reports in line with registered DOIs (``id -> (doi, concept doi)``).

    Built from every registration the ledger knows, so it is idempotent: a rerun repairs a
    refresh that was interrupted between two of its atomic file replacements.
    """
    export_dir = Path(export_dir)
    if not registrations:
        return
    _refresh_package(export_dir, registrations)
    _refresh_reports(export_dir, registrations, policy)


def _refresh_key(export_dir: Path, registrations: RegisteredDois) -> str:
    digest = hashlib.sha256(json.dumps(sorted(registrations.items())).encode())
    digest.update(hashlib.sha256((export_dir / REPORT_JSON).read_bytes()).digest())
    return digest.hexdigest()


def refresh_after_deposit(export_dir: Path, registrations: RegisteredDois, policy: Policy) -> None:
    """Refresh the export's package and reports unless these registrations were already applied to
    this very export (the report's bytes are part of the key, so a re-export is refreshed again)."""
    stamp = state_dir_for(export_dir) / REFRESH_STAMP
    if stamp.exists() and stamp.read_text() == _refresh_key(export_dir, registrations):
        return
    refresh_registrations(export_dir, registrations, policy)
    atomic_write_bytes(stamp, _refresh_key(export_dir, registrations).encode())
