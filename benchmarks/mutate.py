"""Mutation testing: mutate one module at a time and count the mutants its own tests kill.

Usage: python benchmarks/mutate.py [MODULE ...] [--jobs N] [--sample N] [--json FILE] [--doc FILE]

A MODULE is named as under src/archiver ("rules", "deposit.decide"); its own tests are
tests/test_<last part>.py and tests/test_<last part>_*.py (``--tests`` names others). Each mutant is
one small change made in the module's syntax tree: a comparison flipped or loosened, ``and`` for
``or``, a condition negated, a ``not`` dropped, a number or string changed, a ``return`` made to
return None, a statement (a call, a raise, a ``continue``, an assignment into an object) replaced by
``pass``, ``+`` for ``-``. Docstrings, annotations, decorators and ``Literal[...]`` types are left alone. A change to a
string with a blank in it (not an SQL statement), or to the text of an f-string, changes a message only: such mutants are
counted apart ("message-only"), since what a message says is held by other means.

Every mutant runs the module's tests in a fresh interpreter against a copy of the source tree
(``PYTHONPATH``; no bytecode written, so no stale cache answers for a mutant), stopping at the first
failure; a run past its time bound counts as killed (timeout). The tests must pass on the unmutated
copy first, or nothing is counted.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "archiver"
DEFAULT_MODULES = ("eligibility", "rules", "policy", "validation", "deposit.ledger", "deposit.decide", "deposit.protocol")
SQL = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|ALTER|BEGIN|COMMIT|ROLLBACK)\b")
DOC_BEGIN, DOC_END = "<!-- mutation:begin -->", "<!-- mutation:end -->"

COMPARE_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
    ast.Lt: (ast.LtE, ast.GtE), ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE), ast.GtE: (ast.Gt, ast.Lt),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
}
BINOP_SWAPS: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult}
SYMBOL = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
    ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
    ast.Div: "/", ast.FloorDiv: "//", ast.And: "and", ast.Or: "or",
}


@dataclass(frozen=True)
class Mutant:
    index: int  # the node's place in ast.walk order, the same in every copy of the tree
    line: int
    change: str
    message_only: bool
    op: tuple  # what to do to the node: (kind, argument)


@dataclass
class Outcome:
    line: int
    change: str
    message_only: bool
    killed: bool
    how: str  # "failed", "timeout" or "survived"


def _untouchable(tree: ast.Module) -> set[int]:
    """Ids of the nodes no mutant touches: docstrings, annotations, decorators, TYPE_CHECKING blocks."""
    skip: set[int] = set()

    def cover(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(inner) for inner in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                cover(first)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            cover(node.returns)
            for decorator in node.decorator_list:
                cover(decorator)
        if isinstance(node, ast.ClassDef):
            for decorator in node.decorator_list:
                cover(decorator)
        if isinstance(node, ast.arg):
            cover(node.annotation)
        if isinstance(node, ast.AnnAssign):
            cover(node.annotation)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            cover(node)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Literal":
            cover(node.slice)  # the values of a type, read by the type checker only
    return skip


def _in_fstring(tree: ast.Module) -> set[int]:
    return {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}


def mutants_of(source: str) -> list[Mutant]:
    """Every mutant of a module's source, in a stable order."""
    tree = ast.parse(source)
    skip, fstring_parts = _untouchable(tree), _in_fstring(tree)
    found: list[Mutant] = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)

        def add(change: str, op: tuple, message_only: bool = False, line: int = line, index: int = index) -> None:
            found.append(Mutant(index, line, change, message_only, op))

        if isinstance(node, ast.Compare):
            for position, operator in enumerate(node.ops):
                for replacement in COMPARE_SWAPS.get(type(operator), ()):
                    add(f"{SYMBOL[type(operator)]} -> {SYMBOL[replacement]}", ("compare", (position, replacement)))
        elif isinstance(node, ast.BoolOp):
            other = ast.Or if isinstance(node.op, ast.And) else ast.And
            add(f"{SYMBOL[type(node.op)]} -> {SYMBOL[other]}", ("boolop", other))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
            add("'not' dropped" if isinstance(node.op, ast.Not) else "unary minus dropped", ("unwrap", None))
        elif isinstance(node, ast.BinOp) and type(node.op) in BINOP_SWAPS:
            add(f"{SYMBOL[type(node.op)]} -> {SYMBOL[BINOP_SWAPS[type(node.op)]]}", ("binop", BINOP_SWAPS[type(node.op)]))
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                add(f"{value} -> {not value}", ("constant", not value))
            elif isinstance(value, int | float):
                add(f"{value!r} -> {value + 1!r}", ("constant", value + 1))
            elif isinstance(value, str):
                # text with a blank is a message, unless it is a statement to SQLite
                message = id(node) in fstring_parts or (bool(re.search(r"\s", value)) and not SQL.match(value))
                add(f"{_short(value)} -> 'XX{_short(value, 30)[1:-1]}XX'", ("constant", f"XX{value}XX"), message)
        elif isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None
        ):
            add("return value -> None", ("return_none", None))
        if isinstance(node, ast.If | ast.While | ast.IfExp) and not (
            isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
        ):
            add("condition negated", ("negate", None))
        if isinstance(node, ast.Expr | ast.AugAssign | ast.Raise | ast.Continue | ast.Break) or (
            isinstance(node, ast.Assign) and all(isinstance(t, ast.Attribute | ast.Subscript) for t in node.targets)
        ):
            add(f"statement removed ({ast.unparse(node).splitlines()[0][:40]})", ("pass", None))
    return found


