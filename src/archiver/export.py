"""Batch export: stream records into manifests, a data package and reports, then swap the directory in.

The batch is written to a temporary directory beside DIR and exchanged with DIR in one atomic
rename, so a crash at any moment leaves the previous export or the new one, never a mix.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from archiver import exportdir, jsontext
from archiver.codes import NOTHING_READ
from archiver.eligibility import NEXT_ACTIONS, Facts, assess
from archiver.findings import ArchiverError, Finding, one_line
from archiver.fsutil import printable_path, safe_stem
from archiver.idset import IdSet
from archiver.ledger import Registrations, ledger_registrations
from archiver.manifest import build_manifest
from archiver.model import correction_hash, manifest_json
from archiver.package import RESOURCE_ORDER, PackageWriter, check_resource, render_record
from archiver.policy import Policy
from archiver.readers import ReadResult, Unit, iter_units, parse_unit
from archiver.report import HtmlReport

AUTO_FULL_CHECK_LIMIT = 100_000  # above this many records, --package-check=auto checks a sample
NOTHING_READABLE_SHOWN = 20  # inputs named in a "nothing readable" message


def created_timestamp(pinned: str | None = None) -> str:
    """The package's one timestamp: ``--created``, else SOURCE_DATE_EPOCH, else now (UTC, seconds)."""
    if pinned:
        try:
            moment = dt.datetime.fromisoformat(pinned.replace("Z", "+00:00"))
        except ValueError:
            raise ArchiverError(f"--created {pinned!r} is not an ISO 8601 date-time", code="usage") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    elif os.environ.get("SOURCE_DATE_EPOCH"):
        try:
            moment = dt.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), dt.UTC)
        except ValueError:
            raise ArchiverError("SOURCE_DATE_EPOCH is not a whole number of seconds", code="usage") from None
    else:
        moment = dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class ExportSummary:
    out: str
    records: int = 0
    valid: int = 0
    invalid: int = 0
    eligible: int = 0
    already_registered: int = 0
    warnings: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    package_check: str = "off"
    package_errors: list[str] = field(default_factory=list)
    written: bool = False
    problem: str | None = None
    seconds: float = 0.0
    skipped: list[dict] = field(default_factory=list)  # FIFOs, devices, sockets met in a folder walk
    errors: list[str] = field(default_factory=list)  # the first ERRORS_SHOWN errors of invalid records, one line each
    errors_total: int = 0

    @property
    def exit_code(self) -> int:
        if not self.written:
            return 2
        return 1 if self.invalid else 0

    def as_dict(self) -> dict:
        return {
            "out": self.out,
            "written": self.written,
            "problem": self.problem,
            "totals": self.totals(),
            "package_check": self.package_check,
            "package_errors": self.package_errors,
            "skipped": self.skipped,
            "errors": self.errors,
            "errors_total": self.errors_total,
            "seconds": round(self.seconds, 3),
            "exit_code": self.exit_code,
        }

    def totals(self) -> dict:
        return {
            "records": self.records,
            "valid": self.valid,
            "invalid": self.invalid,
            "eligible": self.eligible,
            "already_registered": self.already_registered,
            "warnings": self.warnings,
            "computed_tiers": dict(sorted(self.tiers.items())),
        }


# --------------------------------------------------------------------------- the export itself


ERRORS_SHOWN = 20  # errors of invalid records printed on stderr; report.json has them all


def _note_errors(summary: ExportSummary, outcome: Outcome) -> None:
    """Count an invalid record's errors and keep the first few, in the one form every command prints."""
    errors = json.loads(outcome.entry_json)["errors"]  # invalid records only: the cost stays off the hot path
    summary.errors_total += len(errors)
    for error in errors[: max(ERRORS_SHOWN - len(summary.errors), 0)]:
        finding = Finding(error["code"], error["message"], error.get("location", "$"), error.get("line"))
        summary.errors.append(finding.render(printable_path(outcome.source)))


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
        if record is not None and not errors:
            registration = registrations.get(record.id) if registrations else None
            if registration is not None and record.doi is None:
                drifted = registration.correction_hash not in (None, correction_hash(record.correction_record.model_dump(mode="json", exclude_none=True)))
                record = result.record = record.registered(
                    registration.doi, registration.deposition_id, registration.environment, registration.registered_at,
                    registration.concept_doi,
                )
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
            )
        )
    return outcomes


DUPLICATES_NAMED = 100  # duplicate ids whose earlier source is named


