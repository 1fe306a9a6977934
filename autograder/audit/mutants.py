"""Small wrong versions of a reference solution: one AST edit each, inside the answer regions only.

Operators, the kind of slip each stands for:

- arithmetic:  + ↔ −, * ↔ /, ** → *, a − b → a (a dropped term), −x → x (a lost sign)
- comparison:  < ↔ <=, > ↔ >=, == ↔ !=
- constants:   a number n → 0 (or 1 for 0), 2n; True ↔ False; "A" ↔ "B" style string swaps
- axes:        dim= / axis= k → another axis; keepdim flipped; reduction="mean" ↔ "sum"
- calls:       .sum ↔ .mean, .max ↔ .min, randn_like → rand_like, the first two arguments swapped,
               .detach() dropped
- devices:     device= dropped from a call; torch.randn_like(x) → torch.randn(x.shape) (zeros_like, ones_like, ...):
               the tensor is made on the CPU whatever the inputs' device, which only a device check can see
- statements:  a call statement (zero_grad(), backward(), step()) or an augmented assignment deleted
- arguments:   a keyword argument ignored (its default always used): every parameter's effect must show

Mutants are whole modules (ast.unparse), so line numbers refer to the reference file.
"""

from __future__ import annotations

import ast
import copy
import random
import re
from dataclasses import dataclass

FENCE_BEGIN = re.compile(r"^\s*# BEGIN SOLUTION\s*$")
FENCE_END = re.compile(r"^\s*# END SOLUTION\s*$")
BINARY_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult}
COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq}
METHOD_SWAPS = {"sum": "mean", "mean": "sum", "max": "min", "min": "max", "amax": "amin", "randn_like": "rand_like",
                "logsumexp": "amax"}
AXIS_KEYWORDS = ("dim", "axis")
LIKE_FACTORIES = {"randn_like": "randn", "rand_like": "rand", "zeros_like": "zeros", "ones_like": "ones",
                  "empty_like": "empty"}


@dataclass(frozen=True)
class Mutant:
    """One wrong version of the reference."""

    id: str
    operator: str  # what was changed, in words
    line: int  # line of the reference file
    original: str  # that line, as written
    source: str  # the whole mutated module

    def describe(self) -> str:
        return f"{self.id} line {self.line}: {self.operator}  [{self.original.strip()}]"


def answer_lines(source: str) -> set:
    """Line numbers inside `# BEGIN SOLUTION` / `# END SOLUTION` fences (the whole file when there are none)."""
    lines, inside, answer = source.splitlines(), False, set()
    for number, line in enumerate(lines, start=1):
        if FENCE_BEGIN.match(line):
            inside = True
        elif FENCE_END.match(line):
            inside = False
        elif inside:
            answer.add(number)
    return answer or set(range(1, len(lines) + 1))


def _sites(tree, lines):
    """(node path, operator description, mutate(node) -> replacement) for every mutation point, in order."""
    sites = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) not in lines:
            continue
        for description, mutate in _operators(node):
            sites.append((node, description, mutate))
    return sites


def _operators(node):
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY_SWAPS:
        new = BINARY_SWAPS[type(node.op)]
        yield (f"{_symbol(node.op)} → {_symbol(new())}",
               lambda n, new=new: ast.BinOp(n.left, new(), n.right))
        if isinstance(node.op, (ast.Add, ast.Sub)):
            yield ("a term dropped (a ± b → a)", lambda n: n.left)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield ("a minus sign dropped", lambda n: n.operand)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE_SWAPS:
        new = COMPARE_SWAPS[type(node.ops[0])]
        yield (f"comparison {_symbol(node.ops[0])} → {_symbol(new())}",
               lambda n, new=new: ast.Compare(n.left, [new()], n.comparators))
    if isinstance(node, ast.Constant) and not isinstance(node.value, str):
        yield from _constant_operators(node)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ("A", "B"):
        other = "B" if node.value == "A" else "A"
        yield (f"string {node.value!r} → {other!r}", lambda n, o=other: ast.Constant(o))
    if isinstance(node, ast.keyword):
        yield from _keyword_operators(node)
    if isinstance(node, ast.Call):
        yield from _call_operators(node)


def _constant_operators(node):
    value = node.value
    if isinstance(value, bool):
        yield (f"{value} → {not value}", lambda n: ast.Constant(not n.value))
    elif isinstance(value, (int, float)):
        replacement = 1 if value == 0 else 0
        yield (f"constant {value!r} → {replacement!r}", lambda n, r=replacement: ast.Constant(type(n.value)(r)))
        if value not in (0, 1):
            yield (f"constant {value!r} → {value * 2!r}", lambda n: ast.Constant(n.value * 2))


def _keyword_operators(node):
    value = node.value
    if node.arg in AXIS_KEYWORDS and isinstance(value, (ast.Constant, ast.UnaryOp)):
        try:
            axis = ast.literal_eval(value)
        except ValueError:
            return
        if isinstance(axis, int):
            other = 0 if axis != 0 else 1
            yield (f"{node.arg}={axis} → {node.arg}={other}", lambda n, o=other: ast.keyword(n.arg, ast.Constant(o)))
    if node.arg == "keepdim" and isinstance(value, ast.Constant):
        yield (f"keepdim={value.value} → {not value.value}", lambda n: ast.keyword(n.arg, ast.Constant(not n.value.value)))
    if node.arg == "reduction" and isinstance(value, ast.Constant) and value.value in ("mean", "sum", "none"):
        other = {"mean": "sum", "sum": "mean", "none": "mean"}[value.value]
        yield (f"reduction={value.value!r} → {other!r}", lambda n, o=other: ast.keyword(n.arg, ast.Constant(o)))