def _short(value: str, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 4] + "...'"


class _Apply(ast.NodeTransformer):
    def __init__(self, mutant: Mutant) -> None:
        self.mutant = mutant
        self.target: ast.AST | None = None

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return self.change(node)
        return super().visit(node)

    def change(self, node: ast.AST) -> ast.AST:
        kind, argument = self.mutant.op
        if kind == "compare":
            assert isinstance(node, ast.Compare)
            position, replacement = argument
            node.ops[position] = replacement()
            return node
        if kind == "boolop":
            assert isinstance(node, ast.BoolOp)
            node.op = argument()
            return node
        if kind == "binop":
            assert isinstance(node, ast.BinOp)
            node.op = argument()
            return node
        if kind == "unwrap":
            assert isinstance(node, ast.UnaryOp)
            return node.operand
        if kind == "constant":
            return ast.Constant(argument)
        if kind == "return_none":
            return ast.Return(ast.Constant(None))
        if kind == "negate":
            assert isinstance(node, ast.If | ast.While | ast.IfExp)
            node.test = ast.UnaryOp(ast.Not(), node.test)
            return node
        if kind == "pass":
            return ast.Pass()
        raise ValueError(kind)


def mutated_source(source: str, mutant: Mutant) -> str:
    tree = ast.parse(source)
    applier = _Apply(mutant)
    applier.target = next(node for index, node in enumerate(ast.walk(tree)) if index == mutant.index)
    tree = applier.visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


def module_file(name: str) -> Path:
    path = PACKAGE.joinpath(*name.split(".")).with_suffix(".py")
    if not path.is_file():
        raise SystemExit(f"mutate: no module {name} ({path.relative_to(REPO)} does not exist)")
    return path


def own_tests(name: str) -> list[str]:
    last = name.split(".")[-1]
    tests = sorted({*REPO.glob(f"tests/test_{last}.py"), *REPO.glob(f"tests/test_{last}_*.py")})
    if not tests:
        raise SystemExit(f"mutate: {name} has no tests of its own (tests/test_{last}.py or tests/test_{last}_*.py)")
    return [str(path.relative_to(REPO)) for path in tests]


