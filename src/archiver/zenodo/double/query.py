"""The list endpoint's search as the Zenodo double answers it: Zenodo's legacy query syntax, parsed.

Grounded in zenodo/zenodo-rdm (site/zenodo_rdm/queryparser.py, ZENODO_LEGACY_SEARCH_MAP, used by
invenio.cfg's RDM_SEARCH query parser) and invenio-records-resources' QueryParser: ``q`` is parsed
as a Lucene query tree (luqum), legacy field names are mapped inside every group, and the tree
becomes an OpenSearch ``query_string`` (default operator OR; NOT and AND bind tighter). Fields:

- text fields (analysed by the standard analyser): ``keywords`` (metadata.subjects.subject),
  ``notes`` (the additional description of type notes), ``title``, ``description``. A phrase matches
  a run of lower-cased word tokens within one value, so ``keywords:"SRCH:9DC75331"`` also matches a
  keyword "see SRCH:9DC75331 too": a search hit is a hint that the caller checks;
- exact fields: ``conceptrecid`` (parent.id), ``recid`` (id), ``doi`` and ``conceptdoi``;
- a bare term searches every field; a field the map does not know matches nothing (it passes
  through to a field the index does not have). A query luqum cannot parse falls back to a match
  of its words over every field, as QueryParser does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# legacy field -> (is a text field, how to read its values from a deposition view)
FieldReader = Callable[[dict], Iterable[str]]


def _metadata_text(name: str) -> FieldReader:
    def read(view: dict) -> list[str]:
        value = view.get("metadata", {}).get(name)
        if isinstance(value, list):
            return [str(item) for item in value]
        return [str(value)] if value not in (None, "") else []

    return read


FIELDS: dict[str, tuple[bool, FieldReader]] = {
    "keywords": (True, _metadata_text("keywords")),
    "notes": (True, _metadata_text("notes")),
    "title": (True, _metadata_text("title")),
    "description": (True, _metadata_text("description")),
    "conceptrecid": (False, lambda view: [str(view.get("conceptrecid", ""))]),
    "recid": (False, lambda view: [str(view.get("id", ""))]),
    "doi": (False, lambda view: [view["doi"]] if view.get("doi") else []),
    "conceptdoi": (False, lambda view: [view["conceptdoi"]] if view.get("conceptdoi") else []),
}
# The index's own field names, which the legacy names map to (and the records API's search takes as they are).
FIELDS.update({
    "metadata.subjects.subject": FIELDS["keywords"],
    "metadata.title": FIELDS["title"],
    "metadata.description": FIELDS["description"],
    "parent.id": FIELDS["conceptrecid"],
    "id": FIELDS["recid"],
    "pids.doi.identifier": FIELDS["doi"],
})

_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([A-Za-z_][\w.]*):(?=\S)|([^\s()"]+))')
_WORD = re.compile(r"\w+")


class QuerySyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    field: str | None  # None: every field
    text: str
    phrase: bool


@dataclass(frozen=True)
class Node:
    op: str  # "or", "and", "not"
    children: tuple[Node | Term, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QuerySyntaxError(f"cannot read the query at {position}")
        position = match.end()
        opening, closing, phrase, field, word = match.groups()
        if opening:
            out.append(("(", opening))
        elif closing:
            out.append((")", closing))
        elif phrase is not None:
            out.append(("phrase", re.sub(r"\\(.)", r"\1", phrase)))
        elif field:
            out.append(("field", field))
        elif word in ("OR", "AND", "NOT", "||", "&&"):
            out.append((word.replace("||", "OR").replace("&&", "AND"), word))
        else:
            out.append(("word", word))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Node | Term:
        if not self.tokens:
            return Node("and", ())  # an empty query finds everything
        node = self.or_expr(None)
        if self.peek() is not None:
            raise QuerySyntaxError("unbalanced parentheses")
        return node

    def or_expr(self, field: str | None) -> Node | Term:
        parts = [self.and_expr(field)]
        while self.peek() not in (None, ")"):
            if self.peek() == "OR":
                self.take()
            parts.append(self.and_expr(field))  # adjacency is OR too: query_string's default operator
        return parts[0] if len(parts) == 1 else Node("or", tuple(parts))

    def and_expr(self, field: str | None) -> Node | Term:
        parts = [self.unary(field)]
        while self.peek() == "AND":
            self.take()
            parts.append(self.unary(field))
        return parts[0] if len(parts) == 1 else Node("and", tuple(parts))

    def unary(self, field: str | None) -> Node | Term:
        if self.peek() == "NOT":
            self.take()
            return Node("not", (self.unary(field),))
        return self.primary(field)

    def primary(self, field: str | None) -> Node | Term:
        kind = self.peek()
        if kind is None:
            raise QuerySyntaxError("the query ends early")
        if kind == "field":
            field = self.take()[1]
            kind = self.peek()
            if kind not in ("(", "phrase", "word"):
                raise QuerySyntaxError(f"nothing after {field}:")
        if kind == "(":
            self.take()
            node = self.or_expr(field)
            if self.peek() != ")":
                raise QuerySyntaxError("unbalanced parentheses")
            self.take()
            return node
        token_kind, text = self.take()
        if token_kind not in ("phrase", "word"):
            raise QuerySyntaxError(f"unexpected {text!r}")
        return Term(field, text, token_kind == "phrase")


def parse(query: str) -> Node | Term:
    """The query tree; a query that cannot be parsed becomes an OR of its words over every field."""
    try:
        return _Parser(query or "").parse()
    except QuerySyntaxError:
        words = _WORD.findall(query or "")
        return Node("or", tuple(Term(None, word, False) for word in words))


def _analysed(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def _value_matches(value: str, term: Term, text_field: bool) -> bool:
    if not text_field:
        return value == term.text
    wanted = _analysed(term.text)
    if not wanted:
        return False
    have = _analysed(value)
    return any(have[i : i + len(wanted)] == wanted for i in range(len(have) - len(wanted) + 1))


def _term_matches(view: dict, term: Term) -> bool:
    names = [term.field] if term.field else list(FIELDS)
    for name in names:
        if name not in FIELDS:
            continue  # an unmapped field is passed through to the index, where no document has it
        text_field, read = FIELDS[name]
        if any(_value_matches(value, term, text_field) for value in read(view)):
            return True
    return False


def matches(view: dict, node: Node | Term) -> bool:
    """Whether a deposition (its JSON view) matches a parsed query."""
    if isinstance(node, Term):
        return _term_matches(view, node)
    if node.op == "not":
        return not matches(view, node.children[0])
    if node.op == "and":
        return all(matches(view, child) for child in node.children)
    return any(matches(view, child) for child in node.children)
