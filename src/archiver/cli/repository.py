"""The commands that talk to the repository: deposit, status, reconcile, and the local double."""

from __future__ import annotations

import argparse
import json
import os
from shlex import quote as shell_quote

from archiver.cli.common import EXIT_INVALID, EXIT_OK, policy_of, print_err, raise_usage
from archiver.cli.interrupt import TwoStageInterrupt


def _export_dir(args: argparse.Namespace):
    """The export folder, once the server named agrees with --production (before anything is read)."""
    from archiver.api import export_folder
    from archiver.zenodo.target import api_url_of

    if getattr(args, "zenodo_url", None) is not None:
        api_url_of(args.production, args.zenodo_url)
    return export_folder(args.export_dir)


def _repository(args: argparse.Namespace, policy):
    """The repository a command talks to (the policy's ``api``, and its ``[repository]`` when it
    names one): the per-request deadline, waits said on stderr."""
    from archiver.api import open_repository
    from archiver.findings import printable

    quiet = getattr(args, "quiet", False)
    return open_repository(
        policy.api, production=args.production, zenodo_url=args.zenodo_url, doi_prefix=args.doi_prefix, timeout=args.timeout,
        announce=None if quiet else lambda text: print_err(f"archiver: {printable(text, 400)}"), named=policy.repository,
    )


def _recorded_repository(args: argparse.Namespace, export_dir, policy):
    """The repository the export's ledger says its deposits went to, unless --zenodo-url or the
    policy's [repository] names one."""
    from archiver.api import recorded_server

    if args.zenodo_url is None and policy.repository is None:
        server = recorded_server(export_dir, production=args.production, policy=policy)
        if server is not None:
            args.zenodo_url = server
            from archiver.zenodo.target import api_url_of

            api_url_of(args.production, server)  # the ledger's server agrees with --production, or is refused
    return _repository(args, policy)


def _repository_if_token(args: argparse.Namespace, policy):
    """The repository (the ledger's server unless --zenodo-url names one) when its token is set: a
    dry run then asks it, read-only; None otherwise."""
    from archiver.findings import ArchiverError

    try:
        return _recorded_repository(args, args.export_dir, policy)
    except ArchiverError as exc:
        if exc.code == "no-token":
            return None
        raise


def repository_token_variable(args: argparse.Namespace, policy) -> str:
    from archiver.zenodo.target import TOKEN_VARIABLES, environment_of

    return policy.repository.token_variable if policy.repository is not None else TOKEN_VARIABLES[environment_of(args.production)]


def cmd_deposit(args: argparse.Namespace) -> int:
    from archiver.api import deposit_records, plan_deposit
    from archiver.findings import ArchiverError, printable
    from archiver.progress import Progress
    from archiver.reporters import reporter_for

    export_dir = _export_dir(args)
    policy = policy_of(args)
    if args.dry_run:
        repository = _repository_if_token(args, policy)
        plan, path = plan_deposit(
            export_dir, production=args.production, zenodo_url=args.zenodo_url, policy=policy, only=args.only, limit=args.limit,
            new_versions=args.new_versions, update_metadata=args.update_metadata, repository=repository,
        )
        print(json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False))
        if plan["unread"]:  # asked to read the repository, and it could not be read: the plan is not what was asked
            raise ArchiverError(f"plan written to {path}, but the repository could not be read ({printable(plan['unread'][0], 400)}): "
                                "the plan does not say what it holds; check the URL and the network, and run it again",
                                code="plan-incomplete")
        asked = (f"{plan['requests']} read-only request(s) sent, nothing written" if repository is not None
                 else f"nothing was sent ({repository_token_variable(args, policy)} is not set: {policy.repository_name} was not asked)")
        print_err(f"plan written to {path}, the review page to {path.with_name('plan.html')}; {asked}")
        return EXIT_OK
    repository = _repository(args, policy)
    progress = Progress.for_terminal(None, quiet=args.quiet or args.json or args.verbose, label="records")

    def show(result) -> None:
        progress.advance()
        if args.verbose or (not progress.enabled and not args.json and not args.quiet):
            doi = f" {result.doi}" if result.doi else ""
            print(f"{result.record_id}: {result.action}{doi} {('- ' + result.detail) if result.detail else ''}".rstrip())

    interrupt = TwoStageInterrupt("archiver deposit")
    try:
        with interrupt:
            summary = deposit_records(
                export_dir, policy=policy, repository=repository, only=args.only, limit=args.limit, draft_only=args.draft_only,
                new_versions=args.new_versions, update_metadata=args.update_metadata, workers=args.workers, on_record=show, stop=interrupt.stop,
                in_progress=interrupt.in_progress,
            )
    finally:
        progress.close()
    reporter_for(args.json, quiet=args.quiet).deposited(summary, repository.environment)
    _say_why_it_stopped(summary, repository)
    return summary.exit_code


