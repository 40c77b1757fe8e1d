"""Coded findings (errors and warnings) that every stage reports in one shape."""

from __future__ import annotations

import re


class Finding:
    """One problem: a stable code, a human message, and where it is.

    ``location`` is a JSON path into the record or manifest (``$.review_score``);
    ``line`` is the 1-based line of the input file when the reader knows it.
    A plain slotted class rather than a dataclass: ``dataclasses`` pulls in ``inspect``,
    which costs the pre-commit path more than validating a thousand manifests.
    """

    __slots__ = ("code", "message", "location", "line")

    def __init__(self, code: str, message: str, location: str = "$", line: int | None = None) -> None:
        self.code = code
        self.message = message
        self.location = location
        self.line = line

    def _key(self) -> tuple:
        return (self.code, self.message, self.location, self.line)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Finding(code={self.code!r}, message={self.message!r}, location={self.location!r}, line={self.line!r})"

    def with_line(self, line: int | None) -> Finding:
        return Finding(self.code, self.message, self.location, line)

    def as_dict(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {"code": self.code}
        if self.line is not None:
            out["line"] = self.line
        out["location"] = self.location
        out["message"] = self.message
        return out

    def render(self, source: str) -> str:
        """One line: ``FILE[:LINE]:JSON-PATH: message [code]`` (line breaks in any part are escaped)."""
        # a JSONL record's source already names its line ("batch.jsonl:3"): the line is said once
        where = source if self.line is None or source.endswith(f":{self.line}") else f"{source}:{self.line}"
        return one_line(f"{where}:{self.location}: {self.message} [{self.code}]")


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


# C0 and C1 controls (CR, LF, ESC of ANSI sequences, ...), line and paragraph separators, and the
# bidirectional overrides that can make a line read as something else
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object, limit: int = 300) -> str:
    """Text from outside (a server's message, a header) made data, not terminal output: one line,
    every control character escaped, at most ``limit`` characters of it."""
    text = str(text)
    rest = len(text) - limit
    text = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text[:limit])
    return text + (f"... ({rest} more characters)" if rest > 0 else "")


class ArchiverError(Exception):
    """Raised for what cannot run at all: unreadable input, bad configuration, usage."""

    def __init__(self, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


def json_path(parts) -> str:
    """Render a sequence of keys/indices as a JSON path (``$.a[0].b``)."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}"
        else:
            escaped = str(part).replace("\\", "\\\\").replace("'", "\\'")
            out += f"['{escaped}']"
    return out
