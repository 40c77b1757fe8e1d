"""The Python API: what the commands do, as calls that return the typed results the CLI renders.

For pipelines (Airflow, Prefect, a notebook) that would otherwise reach into internal modules::

    import archiver

    for result in archiver.read_records(["pages/"]):          # ReadResult: record, errors, warnings
        print(result.record_id, [e.render(result.source) for e in result.errors])
    summary = archiver.export_records(["pages/"], "exports/today")  # ExportSummary: totals, errors, exit_code
    for checked in archiver.validate(["exports/today"]):      # FileResult: path, valid, findings
        ...
    verdict = archiver.assess(record)                          # Eligibility: tiers, eligible, reasons
    done = archiver.deposit_records("exports/today")           # DepositSummary (sandbox; token from the environment)

(``export_records`` and ``deposit_records``, since archiver.export and archiver.deposit are the
modules of those stages.)

Every problem is a Finding (code, location, line, message) in the same words the CLI prints; what
cannot run at all raises ArchiverError (``code``, ``message``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the imports happen in each call, so that `import archiver` stays cheap
    from archiver.deposit.flow import DepositSummary
    from archiver.eligibility import Eligibility
    from archiver.export import ExportSummary
    from archiver.model import Record
    from archiver.policy import Policy
    from archiver.readers import ReadResult
    from archiver.validation import FileResult


def load_policy(path: str | os.PathLike | None = None) -> Policy:
    """The eligibility policy of a file (archiver.toml, or a pyproject.toml with [tool.archiver]);
    without one, as the commands do: ./archiver.toml or ./pyproject.toml, else the defaults."""
    from archiver.policy import load_policy as load

    return load(path)[0]


def read_records(sources: Iterable[str | os.PathLike]) -> Iterator[ReadResult]:
    """Every record of the sources (record pages of either layout, JSON, JSONL, directories of
    them; "-" for standard input), in order: each with its Record (or None) and its findings."""
    from archiver.readers import read_records as read

    return read(str(source) for source in sources)


def validate(paths: Iterable[str | os.PathLike]) -> Iterator[FileResult]:
    """Every manifest file of ``paths`` (directories searched for *.json; of an export, its
    manifests only) validated against the contract it names."""
    from archiver.validation import validate_paths

    return validate_paths(str(path) for path in paths)


def assess(record: Record, policy: Policy | None = None) -> Eligibility:
    """A valid record's computed tier with its basis, and whether it may be deposited, with reasons."""
    from archiver.eligibility import Facts
    from archiver.eligibility import assess as judge

    return judge(Facts.of_record(record), policy or load_policy())


def export_records(
    sources: Iterable[str | os.PathLike],
    out: str | os.PathLike,
    *,
    policy: Policy | None = None,
    created: str | None = None,
    package_check: str = "auto",
    jobs: int | str = "auto",
) -> ExportSummary:
    """Export the records of ``sources`` into the directory ``out`` (atomically: manifests, the
    data package, report.json and report.html), as `archiver export` does. ``created`` pins the
    package's timestamp (ISO 8601), else SOURCE_DATE_EPOCH, else now."""
    from archiver.export import created_timestamp
    from archiver.export import export as run

    return run(
        [str(source) for source in sources], out, policy=policy or load_policy(), created=created_timestamp(created),
        package_check=package_check, jobs=jobs,
    )


def deposit_records(
    export_dir: str | os.PathLike,
    *,
    production: bool = False,
    zenodo_url: str | None = None,
    policy: Policy | None = None,
    draft_only: bool = False,
    new_versions: bool = False,
    only: Iterable[str] | None = None,
    timeout: float = 60.0,
) -> DepositSummary:
    """Deposit the eligible records of an export to Zenodo exactly once, as `archiver deposit`
    does: the sandbox unless ``production``, the token from ZENODO_SANDBOX_TOKEN (ZENODO_TOKEN for
    production). The summary's results say what happened to each record."""
    from archiver.deposit.api import open_api
    from archiver.deposit.flow import run_deposit
    from archiver.zenodo.target import resolve_target

    policy = policy or load_policy()
    client = open_api(policy.api, resolve_target(production=production, zenodo_url=zenodo_url), deadline=timeout)
    return run_deposit(
        Path(export_dir), client, policy, only=only, draft_only=draft_only, new_versions=new_versions
    )
