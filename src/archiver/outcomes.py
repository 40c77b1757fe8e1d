"""Each record of a work unit as the export needs it (an Outcome), made in this process or in worker processes.

``process_unit`` is pure: parse, model, build and check the manifest, assess. Large batches fan out
to worker processes started from a fork server, at most two chunks per worker in flight, so memory
does not grow with the batch; outcomes come back in input order.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from archiver import jsontext
from archiver.artifacts import exported_path, find_artifacts
from archiver.codes import NOTHING_READ
from archiver.eligibility import NEXT_ACTIONS, Facts, assess
from archiver.findings import Finding
from archiver.fsutil import safe_stem
from archiver.manifest import build_manifest
from archiver.model import Record, Registrations, correction_hash, manifest_json
from archiver.package import render_record
from archiver.policy import Policy
from archiver.readers import ReadResult, Unit, parse_unit
from archiver.vocabulary import AVAILABLE


class Outcome(NamedTuple):
    """Everything the writer needs of one processed record.

    A plain tuple of plain values: workers send a chunk of these as bare tuples, which pickle
    several times faster than objects or dicts. ``entry_json`` is the report.json entry, already
    encoded by the worker; the other fields are what the writer reads for totals and the HTML table.
    """

    record_id: str | None
    source: str
    valid: bool
    eligible: bool
    reasons: tuple[str, ...]
    next_action: str
    declared_tier: str | None
    computed_tier: str | None
    warnings: tuple[tuple[str, str], ...]  # (code, message) of each warning, for the HTML table
    score: float | None
    claims: int | None
    input_error_only: bool
    manifest_name: str | None
    manifest: bytes | None
    rendered: tuple[str, ...] | None
    entry_json: str
    errors: tuple[tuple[str, str], ...]  # (code, message) of each error, for the HTML table
    artifacts: tuple[str, ...] = ()  # the report files found for it, which the export keeps
    doi: str | None = None  # the DOI it carries (report.html links it)


def process_unit(unit: Unit, policy: Policy, registrations: Registrations | None = None) -> list[Outcome]:
    """Parse, model, build and check the manifest, and assess one unit's records. Pure: writes nothing.

    A record the deposit ledger beside the export has registered gets its registration back, so a
    re-export keeps its DOI and writes the very manifest the deposit wrote.
    """
    outcomes = []
    for result in parse_unit(unit):
        errors = list(result.errors)
        record = result.record
        name = path = manifest_bytes = rendered = None
        drifted = False
        artifacts: tuple[str, ...] = ()
        if record is not None and not errors:
            registration = registrations.get(record.id) if registrations else None
            if registration is not None and record.doi is None:
                drifted = registration.correction_hash not in (None, correction_hash(record.correction_record.model_dump(mode="json", exclude_none=True)))
                record = result.record = record.registered(
                    registration.doi, registration.deposition_id, registration.environment, registration.registered_at,
                    registration.concept_doi,
                )
            found = _report_files(record, policy)
            if found:
                record = result.record = record.with_artifact_path(exported_path(record.id, found))
                artifacts = tuple(str(path) for path in found)
            manifest, findings = build_manifest(record)
            errors.extend(findings)
            if not errors:
                name = f"{safe_stem(record.id)}.json"
                path = f"manifests/{name}"
                manifest_bytes = manifest_json(manifest)
        valid = record is not None and not errors
        facts = Facts.of_record(record) if record is not None and valid else Facts.of_raw(result.raw, result.declared_tier)
        verdict = assess(facts, policy)
        if drifted and valid:  # visible without the network: the corrections await a new version
            verdict.reasons = (*verdict.reasons, "corrected-since-deposit")
            verdict.next_action = NEXT_ACTIONS["corrected-since-deposit"]
        if record is not None and path is not None:
            rendered = render_record(record, path, verdict)
        outcomes.append(
            Outcome(
                record_id=result.record_id,
                source=result.source,
                valid=valid,
                eligible=verdict.eligible,
                reasons=verdict.reasons,
                next_action=verdict.next_action,
                declared_tier=verdict.declared_tier,
                computed_tier=verdict.computed_tier,
                warnings=tuple((warning.code, warning.message) for warning in result.warnings),
                score=facts.review_score,
                claims=facts.verified_claims,
                input_error_only=not valid and {e.code for e in errors} <= NOTHING_READ,
                manifest_name=name,
                manifest=manifest_bytes,
                rendered=rendered,
                entry_json=jsontext.compact(_entry(result, errors, verdict, path)),
                errors=tuple((error.code, error.message) for error in errors),
                artifacts=artifacts if valid else (),
                doi=record.doi if record is not None and valid else None,
            )
        )
    return outcomes


def _report_files(record: Record, policy: Policy) -> list[Path]:
    """The report files of a record whose page says its report is Available, from the policy's
    artifacts folder (none when the page names its own path, or no folder is set)."""
    artifact = record.provenance.report_artifact
    if policy.artifacts is None or artifact is None or artifact.status != AVAILABLE or artifact.path:
        return []
    return find_artifacts(Path(policy.artifacts), record.id)


def _entry(result: ReadResult, errors: list[Finding], eligibility, manifest_path: str | None) -> dict:
    """One report.json entry; keys in sorted order (written without re-sorting)."""
    return {
        "basis": eligibility.basis,
        "doi": result.record.doi if result.record else None,
        "eligible": eligibility.eligible,
        "errors": [f.as_dict() for f in errors],
        "id": result.record_id,
        "layout": result.layout,
        "manifest": manifest_path,
        "next_action": eligibility.next_action,
        "reasons": list(eligibility.reasons),
        "source": result.source,
        "tier": {"computed": eligibility.computed_tier, "declared": eligibility.declared_tier},
        "valid": not errors,
        "warnings": [f.as_dict() for f in result.warnings],
    }


CHUNK = 256
_worker_policy: Policy | None = None
_worker_registrations: Registrations | None = None


def init_worker(policy: Policy | None, registrations: Registrations | None = None, export_pid: int | None = None) -> None:
    global _worker_policy, _worker_registrations
    _worker_policy = policy
    _worker_registrations = registrations
    try:  # die with the parent (the fork server): it dies with the export
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass
    if export_pid is not None:
        # A worker waits on a queue whose writing end it holds itself, so the export's death is
        # no end-of-file for it: it looks for the export process instead, and ends with it.
        threading.Thread(target=_end_with, args=(export_pid,), name="end-with-export", daemon=True).start()


def _end_with(pid: int) -> None:
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def _process_chunk(units: list[Unit]) -> list[tuple]:
    """A chunk's outcomes as bare tuples (see Outcome)."""
    if _worker_policy is None:
        raise RuntimeError("a chunk reached a worker that init_worker did not set up")
    policy = _worker_policy
    return [tuple(outcome) for unit in units for outcome in process_unit(unit, policy, _worker_registrations)]


