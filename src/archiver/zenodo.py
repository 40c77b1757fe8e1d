"""Zenodo deposit API client: one session, a token sent only to its host, paced and retried requests.

Only requests that are safe to repeat are retried here (GET, PUT, DELETE, and anything answered
429, which Zenodo did not process). A POST that creates or publishes may have taken effect even
when its answer was lost; the deposit stage decides what to do after re-reading the server.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from archiver import __version__
from archiver.findings import ArchiverError
from archiver.vocabulary import Environment

SANDBOX_API = "https://sandbox.zenodo.org/api"
PRODUCTION_API = "https://zenodo.org/api"
# Each environment's token has its own variable: a sandbox run can never pick up the production token.
TOKEN_VARIABLES = {Environment.SANDBOX.value: "ZENODO_SANDBOX_TOKEN", Environment.PRODUCTION.value: "ZENODO_TOKEN"}
USER_AGENT = f"archiver/{__version__} (research-synthesis archiver; python-requests)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
# The list endpoint's largest page for a logged-in user (ZenodoArgsSchema.validate_max_page_size),
# and the most hits a search shows (OpenSearch's result window).
PAGE_SIZE = 100
MAX_RESULTS = 10_000


@dataclass(frozen=True)
class Target:
    """Where deposits go: the API base URL, the environment recorded in manifests, and the token."""

    api_url: str
    environment: str  # an Environment value
    token: str

    @property
    def token_variable(self) -> str:
        return TOKEN_VARIABLES[self.environment]

    def __repr__(self) -> str:  # never show the token
        return f"Target(api_url={self.api_url!r}, environment={self.environment!r}, token=***)"


def environment_of(production: bool) -> str:
    return str((Environment.PRODUCTION if production else Environment.SANDBOX).value)


def api_url_of(production: bool, zenodo_url: str | None = None) -> str:
    """The API base URL: ``zenodo_url`` when given, else the environment's own."""
    return (zenodo_url or (PRODUCTION_API if production else SANDBOX_API)).rstrip("/")


def resolve_target(*, production: bool = False, zenodo_url: str | None = None, environ=None) -> Target:
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
    return Target(api_url, environment, token)


# --------------------------------------------------------------------------- Zenodo's answers, typed
# Only what archiver reads is declared; everything else Zenodo sends is ignored, so a field
# Zenodo adds never breaks a deposit, and one archiver needs but does not get is a clear error.


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DepositionLinks(_Answer):
    bucket: str | None = None  # absent from list entries: read the deposition itself for it
    html: str | None = None
    latest_draft: str | None = None  # newversion before 2023 answered with the old deposition


class DepositionFile(_Answer):
    id: str
    filename: str
    checksum: str = ""


class DepositionMetadata(_Answer):
    notes: str = ""
    keywords: tuple[str, ...] = ()
    version: str | None = None

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords_as_texts(cls, value: object) -> object:
        # what archiver does not recognise as a list of texts is no keyword of its records
        return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


class Deposition(_Answer):
    """A deposition as the legacy deposit API returns it (one item of a list, or one GET)."""

    id: int
    conceptrecid: str | None = None
    submitted: bool = False
    doi: str | None = None  # a draft may already hold its reserved DOI: only a submitted one is registered
    conceptdoi: str | None = None  # the DOI of all versions, minted at the concept's first publish
    links: DepositionLinks = DepositionLinks()
    files: tuple[DepositionFile, ...] = ()
    metadata: DepositionMetadata = DepositionMetadata()

    @field_validator("conceptrecid", mode="before")
    @classmethod
    def _concept_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("doi", "conceptdoi", mode="before")
    @classmethod
    def _empty_doi_is_none(cls, value: object) -> object:
        return value or None

    @property
    def registered_doi(self) -> str | None:
        """The DOI once the deposition is published, else None."""
        return self.doi if self.submitted else None


class UploadedFile(_Answer):
    """A bucket PUT's answer; its checksum is ``md5:<hex>``."""

    key: str | None = None
    size: int | None = None
    checksum: str = ""

    @property
    def md5(self) -> str:
        return self.checksum.removeprefix("md5:")


