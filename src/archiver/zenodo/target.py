"""Where deposits go: the server's API URL, its environment (sandbox or production), the token and DOI prefix."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from archiver.findings import ArchiverError, printable
from archiver.version import __version__
from archiver.vocabulary import Environment

SANDBOX_API = "https://sandbox.zenodo.org/api"
PRODUCTION_API = "https://zenodo.org/api"
PRODUCTION_HOST, SANDBOX_HOST = "zenodo.org", "sandbox.zenodo.org"
DEFAULT_SERVERS = {Environment.SANDBOX.value: SANDBOX_API, Environment.PRODUCTION.value: PRODUCTION_API}
# Each environment's token has its own variable: a sandbox run can never pick up the production token.
TOKEN_VARIABLES = {Environment.SANDBOX.value: "ZENODO_SANDBOX_TOKEN", Environment.PRODUCTION.value: "ZENODO_TOKEN"}
# Zenodo mints 10.5281/zenodo.<id>, its sandbox 10.5072/zenodo.<id> (another server: --doi-prefix)
DOI_PREFIXES = {Environment.SANDBOX.value: "10.5072", Environment.PRODUCTION.value: "10.5281"}
USER_AGENT = f"archiver/{__version__} (research-synthesis archiver; python-requests)"
# The list endpoints' largest page for a logged-in user (ZenodoArgsSchema.validate_max_page_size),
# and the most hits a search shows (OpenSearch's result window).
PAGE_SIZE = 100
MAX_RESULTS = 10_000


@dataclass(frozen=True)
class Target:
    """Where deposits go: the API base URL, the environment recorded in manifests, and the token."""

    api_url: str
    environment: str  # an Environment value
    token: str
    doi_prefix: str = ""  # the DOI prefix the server mints under; by environment when empty

    @property
    def minted_prefix(self) -> str:
        return self.doi_prefix or DOI_PREFIXES[self.environment]

    @property
    def token_variable(self) -> str:
        return TOKEN_VARIABLES[self.environment]

    def __repr__(self) -> str:  # never show the token
        return f"Target(api_url={self.api_url!r}, environment={self.environment!r}, token=***)"


def environment_of(production: bool) -> str:
    return str((Environment.PRODUCTION if production else Environment.SANDBOX).value)


def zenodo_host(url: str) -> str | None:
    """``zenodo.org`` or ``sandbox.zenodo.org`` when ``url`` names one of Zenodo's own hosts, in any
    spelling (upper case, ``www.``, a trailing dot or slash, a port); None for any other server."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")  # hostname is lower case already
    except ValueError:
        return None
    host = host.removeprefix("www.")
    return host if host in (PRODUCTION_HOST, SANDBOX_HOST) else None


def _check_url(url: str) -> None:
    """A server URL archiver can talk to: http(s), a host, a port in range; no user or password
    (tokens go only in the environment), no query or fragment (one URL names one server)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError as exc:
        raise ArchiverError(f"--zenodo-url {printable(url, 120)!r} is not a URL ({exc})", code="usage") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ArchiverError(f"--zenodo-url {printable(url, 120)!r} is not an http(s) URL with a host", code="usage")
    if parts.username is not None or parts.password is not None:
        raise ArchiverError("--zenodo-url names a user or password: refused, nothing stored (a token goes only in "
                            "ZENODO_SANDBOX_TOKEN or ZENODO_TOKEN)", code="usage")
    if parts.query or parts.fragment:
        raise ArchiverError(f"--zenodo-url {printable(url, 120)!r} has a query or fragment: name the API's base URL only", code="usage")


def api_url_of(production: bool, zenodo_url: str | None = None) -> str:
    """The API base URL: ``zenodo_url`` when given, else the environment's own. Zenodo's production
    is reached only with ``production`` and its sandbox only without it, whatever the URL's spelling:
    the environment recorded in manifests and the token's variable follow the flag, so a URL that
    disagrees with it would send one environment's token to the other and record the wrong one."""
    url = (zenodo_url or (PRODUCTION_API if production else SANDBOX_API)).strip().rstrip("/")
    _check_url(url)
    host = zenodo_host(url)
    if host == PRODUCTION_HOST and not production:
        raise ArchiverError(
            f"{url} is Zenodo's production, which only --production reaches (its token in ZENODO_TOKEN); "
            f"without it deposits go to the sandbox, {SANDBOX_API}", code="production-flag",
        )
    if host == SANDBOX_HOST and production:
        raise ArchiverError(
            f"--production names Zenodo's production, but the URL {url} is its sandbox: drop --production "
            "to deposit to the sandbox", code="production-flag",
        )
    return url


def resolve_target(*, production: bool = False, zenodo_url: str | None = None, environ=None, doi_prefix: str | None = None) -> Target:
    """The sandbox unless ``production``; the token from that environment's variable, never the other's."""
    environ = os.environ if environ is None else environ
    environment = environment_of(production)
    variable = TOKEN_VARIABLES[environment]
    api_url = api_url_of(production, zenodo_url)
    scheme = urlsplit(api_url).scheme
    if scheme not in ("https", "http"):
        raise ArchiverError(f"--zenodo-url {api_url!r} is not an http(s) URL", code="usage")
    if scheme == "http" and urlsplit(api_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ArchiverError("plain http is only allowed to a local server; use https", code="usage")
    token = environ.get(variable, "").strip()
    if not token:
        where = "production (--production)" if production else "the sandbox"
        raise ArchiverError(f"{variable} is not set: a token for {where} is needed before anything is sent", code="no-token")
    if doi_prefix is not None and not re.fullmatch(r"10\.\d{4,9}", doi_prefix):
        raise ArchiverError(f"--doi-prefix {doi_prefix!r} is not a DOI prefix such as 10.5072", code="usage")
    return Target(api_url, environment, token, doi_prefix or "")


def minted_check(
    target: Target, record_id: object, concept_id: object, published: bool, doi: str | None, concept_doi: str | None,
    mismatch: Callable[[str], Exception],
) -> None:
    """Both APIs: a published record's DOI is the one Zenodo mints for its id ({prefix}/zenodo.{id}),
    its concept DOI (when given) the one of its concept; anything else is ``mismatch``."""
    prefix = target.minted_prefix
    if not published:
        raise mismatch(f"deposition {record_id}: the answer says it is not published")
    if doi != f"{prefix}/zenodo.{record_id}":
        raise mismatch(f"deposition {record_id}: the answer names DOI {doi!r}, not {prefix}/zenodo.{record_id}")
    if concept_doi is not None and concept_doi != f"{prefix}/zenodo.{concept_id}":
        raise mismatch(f"deposition {record_id}: concept DOI {concept_doi!r} is not that of concept {concept_id}")
