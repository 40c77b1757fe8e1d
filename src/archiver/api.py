"""The Python API: what the commands do, as calls that return the typed results the CLI renders.

The CLI is a shell over these calls and nothing else; pipelines (Airflow, Prefect, a notebook)
use them too::

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
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the imports happen in each call, so that `import archiver` stays cheap
    from archiver.deposit.port import DepositPort
    from archiver.deposit.reconcile import Reconciled
    from archiver.deposit.results import DepositSummary, RecordResult
    from archiver.eligibility import Eligibility
    from archiver.export import ExportSummary, Outcome
    from archiver.findings import Finding
    from archiver.model import Record
    from archiver.policy import Policy, RepositoryPolicy
    from archiver.readers import ReadResult
    from archiver.validation import FileResult

OnSkip = Callable[[str, str, str], None]  # (path, code, message) of a file a folder walk leaves alone


def load_policy(path: str | os.PathLike | None = None) -> Policy:
    """The eligibility policy of a file (archiver.toml, or a pyproject.toml with [tool.archiver]);
    without one, as the commands do: ./archiver.toml or ./pyproject.toml, else the defaults."""
    from archiver.policy import load_policy as load

    return load(path)[0]


def read_records(sources: Iterable[str | os.PathLike], *, on_skip: OnSkip | None = None) -> Iterator[ReadResult]:
    """Every record of the sources (record pages of either layout, JSON, JSONL, directories of
    them; "-" for standard input), in order: each with its Record (or None) and its findings."""
    from archiver.readers import read_records as read

    return read((str(source) for source in sources), on_skip=on_skip)


def estimate_records(sources: Iterable[str | os.PathLike]) -> int | None:
    """A quick guess of how many records the sources hold, for a progress bar (None: no guess)."""
    from archiver.readers import estimate_records as estimate

    return estimate([str(source) for source in sources])


def validate(
    paths: Iterable[str | os.PathLike], *, on_skip: OnSkip | None = None, on_note: Callable[[str], None] | None = None
) -> Iterator[FileResult]:
    """Every manifest file of ``paths`` (directories searched for *.json; of an export, its
    manifests only) validated against the contract it names."""
    from archiver.validation import validate_paths

    return validate_paths((str(path) for path in paths), on_skip, on_note)


def manifest_errors(result: ReadResult) -> list[Finding]:
    """A record's errors: those found reading it, then its manifest's against the contract."""
    from archiver.manifest import build_manifest

    errors = list(result.errors)
    if result.record is not None and not errors:
        errors.extend(build_manifest(result.record)[1])
    return errors


def write_manifest(directory: str | os.PathLike, record: Record) -> Path:
    """The record's manifest written as ``<record-id>.json`` into ``directory``."""
    from archiver.manifest import write_manifest as write

    return write(Path(directory), record)


def assess(record: Record | None, policy: Policy | None = None) -> Eligibility:
    """A valid record's computed tier with its basis, and whether it may be deposited, with reasons.
    A record that could not be read (``ReadResult.record`` is None) raises ``ArchiverError``
    (``manifest-invalid``): its errors say what to fix, and ``judge`` gives its verdict."""
    from archiver.eligibility import Facts
    from archiver.eligibility import assess as judge
    from archiver.findings import ArchiverError
    from archiver.model import Record as ValidRecord

    if not isinstance(record, ValidRecord):
        raise ArchiverError("assess takes a valid record (ReadResult.record); this one could not be read: see its errors, "
                            "or judge(result, errors, policy) for the verdict on a record as read", code="manifest-invalid")
    return judge(Facts.of_record(record), policy or load_policy())


def judge(result: ReadResult, errors: list[Finding], policy: Policy) -> Eligibility:
    """The verdict on a record as read: a valid one assessed, an invalid one judged by nothing but its errors."""
    from archiver.eligibility import Facts
    from archiver.eligibility import assess as decide

    valid = result.record is not None and not errors
    facts = Facts.of_record(result.record) if valid else Facts.of_raw(result.raw, result.declared_tier)  # type: ignore[arg-type]
    return decide(facts, policy)


