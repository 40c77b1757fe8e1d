"""JSON text for export files: orjson's bytes equal the exact encoders', and what orjson refuses still encodes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import to_json

from archiver.jsontext import compact, indented

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_indented_is_pydantics_indented_json(document):
    # The manifest format was defined by pydantic-core's encoder; orjson must not change a byte.
    assert indented(document) == to_json(document, indent=2) + b"\n"


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_compact_round_trips(document):
    text = compact(document)
    assert "\n" not in text
    assert json.loads(text) == document


def test_integers_beyond_64_bits_take_the_fallback():
    document = {"source_grounded_claims": 10**30}
    assert indented(document) == b'{\n  "source_grounded_claims": 1000000000000000000000000000000\n}\n'
    assert compact(document) == '{"source_grounded_claims":1000000000000000000000000000000}'


def test_a_lone_surrogate_is_escaped_so_the_text_stays_writable():
    # A file name that is not UTF-8 reaches Python with surrogate escapes.
    text = compact({"source": "bad-\udcff.md"})
    assert text == '{"source":"bad-\\udcff.md"}'
    text.encode("utf-8")  # raises if a lone surrogate was left in
    assert json.loads(text) == {"source": "bad-\udcff.md"}


def test_non_ascii_is_written_as_is():
    assert compact({"title": "Méta-analyse"}) == '{"title":"Méta-analyse"}'
    assert indented({"title": "Méta"}) == '{\n  "title": "Méta"\n}\n'.encode()
