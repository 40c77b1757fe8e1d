"""An answer read as the typed model a client expects, or refused in archiver's words.

Where the JSON is not what was expected, the message says where (a JSON path), which JSON type it
found and what it should have been: never the model's name, pydantic's own text, nor the server's.
"""

from __future__ import annotations

from typing import Any

from archiver.findings import printable
from archiver.zenodo.transport import Answer, TransportError

# pydantic's error types, as what the answer should have held there
_EXPECTED = {
    "model_type": "an object", "model_attributes_type": "an object", "dict_type": "an object", "int_type": "a whole number",
    "int_parsing": "a whole number", "int_from_float": "a whole number", "string_type": "text", "bool_type": "true or false",
    "bool_parsing": "true or false", "list_type": "a list", "tuple_type": "a list", "float_type": "a number",
    "float_parsing": "a number", "missing": "present",
}


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    kinds: dict[type, str] = {dict: "an object", list: "a list", str: "text"}
    return kinds.get(type(value), type(value).__name__)


def parse_answer(model: type, answer: Answer, what: str) -> Any:
    """``answer``'s JSON as the typed ``model`` (a pydantic model), or answer-invalid saying in
    archiver's words where it is not what was expected (never the model's internals, nor the
    server's text beyond a type)."""
    from pydantic import ValidationError

    document = answer.json()
    try:
        return model.model_validate(document)  # type: ignore[attr-defined]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"])
        expected = _EXPECTED.get(first["type"], "of another kind")
        said = "missing" if first["type"] == "missing" else f"{_json_kind(first.get('input'))}, where it should be {expected}"
        raise TransportError(f"{what}: the answer is not one archiver can read: at {printable(where, 80)}, {said}",
                             status=answer.status, code="answer-invalid") from None