def _parse(model: type[_Answer], response: requests.Response, what: str) -> object:
    try:
        return model.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[1] if isinstance(exc, ValidationError) else "not JSON"
        raise ZenodoError(
            f"{what}: Zenodo's answer is not a {model.__name__} ({first.strip()})", status=response.status_code, code="answer-invalid"
        ) from None


class ZenodoError(ArchiverError):
    """Zenodo answered with an error (after retries); ``status`` is the HTTP status or None."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "zenodo-error") -> None:
        super().__init__(message, code=code)
        self.status = status


class BearerToHost(requests.auth.AuthBase):
    """Adds the token only to requests for the configured scheme, host and port."""

    def __init__(self, token: str, api_url: str) -> None:
        self._token = token
        parts = urlsplit(api_url)
        self._origin = (parts.scheme, parts.hostname, parts.port)

    def __call__(self, request):
        parts = urlsplit(request.url)
        if (parts.scheme, parts.hostname, parts.port) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"
        else:
            request.headers.pop("Authorization", None)
        return request

    def __repr__(self) -> str:
        return "BearerToHost(***)"


class RateLimiter:
    """Spreads requests over the window the server announces, so a batch stays under the limit.

    After each answer it knows how many requests are left (X-RateLimit-Remaining) until when
    (X-RateLimit-Reset); the next request waits for its share of that time.
    """

    def __init__(self, clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self.lock = threading.Lock()
        self.next_at = 0.0
        self.interval = 0.0
        self.blocked_until = 0.0
        self.in_flight = 0  # requests sent by any worker whose answer has not come back

    def wait(self) -> None:
        with self.lock:
            now = self.clock()
            start = max(now, self.next_at, self.blocked_until)
            self.next_at = start + self.interval
            self.in_flight += 1
        if start > now:
            self.sleep(start - now)

    def release(self) -> None:
        """A request ended without an answer to learn from."""
        with self.lock:
            self.in_flight = max(self.in_flight - 1, 0)

    def observe(self, headers, status: int) -> None:
        with self.lock:
            self.in_flight = max(self.in_flight - 1, 0)
        try:
            remaining = int(headers.get("X-RateLimit-Remaining"))
            reset = float(headers.get("X-RateLimit-Reset"))
        except (TypeError, ValueError):
            return
        with self.lock:
            now = self.clock()
            window = max(reset - now, 0.0)
            budget = remaining - self.in_flight  # the other workers' requests are already on their way
            self.interval = window / budget if budget > 0 else window
            if budget <= 0:
                self.blocked_until = max(self.blocked_until, reset)
            if status == 429:
                # Retry-After on a 429 is the server's instruction; elsewhere it only counts down the window
                wait = _retry_after(headers, window) if headers.get("Retry-After") else window
                self.blocked_until = max(self.blocked_until, now + wait)
            elif remaining <= 0:
                self.blocked_until = max(self.blocked_until, reset)


def _retry_after(headers, default: float) -> float:
    try:
        return max(float(headers.get("Retry-After")), 0.0)
    except (TypeError, ValueError):
        return default


def _error_code(status: int, message: str) -> str:
    """A refused token is 401 (older Zenodo) or 403 "Permission denied." (the current service's
    answer to a missing or wrong token); another 403, such as "Bucket is locked." after a publish,
    is about the request, not the token."""
    code = "zenodo-rejected" if status < 500 else "zenodo-error"
    if status == 401 or (status == 403 and message.startswith("Permission denied")):
        code = "token-refused"
    return code


def error_message(response: requests.Response) -> str:
    """Zenodo's error text, reading both shapes of errors[]: ``messages`` (a list) and ``message`` (a string)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    parts = [str(body.get("message") or f"HTTP {response.status_code}")]
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        messages = error.get("messages")
        if messages is None and error.get("message") is not None:
            messages = [error["message"]]
        text = "; ".join(str(m) for m in messages or [])
        parts.append(f"{error.get('field', '?')}: {text}")
    return " | ".join(parts)


