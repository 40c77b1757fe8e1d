"""Compile Draft 2020-12 schemas to Python predicates: the all-valid fast path of ``archiver validate``.

jsonschema-rs's extension imports some sixty standard-library modules when loaded, which costs a
pre-commit run more than checking a thousand manifests. So ``archiver validate`` asks these
generated predicates first and loads jsonschema-rs only to explain a failure. The compiler covers
the keywords the contracts use and refuses every other keyword (unlike fastjsonschema it never
ignores one silently); tests hold it to python-jsonschema and jsonschema-rs on every fixture.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

Check = Callable[[object], bool]

ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default", "deprecated"}
)
# Keywords that only look at the value itself: a subschema made of these is inlined into its
# parent's property check instead of becoming a function call.
LEAF_KEYWORDS = frozenset(
    {"type", "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum",
     "exclusiveMinimum", "exclusiveMaximum"}
)
_IS_NUMBER = "(isinstance(v, (int, float)) and not isinstance(v, bool))"
_TYPE_EXPR = {
    "object": "isinstance(v, dict)",
    "array": "isinstance(v, list)",
    "string": "isinstance(v, str)",
    "boolean": "isinstance(v, bool)",
    "null": "v is None",
    "number": _IS_NUMBER,
    "integer": "((isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()))",
}


# What a guard looks like once a node's "type" check has passed: later keywords need not repeat it.
_GUARDS_IMPLIED = {
    "object": ("isinstance(v, dict)",),
    "array": ("isinstance(v, list)",),
    "string": ("isinstance(v, str)",),
    "number": (_IS_NUMBER,),
    "integer": (_IS_NUMBER,),
}


def _drop_implied_guards(lines: list[str], node: dict) -> list[str]:
    """With a single ``type`` checked first, guards that restate it are always true: drop them."""
    guards = _GUARDS_IMPLIED.get(node.get("type")) if isinstance(node.get("type"), str) else None
    if not guards or not lines:
        return lines
    result = [lines[0]]  # the type check itself
    for line in lines[1:]:
        for guard in guards:
            line = line.replace(f"if {guard} and ", "if ").replace(f"if {guard}:", "if True:")
        result.append(line)
    return result


def _keywords(node: dict):
    """The node's keywords, ``type`` first (so later checks may rely on it)."""
    if "type" in node:
        yield "type", node["type"]
    for keyword, value in node.items():
        if keyword != "type":
            yield keyword, value


def _join(base: str, ref: str) -> str:
    """Resolve a $ref against a base URI, for the forms schemas here use (no urllib on this path)."""
    if ref.startswith("#"):
        return base.split("#", 1)[0] + ref
    if "://" in ref or ref.startswith("urn:"):
        return ref
    if ref.startswith(("/", "..", "./")) or "/" not in base:
        raise UnsupportedSchema(f"$ref {ref!r} is a relative form the fast checker does not resolve")
    return base.split("#", 1)[0].rsplit("/", 1)[0] + "/" + ref


class UnsupportedSchema(ValueError):
    """The schema uses a keyword or form this compiler does not implement."""