def _call_operators(node):
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name in METHOD_SWAPS:
        new = METHOD_SWAPS[name]

        def swap(n, new=new):
            n = copy.copy(n)
            n.func = copy.copy(n.func)
            if isinstance(n.func, ast.Attribute):
                n.func.attr = new
            else:
                n.func.id = new
            return n

        yield (f"{name}() → {new}()", swap)
    if any(k.arg == "device" for k in node.keywords):
        def on_the_cpu(n):
            n = copy.copy(n)
            n.keywords = [k for k in n.keywords if k.arg != "device"]
            return n

        yield (f"device= dropped from {name}() (made on the CPU)", on_the_cpu)
    if name in LIKE_FACTORIES and isinstance(func, ast.Attribute) and len(node.args) == 1 and not node.keywords:
        def from_shape(n, factory=LIKE_FACTORIES[name]):
            shape = ast.Attribute(copy.deepcopy(n.args[0]), "shape", ast.Load())
            return ast.Call(ast.Attribute(copy.deepcopy(n.func.value), factory, ast.Load()), [shape], [])

        yield (f"{name}(x) → {LIKE_FACTORIES[name]}(x.shape) (made on the CPU)", from_shape)
    if name == "detach" and isinstance(func, ast.Attribute) and not node.args:
        yield (".detach() dropped", lambda n: n.func.value)
    positional = [a for a in node.args if not isinstance(a, ast.Starred)]
    if len(positional) >= 2 and len(positional) == len(node.args) and ast.dump(positional[0]) != ast.dump(positional[1]):
        def swapped(n):
            n = copy.copy(n)
            n.args = [n.args[1], n.args[0], *n.args[2:]]
            return n

        yield (f"the first two arguments of {name}() swapped", swapped)


def _statement_sites(tree, lines):
    """Statements whose deletion is a realistic slip: a bare call (zero_grad(), backward()), an augmented assignment."""
    sites = []
    for parent in ast.walk(tree):
        for field in ("body", "orelse"):
            block = getattr(parent, field, None)
            if not isinstance(block, list) or len(block) < 2:
                continue
            for index, statement in enumerate(block):
                if statement.lineno not in lines:
                    continue
                if (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)) or \
                        isinstance(statement, ast.AugAssign):
                    sites.append((parent, field, index))
    return sites


def _keyword_parameters(tree, lines):
    """(function's index among the functions, parameter, default node) for the parameters with defaults of
    functions that hold answer lines."""
    for position, node in enumerate(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        if not any(s.lineno in lines for s in node.body):
            continue
        positional = node.args.args[len(node.args.args) - len(node.args.defaults):]
        pairs = list(zip(positional, node.args.defaults)) + [
            (a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
        for argument, default in pairs:
            yield position, argument.arg, default


def _symbol(op) -> str:
    return {ast.Add: "+", ast.Sub: "−", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Lt: "<", ast.LtE: "<=",
            ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}.get(type(op), type(op).__name__)


class _Replace(ast.NodeTransformer):
    def __init__(self, target, replacement):
        self.target, self.replacement = target, replacement

    def generic_visit(self, node):
        if node is self.target:
            return self.replacement
        return super().generic_visit(node)

    def visit(self, node):
        if node is self.target:
            return self.replacement
        return super().visit(node)


def mutants(source: str, limit: int | None = None, seed: int = 0) -> list:
    """Every single-edit mutant of the answer regions of `source` (a random `limit` of them, if given)."""
    lines = answer_lines(source)
    original_lines = source.splitlines()
    made, seen = [], set()

    def add(operator, line, tree):
        try:
            text = ast.unparse(ast.fix_missing_locations(tree))
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError):
            return
        if text in seen:
            return
        seen.add(text)
        made.append(Mutant(f"m{len(made) + 1:03d}", operator, line, original_lines[line - 1], text))

    baseline = ast.unparse(ast.parse(source))
    seen.add(baseline)
    count = len(_sites(ast.parse(source), lines))
    for index in range(count):
        tree = ast.parse(source)
        node, description, mutate = _sites(tree, lines)[index]
        replacement = mutate(node)
        add(description, node.lineno, _Replace(node, replacement).visit(tree))
    for index in range(len(_statement_sites(ast.parse(source), lines))):
        tree = ast.parse(source)
        parent, field, position = _statement_sites(tree, lines)[index]
        block = getattr(parent, field)
        statement = block[position]
        del block[position]
        add(f"statement deleted: {ast.unparse(statement)[:60]}", statement.lineno, tree)
    for position, name, default in _keyword_parameters(ast.parse(source), lines):
        tree = ast.parse(source)
        target = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)][position]
        function = target.name
        first = next(i for i, statement in enumerate(target.body) if statement.lineno in lines)
        target.body.insert(first, ast.Assign([ast.Name(name, ast.Store())], copy.deepcopy(default)))
        add(f"argument {name} of {function}() ignored (its default always used)", target.body[first + 1].lineno, tree)
    if limit is not None and limit < len(made):
        made = sorted(random.Random(seed).sample(made, limit), key=lambda m: m.id)
    return made