def _as_duplicate(outcome: Outcome, earlier: str | None = None) -> Outcome:
    """A record whose id an earlier record of the batch already took: invalid, nothing written."""
    entry = json.loads(outcome.entry_json)
    where = f" ({printable_path(earlier)})" if earlier else ""
    entry["errors"] = [
        *entry["errors"],
        Finding("duplicate-id", f"record id {entry['id']} appeared earlier in this batch{where}", "$.id").as_dict(),
    ]
    entry["valid"] = False
    entry["eligible"] = False
    entry["manifest"] = None
    entry["reasons"] = ["manifest-invalid"]  # an invalid record is judged by nothing else
    entry["tier"] = {**entry["tier"], "computed": None}
    entry["next_action"] = NEXT_ACTIONS["manifest-invalid"]
    return outcome._replace(
        valid=False,
        eligible=False,
        computed_tier=None,
        reasons=tuple(entry["reasons"]),
        next_action=entry["next_action"],
        manifest_name=None,
        manifest=None,
        rendered=None,
        entry_json=jsontext.compact(entry),
        errors=tuple((error["code"], error["message"]) for error in entry["errors"]),
    )


# --------------------------------------------------------------------------- worker processes

CHUNK = 256
_worker_policy: Policy | None = None
_worker_registrations: Registrations | None = None


