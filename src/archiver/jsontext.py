"""JSON text for the files an export writes: orjson where it can, the slower exact encoders where it cannot."""

from __future__ import annotations

import json

import orjson
from pydantic_core import to_json

# orjson refuses integers beyond 64 bits and strings holding lone surrogates; the models accept
# both (a claim count of 10**30 is valid), so those few documents take the general encoders. The
# choice depends on the data alone, so the same input still gives the same bytes.
_encode_compact = json.JSONEncoder(separators=(",", ":")).encode  # ASCII: a lone surrogate stays writable


def indented(document) -> bytes:
    """Two-space indented JSON bytes with a final newline, keys in the document's order."""
    try:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return to_json(document, indent=2) + b"\n"


def compact(document) -> str:
    """One line of JSON without spaces, keys in the document's order, non-ASCII as written (escaped
    only by the fallback)."""
    try:
        return orjson.dumps(document).decode("utf-8")
    except orjson.JSONEncodeError:
        return _encode_compact(document)