def export_records(
    sources: Iterable[str | os.PathLike],
    out: str | os.PathLike,
    *,
    policy: Policy | None = None,
    created: str | None = None,
    package_check: str = "auto",
    jobs: int | str = "auto",
    on_record: Callable[[Outcome], None] | None = None,
) -> ExportSummary:
    """Export the records of ``sources`` into the directory ``out`` (atomically: manifests, the
    data package, report.json and report.html), as `archiver export` does. ``created`` pins the
    package's timestamp (ISO 8601), else SOURCE_DATE_EPOCH, else now. What earlier deposits of
    the same folder registered is kept in the new manifests."""
    from archiver.deposit.ledger import ledger_registrations
    from archiver.export import created_timestamp
    from archiver.export import export as run

    return run(
        [str(source) for source in sources], out, policy=policy or load_policy(), created=created_timestamp(created),
        package_check=package_check, jobs=jobs, on_record=on_record, registrations=ledger_registrations,
    )


def export_folder(path: str | os.PathLike) -> Path:
    """``path`` once it is known to be an archiver export (what deposit, status and reconcile take)."""
    from archiver.exportdir import REPORT_JSON
    from archiver.findings import ArchiverError

    export_dir = Path(path)
    if not export_dir.exists():
        raise ArchiverError(f"{export_dir} does not exist", code="usage")
    if not (export_dir / REPORT_JSON).is_file():
        raise ArchiverError(f"{export_dir} is not an archiver export (no {REPORT_JSON}); run archiver export first", code="usage")
    return export_dir


def with_artifacts(policy: Policy, folder: str | os.PathLike) -> Policy:
    """``policy`` taking the records' reports from ``folder`` (``export --artifacts``), which must exist."""
    from archiver.findings import ArchiverError

    if not Path(folder).is_dir():
        raise ArchiverError(f"--artifacts {str(folder)!r} is not a folder", code="usage")
    return policy.model_copy(update={"artifacts": str(folder)})


def deposits_count_in(policy: Policy, *, production: bool = False) -> str:
    """Where a deposit under ``policy`` counts, as the ledger keys it: the origin of the repository
    the policy names, else Zenodo's sandbox, or its production with ``production``."""
    from archiver.zenodo.target import environment_of, origin_of

    return origin_of(policy.repository.url) if policy.repository is not None else environment_of(production)


def recorded_places(export_dir: str | os.PathLike) -> set[str]:
    """Where the export's ledger says its deposits count: Zenodo's sandbox or production, other repositories' origins."""
    from archiver.deposit.ledger import Ledger
    from archiver.exportdir import ledger_path

    path = ledger_path(Path(export_dir))
    if not path.is_file():
        return set()
    with Ledger(path) as ledger:
        return set(ledger.places())


def recorded_server(export_dir: str | os.PathLike, *, production: bool = False, policy: Policy | None = None) -> str | None:
    """The one server the export's ledger says its deposits in this environment went to (None
    when there is no ledger, or it names none or several): status --remote and reconcile ask it."""
    from archiver.deposit.ledger import Ledger
    from archiver.exportdir import ledger_path

    path = ledger_path(Path(export_dir))
    if not path.is_file():
        return None
    with Ledger(path) as ledger:
        servers = ledger.servers(deposits_count_in(policy or load_policy(), production=production))
    return servers.pop() if len(servers) == 1 else None


def open_repository(
    api: str = "deposit",
    *,
    production: bool = False,
    zenodo_url: str | None = None,
    doi_prefix: str | None = None,
    timeout: float = 60.0,
    announce: Callable[[str], None] | None = None,
    named: RepositoryPolicy | None = None,
) -> DepositPort:
    """The port to the repository through the API ``api``: the sandbox unless ``production``, the
    token from ZENODO_SANDBOX_TOKEN (ZENODO_TOKEN for production), ``timeout`` seconds per request,
    waits said to ``announce``. With ``named`` (a policy's ``[repository]``), that repository only,
    with its own token variable and DOI prefix."""
    from archiver.deposit.adapters import open_port
    from archiver.zenodo.target import resolve_target

    target = resolve_target(production=production, zenodo_url=zenodo_url, doi_prefix=doi_prefix, named=named)
    return open_port(api, target, deadline=timeout, announce=announce)


