"""JSON text: read strictly (RFC 8259, as JSON Schema tools read it) and written deterministically."""

from __future__ import annotations

import json
import math
import re


class JsonInputError(ValueError):
    """Input that is not JSON, or JSON that cannot be read here; carries a finding's code, message and line."""

    def __init__(self, code: str, message: str, line: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.reason = reason  # the parser's own words ("Extra data"), for callers that sniff formats


def _finite_float(text: str) -> float:
    # A number too large for a double (1e400) is JSON, but no validator can read it as a number.
    value = float(text)
    if value in (math.inf, -math.inf):
        raise JsonInputError("json-syntax", f"the number {text[:40]} is too large for a double (it reads as infinity)")
    return value


def _refuse_constant(name: str):
    # Python's json module accepts NaN, Infinity and -Infinity; JSON (and every JSON Schema
    # validator held up as a reference here) does not.
    raise JsonInputError("json-syntax", f"not JSON: {name} is not a JSON value (JSON has no NaN or Infinity)")


MAX_DEPTH = 512  # far beyond any record, well within what the parser, the models and jsonschema-rs follow
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def _deeper_than(text: str, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (brackets inside strings do not count)."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads(data: str | bytes):
    """Parse JSON text strictly; every failure is a JsonInputError, never a traceback.

    Nesting deeper than MAX_DEPTH is refused as ``too-deep`` before parsing, so no stage ever
    runs near the interpreter's recursion limit (a RecursionError is caught all the same).
    """
    opened = data.count(b"[") + data.count(b"{") if isinstance(data, bytes) else data.count("[") + data.count("{")
    if opened > MAX_DEPTH:  # rare: decode only then
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if _deeper_than(text, MAX_DEPTH):
            raise JsonInputError("too-deep", f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise JsonInputError("json-syntax", f"not JSON: {exc.msg} (column {exc.colno})", exc.lineno, exc.msg) from None
    except UnicodeDecodeError as exc:
        raise JsonInputError("encoding", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except RecursionError:
        raise JsonInputError("too-deep", f"JSON nested deeper than {MAX_DEPTH} levels") from None


# orjson refuses integers beyond 64 bits and strings holding lone surrogates; the models accept
# both (a claim count of 10**30 is valid), so those few documents take the general encoders. The
# choice depends on the data alone, so the same input still gives the same bytes.
_encode_compact = json.JSONEncoder(separators=(",", ":")).encode  # ASCII: a lone surrogate stays writable


def indented(document) -> bytes:
    """Two-space indented JSON bytes with a final newline, keys in the document's order."""
    import orjson  # here, not at the top: `archiver validate` reads JSON but never writes it

    try:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        from pydantic_core import to_json  # only for what orjson refuses; keeps `validate` light

        return to_json(document, indent=2) + b"\n"


def compact(document) -> str:
    """One line of JSON without spaces, keys in the document's order, non-ASCII as written (escaped
    only by the fallback)."""
    import orjson

    try:
        return orjson.dumps(document).decode("utf-8")
    except orjson.JSONEncodeError:
        return _encode_compact(document)
