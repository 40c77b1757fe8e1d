"""Property-based fuzzing of the record readers, the manifest validator, the policy loader and the folder walk.

Seeded with the pages in ../shared/seed-records/ and examples/records/, mutated by hypothesis.
Every input must give a record or a coded error (ArchiverError at most), never a traceback; the
folder walk (trees of pages, FIFOs, sockets, device and dangling links, link loops, deep JSON,
names that are not UTF-8) must also never hang: a watchdog alarm counts a hang as a crash.
Reports inputs tried, distinct code paths (line-to-line arcs inside archiver) and crashes.

Usage: python benchmarks/fuzz.py [--examples 20000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from archiver.findings import ArchiverError  # noqa: E402
from archiver.policy import load_policy  # noqa: E402
from archiver.readers import parse_bytes, read_records  # noqa: E402
from archiver.validation import validate_document, validate_paths  # noqa: E402

SEED_DIRS = [REPO.parent / "shared" / "seed-records", REPO / "examples" / "records"]
ARCHIVER_SOURCE = str(REPO / "src" / "archiver")


def seeds() -> list[bytes]:
    found = []
    for directory in SEED_DIRS:
        if directory.is_dir():
            found.extend(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())
    return found


class Arcs:
    """Distinct (file, previous line, line) arcs executed inside archiver's own modules."""

    def __init__(self) -> None:
        self.arcs: set[tuple[str, int, int]] = set()

    def tracer(self, frame, event, arg):
        if not frame.f_code.co_filename.startswith(ARCHIVER_SOURCE):
            return None
        previous = [frame.f_lineno]

        def local(frame, event, arg):
            if event == "line":
                self.arcs.add((frame.f_code.co_filename, previous[0], frame.f_lineno))
                previous[0] = frame.f_lineno
            return local

        return local


LABELS = [
    b"Abstract", b"Research Question", b"Verification Level", b"Truth-Engine Gate Verdict", b"Quality Tier",
    b"Quality Dimensions", b"Correction Record", b"Provenance", b"| Paper level | L3, x | |", b"Paper levelL1, y",
    b"Source-grounded claims-2", b"| Tier | Gold |", b"StatusVERIFIED", b"Correction count7", b"Correction 1 2026-02-30 x",
    b"Public provenanceL4, External archival record", b"External recordRegistered", b"DOI: 10.1/\xff",
    b"Review score: 12.4/10", b"Submitted: 31 Smarch 2026", b"SRCH:ZZZZZZZZ", b"\x00", b"{", b"[", b'{"id": 1}',
]


