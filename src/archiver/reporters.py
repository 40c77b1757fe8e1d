"""How each command's result is shown: one reporter per output form (text for people, JSON for programs).

The CLI picks a reporter from ``--json`` / ``--format`` and hands it what the core function
returned; the reporter decides every byte on stdout (and the summary lines on stderr that only
the text form shows). Each command has one method per stage of its output: an item as it comes
(streamed in text, gathered in JSON), then the end.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def _json(data: Any, *, ascii_only: bool = True) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=ascii_only))


class TextReporter:
    """Lines for a terminal: findings as ``FILE[:LINE]:PATH: message [code]``, then a summary."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet

    # validate
    def validated(self, result) -> None:
        for finding in result.findings:
            print(finding.render(result.path))

    def validate_done(self, files: int, invalid: int, unreadable: int) -> None:
        """One line that accounts for every file (errors and unreadable files always; ``ok`` unless quiet)."""
        if files == 0:
            return
        if invalid or unreadable:
            parts = [f"{invalid} of {files} file{'s' if files != 1 else ''} invalid"]
            if unreadable:
                parts.append(f"{unreadable} unreadable")
            _err(", ".join(parts) + f", {files - invalid - unreadable} valid")
        elif not self.quiet:
            print(f"ok: {files} file{'s' if files != 1 else ''} valid")

    # eligibility
    def eligibility(self, row: dict) -> None:
        from archiver.findings import Finding, printable
        from archiver.fsutil import printable_path

        verdict = "eligible for deposit" if row["eligible"] else "not eligible: " + ", ".join(row["reasons"])
        print(f"{printable(row['id'] or '(no id)', 40)}  {printable_path(row['source'])}")
        if row["valid"]:
            print(f"  computed tier: {row['tier']['computed'] or 'unknown'} - {row['basis']}")
        print(f"  declared tier: {row['tier']['declared'] or 'none'}")
        print(f"  {verdict}; next: {row['next_action']}")
        for error in row["errors"]:  # the one form of every problem, whichever command finds it
            finding = Finding(error["code"], error["message"], error["location"], error.get("line"))
            print(f"  error: {finding.render(printable_path(row['source']))}")

    def eligibility_done(self, totals: dict) -> None:
        """One line that accounts for every record."""
        if totals["records"]:
            _err(f"{totals['records']} record{'s' if totals['records'] != 1 else ''}: {totals['eligible']} eligible for deposit, "
                 f"{totals['not_eligible']} not eligible, {totals['invalid']} invalid")

    # export
    def exported(self, summary) -> None:
        if not self.quiet and summary.written:
            totals = summary.totals()
            print(
                f"exported {totals['valid']} of {totals['records']} records to {summary.out} "
                f"({totals['eligible']} eligible for deposit, {totals['already_registered']} already registered, "
                f"{totals['invalid']} invalid); package check: {summary.package_check}"
            )
            if summary.artifacts:
                print(f"kept {summary.artifacts} report artifact(s) in {summary.out}/artifacts")
        if summary.written and summary.artifacts_missing_total:  # like errors: said even with --quiet
            named = ", ".join(summary.artifacts_missing)
            more = summary.artifacts_missing_total - len(summary.artifacts_missing)
            _err(f"{summary.artifacts_missing_total} record(s) say their report is Available but the artifacts folder holds no file "
                 f"of it: {named}{f' and {more} more' if more > 0 else ''}; not eligible for deposit unless the policy allows "
                 "deposit_without_artifact [report-artifact-file-missing]")

    def export_invalid(self, summary) -> None:
        """Each invalid record's errors, one line each (capped), even with --quiet: quiet silences
        progress, not errors."""
        if not summary.invalid or not summary.written:
            return
        for line in summary.errors:
            _err(line)
        more = summary.errors_total - len(summary.errors)
        if more > 0:
            _err(f"... and {more} more error(s) in {summary.out}/report.json")
        _err(f"{summary.invalid} of {summary.records} record(s) invalid; every error is in {summary.out}/report.json, "
             f"the invalid records first in {summary.out}/report.html")

    # deposit
    def deposited(self, summary, environment: str) -> None:
        if not self.quiet:
            totals = summary.as_dict()["totals"]
            requests = f"{summary.requests} request{'s' if summary.requests != 1 else ''}"
            print(f"{environment}: " + ", ".join(f"{v} {k}" for k, v in totals.items()) + f"; {requests}")

    # status
    def status(self, rows: list[dict], drift: list[dict]) -> None:
        if not rows:
            print("no deposits recorded for this export")
        for row in rows:
            doi = row["doi"] or "-"
            error = f"  last error: {row['last_error']}" if row["last_error"] else ""
            state = row["state"] + (", drifted" if row.get("drifted") else "")
            if row["state"] == "in-review" and not row["last_error"]:
                state += " (waits for the community's review; no DOI yet)"
            print(
                f"{row['id']}  {row['environment']}  attempt {row['attempt']}  {state:<10}  "
                f"deposition {row['deposition_id'] or '-'}  {doi}  {row.get('api', 'deposit')} API{error}"
            )
        for item in drift:
            print(f"drift: {item['id']}: {item['remote']}")


    # reconcile
    def reconciled(self, results: list, environment: str, where: str = "Zenodo") -> None:
        for result in results:
            doi = f" {result.doi}" if result.doi else ""
            print(f"{result.record_id}: {result.state}{doi} - {result.detail}")
        counts: dict[str, int] = {}
        for result in results:
            counts[result.state] = counts.get(result.state, 0) + 1
        words = {"draft": "with an open draft", "none": f"not on {where}"}
        summary = ", ".join(f"{n} {words.get(state, state)}" for state, n in sorted(counts.items())) or f"no record of this export is on {where}"
        print(f"{environment}: {summary}; nothing was sent to {where} but searches and reads")


class JsonReporter:
    """One JSON document on stdout per command, sorted keys, two-space indent."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    # validate
    def validated(self, result) -> None:
        self.items.append(result.as_dict())

    def validate_done(self, files: int, invalid: int, unreadable: int) -> None:
        _json(
            {
                "valid": files > 0 and not invalid and not unreadable,
                "totals": {"files": files, "invalid": invalid, "unreadable": unreadable},
                "files": self.items,
            }
        )

    # eligibility
    def eligibility(self, row: dict) -> None:
        self.items.append(row)

    def eligibility_done(self, totals: dict) -> None:
        _json({"records": self.items, "totals": totals}, ascii_only=False)

    # export
    def exported(self, summary) -> None:
        _json(summary.as_dict())

    def export_invalid(self, summary) -> None:
        pass  # report.json is named in the summary

    # deposit
    def deposited(self, summary, environment: str) -> None:
        _json(summary.as_dict())

    # status
    def status(self, rows: list[dict], drift: list[dict]) -> None:
        _json({"records": rows, "drift": drift})

    # reconcile
    def reconciled(self, results: list, environment: str, where: str = "Zenodo") -> None:
        _json({"environment": environment, "records": [result.as_dict() for result in results]})


def reporter_for(as_json: bool, *, quiet: bool = False) -> TextReporter | JsonReporter:
    return JsonReporter() if as_json else TextReporter(quiet=quiet)
