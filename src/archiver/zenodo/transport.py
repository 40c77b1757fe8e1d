"""HTTP to one API origin, whatever the server does: a deadline per request, bounded answers, no redirects.

Every request goes to the configured origin only (scheme, host and port; a link an answer names is
used only when it points there), carries the token only there, is never redirected, and ends by its
deadline from connect to the last byte (a watchdog shuts the socket down, so a server that drips or
never answers cannot hold a run). An answer's body is read up to a size cap, decompressed by
archiver within the same cap (a gzip bomb costs no memory), and parsed as strict JSON with a depth
limit. Waits the server asks for are honoured only when finite and short; every wait of a few
seconds or more is said aloud. Whatever bytes arrive, the caller gets an Answer or a TransportError
with a code: never a library's exception.
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from archiver import jsontext
from archiver.findings import ArchiverError, printable
from archiver.progress import ANNOUNCE_AFTER
from archiver.zenodo.pacing import MAX_WAIT, RateLimiter, header_number

MAX_ANSWER_BYTES = 16 << 20  # after decompression: Zenodo's largest answer (a list page) is far smaller
MIN_UPLOAD_RATE = 256 << 10  # bytes/s an upload is allowed beyond the deadline (a large file needs time)
_CHUNK = 64 << 10


class TransportError(ArchiverError):
    """A request that got no usable answer, or an answer refused; ``status`` when one came."""

    def __init__(self, message: str, *, code: str, status: int | None = None, refused: bool = False) -> None:
        super().__init__(message, code=code)
        self.status = status
        # True only when the server answered a clean refusal (a 4xx whose body says so): then the
        # request certainly changed nothing. Anything else may have taken effect.
        self.refused = refused


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, read whole and bounded."""

    status: int
    headers: requests.structures.CaseInsensitiveDict
    body: bytes
    url: str

    def json(self) -> Any:
        """The body as strict JSON; a TransportError (``answer-invalid``) when it is not."""
        try:
            return jsontext.loads(self.body)
        except jsontext.JsonInputError as exc:
            raise TransportError(
                f"{self.status} answer from {self.url} is not JSON ({exc.message})", code="answer-invalid", status=self.status
            ) from None


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def same_origin(url: str, api_url: str, *, under_api: bool = True) -> str | None:
    """``url`` as archiver may use it: scheme, host, port and path, only when it is on the API's
    origin (and under its path, unless ``under_api`` is False); None otherwise. URLs with a user
    part, a backslash, spaces or control characters are refused: parsers disagree about them."""
    if not isinstance(url, str) or any(c in url for c in "\\@ ") or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
        from urllib3.util import parse_url  # what requests connects to, read by its own parser

        theirs = parse_url(url)
        if origin_of(url) != origin_of(api_url) or (theirs.host or "").lower() != origin_of(api_url)[1]:
            return None
        port = theirs.port or (443 if parts.scheme.lower() == "https" else 80)
        if port != origin_of(api_url)[2]:
            return None
    except ValueError:
        return None
    base = urlsplit(api_url).path.rstrip("/")
    if under_api and not (parts.path == base or parts.path.startswith(base + "/")):
        return None
    return f"{parts.scheme}://{parts.netloc}{parts.path}"  # no query, no fragment: nothing reflected is kept


class BearerToHost(requests.auth.AuthBase):
    """Adds the token only to requests for the configured scheme, host and port."""

    def __init__(self, token: str, api_url: str) -> None:
        self._token = token
        self._origin = origin_of(api_url)

    def __call__(self, request):
        if origin_of(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"
        else:
            request.headers.pop("Authorization", None)
        return request

    def __repr__(self) -> str:
        return "BearerToHost(***)"


# --------------------------------------------------------------------------- the deadline


_current = threading.local()  # the watchdog of the calling thread's request


class _WatchedAdapter(HTTPAdapter):
    """Hands each connection a request takes from the pool to that request's watchdog (same
    thread), so that the watchdog can shut its socket down when the deadline passes."""

    def get_connection_with_tls_context(self, *args, **kwargs):
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        if not getattr(pool, "_archiver_watched", False):
            taken = pool._get_conn

            def get_conn(timeout=None):
                conn = taken(timeout=timeout)
                watchdog = getattr(_current, "watchdog", None)
                if watchdog is not None:
                    watchdog.took(conn)
                return conn

            setattr(pool, "_get_conn", get_conn)  # noqa: B010 - wrapping the pool's own method
            setattr(pool, "_archiver_watched", True)  # noqa: B010
        return pool


def _shut(conn: object) -> None:
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)  # a blocked recv or send returns at once
        except OSError:
            pass


