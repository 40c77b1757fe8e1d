"""The command line, declared: every command, option and argument with its help and exit codes."""

from __future__ import annotations

import argparse
from typing import NoReturn

from archiver.cli import records, repository
from archiver.version import __version__


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


class UsageError(Exception):
    """A command line that cannot be carried out as given (argparse's error, in archiver's one form)."""


class Parser(argparse.ArgumentParser):
    """argparse, refusing in archiver's form: ``archiver: message [usage]`` (main prints it), never
    argparse's usage block and ``archiver export: error: ...``."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("archiver").strip()
        raise UsageError(f"{message} (see archiver {command + ' ' if command else ''}--help)")


def _positive(name: str):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < 1:
            raise argparse.ArgumentTypeError(f"{name} takes 1 or more, not {number}")
        return number

    return parse


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"--port takes 0 to 65535, not {number}")
    return number


def _faults(value: str) -> dict:
    import json

    try:
        faults = json.loads(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not JSON, e.g. '{{\"error_share\": 0.1}}'") from None
    if not isinstance(faults, dict):
        raise argparse.ArgumentTypeError("--faults takes a JSON object, e.g. '{\"error_share\": 0.1}'")
    return faults


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    validate.add_argument("paths", nargs="+", metavar="PATH", help="manifest files, directories searched for *.json, or - for standard input")
    validate.add_argument("--format", choices=("text", "json"), default="text", help="one line per problem (text), or one JSON document")
    validate.add_argument("-q", "--quiet", action="store_true", help="print nothing when all files are valid")
    validate.set_defaults(handler=records.cmd_validate)

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
    manifest.set_defaults(handler=records.cmd_manifest)

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
    export.add_argument("--artifacts", metavar="DIR", help="take each record's report from DIR by its id, ':' written as '-' "
                        "(SRCH-7C1E9B40.pdf, any extension; several files in a folder of that name); the export keeps a copy "
                        "and a deposit sends it first (the policy's `artifacts` setting, named here)")
    export.add_argument("--config", metavar="FILE", help="policy file (archiver.toml or a pyproject.toml with [tool.archiver])")
    export.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    export.add_argument("-q", "--quiet", action="store_true", help="no progress bar, warnings or summary; errors are still printed")
    export.set_defaults(handler=records.cmd_export)

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
    eligibility.set_defaults(handler=records.cmd_eligibility)

    deposit = commands.add_parser(
        "deposit",
        help="deposit the eligible records of an export to Zenodo (sandbox by default), or to the InvenioRDM repository "
        "a policy's [repository] names, exactly once",
        description="Deposit every eligible record of EXPORT_DIR and register its DOI in the manifest. The repository "
        "(Zenodo's sandbox by default; --production: Zenodo; or the InvenioRDM repository a policy's [repository] table "
        "names, with its url, doi_prefix and token_variable) is asked first: a record already deposited (from another "
        "folder or machine) is adopted, never deposited twice. "
        "Exit 0 all done, 1 some records failed, drifted (awaiting --new-versions), metadata-changed (awaiting "
        "--update-metadata) or deferred (to a concurrent "
        "run's deposition), 2 could not run (usage, a token the repository refuses, a server that does not answer), "
        "130 interrupted (the first Ctrl-C finishes what is in progress, the second stops at once).",
    )
    deposit.add_argument("export_dir", metavar="EXPORT_DIR", help=EXPORT_DIR_HELP)
    _zenodo_options(deposit)
    deposit.add_argument("--dry-run", action="store_true", help="write the plan to stdout, EXPORT_DIR/plan.json and the review page EXPORT_DIR/plan.html; "
                         "nothing is written to Zenodo (with a token set it is read: searches and reads, counted)")
    deposit.add_argument("--draft-only", action="store_true", help="stop before publishing")
    deposit.add_argument("--only", nargs="+", metavar="ID", help="only these record ids")
    deposit.add_argument("--limit", type=_positive("--limit"), metavar="N", help="act on at most N records (1 or more)")
    deposit.add_argument("--new-versions", action="store_true", help="give registered records whose corrections changed a new version")
    deposit.add_argument("--update-metadata", action="store_true", help="edit the published metadata of registered records in place "
                         "where what would be sent now differs (same DOI, no new version; files and corrections need --new-versions)")
    deposit.add_argument("--workers", type=_positive("--workers"), default=4, metavar="N", help="records deposited at once (default 4), all within the rate limit")
    deposit.add_argument("-v", "--verbose", action="store_true",
                         help="one line per record even when a progress bar is shown (without a terminal, lines are the default)")
    deposit.add_argument("--config", metavar="FILE", help="policy file (archiver.toml or a pyproject.toml with [tool.archiver]); its [repository] table names "
                           "another InvenioRDM repository to ask instead of Zenodo")
    deposit.add_argument("--json", action="store_true", help="print the summary and every record's result as JSON on stdout")
    deposit.add_argument("-q", "--quiet", action="store_true", help="no progress, per-record lines or summary; errors are still printed")
    deposit.set_defaults(handler=repository.cmd_deposit)

    status_cmd = commands.add_parser(
        "status",
        help="show each record's deposit state from the ledger, and drift",
        description="Show each record's deposit state from the ledger beside EXPORT_DIR, and, without the network, "
        "every registered record whose correction record changed since its deposit (drifted). With --remote, also "
        "compare the ledger with what the repository holds (Zenodo's sandbox by default; the InvenioRDM repository a "
        "policy's [repository] names). Exit 0 in line, 1 drift found, 2 could not run (not an export, no answer from "
        "the repository).",
    )
    status_cmd.add_argument("export_dir", metavar="EXPORT_DIR", help=EXPORT_DIR_HELP)
    _zenodo_options(status_cmd, verb="compare with")
    status_cmd.add_argument("--remote", action="store_true", help="compare with what the repository holds (Zenodo, or the policy's [repository]) and report drift")
    status_cmd.add_argument("--all", action="store_true", help="every environment")
    status_cmd.add_argument("--config", metavar="FILE", help="policy file whose `api` setting --remote asks through, and whose "
                            "[repository] names another InvenioRDM repository (default: archiver.toml, pyproject.toml)")
    status_cmd.add_argument("--json", action="store_true", help="print the rows and the drift as JSON on stdout")
    status_cmd.set_defaults(handler=repository.cmd_status)

    reconcile = commands.add_parser(
        "reconcile",
        help="rebuild the ledger and the export's registrations from what the repository holds (Zenodo, or the policy's "
        "[repository]; sends no write)",
        description="Look every record of EXPORT_DIR up in the repository (Zenodo's sandbox by default; the InvenioRDM "
        "repository a policy's [repository] names) by its id (batched searches) and rebuild the "
        "deposit ledger from the depositions found: a published one registers its DOI in the manifest (or shows "
        "the record drifted when its correction record changed), an open draft is remembered for the next deposit "
        "to resume. Use it after the state directory beside the export was lost, or on another machine. Only reads "
        "from the repository. Exit 0 in line, 1 some record drifted or could not be settled, 2 could not run.",
    )
    reconcile.add_argument("export_dir", metavar="EXPORT_DIR", help=EXPORT_DIR_HELP)
    _zenodo_options(reconcile, verb="read from")
    reconcile.add_argument("--config", metavar="FILE", help="policy file (archiver.toml or a pyproject.toml with [tool.archiver]); its [repository] table names "
                           "another InvenioRDM repository to ask instead of Zenodo")
    reconcile.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    reconcile.set_defaults(handler=repository.cmd_reconcile)

    double = commands.add_parser(
        "zenodo-double",
        help="run the local Zenodo double (tokens from ZENODO_DOUBLE_TOKENS)",
        description="Serve the Zenodo deposit API subset archiver uses on 127.0.0.1, with Zenodo's semantics "
        "(search, index lag, rate limits, validation), for trials and tests. It accepts the tokens listed, comma-"
        "separated, in ZENODO_DOUBLE_TOKENS; its API URL is printed on start. Example: "
        "ZENODO_DOUBLE_TOKENS=tok archiver zenodo-double --port 8765 & then ZENODO_SANDBOX_TOKEN=tok archiver deposit "
        "EXPORT_DIR --zenodo-url http://127.0.0.1:8765/api. Its DOIs are not real: deposit a trial export only.",
    )
    double.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1 (default 0: any free port, printed on start)")
    double.add_argument("--repository", action="store_true",
                        help="speak as a plain InvenioRDM repository, not Zenodo: ids such as q5jr8-hny72, DOIs {prefix}/{id} "
                        "(default prefix 10.80123), no legacy deposit API, InvenioRDM's vocabularies and limits (1000 a minute, "
                        "25000 an hour); name it in a policy's [repository] table")
    double.add_argument("--rate-limit", type=_positive("--rate-limit"), help="requests per window (default 100, as Zenodo; "
                        "1000 with --repository)")
    double.add_argument("--window", type=_positive("--window"), default=60, help="rate-limit window in seconds (default 60, as Zenodo)")
    double.add_argument("--hourly-limit", type=int, help="requests per hour (default 5000, as Zenodo; 25000 with --repository; 0: none)")
    double.add_argument("--index-lag", type=float, default=1.0, help="seconds before the list shows a new deposition (default 1)")
    double.add_argument("--doi-prefix", help="the DOI prefix it mints and pre-reserves under (default 10.5072, the sandbox's; "
                        "a deposit with --production to it then needs --doi-prefix too)")
    double.add_argument("--faults", type=_faults, metavar="JSON", help='e.g. {"error_share": 0.1, "publish_504_share": 0.2}')
    double.set_defaults(handler=repository.cmd_zenodo_double)
    return parser
