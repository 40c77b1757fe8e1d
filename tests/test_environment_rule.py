"""Only --production reaches Zenodo's production, and the sandbox is never reached with it: the URL
cannot pick the environment (and so the token's variable, and what manifests record)."""

from __future__ import annotations

import pytest
import requests

from archiver.findings import ArchiverError
from archiver.zenodo.target import SANDBOX_API, api_url_of, resolve_target, zenodo_host
from conftest import run_cli

PRODUCTION_SPELLINGS = [
    "https://zenodo.org/api", "https://zenodo.org/api/", "https://ZENODO.ORG/api", "https://www.zenodo.org/api",
    "https://Www.Zenodo.Org/api/", "https://zenodo.org./api", "https://zenodo.org:443/api", " https://zenodo.org/api ",
]
SANDBOX_SPELLINGS = ["https://sandbox.zenodo.org/api", "https://SANDBOX.zenodo.org/api/", "https://www.sandbox.zenodo.org/api"]


@pytest.mark.parametrize("url", PRODUCTION_SPELLINGS)
def test_production_host_in_any_spelling_needs_the_flag(url):
    assert zenodo_host(url) == "zenodo.org"
    with pytest.raises(ArchiverError) as raised:
        resolve_target(zenodo_url=url, environ={"ZENODO_SANDBOX_TOKEN": "t"})
    assert raised.value.code == "production-flag" and "--production" in raised.value.message
    assert resolve_target(production=True, zenodo_url=url, environ={"ZENODO_TOKEN": "t"}).environment == "production"


@pytest.mark.parametrize("url", SANDBOX_SPELLINGS)
def test_sandbox_host_with_the_flag_is_refused(url):
    assert zenodo_host(url) == "sandbox.zenodo.org"
    with pytest.raises(ArchiverError) as raised:
        api_url_of(True, url)
    assert raised.value.code == "production-flag" and "--production" in raised.value.message
    assert api_url_of(False, url) == url.strip().rstrip("/")


@pytest.mark.parametrize("url", ["https://zenodo.org.example.com/api", "https://notzenodo.org/api", "http://127.0.0.1:5000/api",
                                 "https://researchdata.tuwien.ac.at/api"])
def test_other_servers_are_not_zenodo(url):
    assert zenodo_host(url) is None
    assert api_url_of(False, url) == url and api_url_of(True, url) == url


def test_defaults_follow_the_flag():
    assert api_url_of(False) == SANDBOX_API and api_url_of(True) == "https://zenodo.org/api"


@pytest.mark.parametrize("argv", [
    ("deposit", "{out}", "--zenodo-url", "https://www.Zenodo.org/api/"),
    ("deposit", "{out}", "--dry-run", "--zenodo-url", "https://zenodo.org/api"),
    ("deposit", "{out}", "--production", "--zenodo-url", "https://sandbox.zenodo.org/api"),
    ("status", "{out}", "--remote", "--zenodo-url", "https://zenodo.org/api"),
    ("reconcile", "{out}", "--zenodo-url", "https://zenodo.org/api"),
])
def test_cli_refuses_before_anything_is_read_or_sent(argv, tmp_path, monkeypatch):
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", "sandbox-token")
    monkeypatch.setenv("ZENODO_TOKEN", "production-token")
    monkeypatch.setattr(requests.Session, "send", lambda *a, **k: pytest.fail("a request was sent"))
    missing = tmp_path / "no-such-export"  # not read: the refusal comes first
    result = run_cli(*(part.format(out=missing) for part in argv))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archiver: ") and lines[0].endswith("[production-flag]"), result.err
    assert "--production" in lines[0] and "does not exist" not in lines[0]


@pytest.mark.parametrize(("url", "says"), [
    ("http://127.0.0.1:99999/api", "is not a URL (Port out of range 0-65535)"),
    ("http://[::1/api", "is not a URL (Invalid IPv6 URL)"),
    ("http://user:secret@127.0.0.1:8777/api", "names a user or password: refused, nothing stored"),
    ("http://127.0.0.1:8777/api?x=1", "has a query or fragment"),
    ("ftp://127.0.0.1/api", "is not an http(s) URL with a host"),
])
def test_a_url_archiver_cannot_use_is_one_line_never_a_traceback_nor_an_echoed_password(url, says, tmp_path, monkeypatch):
    monkeypatch.setenv("ZENODO_SANDBOX_TOKEN", "sandbox-token")
    monkeypatch.setattr(requests.Session, "send", lambda *a, **k: pytest.fail("a request was sent"))
    for command in (("deposit", str(tmp_path), "--dry-run"), ("reconcile", str(tmp_path)), ("status", str(tmp_path), "--remote")):
        result = run_cli(*command, "--zenodo-url", url)
        lines = result.err.strip().splitlines()
        assert result.code == 2 and len(lines) == 1 and lines[0].endswith("[usage]") and says in lines[0], result.err
        assert "secret" not in result.err and "Traceback" not in result.err
