"""Batch export: stream records into manifests, a data package and reports, then swap the directory in.

The batch is written to a temporary directory beside DIR and exchanged with DIR in one atomic
rename, so a crash at any moment leaves the previous export or the new one, never a mix.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from archiver import exportdir, jsontext
from archiver.artifacts import keep_in_export
from archiver.eligibility import NEXT_ACTIONS
from archiver.findings import ArchiverError, Finding, one_line
from archiver.fsutil import printable_path
from archiver.idset import IdSet
from archiver.model import Registrations
from archiver.outcomes import Outcome, caller_not_rerun, init_worker, outcomes_of, resolve_jobs, worker_context
from archiver.package import RESOURCE_ORDER, PackageWriter, check_resource
from archiver.policy import Policy
from archiver.readers import iter_units
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
    problem_code: str | None = None  # nothing-readable, package-check-failed
    seconds: float = 0.0
    skipped: list[dict] = field(default_factory=list)  # FIFOs, devices, sockets met in a folder walk
    errors: list[str] = field(default_factory=list)  # the first ERRORS_SHOWN errors of invalid records, one line each
    errors_total: int = 0
    artifacts: int = 0  # records whose report files the export keeps (--artifacts)
    # records whose page says the report is Available with no file in the folder: the first
    # ERRORS_SHOWN named (report.json names every one), and how many
    artifacts_missing: list[str] = field(default_factory=list)
    artifacts_missing_total: int = 0

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
            "problem_code": self.problem_code,
            "totals": self.totals(),
            "package_check": self.package_check,
            "package_errors": self.package_errors,
            "skipped": self.skipped,
            "errors": self.errors,
            "errors_total": self.errors_total,
            "artifacts": self.artifacts,
            "artifacts_missing": self.artifacts_missing,
            "artifacts_missing_total": self.artifacts_missing_total,
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
    init_worker(None, None, export_pid)
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
        with caller_not_rerun():
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


class _Batch:
    """One export being staged beside DIR: its writers, and what the records read so far add up to."""

    def __init__(self, staged: Path, policy: Policy, package_check: str, summary: ExportSummary) -> None:
        self.staged, self.summary = staged, summary
        self.manifests = staged / exportdir.MANIFESTS
        self.spool = DirectManifests(self.manifests) if package_check == "off" else ManifestSpool(staged / ".manifests.spool")
        self.ids = IdSet()
        self.package = PackageWriter(staged)
        self.report = exportdir.ReportJsonWriter(staged / exportdir.REPORT_JSON)
        self.html = HtmlReport(policy)
        if policy.artifacts is not None:  # made with an artifacts folder: a deposit judges by it too
            (staged / exportdir.ARTIFACTS).mkdir()
        self.only_input_errors = True
        self.unreadable: list[str] = []  # what "nothing readable" names, while nothing has been read
        self.named = 0

    def take(self, outcome: Outcome) -> Outcome:
        """One record's outcome written and counted (a duplicate id is made invalid first)."""
        summary = self.summary
        if outcome.manifest is not None and outcome.record_id is not None and outcome.manifest_name is not None:
            if self.ids.add(outcome.record_id):
                self.spool.add(outcome.manifest_name, outcome.manifest)
            else:
                # rare: read back where the id came first (named for the first duplicates only:
                # each look reads what the report holds so far)
                self.named += 1
                earlier = self.report.source_of(outcome.record_id) if self.named <= DUPLICATES_NAMED else None
                outcome = _as_duplicate(outcome, earlier)
        summary.records += 1
        if outcome.valid and outcome.rendered is not None:
            summary.valid += 1
            self.only_input_errors = False
            self.package.append(outcome.rendered)
        else:
            summary.invalid += 1
            _note_errors(summary, outcome)
            self.only_input_errors = self.only_input_errors and outcome.input_error_only
            if self.only_input_errors and len(self.unreadable) < NOTHING_READABLE_SHOWN:
                first = json.loads(outcome.entry_json)["errors"][0]
                self.unreadable.append(f"{printable_path(outcome.source)} ({first['code']}: {first['message']})")
        summary.eligible += outcome.eligible
        summary.already_registered += "already-registered" in outcome.reasons
        if outcome.valid and outcome.artifacts and outcome.record_id is not None:
            keep_in_export(self.staged, outcome.record_id, list(outcome.artifacts))
            summary.artifacts += 1
        if "report-artifact-file-missing" in outcome.reasons and outcome.record_id is not None:
            summary.artifacts_missing_total += 1
            if len(summary.artifacts_missing) < ERRORS_SHOWN:
                summary.artifacts_missing.append(outcome.record_id)
        summary.warnings += len(outcome.warnings)
        if outcome.valid:  # an invalid record has no computed tier to count
            tier_key = outcome.computed_tier or "unknown"
            summary.tiers[tier_key] = summary.tiers.get(tier_key, 0) + 1
        self.report.add_encoded(outcome.entry_json)
        self.html.add_outcome(outcome)
        return outcome

    def nothing_readable(self) -> str | None:
        """Why nothing of the sources could be read, when so: the export is then not written."""
        summary = self.summary
        if summary.records and not (summary.valid == 0 and self.only_input_errors):
            return None
        why = [*self.unreadable, *(f"{printable_path(s['source'])} ({s['code']}: {s['message']})" for s in summary.skipped)]
        more = summary.invalid + len(summary.skipped) - len(why)
        return one_line("nothing readable: " + (
            "; ".join(why) + (f"; and {more} more" if more > 0 else "") if why else "the sources hold no files"
        ))

    def finish(self, *, created: str, policy: Policy, sources: list[str], package_check: str) -> list[str]:
        """The package, report.json and report.html completed, the manifests written beside the
        package check; the check's errors (none: the staged export may be swapped in)."""
        summary = self.summary
        descriptor = self.package.finish(
            created=created, license_id=policy.license, publisher=policy.publisher, sources=sources, records=summary.valid,
        )
        tail = {
            "skipped": summary.skipped,
            "created": created,
            "policy": policy.model_dump(mode="json"),
            "totals": summary.totals(),
            "package": {"path": exportdir.DESCRIPTOR, "resources": [r["name"] for r in descriptor["resources"]]},
        }
        self.report.finish(tail)
        self.html.write(self.staged / exportdir.REPORT_HTML, summary.totals(), created)
        mode = package_check
        if mode == "auto":
            mode = "full" if summary.valid <= AUTO_FULL_CHECK_LIMIT else "sample"
        summary.package_check = mode
        wait_for_check = start_package_check(self.staged / exportdir.DESCRIPTOR, mode)
        self.spool.explode(self.manifests)  # the disk-bound part, side by side with the check
        errors: list[str] = wait_for_check()
        return errors

    def abort(self) -> None:
        for cleanup in (self.spool.close, self.package.abort, self.report.abort):
            try:
                cleanup()
            except OSError:
                pass  # the disk that failed us may fail the cleanup too; the staged dir goes with the caller
        shutil.rmtree(self.staged, ignore_errors=True)


