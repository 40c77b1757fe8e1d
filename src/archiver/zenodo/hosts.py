"""Zenodo's hosts, API URLs, token variables and DOI prefixes, and a repository's name in messages:
what the policy and the target both know (the target adds the token; the policy names another repository)."""

from __future__ import annotations

from urllib.parse import urlsplit

from archiver.vocabulary import Environment

SANDBOX_API = "https://sandbox.zenodo.org/api"
PRODUCTION_API = "https://zenodo.org/api"
PRODUCTION_HOST, SANDBOX_HOST = "zenodo.org", "sandbox.zenodo.org"
DEFAULT_SERVERS = {Environment.SANDBOX.value: SANDBOX_API, Environment.PRODUCTION.value: PRODUCTION_API}
# Each environment's token has its own variable: a sandbox run can never pick up the production token.
TOKEN_VARIABLES = {Environment.SANDBOX.value: "ZENODO_SANDBOX_TOKEN", Environment.PRODUCTION.value: "ZENODO_TOKEN"}
# Zenodo mints 10.5281/zenodo.<id>, its sandbox 10.5072/zenodo.<id> (another server: --doi-prefix)
DOI_PREFIXES = {Environment.SANDBOX.value: "10.5072", Environment.PRODUCTION.value: "10.5281"}


def zenodo_host(url: str) -> str | None:
    """``zenodo.org`` or ``sandbox.zenodo.org`` when ``url`` names one of Zenodo's own hosts, in any
    spelling (upper case, ``www.``, a trailing dot or slash, a port); None for any other server."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")  # hostname is lower case already
    except ValueError:
        return None
    host = host.removeprefix("www.")
    return host if host in (PRODUCTION_HOST, SANDBOX_HOST) else None


def name_of(repository: str | None) -> str:
    """A repository in a message's words: Zenodo (``None``), or the host of the one a policy names."""
    return "Zenodo" if repository is None else (urlsplit(repository).netloc or repository)