def deposit_records(
    export_dir: str | os.PathLike,
    *,
    production: bool = False,
    zenodo_url: str | None = None,
    doi_prefix: str | None = None,
    policy: Policy | None = None,
    draft_only: bool = False,
    new_versions: bool = False,
    update_metadata: bool = False,
    only: Iterable[str] | None = None,
    limit: int | None = None,
    workers: int = 4,
    timeout: float = 60.0,
    on_record: Callable[[RecordResult], None] | None = None,
    stop: threading.Event | None = None,
    in_progress: set[str] | None = None,
    announce: Callable[[str], None] | None = None,
    repository: DepositPort | None = None,
) -> DepositSummary:
    """Deposit the eligible records of an export exactly once, as `archiver deposit` does, and
    register each DOI in its manifest. ``repository`` is a port opened already (else one is
    opened as ``open_repository`` does); ``on_record`` hears each result in the export's order;
    once ``stop`` is set no further record starts; ``in_progress`` holds the ids being worked on."""
    from archiver.deposit.runner import run_deposit

    policy = policy or load_policy()
    port = repository or open_repository(
        policy.api, production=production, zenodo_url=zenodo_url, doi_prefix=doi_prefix, timeout=timeout, announce=announce,
        named=policy.repository,
    )
    return run_deposit(
        Path(export_dir), port, policy, only=only, limit=limit, draft_only=draft_only, new_versions=new_versions,
        update_metadata=update_metadata, workers=workers, on_record=on_record, stop=stop, in_progress=in_progress,
    )


def plan_deposit(
    export_dir: str | os.PathLike,
    *,
    production: bool = False,
    zenodo_url: str | None = None,
    policy: Policy | None = None,
    only: Iterable[str] | None = None,
    limit: int | None = None,
    new_versions: bool = False,
    update_metadata: bool = False,
    repository: DepositPort | None = None,
) -> tuple[dict, Path]:
    """What a deposit would do, per record, without writing anything; written to EXPORT_DIR/plan.json
    and the review page plan.html. Given ``repository`` (a port opened already), it is asked with
    read-only requests (counted): adopt or resume instead of a new deposit, and what an update or a
    new version changes, field by field; without one, nothing is sent."""
    from archiver.deposit.adapters import adapter_class
    from archiver.deposit.plan import plan_deposit as plan
    from archiver.deposit.plan import write_plan
    from archiver.zenodo.target import api_url_of

    policy = policy or load_policy()
    server = policy.repository.url.rstrip("/") if policy.repository is not None else api_url_of(production, zenodo_url)
    planned = plan(
        Path(export_dir), policy, adapter_class(policy.api), deposits_count_in(policy, production=production), server,
        only=only, limit=limit, new_versions=new_versions, update_metadata=update_metadata, port=repository,
    )
    return planned, write_plan(Path(export_dir), planned)


def deposit_status(
    export_dir: str | os.PathLike, *, environment: str | None = None, policy: Policy | None = None,
) -> tuple[list[dict], list[dict], list[str]]:
    """The ledger's rows (of ``environment``, or all), the drift seen without the network (against
    what a deposit under ``policy`` would send now), and the records whose manifests name deposits
    the ledger does not know."""
    from archiver.deposit.adapters import adapter_class
    from archiver.deposit.status import local_drift, status, unknown_registrations
    from archiver.zenodo.target import DEFAULT_SERVERS

    policy = policy or load_policy()
    rows = status(Path(export_dir), environment)
    unsent = adapter_class(policy.api).capabilities.unsent_fields
    drift = local_drift(rows, Path(export_dir), policy, DEFAULT_SERVERS, unsent) if rows else []
    return rows, drift, unknown_registrations(Path(export_dir), rows)


def remote_drift(
    rows: list[dict], repository: DepositPort, *, export_dir: str | os.PathLike | None = None, policy: Policy | None = None,
) -> list[dict]:
    """Where the ledger's rows and what the repository holds disagree; given the export, also
    where a record's published metadata is not what a deposit under ``policy`` would send now."""
    from archiver.deposit.status import remote_drift as compare
    from archiver.zenodo.target import DEFAULT_SERVERS

    folder = Path(export_dir) if export_dir is not None else None
    return compare(rows, repository, export_dir=folder, policy=(policy or load_policy()) if folder is not None else None,
                   default_servers=DEFAULT_SERVERS)


def reconcile_export(export_dir: str | os.PathLike, repository: DepositPort, *, policy: Policy | None = None) -> list[Reconciled]:
    """The export's ledger and registrations rebuilt from what the repository holds (no write sent)."""
    from archiver.deposit.reconcile import reconcile

    return reconcile(Path(export_dir), repository, policy or load_policy())
