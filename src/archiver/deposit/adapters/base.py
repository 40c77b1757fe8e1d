"""What both adapters share: the client's target, counters, sleep and voice, and the one place
where a transport error becomes an error the deposit stage acts on."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from archiver.deposit.errors import HALTING_CODES, UNTRUSTED_CODES, DraftOpen, Gone, Halting, RemoteError, Untrusted
from archiver.zenodo.transport import ApiClient, TransportError

# Every operation of the port (port.DepositPort): each is wrapped so that no transport error leaves an adapter.
OPERATIONS = (
    "create", "read", "search", "open_draft_of", "new_version", "begin_uploads", "upload", "delete_file", "set_metadata",
    "publish", "delete_draft", "download", "check_minted", "check_community", "submit_for_review", "missing_communities",
    "read_published", "edit", "discard_edit", "metadata_changes", "metadata_diff",
)


def remote_error(exc: TransportError) -> RemoteError:
    """The deposit's reading of a transport error: same code and message, its kind and two facts."""
    kind: type[RemoteError] = RemoteError
    if exc.code in HALTING_CODES:
        kind = Halting
    elif exc.code in UNTRUSTED_CODES:
        kind = Untrusted
    elif exc.code == "draft-open":
        kind = DraftOpen
    elif exc.status == 404:
        kind = Gone
    answered = exc.status is not None and exc.status < 500
    return kind(exc.message, code=exc.code, refused=exc.refused, answered=answered)


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _translated(operation: F) -> F:
    @functools.wraps(operation)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(self, *args, **kwargs)
        except TransportError as exc:
            raise remote_error(exc) from None

    return call  # type: ignore[return-value]


class ClientAdapter:
    """An adapter over one client: its target's environment and server, its counters, sleep, voice and scrub."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in OPERATIONS:
            if name in cls.__dict__:
                setattr(cls, name, _translated(cls.__dict__[name]))

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.target = client.target
        self.environment = client.target.environment
        self.server = client.target.api_url
        self.token_variable = client.target.token_variable
        self.repository_name = client.target.name
        # what its token must allow, in the repository's words (InvenioRDM: a personal access token's scopes)
        self.token_scopes = "deposit:write, deposit:actions" if client.target.is_zenodo else "a personal access token of its owner"
        self.sleep = client.sleep
        self.announce = client.announce
        self.first_create, self.first_publish = FirstAnswer(), FirstAnswer()

    @property
    def requests(self) -> int:
        return self.client.stats["requests"]

    @property
    def throttled(self) -> int:
        return self.client.stats["429"]

    def scrub(self, text: str) -> str:
        return self.client.scrub(text)

    def stop_waiting_when(self, stopping: Callable[[], bool]) -> None:
        self.client.transport.stopping = stopping


def parse_created(text: str | None) -> dt.datetime | None:
    """A ``created`` timestamp as the answer gives it (ISO 8601, UTC when it names no zone); None when unreadable."""
    try:
        created = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return created.replace(tzinfo=dt.UTC) if created is not None and created.tzinfo is None else created


# What one answer proves of the whole server: it is not the repository the policy names (ids of the
# other kind), or it mints under another DOI prefix. Every later request of the kind would meet it.
_SERVER_WIDE = frozenset({"repository-mismatch", "doi-prefix-mismatch"})


class FirstAnswer:
    """The first request of a kind (a create, a publish) is sent alone and its answer checked before
    any other worker sends one: when it proves the server is not what the policy says, the others
    fail with the same words, unsent, instead of leaving a draft or a publication each."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proven = False  # one answer of the kind was what the policy said: the rest go at once
        self.refusal: TransportError | None = None

    def send(self, call: Callable[[], T]) -> T:
        if self.proven:
            return call()
        with self.lock:
            if self.refusal is not None:  # proven by another worker's answer: this one is not sent
                raise TransportError(self.refusal.message, code=self.refusal.code, refused=True)
            if self.proven:
                return call()
            try:
                result = call()
            except TransportError as exc:
                if exc.code in _SERVER_WIDE:
                    self.refusal = exc
                raise
            self.proven = True
            return result
