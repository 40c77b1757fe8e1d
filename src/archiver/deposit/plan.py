"""What a deposit would do, per record, without writing anything (``deposit --dry-run``).

Per record: the action (new deposit, adopt, resume, new version, metadata update, register,
nothing, or held back with the reason), the steps, the files and the exact body the API is sent,
and the record as the landing page will show it. Given a port (a token is set), the repository is
asked with read-only requests, counted: a batched search says adopt or resume instead of a new
deposit, and for an update or a new version what it holds now is compared field by field with what
it will hold; without one, the comparison is with what the ledger says was sent.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from archiver.deposit.decide import decide_with_files
from archiver.deposit.description import changed_fields, describe, public_fields
from archiver.deposit.errors import RemoteError
from archiver.deposit.files import build_files
from archiver.deposit.ledger import Ledger, LedgerRow
from archiver.deposit.lookup import find_records
from archiver.deposit.manifests import check_only, export_policy, iter_manifests, load_record
from archiver.deposit.port import ApiDescription, DepositPort
from archiver.exportdir import PLAN, PLAN_HTML, ledger_path
from archiver.findings import ArchiverError
from archiver.fsutil import atomic_write_bytes
from archiver.model import Record
from archiver.policy import Policy

# decide's actions, in the words of the review page
KINDS = {"deposit": "new deposit", "new-version": "new version", "update": "metadata update", "register": "register",
         "skip": "nothing", "drifted": "held back", "behind": "held back", "metadata-changed": "held back"}


def plan_deposit(
    export_dir: Path, policy: Policy, api: ApiDescription, environment: str, api_url: str, *, only=None, limit=None,
    new_versions: bool = False, update_metadata: bool = False, port: DepositPort | None = None,
) -> dict:
    """Per record, the action a deposit through ``api`` would take, its steps, its files, the body
    it would send and its landing page; read-only requests through ``port`` when one is given."""
    export_dir = Path(export_dir)
    policy = export_policy(export_dir, policy)
    wanted = check_only(export_dir, only)
    path = ledger_path(export_dir)
    ledger = Ledger(path) if path.exists() else None
    entries: list[dict[str, Any]] = []
    before = port.requests if port is not None else 0
    try:
        acted = 0
        for manifest_path in iter_manifests(export_dir):
            record = load_record(manifest_path)
            if wanted and record.id not in wanted:
                continue
            if limit is not None and acted >= limit:
                break
            row = ledger.get(record.id, environment) if ledger else None
            deposited = ledger.files(row) if ledger and row else {}
            action, why = decide_with_files(record, row, policy, export_dir, deposited, new_versions=new_versions,
                                            update_metadata=update_metadata, unsent=api.capabilities.unsent_fields)
            if action in ("skip", "drifted", "behind", "metadata-changed", "register"):
                entries.append(_not_sent(record, action, why))
                continue
            acted += 1
            try:
                entry = _planned(export_dir, record, row, action, policy, api)
            except ArchiverError as exc:  # the record's own problem (its report file, its metadata): it alone will not go
                entries.append({"id": record.id, "action": "failed", "kind": "will not go", "why": str(exc), "title": record.archival_title})
                continue
            entry["changes"], entry["changes_from"] = _changes(record, row, action, policy, api, port, deposited, entry["files"])
            entries.append(entry)
        unread = [c["now"] for entry in entries for c in entry.get("changes", []) if c["field"] == "(unread)"]
        if port is not None:
            failed = _looked_up(port, [entry for entry in entries if entry["action"] == "deposit" and entry.get("needs_lookup")])
            unread += [failed] if failed else []
    finally:
        if ledger:
            ledger.close()
    # what the repository could not be asked: the plan then says less than it should (the caller says so)
    return {"environment": environment, "api_url": api_url, "records": entries, "asked_repository": port is not None,
            "requests": (port.requests - before) if port is not None else 0, "unread": unread[:1]}


def _not_sent(record: Record, action: str, why: str) -> dict:
    kind = KINDS[action]
    if action == "skip" and why.startswith("not eligible") and why != "not eligible: already-registered":
        kind = "will not go"
    return {"id": record.id, "action": action, "kind": kind, "why": why, "title": record.archival_title}


# Zenodo's own publisher where the legacy deposit API sends none (zenodo-rdm's legacy deserializer
# defaults imprint_publisher to it)
REPOSITORY_PUBLISHER = "Zenodo"


def landing_page(record: Record, policy: Policy, files: list[dict], api: ApiDescription) -> dict:
    """The record as the repository's landing page will show it, through ``api`` (which may store
    every creator as a person, or send no publisher)."""
    described = describe(record, policy)
    fields = public_fields(described)
    if api.capabilities.creators_as_persons:
        fields["creators"] = [{key: value for key, value in creator.items() if key not in ("organisation", "ror")}
                              for creator in fields["creators"]]  # type: ignore[attr-defined]
    if not api.capabilities.sends_publisher:
        fields["publisher"] = f"{REPOSITORY_PUBLISHER} (the {api.name} API sends no publisher: the repository's default)"
    return {**fields, "version": described.version, "files": files}


def _planned(export_dir: Path, record: Record, row: LedgerRow | None, action: str, policy: Policy, adapter: ApiDescription) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        files = build_files(record, policy, export_dir, Path(scratch))
        file_list = [{"name": f.name, "size": f.size, "md5": f.md5} for f in files]
    planned = _steps(row, action, policy, adapter, len(file_list))
    kind, steps = planned["action"], planned["steps"]
    return {"id": record.id, "action": kind, "kind": KINDS.get(kind, kind), "why": "", "title": record.archival_title,
            "api": adapter.name, "files": file_list, "steps": steps, "page": landing_page(record, policy, file_list, adapter),
            "needs_lookup": row is None or (row.attempt == 1 and row.deposition_id is None),
            adapter.capabilities.plan_body: adapter.payload(record, policy)}


def _steps(row: LedgerRow | None, action: str, policy: Policy, adapter: ApiDescription, count: int) -> dict[str, Any]:
    """The plan's action and the steps a deposit takes for it."""
    upload = adapter.upload_steps(count)
    check = f"check {policy.repository_name} for a rival deposition of the record (batched)"
    publish = ["publish", "register DOI in manifest"]
    new_version = action == "new-version" and row is not None
    if action == "update" and row is not None:
        return {"action": "update", "steps": [f"read deposition {row.deposition_id} as published", "open an edit (same DOI, no new version)",
                          "set metadata (one PUT, read back)", "publish the edit"]}
    if adapter.capabilities.follows_reviews and policy.communities and not new_version:
        publish = [f"submit the draft to community {policy.communities[0]!r} for review (published when accepted)",
                   "register DOI in manifest once the community has accepted it"]
    elif policy.communities and adapter.capabilities.communities_at_publish:
        publish = ["publish", f"read back the communities {', '.join(policy.communities)}", "register DOI in manifest"]
    if new_version:
        assert row is not None
        return {"action": "new-version", "steps": [f"open a new version of deposition {row.deposition_id}", upload, "set metadata (one PUT, read back)", *publish]}
    if row is not None and row.state == "in-review":
        return {"action": "in-review", "steps": [f"ask whether community {policy.communities[0] if policy.communities else '?'!r} has decided on draft "
                             f"{row.deposition_id} (submit it again if it never went); register DOI in manifest once accepted"]}
    if row is not None and row.deposition_id is not None:
        return {"action": "resume", "steps": [f"resume from ledger state {row.state!r} of deposition {row.deposition_id}", upload,
                          "set metadata (one PUT, read back)", check, *publish]}
    return {"action": action, "steps": [f"look the record up on {policy.repository_name} by its id (batched): adopt a published deposition or resume an "
                    "open draft instead of creating", "create the draft with its metadata (one POST, read back)", upload, check, *publish]}


