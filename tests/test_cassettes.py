"""The deposit flow replayed from pytest-recording cassettes (record_mode=none in CI).

Cassettes are recorded against the local double (`pytest --record-mode=rewrite tests/test_cassettes.py`)
or, with `make record-sandbox`, against the real Zenodo sandbox. Requests match on method and path,
so a replay needs no server; the Authorization header is never written to a cassette.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from archiver.deposit.adapters import port_for
from archiver.deposit.runner import run_deposit
from archiver.policy import DEFAULT_POLICY
from archiver.zenodo.double import Faults, ZenodoDouble
from archiver.zenodo.legacy_client import LegacyClient
from archiver.zenodo.target import SANDBOX_API, resolve_target
from conftest import EXAMPLES, run_cli

pytestmark = pytest.mark.e2e  # an end-to-end suite: `pytest -m 'not e2e'` runs the unit tests alone

CASSETTES = Path(__file__).parent / "cassettes"
DOUBLE_TOKEN = "cassette-recording-token-0123456789abcdef"
REPLAY_URL = "http://127.0.0.1:9/api"  # nothing listens there: a replay that missed would fail loudly


def _links_to_replay_url(response):
    """Links in recorded answers name the recording server; a replay talks to REPLAY_URL, and
    archiver uses only links on the origin it talks to."""
    body = response["body"].get("string")
    if isinstance(body, bytes):
        response["body"]["string"] = re.sub(rb"(http://127\.0\.0\.1:\d+|https://sandbox\.zenodo\.org)", b"http://127.0.0.1:9", body)
    return response


@pytest.fixture(scope="module")
def vcr_config():
    return {
        "filter_headers": ["authorization"], "match_on": ["method", "path"], "decode_compressed_response": True,
        "before_record_response": _links_to_replay_url,
    }


@pytest.fixture
def zenodo(record_mode, request):
    """(API URL, token) for this run: replay, record against the double, or record against the sandbox."""
    faults = getattr(request, "param", None)
    if record_mode == "none":
        yield REPLAY_URL, "replay-token"
    elif os.environ.get("ARCHIVER_RECORD_TARGET") == "sandbox":
        yield SANDBOX_API, os.environ["ZENODO_SANDBOX_TOKEN"]
    else:
        # no index lag: the recording client does not sleep, and a replay has no lag to wait out
        with ZenodoDouble(tokens={DOUBLE_TOKEN}, rate_limit=10_000, faults=faults, index_lag=0) as double:
            yield double.api_url, DOUBLE_TOKEN


def _export(tmp_path):
    out = tmp_path / "export"
    assert run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code == 0
    return out


def _client(url, token):
    target = resolve_target(zenodo_url=url, environ={"ZENODO_SANDBOX_TOKEN": token})
    return port_for(LegacyClient(target, sleep=lambda seconds: None, backoff=0.0))


@pytest.mark.vcr
def test_happy_path_deposit_replays(zenodo, tmp_path):
    url, token = zenodo
    export_dir = _export(tmp_path)
    summary = run_deposit(export_dir, _client(url, token), DEFAULT_POLICY, only=["SRCH:4A7C19E2"])
    (result,) = summary.results
    assert result.action == "deposited", result.detail
    assert re.fullmatch(r"10\.5072/zenodo\.\d+", result.doi)
    # the lookup by record id, create with its metadata, two uploads, the check for a rival deposition, publish
    assert summary.requests == 6
    manifest = (export_dir / "manifests" / "SRCH_4A7C19E2.json").read_text()
    assert result.doi in manifest and '"Registered"' in manifest


@pytest.mark.vcr
def test_refused_token_is_reported_per_record(zenodo, tmp_path):
    url, _token = zenodo
    export_dir = _export(tmp_path)
    summary = run_deposit(export_dir, _client(url, "not-the-right-token"), DEFAULT_POLICY, only=["SRCH:4A7C19E2"])
    (result,) = summary.results
    assert result.action == "failed" and "403" in result.detail and "Permission denied" in result.detail
    assert summary.exit_code == 2 and summary.token_refused  # a refused token: the run could not start


@pytest.mark.vcr
@pytest.mark.parametrize("zenodo", [Faults(publish_504_share=1.0)], indirect=True, ids=["publish-504"])
def test_publish_answered_504_is_read_back_not_repeated(zenodo, tmp_path):
    url, token = zenodo
    export_dir = _export(tmp_path)
    summary = run_deposit(export_dir, _client(url, token), DEFAULT_POLICY, only=["SRCH:2B9E4410"])
    (result,) = summary.results
    assert result.action == "deposited"
    assert summary.requests == 7  # the flow's six, plus one GET that found the publish had worked


TOKEN_SHAPES = [
    re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"access_token=[A-Za-z0-9]{8,}"),
    re.compile(r"(?im)^\s*-?\s*authorization\s*:"),
]


def test_no_cassette_holds_a_token():
    cassettes = sorted(CASSETTES.rglob("*.yaml"))
    assert len(cassettes) >= 3, "cassettes are missing: record them (see this module's docstring)"
    for path in cassettes:
        text = path.read_text()
        for pattern in TOKEN_SHAPES:
            assert not pattern.search(text), f"{path}: {pattern.pattern}"
        assert DOUBLE_TOKEN not in text and "not-the-right-token" not in text
        sandbox_token = os.environ.get("ZENODO_SANDBOX_TOKEN")
        if sandbox_token:
            assert sandbox_token not in text