class _Watchdog:
    """Shuts the request's connection down once ``seconds`` have passed: a deadline from connect
    to the last byte that no dripping or silent server can stretch."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.conn: object = None
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        _shut(self.conn)

    def took(self, conn: object) -> None:
        self.conn = conn
        if self.fired:
            _shut(conn)

    def __enter__(self) -> _Watchdog:
        _current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.watchdog = None


# --------------------------------------------------------------------------- the transport


@dataclass
class Transport:
    """One session bound to one API origin: the deadline, the pacer, retries and the size caps."""

    api_url: str
    token: str
    user_agent: str
    session: requests.Session = field(default_factory=requests.Session)
    limiter: RateLimiter | None = None
    deadline: float = 60.0  # seconds per request, from connect to the last byte
    max_attempts: int = 8  # a 429 is tried this often (the server did not process it)
    unanswered_attempts: int = 3  # a request that got no answer at all is tried this often
    # ... and one answered 5xx this often: a server that fails 4 times in about 4 s is failing, and
    # the run's own count of records failing in a row decides whether to go on
    server_error_attempts: int = 4
    backoff: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    announce: Callable[[str], None] | None = None
    rng: Any = None
    stats: dict[str, int] = field(default_factory=lambda: {"requests": 0, "429": 0, "retries": 0})
    # True once the run will start no further record (a halt): no wait is begun for it any more
    stopping: Callable[[], bool] = field(default=lambda: False)
    server_name: str = "Zenodo"  # the repository in messages and codes: Zenodo, or a named repository's host

    def __post_init__(self) -> None:
        import random

        self.rng = self.rng or random.Random()
        self.limiter = self.limiter or RateLimiter(sleep=self.sleep, announce=self.announce, server_name=self.server_name)
        self.session.auth = BearerToHost(self.token, self.api_url)
        self.session.headers["User-Agent"] = self.user_agent
        self.session.headers["Accept"] = "application/json"
        self.session.headers["Accept-Encoding"] = "gzip, deflate"  # decoded here, within the cap
        adapter = _WatchedAdapter()
        for prefix in ("http://", "https://"):
            if type(self.session.get_adapter(prefix)) is HTTPAdapter:  # a caller's own adapter is kept as it is
                self.session.mount(prefix, adapter)
        self.stats_lock = threading.Lock()

    # ------------------------------------------------------------------ text

    def scrub(self, text: str) -> str:
        """The token removed from any text that might be shown or stored (servers echo requests).
        A real token is long and replaced wherever it appears; a short trial token (the double's
        "tok") only where it stands as a credential, so that ordinary words keep their letters."""
        if not self.token:
            return text
        if len(self.token) >= 8:
            return text.replace(self.token, "***")
        credential = re.compile(rf"((?:Bearer\s+|access_token=|token[\"']?\s*[:=]\s*[\"']?)){re.escape(self.token)}(?![A-Za-z0-9._~+/=-])")
        return credential.sub(r"\1***", text)

    def url(self, path: str) -> str:
        if not path.startswith(("http://", "https://")):
            return f"{self.api_url}/{path.lstrip('/')}"
        own = same_origin(path, self.api_url)
        if own is None:
            raise TransportError(f"{printable(self.scrub(path), 120)} is not on {self.api_url}: not requested", code="foreign-link")
        return own

    def _count(self, key: str) -> None:
        with self.stats_lock:
            self.stats[key] += 1

    # ------------------------------------------------------------------ one request

    def _read(self, response: requests.Response, watchdog: _Watchdog) -> bytes:
        """The whole body, decoded, at most MAX_ANSWER_BYTES; within the request's deadline."""
        raw = response.raw
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            inflate = zlib.decompressobj(47 if encoding != "deflate" else zlib.MAX_WBITS | 32)
        elif encoding in ("identity", ""):
            inflate = None
        else:
            raise TransportError(f"answer in an encoding archiver does not read ({printable(encoding, 40)})", code="answer-invalid",
                                 status=response.status_code)
        out = bytearray()
        while True:
            chunk = raw.read(_CHUNK, decode_content=False)
            if watchdog.fired:
                raise TimeoutError
            if not chunk:
                break
            if inflate is not None:
                room = MAX_ANSWER_BYTES + 1 - len(out)
                chunk = inflate.decompress(chunk, room)
                if inflate.unconsumed_tail:  # more is coming than the cap allows
                    out.extend(chunk)
                    break
            out.extend(chunk)
            if len(out) > MAX_ANSWER_BYTES:
                break
        if len(out) > MAX_ANSWER_BYTES:
            raise TransportError(f"answer larger than {MAX_ANSWER_BYTES >> 20} MiB (decoded): refused", code="answer-invalid",
                                 status=response.status_code)
        return bytes(out)

    def _attempt(self, method: str, url: str, seconds: float, **kwargs) -> Answer:
        with _Watchdog(seconds) as watchdog:
            try:
                timeout = (min(10.0, seconds), seconds)
                response = self.session.request(method, url, timeout=timeout, allow_redirects=False, stream=True, **kwargs)
                try:
                    body = self._read(response, watchdog)
                finally:
                    response.close()
            except TransportError:
                raise
            except BaseException as exc:
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                # every library and socket failure: connection refused or reset, a deadline, broken
                # chunking, bad headers, an unreadable stream. The class name says which; never its text.
                timed_out = watchdog.fired or isinstance(exc, (requests.Timeout, TimeoutError, socket.timeout))
                what = f"no answer within {seconds:.0f} s" if timed_out else f"no answer ({_cause(exc)})"
                raise TransportError(f"{method} {printable(self.scrub(url), 160)}: {what}", code="no-answer") from None
        return Answer(response.status_code, response.headers, body, url)

    def send(self, method: str, path: str, *, retry: bool, expect: tuple[int, ...], body_factory=None,
             size: int = 0, **kwargs) -> Answer:
        """One logical request. ``retry``: safe to repeat after a lost answer (GET, PUT, DELETE).

        A 429 is always retried (the server did not process it), within MAX_WAIT. ``body_factory``
        makes a fresh body for each attempt; ``size`` (bytes sent) lengthens the deadline by what an
        upload at MIN_UPLOAD_RATE needs. Raises TransportError on an error answer or no answer.
        """
        url = self.url(path)
        seconds = self.deadline + size / MIN_UPLOAD_RATE
        attempt = 0
        while True:
            attempt += 1
            assert self.limiter is not None
            if not self.limiter.wait(self.stopping):
                raise self._not_waited(method, url, "pacing to the rate limit")
            self._count("requests")
            if body_factory is not None:
                kwargs["data"] = body_factory()
            try:
                answer = self._attempt(method, url, seconds, **kwargs)
            except TransportError as exc:
                self.limiter.release()
                tries = min(self.max_attempts, self.unanswered_attempts)
                if exc.code != "no-answer" or not retry or attempt >= tries:
                    raise
                if self.announce:  # a silent server is said aloud at each attempt, not only at the end
                    self.announce(f"{exc.message}; trying again ({attempt + 1} of {tries})")
                self._pause(attempt, None, method, url)
                continue
            self.limiter.observe(answer.headers, answer.status)
            if answer.status in expect:
                return answer
            if answer.status == 429:
                self._count("429")
            if 300 <= answer.status < 400:
                location = printable(self.scrub(answer.headers.get("Location", "")), 120)
                raise TransportError(
                    f"{method} {printable(self.scrub(url), 160)}: {answer.status} redirect to {location or 'nowhere'}: not followed "
                    "(archiver talks to the configured origin only)",
                    code="redirect-refused", status=answer.status,
                )
            tries = self.max_attempts if answer.status == 429 else min(self.max_attempts, self.server_error_attempts)
            if answer.status in (429, 500, 502, 503, 504) and (retry or answer.status == 429) and attempt < tries:
                self._pause(attempt, answer, method, url)
                continue
            raise self.refusal(method, url, answer)

    def _not_waited(self, method: str, url: str, why: str) -> TransportError:
        return TransportError(f"{method} {printable(self.scrub(url), 160)}: not sent: the run is stopping (no wait for {why})",
                              code="stopping")

    def refusal(self, method: str, url: str, answer: Answer) -> TransportError:
        """The error of an answer that is not the one expected: its text escaped and cut short."""
        message, clean = error_message(answer)
        if self.server_name == "Zenodo":
            code = "zenodo-rejected" if answer.status < 500 else "zenodo-error"
        else:  # the codes name the repository: another InvenioRDM's refusal is not Zenodo's
            code = "repository-rejected" if answer.status < 500 else "repository-error"
        if answer.status == 401 or (answer.status == 403 and message.startswith("Permission denied")):
            code = "token-refused"  # InvenioRDM's answer to a missing or wrong token; another 403 is about the request
        if answer.status == 429:
            code = "rate-limited"
        hint = ""
        path = urlsplit(self.api_url).path.rstrip("/")
        if answer.status == 404 and not path.endswith("/api"):
            # Zenodo and every InvenioRDM serve their API under /api: a URL without it (or past it) answers 404 everywhere
            root = self.api_url.rstrip("/")
            root = root[: root.rfind("/api/") + 4] if "/api/" in path + "/" else f"{root}/api"
            hint = f" (is {self.api_url} the API's root? Zenodo and InvenioRDM serve it under /api: try {root})"
        return TransportError(
            f"{method} {printable(self.scrub(url), 160)}: {answer.status} {printable(self.scrub(message), 300)}{hint}",
            code=code, status=answer.status, refused=clean and 400 <= answer.status < 500,
        )

    def _pause(self, attempt: int, answer: Answer | None, method: str, url: str) -> None:
        self._count("retries")
        backoff = self.backoff * (2 ** (attempt - 1))
        told, why = 0.0, ""  # what the server asked for is a floor: jitter only lengthens it
        # Zenodo sends Retry-After on every answer as the rate window's countdown; it is an
        # instruction only on a 429 (or on a 503 that carries no rate-limit headers).
        if answer is not None and (answer.status == 429 or (answer.status == 503 and "X-RateLimit-Reset" not in answer.headers)):
            header = answer.headers.get("Retry-After")
            if header is not None:
                value, why = header_number(header), f"Retry-After: {printable(header, 30)}"
            else:
                reset = header_number(answer.headers.get("X-RateLimit-Reset"))
                value = None if reset is None else reset - time.time()
                why = f"X-RateLimit-Reset: {printable(answer.headers.get('X-RateLimit-Reset', ''), 30)}"
            if value is None or not 0.0 <= value <= MAX_WAIT:
                raise TransportError(
                    f"{method} {printable(self.scrub(url), 160)}: {answer.status}; {self.server_name} asks for a wait of {why}, which is not "
                    f"a finite number of seconds up to {MAX_WAIT:.0f}: not waited on; run again later",
                    code="rate-limited", status=answer.status, refused=answer.status == 429,  # a 429 was not processed
                )
            told = value
        delay = min(max(backoff * (0.5 + self.rng.random()), told * (1.0 + 0.25 * self.rng.random())), MAX_WAIT)
        if delay >= ANNOUNCE_AFTER and self.stopping():
            raise self._not_waited(method, url, f"{delay:.0f} s before trying again")
        if delay >= ANNOUNCE_AFTER and self.announce:
            reason = why or ("no answer" if answer is None else f"{answer.status} from {self.server_name}")
            self.announce(f"waiting {delay:.0f} s before trying {method} {printable(self.scrub(url), 100)} again ({reason})")
        self.sleep(delay)


