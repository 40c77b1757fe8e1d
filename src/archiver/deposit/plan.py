"""What a deposit would do, per record, without sending anything (``deposit --dry-run``)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from archiver.deposit.decide import decide
from archiver.deposit.files import build_files
from archiver.deposit.ledger import Ledger, LedgerRow
from archiver.deposit.manifests import export_policy, iter_manifests, load_record
from archiver.deposit.port import ApiDescription
from archiver.exportdir import PLAN, ledger_path
from archiver.fsutil import atomic_write_bytes
from archiver.model import Record
from archiver.policy import Policy


def plan_deposit(
    export_dir: Path, policy: Policy, api: ApiDescription, environment: str, api_url: str, *, only=None, limit=None,
    new_versions: bool = False,
) -> dict:
    """Per record, the action a deposit through ``api`` would take, its steps, its files and the body it would send."""
    export_dir = Path(export_dir)
    policy = export_policy(export_dir, policy)
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
            entries.append(_planned(export_dir, record, row, action, policy, api))
    finally:
        if ledger:
            ledger.close()
    return {"environment": environment, "api_url": api_url, "records": entries}


def _planned(export_dir: Path, record: Record, row: LedgerRow | None, action: str, policy: Policy, adapter: ApiDescription) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        files = build_files(record, policy, export_dir, Path(scratch))
        file_list = [{"name": f.name, "size": f.size, "md5": f.md5} for f in files]
    upload = adapter.upload_steps(len(file_list))
    check = "check Zenodo for a rival deposition of the record (batched)"
    publish = ["publish", "register DOI in manifest"]
    new_version = action == "new-version" and row is not None
    if adapter.capabilities.follows_reviews and policy.communities and not new_version:
        publish = [f"submit the draft to community {policy.communities[0]!r} for review (published when accepted)",
                   "register DOI in manifest once the community has accepted it"]
    elif policy.communities and adapter.capabilities.communities_at_publish:
        publish = ["publish", f"read back the communities {', '.join(policy.communities)}", "register DOI in manifest"]
    if new_version:
        assert row is not None
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
    # the exact body the chosen API is sent: the draft (records API) or the deposition's metadata
    return {"id": record.id, "action": kind, "api": policy.api, "files": file_list, "steps": steps,
            adapter.capabilities.plan_body: adapter.payload(record, policy)}


def write_plan(export_dir: Path, plan: dict) -> Path:
    path = Path(export_dir) / PLAN
    atomic_write_bytes(path, (json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())
    return path