def _staging(out: Path, shown_out: str) -> Path:
    """A new staging directory beside ``out``, marked as an archiver export."""
    staged = exportdir.staging_dir(out)
    try:
        (staged / exportdir.MANIFESTS).mkdir(parents=True)
        exportdir.write_marker(staged)
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise ArchiverError(f"cannot write beside {shown_out}: {exc.strerror}; {shown_out} is unchanged", code="os-error") from None
    return staged


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
    registrations: Callable[[Path], Registrations] | None = None,
) -> ExportSummary:
    """Export every record of ``sources`` into ``out``; see ExportSummary.exit_code for the verdict.

    ``registrations`` gives what earlier deposits registered for the records of an export folder
    (the deposit side reads its ledger for it); it is asked under the export's lock, so a deposit
    that registers meanwhile is waited for, never lost."""
    sources = list(sources)
    shown_out = str(out)
    out = exportdir.resolve_out(out, sources)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary(out=shown_out)
    started = time.perf_counter()
    with exportdir.ExportLock(out):
        exportdir.recover_interrupted(out)
        exportdir.resolve_out(out, sources)  # again under the lock: another run may have written it since
        batch = _Batch(_staging(out, shown_out), policy, package_check, summary)

        def skipped(path: str, code: str, message: str) -> None:
            summary.skipped.append({"source": path, "code": code, "message": message})

        try:
            kept = registrations(out) if registrations is not None else {}
            for outcome in outcomes_of(iter_units(sources, stdin, skipped), policy, resolve_jobs(jobs), kept):
                outcome = batch.take(outcome)
                if on_record:
                    on_record(outcome)
            batch.spool.close()
            summary.problem = batch.nothing_readable()
            summary.problem_code = "nothing-readable" if summary.problem else None
            if summary.problem is None:
                summary.package_errors = batch.finish(created=created, policy=policy, sources=sources, package_check=package_check)
                if summary.package_errors:
                    summary.problem = "the data package failed its check; the previous export is kept"
                    summary.problem_code = "package-check-failed"
            if summary.problem is not None:
                batch.abort()
                return summary
            exportdir.fsync_export(batch.staged)
            exportdir.swap_into_place(batch.staged, out)
            summary.written = True
        except BaseException as exc:
            batch.abort()
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
