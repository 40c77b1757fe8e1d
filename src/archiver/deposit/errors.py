"""What a failed request to the repository means to the deposit: the errors the stage acts on.

The adapters turn their client's transport errors into these (adapters/base.py), so the stage reads
a kind and two facts, never a status number: ``refused``, the repository said no in so many words
(the request changed nothing), and ``answered``, it gave a definite answer to the request itself
(not a server error, not silence). The code and message stay the transport's, so what a curator
reads is the same whichever way a failure travels.
"""

from __future__ import annotations

from archiver.findings import ArchiverError


class RemoteError(ArchiverError):
    """A request to the repository that did not do what was asked, or whose outcome is unknown."""

    def __init__(self, message: str, *, code: str, refused: bool = False, answered: bool = False) -> None:
        super().__init__(message, code=code)
        self.refused = refused  # proven: nothing was done
        self.answered = answered  # a definite answer (a refusal or a redirect), not a 5xx or silence

    @property
    def outcome_unknown(self) -> bool:
        """The request may have taken effect: a write is never repeated blindly after this."""
        return not self.refused


class Gone(RemoteError):
    """The deposition (or file) is not there: never made, deleted, or (a draft) published since."""


class Untrusted(RemoteError):
    """An answer that cannot be read or believed: not this deposition, not its DOI, a link to
    another origin, a redirect. Nothing of it is stored; reading the deposition again tells more."""


class DraftOpen(RemoteError):
    """A new version was asked for while one is open that the answer does not name."""


class Halting(RemoteError):
    """No other record would fare better: the token is refused, the repository does not answer,
    or its rate limit never lets up. The run starts no further record."""


UNTRUSTED_CODES = frozenset({"answer-invalid", "answer-mismatch", "foreign-link", "redirect-refused"})
# a token refused, a server silent or never letting up, a server that is not the repository named,
# a DOI prefix not the server's: no other record would fare better
HALTING_CODES = frozenset({"token-refused", "no-answer", "rate-limited", "repository-mismatch", "doi-prefix-mismatch"})