def json_equal(a: object, b: object) -> bool:
    """Equality as JSON Schema defines it: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _pointer(document: object, fragment: str) -> object:
    node = document
    for raw in fragment.lstrip("/").split("/") if fragment else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    return node


class _Generator:
    """Emits one Python function per schema node; keyword checks are inline ``return False`` lines."""

    def __init__(self, registry: dict[str, dict]) -> None:
        self.registry = registry
        self.source: list[str] = []
        self.namespace: dict[str, object] = {"_eq": json_equal, "_MISSING": object()}
        self.constant_source: dict[str, str] = {}  # name -> Python expression, for write_module
        self.by_uri: dict[str, str] = {}
        self.by_shape: dict[tuple[str, str], str] = {}
        self.count = 0

    def constant(self, value: object, source: str | None = None) -> str:
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = value
        if isinstance(value, frozenset):
            source = source or f"frozenset({sorted(value)!r})"
        self.constant_source[name] = source or repr(value)
        return name

    def ref(self, base: str, ref: str) -> str:
        uri = _join(base, ref)
        if uri not in self.by_uri:
            resource_uri, _, fragment = uri.partition("#")
            if resource_uri not in self.registry:
                raise UnsupportedSchema(f"$ref {ref!r} names no known schema")
            name = self.by_uri[uri] = self._name()  # named before compiling: recursion is fine
            self.function(_pointer(self.registry[resource_uri], fragment), resource_uri, name)
        return self.by_uri[uri]

    def _name(self) -> str:
        self.count += 1
        return f"_s{self.count}"

    def sub(self, node: object, base: str) -> str:
        if isinstance(node, dict) and "$ref" in node and not set(node) - ANNOTATIONS - {"$ref"}:
            return self.ref(_join(base, node["$id"]) if "$id" in node else base, node["$ref"])  # no wrapper
        # Identical subschemas (the same enum, the same string rule) share one function.
        shape = (base, json.dumps(node, sort_keys=True))
        if shape not in self.by_shape:
            self.by_shape[shape] = self.function(node, base, self._name())
        return self.by_shape[shape]

    def inline(self, node: object, base: str, var: str) -> list[str] | None:
        """The checks of a leaf subschema on ``var``, or None when it needs a function."""
        if not isinstance(node, dict) or not set(node) - ANNOTATIONS <= LEAF_KEYWORDS:
            return None
        lines: list[str] = []
        for keyword, value in _keywords(node):
            if keyword not in ANNOTATIONS:
                lines.extend(getattr(self, "kw_" + keyword)(value, node, base))
        lines = _drop_implied_guards(lines, node)
        # Leaf emitters speak of "v"; rename to the parent's variable (whole-word only).
        return [re.sub(r"\bv\b", var, line) for line in lines]

    def function(self, node: object, base: str, name: str) -> str:
        if isinstance(node, bool):
            self.source.append(f"def {name}(v):\n    return {node}\n")
            return name
        if not isinstance(node, dict):
            raise UnsupportedSchema(f"not a schema: {node!r}")
        base = _join(base, node["$id"]) if "$id" in node else base
        body: list[str] = []
        for keyword, value in _keywords(node):
            if keyword in ANNOTATIONS or keyword in ("then", "else"):
                continue
            emit = getattr(self, "kw_" + keyword.lstrip("$"), None)
            if emit is None:
                raise UnsupportedSchema(f"keyword {keyword!r} is not supported by the fast checker")
            body.extend(emit(value, node, base))
        body = _drop_implied_guards(body, node)
        lines = [f"def {name}(v):", *("    " + line for line in body), "    return True", ""]
        self.source.append("\n".join(lines))
        return name

    # ------------------------------------------------------------------ keywords (lines of a body)

    def kw_ref(self, value, node, base):
        return [f"if not {self.ref(base, value)}(v): return False"]

    def kw_type(self, value, node, base):
        names = [value] if isinstance(value, str) else list(value)
        return [f"if not ({' or '.join(_TYPE_EXPR[n] for n in names)}): return False"]

    def kw_enum(self, value, node, base):
        if all(isinstance(option, str) for option in value):
            return [f"if not (isinstance(v, str) and v in {self.constant(frozenset(value))}): return False"]
        return [f"if not any(_eq(v, o) for o in {self.constant(list(value))}): return False"]

    def kw_const(self, value, node, base):
        if isinstance(value, str):
            return [f"if not (isinstance(v, str) and v == {self.constant(value)}): return False"]
        return [f"if not _eq(v, {self.constant(value)}): return False"]

    def kw_pattern(self, value, node, base):
        search = self.constant(re.compile(value).search, f"_re.compile({value!r}).search")
        return [f"if isinstance(v, str) and {search}(v) is None: return False"]

    def _bound(self, test: str, guard: str, value) -> list[str]:
        return [f"if {guard} and {test.format(self.constant(value))}: return False"]

    def kw_minLength(self, value, node, base):
        return self._bound("len(v) < {}", "isinstance(v, str)", value)

    def kw_maxLength(self, value, node, base):
        return self._bound("len(v) > {}", "isinstance(v, str)", value)

    def kw_minimum(self, value, node, base):
        return self._bound("v < {}", _IS_NUMBER, value)

    def kw_maximum(self, value, node, base):
        return self._bound("v > {}", _IS_NUMBER, value)

    def kw_exclusiveMinimum(self, value, node, base):
        return self._bound("v <= {}", _IS_NUMBER, value)

    def kw_exclusiveMaximum(self, value, node, base):
        return self._bound("v >= {}", _IS_NUMBER, value)

    def kw_minItems(self, value, node, base):
        return self._bound("len(v) < {}", "isinstance(v, list)", value)

    def kw_maxItems(self, value, node, base):
        return self._bound("len(v) > {}", "isinstance(v, list)", value)

    def kw_required(self, value, node, base):
        if not value:
            return []
        present = " and ".join(f"{self.constant(name)} in v" for name in value)
        return [f"if isinstance(v, dict) and not ({present}): return False"]

    def kw_properties(self, value, node, base):
        lines = ["if isinstance(v, dict):"]
        for prop, subschema in value.items():
            key = self.constant(prop)
            if subschema is True or subschema == {}:
                continue
            lines.append(f"    x = v.get({key}, _MISSING)")
            inlined = self.inline(subschema, base, "x")
            if inlined:
                lines.append("    if x is not _MISSING:")
                lines.extend("        " + line for line in inlined)
            else:
                lines.append(f"    if x is not _MISSING and not {self.sub(subschema, base)}(x): return False")
        return lines if len(lines) > 1 else []

    def kw_additionalProperties(self, value, node, base):
        if "patternProperties" in node:
            raise UnsupportedSchema("patternProperties is not supported by the fast checker")
        known = self.constant(frozenset(node.get("properties", {})))
        if value is False:
            return [f"if isinstance(v, dict) and not {known}.issuperset(v): return False"]
        function = self.sub(value, base)
        return [
            "if isinstance(v, dict):",
            "    for k in v:",
            f"        if k not in {known} and not {function}(v[k]): return False",
        ]

    def kw_items(self, value, node, base):
        if "prefixItems" in node:
            raise UnsupportedSchema("prefixItems is not supported by the fast checker")
        function = self.sub(value, base)
        return ["if isinstance(v, list):", "    for x in v:", f"        if not {function}(x): return False"]

    def kw_allOf(self, value, node, base):
        return [f"if not {self.sub(s, base)}(v): return False" for s in value]

    def kw_anyOf(self, value, node, base):
        calls = " or ".join(f"{self.sub(s, base)}(v)" for s in value)
        return [f"if not ({calls}): return False"]

    def kw_oneOf(self, value, node, base):
        calls = " + ".join(f"bool({self.sub(s, base)}(v))" for s in value)
        return [f"if ({calls}) != 1: return False"]

    def kw_not(self, value, node, base):
        return [f"if {self.sub(value, base)}(v): return False"]

    def kw_if(self, value, node, base):
        condition = self.sub(value, base)
        then = self.sub(node["then"], base) if "then" in node else None
        otherwise = self.sub(node["else"], base) if "else" in node else None
        if then and otherwise:
            return [f"if not ({then}(v) if {condition}(v) else {otherwise}(v)): return False"]
        if then:
            return [f"if {condition}(v) and not {then}(v): return False"]
        if otherwise:
            return [f"if not {condition}(v) and not {otherwise}(v): return False"]
        return []


def schema_digest(schemas: dict[str, dict]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(schemas, sort_keys=True).encode()).hexdigest()


def module_source(schemas: dict[str, dict]) -> str:
    """The predicates as a Python module, so an installed package starts from cached byte-code
    instead of generating and compiling them in every process."""
    generator = _Generator({schema["$id"]: schema for schema in schemas.values()})
    entry = {name: generator.ref(schema["$id"], schema["$id"]) for name, schema in schemas.items()}
    lines = [
        '"""Generated by `python -m archiver.fastcheck` from schemas/; do not edit (a test checks it is current)."""',
        "",
        "import re as _re",
        "",
        "from archiver.fastcheck import json_equal as _eq",
        "",
        f"SCHEMA_DIGEST = {schema_digest(schemas)!r}",
        "_MISSING = object()",
        *(f"{name} = {source}" for name, source in generator.constant_source.items()),
        "",
        *generator.source,
        "ENTRY = {" + ", ".join(f"{name!r}: {function}" for name, function in entry.items()) + "}",
        "",
    ]
    return "\n".join(lines)


def compile_schemas(schemas: dict[str, dict]) -> dict[str, Check]:
    """Name -> predicate for each schema; ``$ref`` resolves across all of them by ``$id``."""
    generator = _Generator({schema["$id"]: schema for schema in schemas.values()})
    entry = {name: generator.ref(schema["$id"], schema["$id"]) for name, schema in schemas.items()}
    code = compile("\n".join(generator.source), "<archiver.fastcheck>", "exec")
    exec(code, generator.namespace)  # noqa: S102 - source generated above from the bundled schemas
    return {name: generator.namespace[function] for name, function in entry.items()}  # type: ignore[misc]


if __name__ == "__main__":  # python -m archiver.fastcheck: regenerate archiver/_schema_checks.py
    from pathlib import Path

    from archiver.validation import load_schemas

    target = Path(__file__).with_name("_schema_checks.py")
    target.write_text(module_source(load_schemas()), encoding="utf-8")
    print(f"wrote {target}")
