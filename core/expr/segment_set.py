"""Many segments evaluated against one context at once.

``compile_expr`` gives each segment its own closures, so 1,000 segments x 10 atoms cost 10,000
closure calls and 10,000 path lookups per context, although most segments test the same few
attributes. A :class:`SegmentSet` instead

* evaluates each *distinct* atom (same node, byte for byte in canonical JSON) once per context,
  with each distinct path looked up once for all the atoms on it, into a list of booleans ``r``;
* evaluates each segment's boolean structure (``and``/``or``/``not`` over atoms) as generated
  Python, one loop per *shape* of structure over the atom indices of all the segments of that
  shape::

      def shape(r, rows, out):
          for pos, i0, i1 in rows:
              out[pos] = (r[i0] and not r[i1])

  The code depends only on the shape, so it is compiled once per shape (segments written
  through one dialect share a few), and a segment costs one loop step, not a call.

The meaning is ``compile_expr``'s exactly: an atom is a pure function of the context, so
computing every atom up front changes only the cost (atoms an ``and`` would have skipped are
computed anyway), never a result. Atoms whose path is empty, ``Exists``, ``Quant`` (its condition
is per element) and ``SegmentRef`` are evaluated whole by ``compile_pred``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from core.budget import CURRENT_BUDGET
from core.expr import ast
from core.expr.ast import And, Cmp, Expr, In, Not, Or, Path
from core.expr.evaluate import OPS, Pred, Test, atom_test, compile_pred, key_function, leaves
from core.expr.kinds import KEY_FUNCTIONS, lit_key

Context = Mapping[str, Any]
ShapeFn = Callable[[list[bool], list[tuple[int, ...]], list[bool]], None]
"""``shape(r, rows, out)``: for each row ``(position, atom index, …)`` of segments of one shape,
``out[position]`` = the structure over ``r`` at those indices."""

_MAX_NESTING = 90
"""Deeper structures (the parser allows 64 levels, so only hand-built ASTs) are evaluated whole,
far from CPython's limit of 200 nested parentheses in one expression."""
_SHAPES: dict[str, ShapeFn] = {}
_SHAPES_MAX = 4096
_GLOBALS: dict[str, Any] = {"__builtins__": {}}


class _Shape:
    """One segment's condition split into its distinct atoms and the loop of its structure."""

    __slots__ = ("atoms", "keys", "run")

    def __init__(self, run: ShapeFn, atoms: tuple[Expr, ...], keys: tuple[bytes, ...]):
        self.run = run
        self.atoms = atoms
        self.keys = keys


def _shape_of(expr: Expr | None) -> _Shape:
    atoms: list[Expr] = []
    keys: dict[bytes, int] = {}

    def atom(node: Expr) -> str:
        key = ast.encode(node)
        if key not in keys:
            keys[key] = len(atoms)
            atoms.append(node)
        return f"r[i{keys[key]}]"

    def junction(args: tuple[Expr, ...], word: str, empty: str, depth: int) -> str:
        if not args:
            return empty
        return "(" + f" {word} ".join(walk(a, depth + 1) for a in args) + ")"

    def walk(node: Expr, depth: int) -> str:
        if depth > _MAX_NESTING:
            return atom(node)
        if isinstance(node, And):
            return junction(node.args, "and", "True", depth)
        if isinstance(node, Or):
            return junction(node.args, "or", "False", depth)
        if isinstance(node, Not):
            return f"(not {walk(node.arg, depth + 1)})"
        return atom(node)

    body = "True" if expr is None else walk(expr, 0)
    names = "".join(f", i{n}" for n in range(len(atoms)))
    source = (
        f"def shape(r, rows, out):\n    for (pos,{names[1:]}) in rows:\n        out[pos] = {body}\n"
    )
    run = _SHAPES.get(source)
    if run is None:
        namespace: dict[str, Any] = {}
        exec(compile(source, "<segment shape>", "exec"), _GLOBALS, namespace)
        run = namespace["shape"]
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        _SHAPES[source] = run
    return _Shape(run, tuple(atoms), tuple(keys))


KeyFn = Callable[[Any], Any]