def _init_worker(policy: Policy | None, registrations: Registrations | None = None, export_pid: int | None = None) -> None:
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
        raise RuntimeError("a chunk reached a worker that _init_worker did not set up")
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
    with ProcessPoolExecutor(
        jobs, mp_context=worker_context(), initializer=_init_worker, initargs=(policy, registrations, os.getpid())
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


class ManifestSpool:
    """Manifests in one sequential file during the loop, turned into manifests/<id>.json afterwards.

    Creating one small file per record is the slowest part of an export on many disks; spooling
    lets that work run after the data package is complete, side by side with its frictionless
    check in another process, instead of before it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()

    def add(self, name: str, data: bytes) -> None:
        encoded = name.encode("ascii")
        self._file.write(len(encoded).to_bytes(2, "big") + len(data).to_bytes(4, "big") + encoded + data)

    def close(self) -> None:
        self._file.close()

    def explode(self, directory: Path) -> int:
        """Write every spooled manifest to its own file; returns how many."""
        count = 0
        prefix = f"{directory}{os.sep}"
        with open(self.path, "rb") as spool:
            while header := spool.read(6):
                name_length, data_length = int.from_bytes(header[:2], "big"), int.from_bytes(header[2:], "big")
                name = spool.read(name_length).decode("ascii")
                data = spool.read(data_length)
                fd = os.open(prefix + name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
                count += 1
        self.path.unlink()
        return count


class DirectManifests:
    """Without a package check nothing can run beside the file creation, so write in the loop."""

    def __init__(self, directory: Path) -> None:
        self.prefix = f"{directory}{os.sep}"  # plain strings: pathlib joins cost more than the write

    def add(self, name: str, data: bytes) -> None:
        fd = os.open(self.prefix + name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def close(self) -> None:
        pass

    def explode(self, directory: Path) -> int:
        return 0


def _check_in_child(descriptor: Path, mode: str, name: str, connection, export_pid: int | None = None) -> None:
    _init_worker(None, None, export_pid)
    try:
        connection.send(check_resource(descriptor, mode, name))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent
        connection.send([f"{name}: the check could not run: {type(exc).__name__}: {exc}"])
    finally:
        connection.close()


def start_package_check(descriptor: Path, mode: str, resources: Iterable[str] = RESOURCE_ORDER):
    """Check the package with frictionless, one forked process per resource (each in package
    context, so foreign keys and hashes are checked); returns a function that waits for the errors.

    The checks run beside whatever the caller does next (creating the manifest files) and beside
    each other on the machine's cores.
    """
    if mode == "off":
        return lambda: []
    context = worker_context()
    running = []
    for name in resources:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_check_in_child, args=(descriptor, mode, name, sender, os.getpid()), daemon=True)
        process.start()
        sender.close()
        running.append((name, process, receiver))

    def wait() -> list[str]:
        errors: list[str] = []
        for name, process, receiver in running:
            try:
                errors.extend(receiver.recv())
            except EOFError:
                errors.append(f"{name}: the check process ended without an answer")
            process.join()
        return errors

    return wait


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


def export(
    sources: Iterable[str],
    out: str | os.PathLike,
    *,
    policy: Policy,
    created: str,
    package_check: str = "auto",
    jobs: int | str = 1,
    stdin=None,
    on_record: Callable[[Outcome], None] | None = None,
) -> ExportSummary:
    """Export every record of ``sources`` into ``out``; see ExportSummary.exit_code for the verdict."""
    sources = list(sources)
    shown_out = str(out)
    out = exportdir.resolve_out(out, sources)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary(out=shown_out)
    started = time.perf_counter()
    with exportdir.ExportLock(out):
        exportdir.recover_interrupted(out)
        exportdir.resolve_out(out, sources)  # again under the lock: another run may have written it since
        staged = exportdir.staging_dir(out)
        manifests = staged / exportdir.MANIFESTS
        try:
            manifests.mkdir(parents=True)
            exportdir.write_marker(staged)
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise ArchiverError(f"cannot write beside {shown_out}: {exc.strerror}; {shown_out} is unchanged", code="os-error") from None
        spool = DirectManifests(manifests) if package_check == "off" else ManifestSpool(staged / ".manifests.spool")
        ids = IdSet()
        package = PackageWriter(staged)
        report = exportdir.ReportJsonWriter(staged / exportdir.REPORT_JSON)
        html = HtmlReport(policy)
        only_input_errors = True
        unreadable: list[str] = []  # what "nothing readable" names, while nothing has been read

        def skipped(path: str, code: str, message: str) -> None:
            summary.skipped.append({"source": path, "code": code, "message": message})
        named = 0
        try:
            registrations = ledger_registrations(out)
            for outcome in outcomes_of(iter_units(sources, stdin, skipped), policy, resolve_jobs(jobs), registrations):
                if outcome.manifest is not None and outcome.record_id is not None and outcome.manifest_name is not None:
                    if ids.add(outcome.record_id):
                        spool.add(outcome.manifest_name, outcome.manifest)
                    else:
                        # rare: read back where the id came first (named for the first duplicates only:
                        # each look reads what the report holds so far)
                        named += 1
                        earlier = report.source_of(outcome.record_id) if named <= DUPLICATES_NAMED else None
                        outcome = _as_duplicate(outcome, earlier)
                summary.records += 1
                if outcome.valid and outcome.rendered is not None:
                    summary.valid += 1
                    only_input_errors = False
                    package.append(outcome.rendered)
                else:
                    summary.invalid += 1
                    _note_errors(summary, outcome)
                    only_input_errors = only_input_errors and outcome.input_error_only
                    if only_input_errors and len(unreadable) < NOTHING_READABLE_SHOWN:
                        first = json.loads(outcome.entry_json)["errors"][0]
                        unreadable.append(f"{printable_path(outcome.source)} ({first['code']}: {first['message']})")
                summary.eligible += outcome.eligible
                summary.already_registered += "already-registered" in outcome.reasons
                summary.warnings += len(outcome.warnings)
                if outcome.valid:  # an invalid record has no computed tier to count
                    tier_key = outcome.computed_tier or "unknown"
                    summary.tiers[tier_key] = summary.tiers.get(tier_key, 0) + 1
                report.add_encoded(outcome.entry_json)
                html.add_outcome(outcome)
                if on_record:
                    on_record(outcome)
            spool.close()
            if summary.records == 0 or (summary.valid == 0 and only_input_errors):
                why = [*unreadable, *(f"{printable_path(s['source'])} ({s['code']}: {s['message']})" for s in summary.skipped)]
                more = summary.invalid + len(summary.skipped) - len(why)
                summary.problem = one_line("nothing readable: " + (
                    "; ".join(why) + (f"; and {more} more" if more > 0 else "") if why else "the sources hold no files"
                ))
                package.abort()
                report.abort()
                shutil.rmtree(staged, ignore_errors=True)
                return summary
            descriptor = package.finish(
                created=created,
                license_id=policy.license,
                publisher=policy.publisher,
                sources=sources,
                records=summary.valid,
            )
            tail = {
                "skipped": summary.skipped,
                "created": created,
                "policy": policy.model_dump(mode="json"),
                "totals": summary.totals(),
                "package": {"path": exportdir.DESCRIPTOR, "resources": [r["name"] for r in descriptor["resources"]]},
            }
            report.finish(tail)
            html.write(staged / exportdir.REPORT_HTML, summary.totals(), created)
            mode = package_check
            if mode == "auto":
                mode = "full" if summary.valid <= AUTO_FULL_CHECK_LIMIT else "sample"
            summary.package_check = mode
            wait_for_check = start_package_check(staged / exportdir.DESCRIPTOR, mode)
            spool.explode(manifests)  # the disk-bound part, side by side with the check
            summary.package_errors = wait_for_check()
            if summary.package_errors:
                summary.problem = "the data package failed its check; the previous export is kept"
                shutil.rmtree(staged, ignore_errors=True)
                return summary
            exportdir.fsync_export(staged)
            exportdir.swap_into_place(staged, out)
            summary.written = True
        except BaseException as exc:
            for cleanup in (spool.close, package.abort, report.abort):
                try:
                    cleanup()
                except OSError:
                    pass  # the disk that failed us may fail the cleanup too; the staged dir goes below
            shutil.rmtree(staged, ignore_errors=True)
            if isinstance(exc, OSError):
                raise ArchiverError(
                    f"could not write the export ({exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}); "
                    f"{shown_out} is unchanged",
                    code="os-error",
                ) from None
            raise
        finally:
            summary.seconds = time.perf_counter() - started
    return summary