class ZenodoClient:
    def __init__(
        self,
        target: Target,
        *,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        timeout: tuple[float, float] = (10.0, 120.0),
        max_attempts: int = 8,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.target = target
        self.session = session or requests.Session()
        self.session.auth = BearerToHost(target.token, target.api_url)
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self.limiter = limiter or RateLimiter(sleep=sleep)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.stats = {"requests": 0, "429": 0, "retries": 0}
        self.stats_lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.target.api_url}/{path.lstrip('/')}"

    def scrub(self, text: str) -> str:
        """Remove the token from any text that might be shown (servers can echo requests)."""
        return text.replace(self.target.token, "***") if self.target.token else text

    def _count(self, key: str) -> None:
        with self.stats_lock:
            self.stats[key] += 1

    def send(
        self, method: str, path: str, *, retry: bool, expect: tuple[int, ...], body_factory=None, **kwargs
    ) -> requests.Response:
        """One logical request. ``retry`` says whether it is safe to repeat after a lost answer.

        429 is always retried (the server did not process it). ``body_factory`` makes a fresh body
        (a re-opened stream) for every attempt. Raises ZenodoError on an error answer, or on a lost
        answer that may not be repeated (``status`` None then).
        """
        url = self.url(path)
        attempt = 0
        while True:
            attempt += 1
            self.limiter.wait()
            self._count("requests")
            if body_factory is not None:
                kwargs["data"] = body_factory()
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except BaseException as exc:
                self.limiter.release()
                if not isinstance(exc, (requests.ConnectionError, requests.Timeout)):
                    raise
                if not retry or attempt >= self.max_attempts:
                    raise ZenodoError(
                        self.scrub(f"{method} {url}: no answer ({type(exc).__name__})"), status=None, code="no-answer"
                    ) from None
                self._pause(attempt, None)
                continue
            self.limiter.observe(response.headers, response.status_code)
            if response.status_code in expect:
                return response
            if response.status_code == 429:
                self._count("429")
            if response.status_code in RETRY_STATUSES and (retry or response.status_code == 429) and attempt < self.max_attempts:
                self._pause(attempt, response)
                continue
            message = error_message(response)
            raise ZenodoError(
                self.scrub(f"{method} {url}: {response.status_code} {message}"),
                status=response.status_code,
                code=_error_code(response.status_code, message),
            )

    def _pause(self, attempt: int, response: requests.Response | None) -> None:
        self._count("retries")
        backoff = self.backoff * (2 ** (attempt - 1))
        told = 0.0  # what the server asked for is a floor: jitter only lengthens it
        # Zenodo sends Retry-After on every answer as the rate window's countdown; it is an
        # instruction only on a 429 (or on a 503 that carries no rate-limit headers).
        instructed = response is not None and (
            response.status_code == 429
            or (response.status_code == 503 and "X-RateLimit-Reset" not in response.headers)
        )
        if instructed and response is not None:
            told = _retry_after(response.headers, 0.0)
            if response.status_code == 429 and not response.headers.get("Retry-After"):
                try:
                    told = max(told, float(response.headers.get("X-RateLimit-Reset", "")) - time.time())
                except (TypeError, ValueError):
                    pass
        # jitter: workers that failed together do not retry in lockstep
        delay = max(backoff * (0.5 + self.rng.random()), told * (1.0 + 0.25 * self.rng.random()))
        self.sleep(min(delay, 120.0))

    # ------------------------------------------------------------------ the API

    def _deposition(self, response: requests.Response, what: str) -> Deposition:
        return _parse(Deposition, response, what)  # type: ignore[return-value]

    def create_deposition(self, metadata: dict | None = None) -> Deposition:
        """POST /deposit/depositions. Not repeated after a lost answer: the caller reconciles."""
        body = {"metadata": metadata} if metadata else {}
        return self._deposition(self.send("POST", "deposit/depositions", retry=False, expect=(201,), json=body), "create")

    def get_deposition(self, deposition_id: int | str) -> Deposition:
        """GET one deposition by id, or by a link Zenodo gave (``links.latest_draft``)."""
        path = deposition_id if isinstance(deposition_id, str) else f"deposit/depositions/{deposition_id}"
        return self._deposition(self.send("GET", path, retry=True, expect=(200,)), f"deposition {deposition_id}")

    def list_depositions(self, query: str | None = None, size: int = 100, page: int = 1, all_versions: bool = False) -> list[Deposition]:
        """One page of the token owner's drafts and published depositions that ``query`` finds
        (only the latest of each concept unless ``all_versions``)."""
        params: dict[str, str | int] = {"size": size, "page": page, **({"q": query} if query else {})}
        if all_versions:
            params["all_versions"] = "true"
        response = self.send("GET", "deposit/depositions", retry=True, expect=(200,), params=params)
        try:
            items = response.json()
        except ValueError:
            items = None
        if not isinstance(items, list):
            raise ZenodoError("list: Zenodo's answer is not a list of depositions", status=response.status_code, code="answer-invalid")
        # An entry that is not a deposition is skipped: a search result is a hint, never a fact.
        found = []
        for item in items:
            try:
                found.append(Deposition.model_validate(item))
            except ValidationError:
                continue
        return found

    def upload(self, bucket_url: str, filename: str, open_stream: Callable[[], object], size: int) -> UploadedFile:
        """PUT raw bytes to the bucket, streamed; a PUT of the same key replaces the file, so it
        is repeated after a dropped connection with a freshly opened stream."""
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        response = self.send(
            "PUT", f"{bucket_url}/{filename}", retry=True, expect=(200, 201), body_factory=open_stream, headers=headers
        )
        return _parse(UploadedFile, response, f"upload {filename}")  # type: ignore[return-value]

    def update_metadata(self, deposition_id: int, metadata: dict) -> Deposition:
        """PUT with only {"metadata": ...}: it replaces all metadata, so every field is sent each time."""
        response = self.send("PUT", f"deposit/depositions/{deposition_id}", retry=True, expect=(200,), json={"metadata": metadata})
        return self._deposition(response, f"metadata of {deposition_id}")

    def publish(self, deposition_id: int) -> Deposition:
        """POST .../actions/publish. Not repeated here: a lost answer may hide a success."""
        response = self.send("POST", f"deposit/depositions/{deposition_id}/actions/publish", retry=False, expect=(202,))
        return self._deposition(response, f"publish {deposition_id}")

    def new_version(self, deposition_id: int) -> Deposition:
        response = self.send("POST", f"deposit/depositions/{deposition_id}/actions/newversion", retry=False, expect=(201,))
        return self._deposition(response, f"newversion of {deposition_id}")

    def search_depositions(self, query: str, *, size: int = PAGE_SIZE, all_versions: bool = False) -> list[Deposition]:
        """Every deposition the list finds for ``query``, page after page (a page shorter than
        ``size`` is the last). Bounded by the search's own window of 10,000 hits."""
        found: list[Deposition] = []
        for page in range(1, MAX_RESULTS // size + 1):
            items = self.list_depositions(query, size=size, page=page, all_versions=all_versions)
            found.extend(items)
            if len(items) < size:
                return found
        raise ZenodoError(f"search {query[:80]!r}: more than {MAX_RESULTS} hits", code="answer-invalid")

    def delete_draft(self, deposition_id: int) -> bool:
        """DELETE a draft that was never published. True when deleted now, False when Zenodo has
        no such draft (deleted already, or published: a published deposition cannot be deleted)."""
        response = self.send("DELETE", f"deposit/depositions/{deposition_id}", retry=True, expect=(204, 404))
        return response.status_code == 204

    def download(self, deposition: Deposition, filename: str, limit: int = 16 << 20) -> bytes:
        """The bytes of a published deposition's file, at most ``limit`` of them."""
        response = self.send(
            "GET", f"records/{deposition.id}/files/{quote(filename)}/content", retry=True, expect=(200,), stream=True
        )
        try:
            data = response.raw.read(limit + 1, decode_content=True)
        finally:
            response.close()
        if len(data) > limit:
            raise ZenodoError(f"{filename} of deposition {deposition.id} is larger than {limit} bytes", code="answer-invalid")
        return bytes(data)

    def delete_file(self, deposition_id: int, file_id: str) -> None:
        self.send("DELETE", f"deposit/depositions/{deposition_id}/files/{file_id}", retry=True, expect=(204, 404))
