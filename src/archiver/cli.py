"""Command-line shell: parse arguments, call one core function, render its result, pick the exit code.

Stage modules are imported inside each command so that ``archiver validate`` (the pre-commit
path) loads neither Pydantic nor frictionless nor requests.
"""

from __future__ import annotations

import argparse
import json
import sys

from archiver import __version__

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def _print_err(line: str) -> None:
    print(line, file=sys.stderr)


# --------------------------------------------------------------------------- validate


def cmd_validate(args: argparse.Namespace) -> int:
    from archiver.validation import validate_paths

    results = validate_paths(args.paths)
    files = invalid = unreadable = 0
    collected = []
    for result in results:
        files += 1
        if not result.readable:
            unreadable += 1
        elif not result.valid:
            invalid += 1
        if args.format == "json":
            collected.append(result.as_dict())
        else:
            for finding in result.findings:
                print(finding.render(result.path))
    if args.format == "json":
        report = {
            "valid": files > 0 and not invalid and not unreadable,
            "totals": {"files": files, "invalid": invalid, "unreadable": unreadable},
            "files": collected,
        }
        print(json.dumps(report, indent=2, sort_keys=True))
    if files == 0:
        _print_err("archiver validate: no manifest files found in the given paths")
        return EXIT_USAGE
    if unreadable:
        return EXIT_USAGE
    if invalid:
        if args.format != "json":
            _print_err(f"{invalid} of {files} files invalid")
        return EXIT_INVALID
    if args.format != "json" and not args.quiet:
        print(f"ok: {files} file{'s' if files != 1 else ''} valid")
    return EXIT_OK


# --------------------------------------------------------------------------- manifest


def cmd_manifest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from archiver.manifest import check_manifest, manifest_bytes, write_manifest
    from archiver.readers import read_records

    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    seen = invalid = 0
    for result in read_records(args.sources):
        seen += 1
        for warning in result.warnings:
            _print_err("warning: " + warning.render(result.source))
        errors = list(result.errors)
        manifest = None
        if result.record is not None:
            manifest = result.record.to_manifest()
            errors.extend(check_manifest(manifest))
        if errors or manifest is None:
            invalid += 1
            for error in errors:
                _print_err("error: " + error.render(result.source))
            continue
        if out is not None:
            path = write_manifest(out, manifest)
            _print_err(f"wrote {path}")
        else:
            sys.stdout.write(manifest_bytes(manifest).decode("utf-8"))
    if seen == 0:
        _print_err("archiver manifest: no records found")
        return EXIT_USAGE
    return EXIT_INVALID if invalid else EXIT_OK


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archiver",
        description="Research-synthesis records to validated manifests, data packages and Zenodo DOIs.",
    )
    parser.add_argument("--version", action="version", version=f"archiver {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    validate = commands.add_parser(
        "validate",
        help="validate manifest files against the JSON Schema contracts",
        description="Validate manifest files (and directories of *.json) against the contract each names. "
        "Exit 0 all valid, 1 some invalid, 2 usage error or unreadable input.",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument("-q", "--quiet", action="store_true", help="print nothing when all files are valid")
    validate.set_defaults(handler=cmd_validate)

    manifest = commands.add_parser(
        "manifest",
        help="print or write the paper manifest of each record",
        description="Read record pages, JSON or JSONL ('-' for JSONL on stdin) and print each record's "
        "paper manifest, or write them into --out DIR.",
    )
    manifest.add_argument("sources", nargs="+", metavar="SOURCE")
    manifest.add_argument("--out", metavar="DIR", help="write <record-id>.json files here instead of printing")
    manifest.set_defaults(handler=cmd_manifest)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        _print_err("archiver: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the shell never shows a traceback
        from archiver.findings import ArchiverError

        if isinstance(exc, ArchiverError):
            _print_err(f"archiver: {exc}")
            return EXIT_USAGE
        raise
