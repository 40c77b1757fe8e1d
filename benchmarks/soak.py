"""Soak: deposit a batch against the local double with every fault on from two folders at once, SIGKILL
one of them at random moments (losing its ledger now and then), restart it each time, and count what
held: one published deposition per record, no draft left open, both folders registering that DOI.
Then update every record's published metadata in place the same way: all of them showing the new
metadata, no edit left open, no new version.
Used by `make soak` (and, small, by the tests).

Usage: python benchmarks/soak.py [--records 200] [--kills 20] [--seed 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "src"))

import synthetic  # noqa: E402
from archiver.zenodo.double import Faults, ZenodoDouble  # noqa: E402

TOKEN = "soak-token-0123456789abcdefghijklmnopqrstuv"
FAULTS = Faults(
    error_share=0.10,  # 500/502/503
    burst_every=97,  # a burst of 429s with Retry-After every 97 requests ...
    burst_length=3,  # ... three long
    drop_upload_share=0.05,  # connections dropped during uploads
    publish_504_share=0.30,  # publish answered 504 after it succeeded
    latency_ms=15,  # slow responses
)


def eligible_batch(path: Path, records: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for index in range(records):
            doc = synthetic.manifest(index)
            doc["review_score"] = 7.5 + (index % 20) / 10
            doc["verification"]["source_grounded_claims"] = 5 + index % 7
            doc["provenance"]["claim_lineage"] = f"{doc['verification']['source_grounded_claims']} aggregate source-grounded claims"
            doc["quality_tier"] = {"tier": "DOI grade", "basis": synthetic.BASIS["DOI grade"]}
            handle.write(json.dumps(doc) + "\n")
    return path


def _deposit_until_done(command: list[str], env: dict, attempts: int = 10) -> subprocess.CompletedProcess:
    for _ in range(attempts):  # records may fail on a fault, or defer to a concurrent run's draft
        final = subprocess.run(command, env=env, capture_output=True, text=True)
        if final.returncode == 0:
            break
        time.sleep(1.0)  # the index lag: let the other run's deposition show before asking again
    return final


def _run_with_kills(commands: list[list[str]], env: dict, rng: random.Random, kills: int, state_dir: Path,
                    lose_ledger_every: int, after_lost_ledger: list[str] | None = None) -> int:
    """The first command SIGKILLed ``kills`` times at random moments (its state directory, ledger
    included, lost every ``lose_ledger_every`` kills), the second running beside it; both to the
    end, twice (the loser of a race registers the winner). The ledgers lost."""
    second = subprocess.Popen(commands[1], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = ledgers_lost = 0
    while killed < kills:
        process = subprocess.Popen(commands[0], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 3.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
            process.wait()
            if killed % lose_ledger_every == 0:
                shutil.rmtree(state_dir, ignore_errors=True)
                ledgers_lost += 1
                # A draft created in the last instant before the kill is searchable only after the
                # index lag (1 s here, about that on Zenodo); with its ledger gone, only a search can
                # find it. Restarting sooner is the window that remains (README, Exactly once).
                time.sleep(1.5)
                if after_lost_ledger is not None:  # what a curator runs then: the ledger rebuilt from Zenodo
                    subprocess.run(after_lost_ledger, env=env, capture_output=True)
        process.wait()
        if second.poll() is not None and killed < kills // 2:  # keep a concurrent runner going
            second = subprocess.Popen(commands[1], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second.wait()
    return ledgers_lost


def soak(records: int, kills: int, seed: int, workdir: Path, lose_ledger_every: int = 4, api: str = "deposit") -> dict:
    """Two folders of the same records deposit at once against a faulty double: the first is
    SIGKILLed ``kills`` times (and loses its state directory, ledger included, every
    ``lose_ledger_every`` kills), the second runs beside it undisturbed. Then both run to the end.
    Then the policy changes the publisher, and both update the published metadata in place the
    same way (half the kills; a lost ledger is rebuilt by reconcile). ``api``: the Zenodo API the
    policy deposits through ("deposit" or "records"), or "repository": the records API of the double
    speaking as another InvenioRDM repository, which the policy names."""
    archiver = str(Path(sys.executable).parent / "archiver")
    source = eligible_batch(workdir / "batch.jsonl", records)
    folders = [workdir / "export", workdir / "second-export"]
    for out in folders:
        subprocess.run([archiver, "export", str(source), "--out", str(out), "--quiet", "--created", "2026-01-01T00:00:00Z"], check=True)
    rng = random.Random(seed)
    env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN, "SOAK_REPOSITORY_TOKEN": TOKEN}
    config = workdir / "archiver.toml"
    started = time.perf_counter()
    state_dir = workdir / f".{folders[0].name}.state"
    repository = api == "repository"
    make = ZenodoDouble.as_repository if repository else ZenodoDouble
    with make(tokens={TOKEN}, rate_limit=100_000, faults=Faults(**{**FAULTS.__dict__, "seed": seed})) as double:
        table = f'[repository]\nurl = "{double.api_url}"\ndoi_prefix = "{double.state.doi_prefix}"\ntoken_variable = "SOAK_REPOSITORY_TOKEN"\n'

        def policy(extra: str = "") -> None:
            config.write_text(extra + table if repository else f'api = "{api}"\n' + extra, encoding="utf-8")

        policy()
        server = [] if repository else ["--zenodo-url", double.api_url]  # a repository is the policy's to name
        commands = [[archiver, "deposit", str(out), *server, "--quiet", "--workers", "4", "--config", str(config)] for out in folders]
        ledgers_lost = _run_with_kills(commands, env, rng, kills, state_dir, lose_ledger_every)
        finals = [_deposit_until_done(command, env) for command in commands]
        finals += [_deposit_until_done(command, env) for command in commands]  # the loser of a race registers the winner
        deposited = dict(double.state.counters)
        # the publisher changes: every record's published metadata is updated in place
        policy(f'publisher = "{NEW_PUBLISHER}"\n')
        updates = [[*command, "--update-metadata"] for command in commands]
        reconcile = [archiver, "reconcile", str(folders[0]), *server, "--config", str(config)]
        ledgers_lost += _run_with_kills(updates, env, rng, kills // 2, state_dir, lose_ledger_every, after_lost_ledger=reconcile)
        finals += [_deposit_until_done(command, env) for command in updates]
        finals += [_deposit_until_done(command, env) for command in updates]
        depositions = list(double.state.depositions.values())
        counters = dict(double.state.counters)
        publishers = [_publisher_of(double, dep) for dep in depositions if dep.submitted]
        shown = {dep.id: double.state.pid(dep.id) if repository else dep.id for dep in depositions}  # the id a manifest records
    wall = time.perf_counter() - started
    figures = _held(depositions, folders, records, shown)
    return {
        "api": api,
        "records": records,
        "kills": kills + kills // 2,
        "ledgers_lost": ledgers_lost,
        "concurrent_folders": len(folders),
        "final_exit_codes": sorted({final.returncode for final in finals[-len(folders):]}),
        **figures,
        "published_with_the_new_metadata": sum(publisher == NEW_PUBLISHER for publisher in publishers),
        "edits_left_open": sum(1 for dep in depositions if dep.editing),
        "edits_published": counters["publish_edit"],
        "edits_discarded": counters["discard"],
        "new_versions": counters["newversion"],
        "server_requests": counters["requests"],
        "requests_per_record": round(deposited["requests"] / records, 2),
        "requests_per_update": round((counters["requests"] - deposited["requests"]) / records, 2),
        "creates": counters["create"],
        "drafts_deleted_after_losing_a_race": counters["delete"],
        "429_sent_by_server": counters["429"],
        "faults_injected": counters["faults"],
        "wall_seconds": round(wall, 1),
    }


NEW_PUBLISHER = "Assignee Research Archive"


def _publisher_of(double: ZenodoDouble, dep) -> str | None:
    """What a published deposition shows as its publisher (the legacy API: its one creator)."""
    published = double.state.as_published(dep)
    if published.rdm is not None:
        return published.rdm.get("publisher")
    creators = published.metadata.get("creators") or [{}]
    return creators[0].get("name")


def _held(depositions: list, folders: list[Path], records: int, shown: dict) -> dict:
    """One published deposition per record, no draft open, both folders registering its DOI."""
    per_record: dict[str, list] = {}
    for dep in depositions:
        record_ids = [k for k in dep.metadata.get("keywords", []) if k.startswith("SRCH:")]
        per_record.setdefault(record_ids[0] if record_ids else "?", []).append(dep)
    disagreements = 0
    registered = {folder.name: 0 for folder in folders}
    for folder in folders:
        for path in (folder / "manifests").iterdir():
            manifest = json.loads(path.read_text())
            external = manifest["provenance"]["external_record"]
            if external["status"] != "Registered":
                continue
            registered[folder.name] += 1
            server = [d for d in per_record.get(manifest["id"], []) if shown[d.id] == external.get("deposition_id")]
            if not server or server[0].doi != external.get("doi") or not server[0].submitted:
                disagreements += 1
    published = {record_id: [d for d in deps if d.submitted] for record_id, deps in per_record.items()}
    return {
        "records_registered": min(registered.values()),
        "duplicate_dois": sum(max(len(deps) - 1, 0) for deps in published.values()),
        "drafts_left_open": sum(1 for deps in per_record.values() for d in deps if not d.submitted),
        # what each open draft is, for a reader of a failed soak: (record, draft, its concept's published ids)
        "open_drafts": [
            [record_id, d.id, [p.id for p in deps if p.submitted and p.conceptrecid == d.conceptrecid]]
            for record_id, deps in per_record.items() for d in deps if not d.submitted
        ],
        "manifests_disagreeing_with_server": disagreements,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--api", choices=("deposit", "records", "repository"), default="deposit",
                        help="the Zenodo API the deposits go through, or repository: the double as another InvenioRDM repository")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archiver-soak-") as scratch:
        figures = soak(args.records, args.kills, args.seed, Path(scratch), api=args.api)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    held = (
        figures["records_registered"] == figures["records"]
        and figures["duplicate_dois"] == 0
        and figures["drafts_left_open"] == 0
        and figures["manifests_disagreeing_with_server"] == 0
        and figures["published_with_the_new_metadata"] == figures["records"]
        and figures["edits_left_open"] == 0
        and figures["new_versions"] == 0
    )
    return 0 if held else 1


if __name__ == "__main__":
    raise SystemExit(main())