def _cause(exc: BaseException) -> str:
    """What went wrong below a library's exception, in words: the first OS-level cause found."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, ConnectionResetError):
            return "connection reset"
        if isinstance(seen, socket.gaierror):
            return "host not found"
        seen = seen.__cause__ or seen.__context__ or (seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None)
        if seen is not None and hasattr(seen, "reason") and isinstance(seen.reason, BaseException):  # urllib3's MaxRetryError
            seen = seen.reason
    return type(exc).__name__


def error_message(answer: Answer) -> tuple[str, bool]:
    """Zenodo's error text, reading both shapes of errors[] (``messages``, a list, and ``message``,
    a string), and whether the body was Zenodo's error document at all."""
    try:
        body = answer.json()
    except TransportError:
        return f"HTTP {answer.status} (the answer is not JSON)", False
    if not isinstance(body, dict) or not isinstance(body.get("message", body.get("status")), (str, int)):
        return f"HTTP {answer.status}", False
    parts = [str(body.get("message") or f"HTTP {answer.status}")]
    errors = body.get("errors")
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        messages = error.get("messages")
        if messages is None and error.get("message") is not None:
            messages = [error["message"]]
        text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages or "")
        parts.append(f"{error.get('field', '?')}: {text}")
    return " | ".join(parts), True


class ApiClient:
    """What both API clients share: the target, one Transport bound to its origin, the counters,
    the sleep and the voice for waits. Each client adds one method per endpoint of its API."""

    def __init__(
        self,
        target,
        user_agent: str,
        *,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        deadline: float = 60.0,
        max_attempts: int = 8,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.target = target
        self.transport = Transport(
            target.api_url, target.token, user_agent, session=session or requests.Session(), limiter=limiter, deadline=deadline,
            max_attempts=max_attempts, backoff=backoff, sleep=sleep, announce=announce, rng=rng, server_name=target.name,
        )
        self.session = self.transport.session
        self.limiter = self.transport.limiter
        self.stats = self.transport.stats
        self.sleep = sleep
        self.announce = announce

    def scrub(self, text: str) -> str:
        """Remove the token from any text that might be shown (servers can echo requests)."""
        return self.transport.scrub(text)