class Workspace:
    """A copy of the source tree (and the schemas it reads) on which one mutant at a time is run."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="archiver-mutate-"))
        shutil.copytree(REPO / "src", self.root / "src", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(REPO / "schemas", self.root / "schemas")

    def run(self, relative: Path, text: str, tests: list[str], timeout: float) -> tuple[str, float]:
        target = self.root / "src" / relative
        original = target.read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(self.root / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-p", "no:cacheprovider", *tests]
        began = time.monotonic()
        try:
            done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=timeout, check=False)
            how = "survived" if done.returncode == 0 else "failed"
            if done.returncode not in (0, 1):  # 2..5: the run itself broke (import error, no tests)
                how = f"failed (pytest exit {done.returncode})"
        except subprocess.TimeoutExpired:
            how = "timeout"
        finally:
            target.write_text(original, encoding="utf-8")
        return how, time.monotonic() - began

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def mutate_module(name: str, tests: list[str], jobs: int, sample: int | None, say) -> dict:
    path = module_file(name)
    relative = path.relative_to(REPO / "src")
    source = path.read_text(encoding="utf-8")
    mutants = mutants_of(source)
    if sample is not None and sample < len(mutants):
        mutants = sorted(random.Random(0).sample(mutants, sample), key=lambda m: (m.line, m.index))
    spaces: queue.Queue[Workspace] = queue.Queue()
    for _ in range(jobs):
        spaces.put(Workspace())
    try:
        space = spaces.get()
        how, baseline = space.run(relative, ast.unparse(ast.parse(source)), tests, timeout=600)
        spaces.put(space)
        if how != "survived":
            raise SystemExit(f"mutate: {' '.join(tests)} fail on the unmutated {name}: nothing to count")
        timeout = max(20.0, baseline * 5)
        say(f"{name}: {len(mutants)} mutants, {' '.join(tests)} ({baseline:.1f} s a run)")

        def one(mutant: Mutant) -> Outcome:
            workspace = spaces.get()
            try:
                how, _ = workspace.run(relative, mutated_source(source, mutant), tests, timeout)
            finally:
                spaces.put(workspace)
            return Outcome(mutant.line, mutant.change, mutant.message_only, how != "survived", how)

        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            outcomes = list(pool.map(one, mutants))
        seconds = time.monotonic() - began
    finally:
        while not spaces.empty():
            spaces.get().close()
    return summarise(name, tests, outcomes, seconds)


def _rate(killed: int, total: int) -> float:
    return round(100.0 * killed / total, 1) if total else 100.0


def summarise(name: str, tests: list[str], outcomes: list[Outcome], seconds: float) -> dict:
    behaviour = [o for o in outcomes if not o.message_only]
    killed = sum(o.killed for o in outcomes)
    killed_behaviour = sum(o.killed for o in behaviour)
    return {
        "module": name,
        "tests": tests,
        "mutants": len(outcomes),
        "killed": killed,
        "survived": len(outcomes) - killed,
        "kill_rate": _rate(killed, len(outcomes)),
        "behaviour_mutants": len(behaviour),
        "behaviour_kill_rate": _rate(killed_behaviour, len(behaviour)),
        "seconds": round(seconds, 1),
        "survivors": [asdict(o) for o in sorted(outcomes, key=lambda o: o.line) if not o.killed],
    }


def render_text(result: dict) -> str:
    lines = [
        f"{result['module']}: {result['killed']} of {result['mutants']} mutants killed ({result['kill_rate']}%); "
        f"message-only changes aside {result['behaviour_kill_rate']}% of {result['behaviour_mutants']}; "
        f"{result['seconds']} s"
    ]
    for survivor in result["survivors"]:
        tag = " (message-only)" if survivor["message_only"] else ""
        lines.append(f"  survived: {result['module'].replace('.', '/')}.py:{survivor['line']}: {survivor['change']}{tag}")
    return "\n".join(lines)


def render_doc_table(results: list[dict]) -> str:
    rows = [
        "| module | its own tests | mutants | killed | kill rate | message-only changes aside |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        tests = ", ".join(f"`{Path(t).name}`" for t in r["tests"])
        rows.append(
            f"| `{r['module']}` | {tests} | {r['mutants']} | {r['killed']} | {r['kill_rate']}% | "
            f"{r['behaviour_kill_rate']}% of {r['behaviour_mutants']} |"
        )
    return "\n".join(rows)


def write_doc(doc: Path, results: list[dict]) -> None:
    """Replace the figures of the modules just run in the doc's table, keeping the others."""
    text = doc.read_text(encoding="utf-8")
    if DOC_BEGIN not in text or DOC_END not in text:
        raise SystemExit(f"mutate: {doc} has no {DOC_BEGIN} ... {DOC_END} block to write the figures into")
    store = doc.with_name("mutation.json")
    kept = {r["module"]: r for r in (json.loads(store.read_text()) if store.is_file() else [])}
    kept.update({r["module"]: r for r in results})
    ordered = sorted(kept.values(), key=lambda r: r["module"])
    store.write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    doc.write_text(f"{head}{DOC_BEGIN}\n{render_doc_table(ordered)}\n{DOC_END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(DEFAULT_MODULES), help="modules under src/archiver, e.g. rules")
    parser.add_argument("--tests", nargs="+", help="test files to run instead of the module's own")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants run at once (default: the cores)")
    parser.add_argument("--sample", type=int, help="run this many mutants of each module, drawn with a fixed seed")
    parser.add_argument("--doc", type=Path, help="write the figures into this Markdown file's mutation block (and mutation.json beside it)")
    parser.add_argument("--list", action="store_true", help="print the mutants without running them")
    args = parser.parse_args(argv)
    results = []
    for name in args.modules:
        if args.list:
            for mutant in sorted(mutants_of(module_file(name).read_text(encoding="utf-8")), key=lambda m: m.line):
                print(f"{name}:{mutant.line}: {mutant.change}{' (message-only)' if mutant.message_only else ''}")
            continue
        tests = args.tests or own_tests(name)
        result = mutate_module(name, tests, max(1, args.jobs), args.sample, lambda text: print(text, flush=True))
        print(render_text(result), flush=True)
        results.append(result)
    if args.doc and results:
        write_doc(args.doc, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
