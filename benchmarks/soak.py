"""Soak: deposit a batch against the local double with every fault on, SIGKILL the deposit at random
moments, restart it each time, and count what held. Used by `make soak` (and, small, by the tests).

Usage: python benchmarks/soak.py [--records 200] [--kills 20] [--seed 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from archiver.zenodo_double import Faults, ZenodoDouble  # noqa: E402

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


def soak(records: int, kills: int, seed: int, workdir: Path) -> dict:
    archiver = str(Path(sys.executable).parent / "archiver")
    source = eligible_batch(workdir / "batch.jsonl", records)
    out = workdir / "export"
    subprocess.run([archiver, "export", str(source), "--out", str(out), "--quiet", "--created", "2026-01-01T00:00:00Z"], check=True)
    rng = random.Random(seed)
    env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN}
    started = time.perf_counter()
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, faults=Faults(**{**FAULTS.__dict__, "seed": seed})) as double:
        command = [archiver, "deposit", str(out), "--zenodo-url", double.api_url, "--quiet", "--workers", "4"]
        killed = 0
        while killed < kills:
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.2, 3.0))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.wait()
        runs = 0
        while True:  # then run to the end, as often as it takes (records may fail on a fault)
            runs += 1
            final = subprocess.run(command, env=env, capture_output=True, text=True)
            if final.returncode == 0 or runs >= 10:
                break
        depositions = list(double.state.depositions.values())
        counters = dict(double.state.counters)
    wall = time.perf_counter() - started

    per_record: dict[str, list] = {}
    for dep in depositions:
        key = dep.metadata.get("notes", "").split("deposit key: ")[-1].split("/")[0]
        per_record.setdefault(key, []).append(dep)
    disagreements = 0
    registered = 0
    for path in (out / "manifests").iterdir():
        manifest = json.loads(path.read_text())
        external = manifest["provenance"]["external_record"]
        if external["status"] != "Registered":
            continue
        registered += 1
        server = [d for d in per_record.get(manifest["id"], []) if d.id == external.get("deposition_id")]
        if not server or server[0].doi != external.get("doi") or server[0].state != "done":
            disagreements += 1
    return {
        "records": records,
        "kills": kills,
        "final_exit_code": final.returncode,
        "records_registered": registered,
        "duplicate_depositions": sum(len(deps) - 1 for deps in per_record.values()),
        "manifests_disagreeing_with_server": disagreements,
        "server_requests": counters["requests"],
        "requests_per_record": round(counters["requests"] / records, 2),
        "429_sent_by_server": counters["429"],
        "faults_injected": counters["faults"],
        "wall_seconds": round(wall, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archiver-soak-") as scratch:
        figures = soak(args.records, args.kills, args.seed, Path(scratch))
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    held = (
        figures["records_registered"] == figures["records"]
        and figures["duplicate_depositions"] == 0
        and figures["manifests_disagreeing_with_server"] == 0
    )
    return 0 if held else 1


if __name__ == "__main__":
    raise SystemExit(main())
