"""Shared fixtures: the seed pages, a valid base manifest, and an in-process CLI runner."""

from __future__ import annotations

import copy
import io
import json
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = REPO.parent / "shared" / "seed-records"
EXAMPLES = REPO / "examples" / "records"

BASE_MANIFEST = {
    "contract": "paper-manifest-v1.1",
    "id": "SRCH:0123ABCD",
    "title": "A Test Synthesis of Routing Methods",
    "research_question": "Which routing method balances expert load best at equal compute?",
    "abstract": "A synthesis written for the test suite.",
    "submitted": "2026-06-01",
    "review_score": 7.5,
    "verification": {"level": "L2", "label": "Source-grounded claims", "source_grounded_claims": 6},
    "gate": {"status": "Unverified", "evaluated": "2026-06-10T06:30:49+00:00"},
    "quality_tier": {"tier": "DOI grade", "basis": "Review score and verified-claim count meet DOI-grade public quality thresholds."},
    "quality_dimensions": {"evidence_strength": "MEDIUM", "reproducibility_status": "HIGH"},
    "correction_record": {"contract": "correction-record-v1", "status": "CURRENT", "correction_count": 0, "corrections": []},
    "provenance": {
        "contract": "source-provenance-v1",
        "publisher": "Test Publisher",
        "public_provenance": {"level": "L3", "label": "Claim aggregate record"},
        "report_artifact": {"status": "Available"},
        "external_record": {"status": "Not registered"},
    },
}


SEED_003 = "003_e8bdc2e24ab10b64.txt"  # SRCH:08EA5386: DOI grade, registered, title cut off, Gate 2 evaluated


def seed_003_manifest(*, before_deposit: bool = False) -> dict:
    """Seed page 003 as its manifest, the base the boundary tests change one value of; with
    ``before_deposit``, as it was before its DOI (external record Not registered, provenance L3:
    the only two values changed from the page). Skips when ../shared is not beside this clone."""
    if not SEED_DIR.is_dir():
        pytest.skip(f"seed records not present at {SEED_DIR} (../shared is not beside this clone)")
    from archiver.readers import read_file

    [result] = list(read_file(str(SEED_DIR / SEED_003)))
    assert result.valid, result.errors
    manifest = result.record.to_manifest()
    if before_deposit:
        manifest["provenance"]["external_record"] = {"status": "Not registered"}
        manifest["provenance"]["public_provenance"] = {"level": "L3", "label": "Claim aggregate record"}
    return manifest


def base_manifest() -> dict:
    return copy.deepcopy(BASE_MANIFEST)


@pytest.fixture
def manifest() -> dict:
    return base_manifest()


@pytest.fixture
def seed_dir() -> Path:
    if not SEED_DIR.is_dir():
        pytest.skip(f"seed records not present at {SEED_DIR} (../shared is not beside this clone)")
    return SEED_DIR


@dataclass
class CliRun:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def run_cli(*argv: str, stdin: bytes | None = None) -> CliRun:
    """Run the archiver CLI in-process and capture what it prints."""
    from archiver.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in argv])
    finally:
        sys.stdin = old_stdin
    return CliRun(code, out.getvalue(), err.getvalue())


class FakeClock:
    """Seconds as they pass, plus every sleep a test or a client reports to ``advance`` (which
    then need not be waited): the double's index lag and the client's waits agree without the
    suite waiting, and a client that really sleeps (the CLI in-process) sees the lag pass too."""

    def __init__(self, start: float = 1000.0) -> None:
        self.start = start
        self.began = time.monotonic()
        self.skipped = 0.0

    @property
    def now(self) -> float:
        return self.start + (time.monotonic() - self.began) + self.skipped

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.skipped += max(seconds, 0.0)


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def port_to(double, token: str, **options):
    """A port to ``double`` through the API its test chose (``double.api_name``), its waits
    reported to the double's fake clock instead of slept; as a repository the policy names, when
    the double speaks as one."""
    from archiver.deposit.adapters import open_port
    from archiver.zenodo.target import resolve_target

    named = policy_for(double).repository
    environ = {REPOSITORY_TOKEN_VARIABLE if named else "ZENODO_SANDBOX_TOKEN": token}
    target = resolve_target(zenodo_url=None if named else double.api_url, environ=environ, named=named)
    api = "records" if named else getattr(double, "api_name", "deposit")
    return open_port(api, target, sleep=double.state.clock.advance, backoff=0.0, **options)


# ---------------------------------------------------------------------------- the double as another repository
# The same guarantees are held against the double speaking as a plain InvenioRDM repository: the
# policy names it ([repository]), its token has a variable of its own.

REPOSITORY_TOKEN_VARIABLE = "ARCHIVER_TEST_REPOSITORY_TOKEN"


def double_of(kind: str, token: str, **options):
    """The double a test parametrized over "deposit", "records" and "repository" runs against:
    Zenodo through either API, or another InvenioRDM repository (through the records API)."""
    from archiver.zenodo.double import ZenodoDouble

    make = ZenodoDouble.as_repository if kind == "repository" else ZenodoDouble
    running = make(tokens={token}, **options)
    running.api_name = "records" if kind == "repository" else kind
    return running


def policy_for(double, base=None):
    """``base`` (the default policy) as a deposit to ``double`` needs it: naming the repository when
    the double speaks as one (then api is records), unchanged for Zenodo."""
    from archiver.policy import DEFAULT_POLICY, RepositoryPolicy

    base = base or DEFAULT_POLICY
    if not double.state.repository:
        return base
    named = RepositoryPolicy(url=double.api_url, doi_prefix=double.state.doi_prefix, token_variable=REPOSITORY_TOKEN_VARIABLE)
    return base.model_copy(update={"api": "records", "repository": named})


def shown_id(double, number: int):
    """The id a manifest records for the double's deposition ``number``: Zenodo's number, or the repository's id."""
    return double.state.pid(number) if double.state.repository else number


def cli_server(double, folder: Path, monkeypatch, token: str) -> list[str]:
    """The options that point a CLI command at ``double`` (the token put in its variable): the
    server for Zenodo, a policy file naming it for a repository."""
    if not double.state.repository:
        monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", token)
        return ["--zenodo-url", double.api_url]
    monkeypatch.setenv(REPOSITORY_TOKEN_VARIABLE, token)
    policy = folder / "repository-policy.toml"
    named = policy_for(double).repository
    policy.write_text(f'[repository]\nurl = "{named.url}"\ndoi_prefix = "{named.doi_prefix}"\n'
                      f'token_variable = "{named.token_variable}"\n', encoding="utf-8")
    return ["--config", str(policy)]
