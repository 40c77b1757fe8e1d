"""The commands on records and manifests: validate, manifest, export, eligibility."""

from __future__ import annotations

import argparse
import sys

from archiver.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, policy_of, print_err, raise_usage, warn_skipped

# --------------------------------------------------------------------------- validate


def cmd_validate(args: argparse.Namespace) -> int:
    from archiver.api import validate
    from archiver.reporters import reporter_for

    if args.paths.count("-") > 1:
        raise_usage("'-' (standard input) may be given once")
    reporter = reporter_for(args.format == "json", quiet=args.quiet)
    files = invalid = unreadable = 0
    note = None if args.quiet else (lambda text: print_err(f"note: {text}"))
    for result in validate(args.paths, on_skip=None if args.quiet else warn_skipped, on_note=note):
        files += 1
        if not result.readable:
            unreadable += 1
        elif not result.valid:
            invalid += 1
        reporter.validated(result)
    reporter.validate_done(files, invalid, unreadable)
    if files == 0:
        print_err("archiver: no manifest files found in the given paths [usage]")
        return EXIT_USAGE
    if unreadable:
        return EXIT_USAGE  # a path that could not be read: the command could not do its work
    return EXIT_INVALID if invalid else EXIT_OK


# --------------------------------------------------------------------------- manifest


def cmd_manifest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from archiver.api import manifest_errors, read_records, write_manifest
    from archiver.jsontext import compact

    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    seen = invalid = 0
    for result in read_records(args.sources, on_skip=warn_skipped):
        seen += 1
        for warning in result.warnings:
            print_err("warning: " + warning.render(result.source))
        errors = manifest_errors(result)
        if errors or result.record is None:
            invalid += 1
            for error in errors:
                print_err("error: " + error.render(result.source))
            continue
        if out is not None:
            path = write_manifest(out, result.record)
            print_err(f"wrote {path}")
        else:  # JSONL: one manifest per line, so that several records print a stream tools can read
            sys.stdout.write(compact(result.record.to_manifest()) + "\n")
    if seen == 0:
        print_err("archiver: no records found [usage]")
        return EXIT_USAGE
    # one line that accounts for every record (stderr: stdout is the JSONL stream)
    print_err(f"{seen} record{'s' if seen != 1 else ''}: {seen - invalid} manifest{'s' if seen - invalid != 1 else ''} "
              f"{'written' if out is not None else 'printed'}, {invalid} invalid")
    return EXIT_INVALID if invalid else EXIT_OK


# --------------------------------------------------------------------------- export


def cmd_export(args: argparse.Namespace) -> int:
    from archiver.api import estimate_records, export_records
    from archiver.progress import Progress
    from archiver.reporters import reporter_for

    if args.sources.count("-") > 1:
        raise_usage("'-' (standard input) may be given once")
    policy = policy_of(args)
    if args.artifacts is not None:
        from archiver.api import with_artifacts

        policy = with_artifacts(policy, args.artifacts)
    show = not args.quiet and sys.stderr.isatty()
    progress = Progress.for_terminal(estimate_records(args.sources) if show else None, quiet=args.quiet)
    try:
        summary = export_records(
            args.sources,
            args.out,
            policy=policy,
            created=args.created,
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
            warn_skipped(item["source"], item["code"], item["message"])
    # Errors are shown even with --quiet, which silences progress, warnings and the summary only.
    for line in summary.package_errors[:20]:
        print_err(f"package: {line}")
    if summary.problem:
        print_err(f"archiver: {summary.problem} [{summary.problem_code}]")
    reporter.export_invalid(summary)
    return summary.exit_code


def cmd_eligibility(args: argparse.Namespace) -> int:
    from archiver.api import judge, manifest_errors, read_records
    from archiver.reporters import reporter_for

    policy = policy_of(args)
    reporter = reporter_for(args.json)
    seen = invalid = 0
    eligible = 0
    for result in read_records(args.sources, on_skip=warn_skipped):
        seen += 1
        errors = manifest_errors(result)
        invalid += bool(errors)
        verdict = judge(result, errors, policy)
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
        print_err("archiver: no records found [usage]")
        return EXIT_USAGE
    return EXIT_INVALID if invalid else EXIT_OK