def _changes(record: Record, row: LedgerRow | None, action: str, policy: Policy, api: ApiDescription, port: DepositPort | None,
             deposited: dict, files: list[dict]) -> tuple[list[dict], str | None]:
    """For an update or a new version: field by field, what is published now and what will be
    (from the repository when a port is given, else from what the ledger says was sent)."""
    if action not in ("update", "new-version") or row is None or row.deposition_id is None:
        return [], None
    planned = [f"{item['name']} ({item['size']} bytes, md5 {item['md5']})" for item in files]
    if port is not None:
        try:
            remote = port.read_published(row.deposition_id)
        except RemoteError as exc:
            return [{"field": "(unread)", "now": f"the repository could not be read: {exc}", "will": ""}], "repository"
        changes = [change for change in port.metadata_diff(remote, api.payload(record, policy)) if change["field"] != "version"]
        held = [f"{item.name} (md5 {item.md5})" for item in remote.files]
        if action == "new-version":
            changes += [{"field": "version", "now": remote.version, "will": str(1 + record.correction_record.correction_count)},
                        {"field": "files", "now": held, "will": planned}]
        return changes, "repository"
    now = public_fields(describe(record, policy))
    sent = json.loads(row.metadata) if row.metadata else {}
    changes = [{"field": name, "now": sent.get(name), "will": now[name]}
               for name in changed_fields(row.metadata, now, api.capabilities.unsent_fields)]
    if action == "new-version":
        held = [f"{name} ({size} bytes, md5 {md5})" for name, (size, md5, _uploaded) in sorted(deposited.items())]
        changes += [{"field": "version", "now": row.published_version, "will": str(1 + record.correction_record.correction_count)},
                    {"field": "files", "now": held, "will": planned}]
    return changes, "ledger"


def _looked_up(port: DepositPort, entries: list[dict]) -> str | None:
    """The new deposits looked up in batches: a published deposition is adopted, an open draft
    resumed. The search's failure, when it failed."""
    if not entries:
        return None
    try:
        found = find_records(port, [entry["id"] for entry in entries])
    except RemoteError as exc:
        for entry in entries:
            entry["why"] = f"the repository's search failed ({exc.message}): a deposit looks again first"
        return f"the repository's search failed: {exc}"
    for entry in entries:
        hit = found[entry["id"]]
        if hit.published is not None:
            entry["kind"], entry["why"] = "adopt", f"published as deposition {hit.published.id}: registered, nothing deposited"
        elif hit.first_drafts:
            entry["kind"], entry["why"] = "resume", f"open draft {hit.first_drafts[0].id} on the repository is resumed"
    return None


def write_plan(export_dir: Path, plan: dict) -> Path:
    """plan.json, and plan.html beside it (the review page); the path of plan.json."""
    from archiver.deposit.plan_page import render_plan

    path = Path(export_dir) / PLAN
    atomic_write_bytes(path, (json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())
    atomic_write_bytes(Path(export_dir) / PLAN_HTML, render_plan(plan).encode())
    return path
