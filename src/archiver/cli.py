"""Command-line shell: parse arguments, call one core function, render its result, pick the exit code.

Stage modules are imported inside each command so that ``archiver validate`` (the pre-commit
path) loads neither Pydantic nor frictionless nor requests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from archiver import __version__

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def _print_err(line: str) -> None:
    print(line, file=sys.stderr)


def _warn_skipped(path: str, code: str, message: str) -> None:
    from archiver.findings import one_line
    from archiver.fsutil import printable_path

    _print_err(one_line(f"warning: {printable_path(path)}: {message} [{code}]"))


# --------------------------------------------------------------------------- validate


def cmd_validate(args: argparse.Namespace) -> int:
    from archiver.reporters import reporter_for
    from archiver.validation import validate_paths

    reporter = reporter_for(args.format == "json", quiet=args.quiet)
    files = invalid = unreadable = 0
    note = None if args.quiet else (lambda text: _print_err(f"note: {text}"))
    for result in validate_paths(args.paths, on_skip=None if args.quiet else _warn_skipped, on_note=note):
        files += 1
        if not result.readable:
            unreadable += 1
        elif not result.valid:
            invalid += 1
        reporter.validated(result)
    reporter.validate_done(files, invalid, unreadable)
    if files == 0:
        _print_err("archiver validate: no manifest files found in the given paths [usage]")
        return EXIT_USAGE
    if unreadable:
        return EXIT_USAGE  # a path that could not be read: the command could not do its work
    return EXIT_INVALID if invalid else EXIT_OK


# --------------------------------------------------------------------------- manifest


def cmd_manifest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from archiver.jsontext import compact
    from archiver.manifest import build_manifest, write_manifest
    from archiver.readers import read_records

    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    seen = invalid = 0
    for result in read_records(args.sources, on_skip=_warn_skipped):
        seen += 1
        for warning in result.warnings:
            _print_err("warning: " + warning.render(result.source))
        errors = list(result.errors)
        if result.record is not None:
            errors.extend(build_manifest(result.record)[1])
        if errors or result.record is None:
            invalid += 1
            for error in errors:
                _print_err("error: " + error.render(result.source))
            continue
        if out is not None:
            path = write_manifest(out, result.record)
            _print_err(f"wrote {path}")
        else:  # JSONL: one manifest per line, so that several records print a stream tools can read
            sys.stdout.write(compact(result.record.to_manifest()) + "\n")
    if seen == 0:
        _print_err("archiver manifest: no records found [usage]")
        return EXIT_USAGE
    # one line that accounts for every record (stderr: stdout is the JSONL stream)
    _print_err(f"{seen} record{'s' if seen != 1 else ''}: {seen - invalid} manifest{'s' if seen - invalid != 1 else ''} "
               f"{'written' if out is not None else 'printed'}, {invalid} invalid")
    return EXIT_INVALID if invalid else EXIT_OK


# --------------------------------------------------------------------------- export


def _policy(args: argparse.Namespace):
    from archiver.policy import load_policy

    policy, _origin = load_policy(args.config)
    return policy


def cmd_export(args: argparse.Namespace) -> int:
    from archiver.export import created_timestamp, export
    from archiver.progress import Progress
    from archiver.readers import estimate_records
    from archiver.reporters import reporter_for

    if args.sources.count("-") > 1:
        raise_usage("'-' (standard input) may be given once")
    policy = _policy(args)
    created = created_timestamp(args.created)
    show = not args.quiet and sys.stderr.isatty()
    progress = Progress.for_terminal(estimate_records(args.sources) if show else None, quiet=args.quiet)
    try:
        summary = export(
            args.sources,
            args.out,
            policy=policy,
            created=created,
            package_check=args.package_check,
            jobs=args.jobs,
            on_record=lambda outcome: progress.advance(),
        )
    finally:
        progress.close()
    reporter = reporter_for(args.json, quiet=args.quiet)
    reporter.exported(summary)
    if not args.quiet:
        for item in summary.skipped:
            _warn_skipped(item["source"], item["code"], item["message"])
    # Errors are shown even with --quiet, which silences progress, warnings and the summary only.
    for line in summary.package_errors[:20]:
        _print_err(f"package: {line}")
    if summary.problem:
        _print_err(f"archiver export: {summary.problem}")
    reporter.export_invalid(summary)
    return summary.exit_code


def cmd_eligibility(args: argparse.Namespace) -> int:
    from archiver.eligibility import Facts, assess
    from archiver.manifest import build_manifest
    from archiver.readers import read_records
    from archiver.reporters import reporter_for

    policy = _policy(args)
    reporter = reporter_for(args.json)
    seen = invalid = 0
    eligible = 0
    for result in read_records(args.sources, on_skip=_warn_skipped):
        seen += 1
        errors = list(result.errors)
        if result.record is not None and not errors:
            errors.extend(build_manifest(result.record)[1])
        facts = Facts.of_raw(result.raw, result.declared_tier) if errors or result.record is None else Facts.of_record(result.record)
        invalid += bool(errors)
        verdict = assess(facts, policy)
        row = {
            "source": result.source,
            "id": result.record_id,
            "valid": not errors,
            "errors": [e.as_dict() for e in errors],
            "tier": {"declared": verdict.declared_tier, "computed": verdict.computed_tier},
            "basis": verdict.basis,
            "eligible": verdict.eligible,
            "reasons": list(verdict.reasons),
            "next_action": verdict.next_action,
        }
        eligible += verdict.eligible
        reporter.eligibility(row)
    reporter.eligibility_done({"records": seen, "eligible": eligible, "not_eligible": seen - eligible - invalid, "invalid": invalid})
    if seen == 0:
        _print_err("archiver eligibility: no records found [usage]")
        return EXIT_USAGE
    return EXIT_INVALID if invalid else EXIT_OK


# --------------------------------------------------------------------------- deposit


def cmd_deposit(args: argparse.Namespace) -> int:
    from archiver.deposit.flow import plan_deposit, run_deposit, write_plan
    from archiver.zenodo.target import api_url_of, environment_of

    export_dir = _export_dir(args)
    policy = _policy(args)
    if args.dry_run:
        plan = plan_deposit(export_dir, policy, environment_of(args.production), api_url_of(args.production, args.zenodo_url), only=args.only, limit=args.limit, new_versions=args.new_versions)
        path = write_plan(export_dir, plan)
        print(json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False))
        _print_err(f"plan written to {path}; nothing was sent")
        return EXIT_OK
    client = _client(args, policy.api)
    target = client.target
    from archiver.progress import Progress

    progress = Progress.for_terminal(None, quiet=args.quiet or args.json or args.verbose, label="records")

    def show(result) -> None:
        progress.advance()
        if args.verbose or (not progress.enabled and not args.json and not args.quiet):
            doi = f" {result.doi}" if result.doi else ""
            print(f"{result.record_id}: {result.action}{doi} {('- ' + result.detail) if result.detail else ''}".rstrip())

    import signal
    import threading

    stop, in_progress = threading.Event(), set[str]()

    def first_interrupt(signum, frame) -> None:
        if stop.is_set():
            # The second Ctrl-C: stop now, even with a request or a wait in progress. The ledger
            # commits each step as it is confirmed (SQLite, WAL), so a rerun resumes from there.
            _print_err("archiver deposit: stopped at once; every confirmed step is in the ledger and a rerun resumes from it")
            sys.stderr.flush()
            os._exit(130)
        stop.set()
        busy = ", ".join(sorted(in_progress)) or "nothing in progress"
        _print_err(
            f"archiver deposit: interrupted: finishing {busy} (no new record is started), then bringing "
            "report.json, report.html and the CSVs in line with the manifests; Ctrl-C again stops at once"
        )

    previous = signal.signal(signal.SIGINT, first_interrupt)
    try:
        summary = run_deposit(
            export_dir, client, policy, only=args.only, limit=args.limit, draft_only=args.draft_only,
            new_versions=args.new_versions, workers=args.workers, on_record=show, stop=stop, in_progress=in_progress,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.close()
    from archiver.reporters import reporter_for

    reporter_for(args.json, quiet=args.quiet).deposited(summary, target.environment)
    if summary.token_refused:
        _print_err(
            f"archiver deposit: Zenodo refused the token ({summary.token_refused.split(': ', 1)[-1]}); no further record "
            f"was started: check {target.token_variable} and its scopes (deposit:write, deposit:actions) [token-refused]"
        )
    if summary.unreachable and summary.rate_limited:
        _print_err(
            f"archiver deposit: Zenodo kept refusing for its rate limit ({summary.unreachable}); no further record was started: "
            "run again later (it resumes) [rate-limited]"
        )
    elif summary.unreachable:
        _print_err(
            f"archiver deposit: Zenodo did not answer ({summary.unreachable}); no further record was started: check {target.api_url} and "
            "the network, then run again (it resumes) [no-answer]"
        )
    return summary.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    from archiver.deposit.flow import local_drift, remote_drift, status, unknown_registrations
    from archiver.reporters import reporter_for
    from archiver.zenodo.target import environment_of

    export_dir = _export_dir(args)
    rows = status(export_dir, None if args.all and not args.production else environment_of(args.production))
    drift = local_drift(rows, export_dir)  # what can be seen without the network
    unknown = unknown_registrations(export_dir, rows)
    if unknown:
        _print_err(
            f"note: {len(unknown)} manifest(s) of {export_dir} name deposits the ledger does not know ({', '.join(unknown[:5])}"
            f"{', ...' if len(unknown) > 5 else ''}): a lost state directory? `archiver reconcile {export_dir}` rebuilds it from Zenodo"
        )
    if args.remote:
        drift += remote_drift(rows, _client(args, _policy(args).api))
    reporter_for(args.json).status(rows, drift)
    return EXIT_INVALID if drift else EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    from archiver.deposit.reconcile import reconcile
    from archiver.reporters import reporter_for

    export_dir = _export_dir(args)
    policy = _policy(args)
    client = _client(args, policy.api)
    results = reconcile(export_dir, client, policy)
    reporter_for(args.json).reconciled(results, client.target.environment)
    return EXIT_INVALID if any(r.state in ("drifted", "failed") for r in results) else EXIT_OK


def cmd_zenodo_double(args: argparse.Namespace) -> int:
    import time

    from archiver.zenodo.double import Faults, ZenodoDouble

    tokens = {t for t in os.environ.get("ZENODO_DOUBLE_TOKENS", "").split(",") if t}
    if not tokens:
        raise_usage("set ZENODO_DOUBLE_TOKENS (comma-separated) to the tokens the double accepts")
    faults = Faults(**json.loads(args.faults)) if args.faults else None
    double = ZenodoDouble(
        tokens=tokens, port=args.port, rate_limit=args.rate_limit, faults=faults, window=args.window,
        hourly_limit=args.hourly_limit or None, index_lag=args.index_lag,
    ).start()
    print(f"Zenodo double listening on {double.api_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        double.stop()
    return EXIT_OK


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 1 <= number <= 3600:
        raise argparse.ArgumentTypeError("--timeout takes 1 to 3600 seconds")
    return number


def _zenodo_options(sub: argparse.ArgumentParser, verb: str = "deposit to") -> None:
    sub.add_argument("--production", action="store_true",
                     help=f"{verb} zenodo.org with ZENODO_TOKEN (default: the sandbox with ZENODO_SANDBOX_TOKEN)")
    sub.add_argument("--zenodo-url", metavar="URL", help="API base URL of a compatible server (e.g. the local double)")
    sub.add_argument("--doi-prefix", metavar="PREFIX",
                     help="the DOI prefix the server mints under (default 10.5072 for the sandbox, 10.5281 for production)")
    sub.add_argument("--timeout", type=_seconds, default=60.0, metavar="SECONDS",
                     help="deadline of each request from connect to the last byte, 1 to 3600 (default 60; uploads get "
                     "more for their size). A request with no answer is tried 3 times, then the run stops starting records: against a "
                     "server that never answers a run ends within about 4 x SECONDS plus a few seconds, exit 2")


def _client(args: argparse.Namespace, api: str):
    """The Zenodo API of a command (the policy's ``api``): its target, the per-request deadline, waits said on stderr."""
    from archiver.deposit.api import open_api
    from archiver.findings import printable
    from archiver.zenodo.target import resolve_target

    target = resolve_target(production=args.production, zenodo_url=args.zenodo_url, doi_prefix=args.doi_prefix)
    quiet = getattr(args, "quiet", False)
    return open_api(api, target, deadline=args.timeout, announce=None if quiet else lambda text: _print_err(f"archiver: {printable(text, 400)}"))


def _export_dir(args: argparse.Namespace):
    """EXPORT_DIR of deposit, status and reconcile, once it is known to be an archiver export."""
    from pathlib import Path

    from archiver.exportdir import REPORT_JSON

    export_dir = Path(args.export_dir)
    if not export_dir.exists():
        raise_usage(f"{export_dir} does not exist")
    if not (export_dir / REPORT_JSON).is_file():
        raise_usage(f"{export_dir} is not an archiver export (no {REPORT_JSON}); run archiver export first")
    return export_dir


def raise_usage(message: str):
    from archiver.findings import ArchiverError

    raise ArchiverError(message, code="usage")


# --------------------------------------------------------------------------- parser


def _jobs(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number or 'auto'") from None
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError("--jobs takes 1 to 64")
    return number


SOURCES_HELP = "record pages (either layout), JSON or JSONL files, or directories of them; '-' reads standard input"
EXPORT_DIR_HELP = "a directory written by archiver export"
EXITS = "Exit 0 all {ok}, 1 {some}, 2 the command could not run (usage, a path that cannot be read), 130 interrupted."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archiver",
        description="Research-synthesis records to validated manifests, data packages and Zenodo DOIs. "
        "Every problem is one line: FILE[:LINE]:JSON-PATH: message [code].",
    )
    parser.add_argument("--version", action="version", version=f"archiver {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    validate = commands.add_parser(
        "validate",
        help="validate manifest files against the JSON Schema contracts",
        description="Validate manifest files (and directories of *.json; of an archiver export, its manifests/ "
        "only) against the contract each names. A file that is empty or not JSON is invalid. "
        + EXITS.format(ok="valid", some="some invalid"),
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="manifest files, or directories searched for *.json")
    validate.add_argument("--format", choices=("text", "json"), default="text", help="one line per problem (text), or one JSON document")
    validate.add_argument("-q", "--quiet", action="store_true", help="print nothing when all files are valid")
    validate.set_defaults(handler=cmd_validate)

    manifest = commands.add_parser(
        "manifest",
        help="print or write the paper manifest of each record",
        description="Read record pages, JSON or JSONL ('-' for standard input, its format told from its content) "
        "and print each record's paper manifest as one line of JSON (JSONL: several records make a stream that "
        "jq and pandas read), or write them into --out DIR as <record-id>.json files. "
        + EXITS.format(ok="records valid", some="some records invalid (the valid ones are printed)"),
    )
    manifest.add_argument("sources", nargs="+", metavar="SOURCE", help=SOURCES_HELP)
    manifest.add_argument("--out", metavar="DIR", help="write <record-id>.json files here instead of printing")
    manifest.set_defaults(handler=cmd_manifest)

    export = commands.add_parser(
        "export",
        help="export records as manifests, a Frictionless data package and eligibility reports",
        description="Read records (files, directories, or '-' for standard input) and write DIR atomically: "
        "manifests/, datapackage.json with data/*.csv, report.json and report.html. Each invalid record's errors "
        "are printed on stderr (even with --quiet). "
        + EXITS.format(ok="records valid", some="some invalid (the valid ones are exported)"),
    )
    export.add_argument("sources", nargs="+", metavar="SOURCE", help=SOURCES_HELP)
    export.add_argument("--out", required=True, metavar="DIR", help="the export directory: new, empty, or an earlier archiver export (replaced whole)")
    export.add_argument("--created", metavar="ISO-8601", help="pin the package's created timestamp (else SOURCE_DATE_EPOCH, else now)")
    export.add_argument(
        "--package-check",
        choices=("auto", "full", "sample", "off"),
        default="auto",
        help="validate the data package with frictionless: every row (full), the first rows of each resource "
        "(sample), or not at all; auto = full up to 100,000 records, sample above",
    )
    export.add_argument(
        "--jobs",
        default="auto",
        type=_jobs,
        metavar="N",
        help="worker processes for parsing and checking records (default auto: one per core plus one; "
        "batches smaller than 256 records run in-process); the output is the same for any N",
    )
    export.add_argument("--config", metavar="FILE", help="policy file (archiver.toml or a pyproject.toml with [tool.archiver])")
    export.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    export.add_argument("-q", "--quiet", action="store_true", help="no progress bar, warnings or summary; errors are still printed")
    export.set_defaults(handler=cmd_export)

    eligibility = commands.add_parser(
        "eligibility",
        help="show each record's computed tier and whether it may be deposited",
        description="Print per record: computed tier with its basis, declared tier, and deposit eligibility with "
        "reason codes. An invalid record gets no tier: fix its errors first. "
        + EXITS.format(ok="records valid", some="some records invalid"),
    )
    eligibility.add_argument("sources", nargs="+", metavar="SOURCE", help=SOURCES_HELP)
    eligibility.add_argument("--config", metavar="FILE", help="policy file (archiver.toml or a pyproject.toml with [tool.archiver])")
    eligibility.add_argument("--json", action="store_true", help="print one JSON document with every record's verdict")
    eligibility.set_defaults(handler=cmd_eligibility)

    deposit = commands.add_parser(
        "deposit",
        help="deposit the eligible records of an export to Zenodo (sandbox by default), exactly once",
        description="Deposit every eligible record of EXPORT_DIR and register its DOI in the manifest. Zenodo is "
        "asked first: a record already deposited (from another folder or machine) is adopted, never deposited twice. "
        "Exit 0 all done, 1 some records failed, drifted (awaiting --new-versions) or deferred (to a concurrent "
        "run's deposition), 2 could not run (usage, a token Zenodo refuses, a server that does not answer), "
        "130 interrupted (the first Ctrl-C finishes what is in progress, the second stops at once).",
    )
    deposit.add_argument("export_dir", metavar="EXPORT_DIR", help=EXPORT_DIR_HELP)
    _zenodo_options(deposit)
    deposit.add_argument("--dry-run", action="store_true", help="write the plan to stdout and EXPORT_DIR/plan.json; send nothing")
    deposit.add_argument("--draft-only", action="store_true", help="stop before publishing")
    deposit.add_argument("--only", nargs="+", metavar="ID", help="only these record ids")
    deposit.add_argument("--limit", type=int, metavar="N", help="act on at most N records")
    deposit.add_argument("--new-versions", action="store_true", help="give registered records whose corrections changed a new version")
    deposit.add_argument("--workers", type=int, default=4, metavar="N", help="records deposited at once (default 4), all within the rate limit")
    deposit.add_argument("-v", "--verbose", action="store_true",
                         help="one line per record even when a progress bar is shown (without a terminal, lines are the default)")
    deposit.add_argument("--config", metavar="FILE", help="policy file (archiver.toml or a pyproject.toml with [tool.archiver])")
    deposit.add_argument("--json", action="store_true", help="print the summary and every record's result as JSON on stdout")
    deposit.add_argument("-q", "--quiet", action="store_true", help="no progress, per-record lines or summary; errors are still printed")
    deposit.set_defaults(handler=cmd_deposit)

    status_cmd = commands.add_parser(
        "status",
        help="show each record's deposit state from the ledger, and drift",
        description="Show each record's deposit state from the ledger beside EXPORT_DIR, and, without the network, "
        "every registered record whose correction record changed since its deposit (drifted). With --remote, also "
        "compare the ledger with what Zenodo holds. Exit 0 in line, 1 drift found, 2 could not run (not an export, "
        "no answer from Zenodo).",
    )
    status_cmd.add_argument("export_dir", metavar="EXPORT_DIR", help=EXPORT_DIR_HELP)
    _zenodo_options(status_cmd, verb="compare with")
    status_cmd.add_argument("--remote", action="store_true", help="compare with what Zenodo holds and report drift")
    status_cmd.add_argument("--all", action="store_true", help="every environment")
    status_cmd.add_argument("--config", metavar="FILE", help="policy file whose `api` setting --remote asks through (default: archiver.toml, pyproject.toml)")
    status_cmd.add_argument("--json", action="store_true", help="print the rows and the drift as JSON on stdout")
    status_cmd.set_defaults(handler=cmd_status)

    reconcile = commands.add_parser(
        "reconcile",
        help="rebuild the ledger and the export's registrations from what Zenodo holds (sends no write)",
        description="Look every record of EXPORT_DIR up on Zenodo by its id (batched searches) and rebuild the "
        "deposit ledger from the depositions found: a published one registers its DOI in the manifest (or shows "
        "the record drifted when its correction record changed), an open draft is remembered for the next deposit "
        "to resume. Use it after the state directory beside the export was lost, or on another machine. Only reads "
        "from Zenodo. Exit 0 in line, 1 some record drifted or could not be settled, 2 could not run.",
    )
    reconcile.add_argument("export_dir", metavar="EXPORT_DIR", help=EXPORT_DIR_HELP)
    _zenodo_options(reconcile, verb="read from")
    reconcile.add_argument("--config", metavar="FILE", help="policy file (archiver.toml or a pyproject.toml with [tool.archiver])")
    reconcile.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    reconcile.set_defaults(handler=cmd_reconcile)

    double = commands.add_parser(
        "zenodo-double",
        help="run the local Zenodo double (tokens from ZENODO_DOUBLE_TOKENS)",
        description="Serve the Zenodo deposit API subset archiver uses on 127.0.0.1, with Zenodo's semantics "
        "(search, index lag, rate limits, validation), for trials and tests. It accepts the tokens listed, comma-"
        "separated, in ZENODO_DOUBLE_TOKENS; its API URL is printed on start. Example: "
        "ZENODO_DOUBLE_TOKENS=tok archiver zenodo-double --port 8765 & then ZENODO_SANDBOX_TOKEN=tok archiver deposit "
        "EXPORT_DIR --zenodo-url http://127.0.0.1:8765/api. Its DOIs are not real: deposit a trial export only.",
    )
    double.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port, printed on start)")
    double.add_argument("--rate-limit", type=int, default=100, help="requests per window (default 100)")
    double.add_argument("--window", type=int, default=60, help="rate-limit window in seconds (default 60, as Zenodo)")
    double.add_argument("--hourly-limit", type=int, default=5000, help="requests per hour (default 5000, as Zenodo; 0: none)")
    double.add_argument("--index-lag", type=float, default=1.0, help="seconds before the list shows a new deposition (default 1)")
    double.add_argument("--faults", metavar="JSON", help='e.g. {"error_share": 0.1, "publish_504_share": 0.2}')
    double.set_defaults(handler=cmd_zenodo_double)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exc.code or 0)
    try:
        code: int = args.handler(args)
        return code
    except KeyboardInterrupt:
        _print_err("archiver: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # disk full, read-only, permissions: one line, and nothing was half written
        where = f" ({exc.filename})" if exc.filename else ""
        _print_err(f"archiver: {exc.strerror or exc}{where} [os-error]")
        return EXIT_USAGE
    except Exception as exc:
        from archiver.findings import ArchiverError

        if isinstance(exc, ArchiverError):
            _print_err(f"archiver: {exc}")
            return EXIT_USAGE
        raise
