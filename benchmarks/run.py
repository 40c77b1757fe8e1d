"""Benchmarks behind `make bench`: measured side by side in one run, written to docs/benchmarks.md.

Usage: python benchmarks/run.py [--sections validate,export] [--sizes 10000,100000,1000000] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
WORK = REPO / ".bench"
sys.path.insert(0, str(REPO / "benchmarks"))

import synthetic  # noqa: E402


def timed(cmd: list[str], runs: int, env: dict | None = None) -> dict:
    """Wall time of a whole command over ``runs`` runs (plus one warm-up): min and median."""
    samples = []
    for index in range(runs + 1):
        start = time.perf_counter()
        completed = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - start
        if completed.returncode not in (0, 1):
            raise SystemExit(f"benchmark command failed ({completed.returncode}): {' '.join(cmd)}\n{completed.stderr.decode()}")
        if index:  # the first run warms the page cache
            samples.append(elapsed)
    return {"min": min(samples), "median": statistics.median(samples), "runs": runs}


def run_with_rss(cmd: list[str], env: dict | None = None) -> dict:
    """Wall seconds and peak RSS of one run (children included), via wait4's rusage."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    stderr = process.stderr.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(cmd)}\n{stderr.decode()[-2000:]}")
    return {"seconds": elapsed, "peak_rss_mb": usage.ru_maxrss / 1024}


# --------------------------------------------------------------------------- validate


def bench_validate(runs: int) -> tuple[list[str], dict]:
    directory = WORK / "validate-1000"
    synthetic.write_manifest_files(directory, 1000)
    files = sorted(str(p) for p in directory.glob("*.json"))
    schema = REPO / "schemas" / "paper-manifest-v1.1.schema.json"
    floor_code = (
        "import json, os, sys\n"
        "d = sys.argv[1]\n"
        "for n in sorted(os.listdir(d)):\n"
        "    with open(os.path.join(d, n), 'rb') as f:\n"
        "        json.loads(f.read())\n"
    )
    commands = {
        "floor: read + json.loads": [sys.executable, "-c", floor_code, str(directory)],
        "archiver validate": [str(VENV_BIN / "archiver"), "validate", "-q", str(directory)],
        "check-jsonschema --schemafile": [
            str(VENV_BIN / "check-jsonschema"),
            "--base-uri",
            schema.as_uri(),
            "--schemafile",
            str(schema),
            *files,
        ],
    }
    results = {}
    for name, cmd in commands.items():
        results[name] = timed(cmd, runs=3 if name.startswith("check") else runs)
    floor = results["floor: read + json.loads"]["median"]
    ours = results["archiver validate"]["median"]
    theirs = results["check-jsonschema --schemafile"]["median"]
    lines = [
        "## `archiver validate` on 1,000 manifest files",
        "",
        "| command | median s | min s | runs |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {name} | {r['median']:.3f} | {r['min']:.3f} | {r['runs']} |" for name, r in results.items()),
        "",
        f"- archiver validate is **{theirs / ours:.1f}x** faster than check-jsonschema (target >= 8x).",
        f"- archiver validate costs **{ours / floor:.2f}x** the floor of reading and parsing the files (target <= 2x).",
        "",
        "Commands (DIR holds the 1,000 files):",
        "",
        "```sh",
        "python -c '<read + json.loads every file in DIR>' DIR",
        "archiver validate -q DIR",
        "check-jsonschema --base-uri file://$PWD/schemas/paper-manifest-v1.1.schema.json \\",
        "  --schemafile schemas/paper-manifest-v1.1.schema.json DIR/*.json",
        "```",
        "",
    ]
    summary = {"speedup_vs_check_jsonschema": theirs / ours, "ratio_to_floor": ours / floor}
    return lines, summary


SECTIONS = {"validate": bench_validate}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    # A normally installed package has byte-code; PYTHONDONTWRITEBYTECODE would make every
    # run compile archiver from source, so compile it once up front.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "archiver")], check=True)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {platform.machine()} with {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. Figures of the last run; re-run `make bench` to refresh.",
        "",
    ]
    summaries = {}
    for name in args.sections.split(","):
        function = SECTIONS[name]
        section_lines, summary = function(args.runs) if name == "validate" else function(sizes)
        lines.extend(section_lines)
        summaries[name] = summary
        print("\n".join(section_lines), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps(summaries, indent=2))
    shutil.rmtree(WORK / "validate-1000", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