def resolve_jobs(jobs: int | str) -> int:
    if jobs == "auto":
        # One more than the cores: the main process mostly waits on the disk creating manifest files.
        return max(1, min((os.cpu_count() or 1) + 1, 8))
    return max(1, int(jobs))


def worker_context():
    """How worker processes start: from a fork server that has imported this module and started no
    thread, never by forking this process. A fork of a process that has threads (the pool's own
    manager thread, a progress line) can copy a lock some thread holds, and the child then waits on it
    forever, even after its parent is killed; Python 3.12+ warns of exactly that, and 3.14 no longer
    forks by default. The fork server's workers start as cheaply as forks (archiver is imported once,
    in the server), and they and the server end when the parent does."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["archiver.export"])
    return context


@contextlib.contextmanager
def caller_not_rerun() -> Iterator[None]:
    """While the pool starts its workers, the caller's ``__main__`` names no file or module. A worker
    prepares itself from what the parent's main module names (multiprocessing.spawn's preparation
    data) and would run that script again, top to bottom: an unguarded script, or a notebook's
    kernel, would start its own export in every worker. archiver's workers need nothing of it."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, object] = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def outcomes_of(units: Iterable[Unit], policy: Policy, jobs: int, registrations: Registrations | None = None) -> Iterable[Outcome]:
    """Outcomes in input order. Work fans out to ``jobs`` processes once the input is larger than one
    chunk; at most two chunks per worker are in flight, so memory does not grow with the batch."""
    from itertools import islice

    units = iter(units)
    first = list(islice(units, CHUNK))
    if jobs <= 1 or len(first) < CHUNK:
        for unit in first:
            yield from process_unit(unit, policy, registrations)
        for unit in units:
            yield from process_unit(unit, policy, registrations)
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    trim = _malloc_trim()
    with caller_not_rerun(), ProcessPoolExecutor(
        jobs, mp_context=worker_context(), initializer=init_worker, initargs=(policy, registrations, os.getpid())
    ) as pool:
        inflight = deque([pool.submit(_process_chunk, first)])  # answers come back as bare tuples
        for count, chunk in enumerate(iter(lambda: list(islice(units, CHUNK)), []), start=1):
            inflight.append(pool.submit(_process_chunk, chunk))
            while len(inflight) >= 2 * jobs:
                yield from map(Outcome._make, inflight.popleft().result())
            if count % 64 == 0:
                trim()
        while inflight:
            yield from map(Outcome._make, inflight.popleft().result())


def _malloc_trim() -> Callable[[], None]:
    """Results are unpickled on the pool's manager thread and freed on this one; glibc keeps the
    freed memory in that thread's arena, so peak RSS creeps up with the batch. Handing it back to
    the system now and then keeps memory flat."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)