class _PathAtoms:
    """The atoms on one path, arranged so that each value's key under a kind is computed once:
    equality atoms (``eq``, ``In``) as key -> slots tables, orderings as (slot, op, expected)
    per kind, and the rest (string ops, patterns) as scalar tests."""

    __slots__ = ("eq", "key", "ordered", "other", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key = path[0] if len(path) == 1 else None
        self.eq: dict[tuple[str, bool], dict[Any, list[int]]] = {}
        self.ordered: dict[tuple[str, bool], list[tuple[int, Callable[[Any, Any], bool], Any]]] = {}
        self.other: list[tuple[int, Test]] = []

    def add(self, slot: int, node: Expr, test: Test) -> None:
        """File the atom ``node`` (whose plain scalar test is ``test``) under ``slot``."""
        if isinstance(node, Cmp):
            kind = node.value.kind
            ci = node.ci and kind == "string"
            expected = lit_key(node.value, ci)
            if expected is None or key_function(kind, ci) is None:
                return  # never true: the slot stays false
            if kind == "bool" and node.op not in ("eq", "ne"):
                return
            if node.op == "eq":
                self.eq.setdefault((kind, ci), {}).setdefault(expected, []).append(slot)
            else:
                self.ordered.setdefault((kind, ci), []).append((slot, OPS[node.op], expected))
            return
        if isinstance(node, In):
            for lit in node.values:
                ci = node.ci and lit.kind == "string"
                k = lit_key(lit, ci)
                if k is not None and lit.kind in KEY_FUNCTIONS:
                    slots = self.eq.setdefault((lit.kind, ci), {}).setdefault(k, [])
                    if slot not in slots:
                        slots.append(slot)
            return
        self.other.append((slot, test))

    def freeze(self) -> _FrozenPath:
        def key_of(kind: str, ci: bool) -> KeyFn:
            fn = key_function(kind, ci)
            assert fn is not None
            return fn

        eq = tuple((key_of(*k), {v: tuple(s) for v, s in t.items()}) for k, t in self.eq.items())
        ordered = tuple((key_of(*k), tuple(c)) for k, c in self.ordered.items())
        return (self.path, self.key, eq, ordered, tuple(self.other))


_FrozenPath = tuple[
    Path,
    "str | None",
    "tuple[tuple[KeyFn, dict[Any, tuple[int, ...]]], ...]",
    "tuple[tuple[KeyFn, tuple[tuple[int, Callable[[Any, Any], bool], Any], ...]], ...]",
    "tuple[tuple[int, Test], ...]",
]


class SegmentSet:
    """The conditions of many segments (id -> canonical JSON of the condition, None = everyone),
    evaluated together; ``previous`` lends the shapes and atom tests it already built."""

    def __init__(
        self,
        conditions: Iterable[tuple[str, bytes | None]],
        previous: SegmentSet | None = None,
    ) -> None:
        old_shapes = previous._shapes if previous is not None else {}
        old_tests = previous._tests if previous is not None else {}
        self._shapes: dict[bytes | None, _Shape] = {}
        self._tests: dict[bytes, Any] = {}
        index: dict[bytes, int] = {}
        by_path: dict[Path, _PathAtoms] = {}
        opaque: list[tuple[int, Pred]] = []
        ids: list[str] = []
        groups: dict[int, tuple[ShapeFn, list[tuple[int, ...]]]] = {}
        for segment_id, expression in conditions:
            shape = self._shapes.get(expression) or old_shapes.get(expression)
            if shape is None:
                shape = _shape_of(None if expression is None else ast.decode(expression))
            self._shapes[expression] = shape
            slots = []
            for key, node in zip(shape.keys, shape.atoms, strict=True):
                slot = index.get(key)
                if slot is None:
                    slot = index[key] = len(index)
                    self._file(slot, key, node, old_tests, by_path, opaque)
                slots.append(slot)
            group = groups.get(id(shape.run))
            if group is None:
                group = groups[id(shape.run)] = (shape.run, [])
            group[1].append((len(ids), *slots))
            ids.append(segment_id)
        self._size = len(index)
        self._paths = tuple(p.freeze() for p in by_path.values())
        self._opaque = tuple(opaque)
        self._groups = tuple(groups.values())
        self._ids = tuple(ids)

    def _file(
        self,
        slot: int,
        key: bytes,
        node: Expr,
        old_tests: dict[bytes, Any],
        by_path: dict[Path, _PathAtoms],
        opaque: list[tuple[int, Pred]],
    ) -> None:
        cached = old_tests.get(key)
        if cached is None:
            split = atom_test(node)
            cached = split if split is not None else compile_pred(node)
        self._tests[key] = cached
        if isinstance(cached, tuple):
            path, test = cached
            atoms = by_path.get(path)
            if atoms is None:
                atoms = by_path[path] = _PathAtoms(path)
            atoms.add(slot, node, test)
        else:
            opaque.append((slot, cached))

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def atom_count(self) -> int:
        """How many distinct atoms one evaluation computes."""
        return self._size

    def evaluate(self, context: Context) -> dict[str, bool]:
        """Segment id -> whether ``context`` is in it, in the order the set was built."""
        r = [False] * self._size
        is_dict = type(context) is dict
        budget = CURRENT_BUDGET.get()  # a context of many values costs per value: charge it
        for path, key, eq, ordered, other in self._paths:
            if key is not None and is_dict:
                value = context.get(key)  # the hot path: a top-level attribute
                if value is None:
                    continue  # missing or null: every atom on it stays false
                values = value if type(value) is list else (value,)
            else:
                values = leaves(context, path)
            # An atom is true when any value passes: slots only ever turn true here.
            for v in values:
                if budget is not None:
                    budget.charge()
                for key_of, table in eq:
                    k = key_of(v)
                    if k is not None:
                        hit = table.get(k)
                        if hit is not None:
                            for slot in hit:
                                r[slot] = True
                for key_of, checks in ordered:
                    k = key_of(v)
                    if k is not None:
                        for slot, op, expected in checks:
                            if op(k, expected):
                                r[slot] = True
                for slot, test in other:
                    if test(v):
                        r[slot] = True
        for slot, pred in self._opaque:
            r[slot] = pred(context, context)
        out = [False] * len(self._ids)
        for run, rows in self._groups:
            run(r, rows, out)
        return dict(zip(self._ids, out, strict=True))


__all__ = ["SegmentSet"]