def _say_why_it_stopped(summary, repository) -> None:
    if summary.token_refused:
        print_err(
            f"archiver: {repository.repository_name} refused the token ({summary.token_refused.split(': ', 1)[-1]}); no further record "
            f"was started: check {repository.token_variable} and its scopes ({repository.token_scopes}) [token-refused]"
        )
    if summary.unreachable and summary.rate_limited:
        print_err(
            f"archiver: {repository.repository_name} kept refusing for its rate limit ({summary.unreachable}); no further record was started: "
            "run again later (it resumes) [rate-limited]"
        )
    elif summary.failing:
        print_err(f"archiver: {summary.failing}")
    elif summary.unreachable:
        print_err(
            f"archiver: {repository.repository_name} did not answer ({summary.unreachable}); no further record was started: check {repository.server} and "
            "the network, then run again (it resumes) [no-answer]"
        )


def cmd_status(args: argparse.Namespace) -> int:
    from archiver.api import deposit_status, deposits_count_in, recorded_places, remote_drift
    from archiver.reporters import reporter_for

    export_dir = _export_dir(args)
    policy = policy_of(args)
    environment = None if args.all and not args.production else deposits_count_in(policy, production=args.production)
    rows, drift, unknown = deposit_status(export_dir, environment=environment, policy=policy)
    elsewhere = sorted(recorded_places(export_dir) - {environment}) if environment is not None and not rows else []
    if elsewhere:
        print_err(f"note: this export's deposits are recorded for {', '.join(elsewhere)}, not {environment}: `--all` shows them; a "
                  "repository other than Zenodo is named in the policy ([repository], --config)")
    if unknown and not elsewhere:  # (manifests of deposits recorded elsewhere are known there)
        print_err(
            f"note: {len(unknown)} manifest(s) of {export_dir} name deposits the ledger does not know ({', '.join(unknown[:5])}"
            f"{', ...' if len(unknown) > 5 else ''}): a lost state directory? `archiver reconcile {shell_quote(str(export_dir))}` rebuilds "
            f"it from {policy.repository_name}"
        )
    unknown_sent = sorted({row["id"] for row in rows if row["state"] == "registered" and not row["metadata_known"]})
    if unknown_sent and not args.remote:
        print_err(
            f"note: the ledger does not know what {len(unknown_sent)} registered record(s) were sent ({', '.join(unknown_sent[:5])}"
            f"{', ...' if len(unknown_sent) > 5 else ''}: found on {policy.repository_name}, or deposited before archiver kept it): "
            f"`status --remote` compares what {policy.repository_name} publishes with what a deposit would send now"
        )
    if args.remote:
        drift += remote_drift(rows, _recorded_repository(args, export_dir, policy), export_dir=export_dir, policy=policy)
    reporter_for(args.json).status(rows, drift)
    return EXIT_INVALID if drift else EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    from archiver.api import reconcile_export
    from archiver.reporters import reporter_for

    export_dir = _export_dir(args)
    policy = policy_of(args)
    repository = _recorded_repository(args, export_dir, policy)
    results = reconcile_export(export_dir, repository, policy=policy)
    reporter_for(args.json).reconciled(results, repository.environment, repository.repository_name)
    return EXIT_INVALID if any(r.state in ("drifted", "failed") for r in results) else EXIT_OK


def cmd_zenodo_double(args: argparse.Namespace) -> int:
    import time

    from archiver.zenodo.double import Faults, ZenodoDouble

    tokens = {t for t in os.environ.get("ZENODO_DOUBLE_TOKENS", "").split(",") if t}
    if not tokens:
        raise_usage("set ZENODO_DOUBLE_TOKENS (comma-separated) to the tokens the double accepts")
    faults = None
    if args.faults:
        import dataclasses

        known = [field.name for field in dataclasses.fields(Faults)]
        unknown = sorted(set(args.faults) - set(known))
        if unknown:
            raise_usage(f"--faults: {', '.join(unknown)} is no fault of the double (known: {', '.join(known)})")
        try:
            faults = Faults(**args.faults)
        except (TypeError, ValueError) as exc:
            raise_usage(f"--faults: {exc}")
    from archiver.zenodo.double import store

    repository = args.repository
    limits = (store.RDM_PER_MINUTE, store.RDM_PER_HOUR) if repository else (100, 5000)
    hourly = limits[1] if args.hourly_limit is None else args.hourly_limit
    double = ZenodoDouble(
        tokens=tokens, port=args.port, rate_limit=args.rate_limit or limits[0], faults=faults, window=args.window,
        hourly_limit=hourly or None, index_lag=args.index_lag, repository=repository,
        doi_prefix=args.doi_prefix or (store.REPOSITORY_DOI_PREFIX if repository else store.DOI_PREFIX),
    ).start()
    kind = "InvenioRDM repository double" if repository else "Zenodo double"
    print(f"{kind} listening on {double.api_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        double.stop()
    return EXIT_OK