@st.composite
def mutated_pages(draw, pool: list[bytes]):
    data = bytearray(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        kind = draw(st.sampled_from(["cut", "flip", "insert", "drop-line", "dup-line", "label"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "cut":
            del data[at:]
        elif kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(max_size=12))
        else:
            lines = bytes(data).split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            if kind == "drop-line":
                del lines[index]
            elif kind == "dup-line":
                lines.insert(index, lines[index])
            else:
                lines.insert(index, draw(st.sampled_from(LABELS)))
            data = bytearray(b"\n".join(lines))
    return bytes(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)

POLICY_KEYS = ["quarantine_below", "doi_min_score", "doi_min_verified_claims", "license", "publisher",
               "require_gate_verified", "minimum_dimensions", "keywords", "tool", "colour"]
toml_scalars = st.one_of(
    st.integers(-5, 20).map(str), st.floats(-1, 12, allow_nan=False).map(repr), st.text(max_size=8).map(json.dumps),
    st.sampled_from(["true", "false", "[]", '["a"]', '{evidence_strength = "HIGH"}', '"cc-by-4.0"', "nan", "inf", ""]),
)


def run(examples: int) -> dict:
    pool = seeds()
    if not pool:
        raise SystemExit("no seeds: ../shared/seed-records and examples/records are missing")
    tried = {"readers": 0, "validator": 0, "policy": 0, "walk": 0}
    crashes: list[str] = []
    arcs = Arcs()
    common = settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                      suppress_health_check=list(HealthCheck))

    def guard(target: str, call, allowed=(ArchiverError,)):
        tried[target] += 1
        try:
            call()
        except allowed:
            pass
        except Exception:  # noqa: BLE001 - a crash (or a hang) is what we are looking for
            crashes.append(f"{target}: {traceback.format_exc(limit=3)}")

    @common
    @given(st.one_of(mutated_pages(pool), st.binary(max_size=600), json_values.map(lambda v: json.dumps(v).encode())))
    def fuzz_readers(data):
        def call():
            for result in parse_bytes(data, "fuzz"):
                assert result.record is not None or result.errors, "neither a record nor an error"
                for finding in result.errors + result.warnings:
                    assert finding.code and "\n" not in finding.render("fuzz"), "finding is not one line"
        guard("readers", call)

    base = json.loads((REPO / "examples" / "records" / "05-verified-bound.json").read_text())
    paths = [("review_score",), ("id",), ("verification",), ("verification", "level"), ("gate",), ("gate", "status"),
             ("correction_record",), ("correction_record", "corrections"), ("correction_record", "correction_count"),
             ("provenance", "external_record"), ("provenance", "public_provenance"), ("contract",), ("submitted",), ("x",)]

    @common
    @given(st.lists(st.tuples(st.sampled_from(paths), json_values), max_size=4), json_values)
    def fuzz_validator(mutations, anything):
        doc = json.loads(json.dumps(base))
        for path, value in mutations:
            node = doc
            for key in path[:-1]:
                node = node.setdefault(key, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict):
                node[path[-1]] = value
        guard("validator", lambda: validate_document(doc), allowed=())
        guard("validator", lambda: validate_document(anything), allowed=())

    scratch = Path(tempfile.mkdtemp(prefix="archiver-fuzz-"))

    @common
    @given(st.lists(st.tuples(st.sampled_from(POLICY_KEYS), toml_scalars), max_size=5), st.binary(max_size=80))
    def fuzz_policy(pairs, junk):
        path = scratch / "archiver.toml"
        text = "\n".join(f"{key} = {value}" for key, value in pairs).encode() + (junk if len(pairs) % 2 else b"")
        path.write_bytes(text)
        guard("policy", lambda: load_policy(path))

    tree_entries = st.lists(
        st.tuples(
            st.sampled_from(["page", "json", "deep", "nan", "fifo", "socket", "devlink", "dangling", "loop", "dir", "hidden", "badname"]),
            st.integers(0, len(pool) - 1),
            st.integers(1, 120_000),
        ),
        max_size=8,
    )

    class Hang(Exception):
        pass

    def alarm(signum, frame):
        raise Hang("no answer within 10 s")

    @common
    @given(tree_entries, mutated_pages(pool))
    def fuzz_walk(entries, mutated):
        top = scratch / "tree"
        shutil.rmtree(top, ignore_errors=True)
        top.mkdir()
        servers = []
        for index, (kind, seed, depth) in enumerate(entries):
            folder = top / ("sub" if index % 3 == 2 else "")
            folder.mkdir(exist_ok=True)
            name = f"e{index}"
            if kind == "page":
                (folder / f"{name}.txt").write_bytes(mutated if index % 2 else pool[seed])
            elif kind == "json":
                (folder / f"{name}.json").write_bytes(pool[seed][:200])
            elif kind == "deep":
                (folder / f"{name}.json").write_text('{"title": ' + "[" * depth + "]" * depth + "}")
            elif kind == "nan":
                (folder / f"{name}.json").write_text('{"review_score": NaN, "x": Infinity}')
            elif kind == "fifo":
                os.mkfifo(folder / f"{name}.json")
            elif kind == "socket":
                server = socket.socket(socket.AF_UNIX)
                server.bind(str(folder / name))
                servers.append(server)
            elif kind == "devlink":
                (folder / f"{name}.json").symlink_to("/dev/zero" if depth % 2 else "/dev/null")
            elif kind == "dangling":
                (folder / name).symlink_to(folder / "nowhere")
            elif kind == "loop":
                (folder / name).symlink_to(top)
            elif kind == "dir":
                (folder / name).mkdir()
            elif kind == "hidden":
                (folder / f".{name}").write_bytes(pool[seed])
            else:
                (Path(os.fsdecode(bytes(folder))) / os.fsdecode(b"bad-\xff.txt")).write_bytes(pool[seed])

        def call():
            skipped = []
            for result in read_records([str(top)], on_skip=lambda *item: skipped.append(item)):
                assert result.record is not None or result.errors, "neither a record nor an error"
                for finding in result.errors + result.warnings:
                    assert "\n" not in finding.render(result.source), "finding is not one line"
            for checked in validate_paths([str(top)], on_skip=lambda *item: skipped.append(item)):
                assert checked.valid or checked.findings
            assert all(code in ("special-file", "unreadable") for _path, code, _message in skipped)

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.alarm(10)
        try:
            guard("walk", call)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
            for server in servers:
                server.close()

    started = time.perf_counter()
    sys.settrace(arcs.tracer)
    try:
        for target in (fuzz_readers, fuzz_validator, fuzz_policy, fuzz_walk):
            target()
    finally:
        sys.settrace(None)
    return {
        "examples_per_target": examples,
        "inputs_tried": tried,
        "inputs_total": sum(tried.values()),
        "distinct_code_paths": len(arcs.arcs),
        "crashes": len(crashes),
        "distinct_crashes": sorted({c.strip().splitlines()[-1] for c in crashes})[:10],
        "first_crashes": crashes[:3],
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=20_000, help="hypothesis examples per target")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    figures = run(args.examples)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if figures["crashes"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
