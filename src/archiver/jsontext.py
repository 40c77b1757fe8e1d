"""JSON text: read strictly (RFC 8259, as JSON Schema tools read it) and written deterministically."""

from __future__ import annotations

import json


class JsonInputError(ValueError):
    """Input that is not JSON, or JSON that cannot be read here; carries a finding's code, message and line."""

    def __init__(self, code: str, message: str, line: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.reason = reason  # the parser's own words ("Extra data"), for callers that sniff formats


def _refuse_constant(name: str):
    # Python's json module accepts NaN, Infinity and -Infinity; JSON (and every JSON Schema
    # validator held up as a reference here) does not.
    raise JsonInputError("json-syntax", f"not JSON: {name} is not a JSON value (JSON has no NaN or Infinity)")


def loads(data: str | bytes):
    """Parse JSON text strictly; every failure is a JsonInputError, never a traceback.

    Nesting deeper than the interpreter can follow (about a thousand levels) is reported as
    ``too-deep`` instead of escaping as a RecursionError.
    """
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise JsonInputError("json-syntax", f"not JSON: {exc.msg} (column {exc.colno})", exc.lineno, exc.msg) from None
    except UnicodeDecodeError as exc:
        raise JsonInputError("encoding", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except RecursionError:
        raise JsonInputError("too-deep", "JSON nested too deeply to read (about 1,000 levels or more)") from None


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
