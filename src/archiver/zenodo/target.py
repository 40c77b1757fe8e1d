"""Where deposits go: the server's API URL, its environment (Zenodo's sandbox or production, or a repository the policy names), the token and DOI prefix."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from archiver.findings import ArchiverError, printable
from archiver.version import __version__
from archiver.vocabulary import Environment
from archiver.zenodo.hosts import (  # noqa: F401 - where deposits go, as the policy knows it too
    DEFAULT_SERVERS,
    DOI_PREFIXES,
    PRODUCTION_API,
    PRODUCTION_HOST,
    SANDBOX_API,
    SANDBOX_HOST,
    TOKEN_VARIABLES,
    name_of,
    zenodo_host,
)

USER_AGENT = f"archiver/{__version__} (research-synthesis archiver; python-requests)"
# The list endpoints' largest page for a logged-in user (ZenodoArgsSchema.validate_max_page_size),
# and the most hits a search shows (OpenSearch's result window).
PAGE_SIZE = 100
MAX_RESULTS = 10_000


@dataclass(frozen=True)
class Target:
    """Where deposits go: the API base URL, where they count (Zenodo's environment, or a named
    repository's origin), the token, and the DOI prefix the server mints under."""

    api_url: str
    environment: str  # an Environment value, or the origin of a repository the policy names
    token: str
    doi_prefix: str = ""  # the DOI prefix the server mints under; by environment when empty
    repository: str | None = None  # the origin of a repository the policy names ([repository]); None for Zenodo
    repository_token_variable: str = ""  # the variable its token came from

    @property
    def is_zenodo(self) -> bool:
        """Zenodo's own DOI form and words (its sandbox, production, or a server standing in for them)."""
        return self.repository is None

    @property
    def minted_prefix(self) -> str:
        return self.doi_prefix or DOI_PREFIXES[self.environment]

    @property
    def token_variable(self) -> str:
        return self.repository_token_variable or TOKEN_VARIABLES[self.environment]

    @property
    def name(self) -> str:
        return name_of(self.repository)

    def minted_doi(self, record_id: object) -> str:
        """The DOI the server mints for ``record_id``: Zenodo's setting is ``{prefix}/zenodo.{id}``,
        InvenioRDM's default ``{prefix}/{id}`` (its DATACITE_FORMAT)."""
        return f"{self.minted_prefix}/zenodo.{record_id}" if self.is_zenodo else f"{self.minted_prefix}/{record_id}"

    def __repr__(self) -> str:  # never show the token
        return f"Target(api_url={self.api_url!r}, environment={self.environment!r}, token=***)"


class NamedRepository(Protocol):
    """A repository the policy names (its ``[repository]`` table)."""

    @property
    def url(self) -> str: ...

    @property
    def doi_prefix(self) -> str: ...

    @property
    def token_variable(self) -> str: ...


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an API URL: what a manifest records as the repository."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def environment_of(production: bool) -> str:
    return str((Environment.PRODUCTION if production else Environment.SANDBOX).value)


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


def _http_allowed(api_url: str) -> None:
    scheme = urlsplit(api_url).scheme
    if scheme == "http" and urlsplit(api_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ArchiverError("plain http is only allowed to a local server; use https", code="usage")


def resolve_target(
    *, production: bool = False, zenodo_url: str | None = None, environ=None, doi_prefix: str | None = None,
    named: NamedRepository | None = None,
) -> Target:
    """The sandbox unless ``production``; the token from that environment's variable, never the
    other's. With ``named`` (the policy's ``[repository]``) that repository, its prefix and its
    token variable, and nothing else: a URL or flag that names another server is refused."""
    environ = os.environ if environ is None else environ
    if named is not None:
        return _named_target(named, production, zenodo_url, doi_prefix, environ)
    environment = environment_of(production)
    variable = TOKEN_VARIABLES[environment]
    api_url = api_url_of(production, zenodo_url)
    _http_allowed(api_url)
    token = environ.get(variable, "").strip()
    if not token:
        where = "production (--production)" if production else "the sandbox"
        raise ArchiverError(f"{variable} is not set: a token for {where} is needed before anything is sent", code="no-token")
    if doi_prefix is not None and not re.fullmatch(r"10\.\d{4,9}", doi_prefix):
        raise ArchiverError(f"--doi-prefix {doi_prefix!r} is not a DOI prefix such as 10.5072", code="usage")
    return Target(api_url, environment, token, doi_prefix or "")


def _named_target(named: NamedRepository, production: bool, zenodo_url: str | None, doi_prefix: str | None, environ) -> Target:
    api_url = named.url.strip().rstrip("/")
    _check_url(api_url)
    _http_allowed(api_url)
    if production:
        raise ArchiverError(f"--production is Zenodo's; the policy names the repository {api_url}: drop --production", code="usage")
    if zenodo_url is not None and zenodo_url.strip().rstrip("/") != api_url:
        raise ArchiverError(f"--zenodo-url {printable(zenodo_url, 120)} is not the repository the policy names ({api_url}): "
                            "nothing is sent to a repository the policy does not name", code="usage")
    if doi_prefix is not None and doi_prefix != named.doi_prefix:
        raise ArchiverError(f"--doi-prefix {doi_prefix!r} is not the prefix the policy names for {api_url} ({named.doi_prefix})",
                            code="usage")
    token = environ.get(named.token_variable, "").strip()
    if not token:
        raise ArchiverError(f"{named.token_variable} is not set: a token for {api_url} is needed before anything is sent", code="no-token")
    origin = origin_of(api_url)
    return Target(api_url, origin, token, named.doi_prefix, repository=origin, repository_token_variable=named.token_variable)


def minted_check(
    target: Target, record_id: object, concept_id: object, published: bool, doi: str | None, concept_doi: str | None,
    mismatch: Callable[..., Exception],
) -> None:
    """Both APIs: a published record's DOI is the one the server mints for its id, its concept DOI
    (when given) the one of its concept (``Target.minted_doi``); anything else is ``mismatch``. The
    DOI of this very id under another prefix says the prefix archiver expects is not the server's
    (``doi-prefix-mismatch``, which stops the run: every other record would be published the same way)."""
    if not published:
        raise mismatch(f"deposition {record_id}: the answer says it is not published")
    expected = target.minted_doi(record_id)
    if doi != expected:
        suffix = expected.split("/", 1)[1]
        if isinstance(doi, str) and "/" in doi and doi.split("/", 1)[1] == suffix:
            raise mismatch(
                f"deposition {record_id} is published as DOI {doi!r}, under another prefix than {target.minted_prefix}, which archiver "
                f"expects: it is not registered, and this run publishes nothing more; if {doi.split('/', 1)[0]} is the repository's "
                "prefix, correct the policy's doi_prefix (or --doi-prefix): the next run registers it and publishes the rest",
                code="doi-prefix-mismatch",
            )
        raise mismatch(f"deposition {record_id}: the answer names DOI {doi!r}, not {expected}")
    if concept_doi is not None and concept_doi != target.minted_doi(concept_id):
        raise mismatch(f"deposition {record_id}: concept DOI {concept_doi!r} is not that of concept {concept_id}")
