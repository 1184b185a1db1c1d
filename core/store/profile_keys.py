"""SQL helpers over profile attributes: the sort key of a profile (with its SQLite functions)
and the index hints PostgreSQL's GIN index answers. Used by ``core.store.profiles`` and
``core.store.profile_pages``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from core.errors import NotExpressible
from core.expr.ast import And, Cmp, Expr, In, Lit
from core.expr.evaluate import nodes
from core.expr.kinds import NUMBER_RE, number_text
from core.expr.sql import jsonpath
from core.store.rows import dumps

if TYPE_CHECKING:
    import aiosqlite

_any_dec = msgspec.json.Decoder()


def first_value(attributes: Any, path: Sequence[str]) -> Any:
    """The first value at ``path`` (list elements stepped into, as the evaluator and
    PostgreSQL's lax jsonpath do): a profile's sort key. None when there is none."""
    found = nodes(attributes, tuple(path))
    return found[0] if found else None


def _sort_number(attributes: str | None, path: str) -> float | None:
    value = first_value(_any_dec.decode(attributes or "{}"), _any_dec.decode(path))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _sort_text(attributes: str | None, path: str) -> str | None:
    value = first_value(_any_dec.decode(attributes or "{}"), _any_dec.decode(path))
    return value if isinstance(value, str) else None


async def register_sqlite_sort_functions(conn: aiosqlite.Connection) -> None:
    """The SQLite twins of the PostgreSQL sort expressions (see ``ProfilePageSql._order``)."""
    await conn.create_function("profile_sort_number", 2, _sort_number, deterministic=True)
    await conn.create_function("profile_sort_text", 2, _sort_text, deterministic=True)


_EXACT_INTS = 2**53
"""Integers beyond this do not survive the double a number becomes when compared (kinds)."""
_MAX_HINT_VALUES = 100


def has_wide_ints(value: Any) -> bool:
    """Whether a JSON number in ``value`` is an integer a double cannot hold exactly: the one
    kind of stored number for which jsonb equality and the kinds' number keys disagree."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif type(item) is int and abs(item) > _EXACT_INTS:
            return True
    return False


def index_hints(expr: Expr) -> list[str]:
    """SQL/JSON paths for the string equalities of a conjunction, which PostgreSQL's GIN
    index on the attributes answers. Each selects a superset of its atom's matches (a string
    equal to the literal, or, for a literal in canonical number form, a number equal to it:
    the kinds' string key of a stored number is that number's shortest text), so the exact
    predicate, still applied, decides; they only spare it most rows."""
    atoms = expr.args if isinstance(expr, And) else (expr,)
    hints: list[str] = []
    for atom in atoms:
        lits: tuple[Lit, ...]
        if isinstance(atom, Cmp) and atom.op == "eq" and not atom.ci:
            lits = (atom.value,)
        elif isinstance(atom, In) and not atom.ci and len(atom.values) <= _MAX_HINT_VALUES:
            lits = atom.values
        else:
            continue
        values = [lit.value for lit in lits if lit.kind == "string"]
        if not atom.path or not values or len(values) < len(lits):
            continue
        tests: list[str] = []
        for value in values:
            assert isinstance(value, str)
            tests.append(f"@ == {dumps(value)}")
            if NUMBER_RE.fullmatch(value) and number_text(float(value)) == value:
                tests.append(f"@ == {value}")
        try:
            hints.append(f"{jsonpath(atom.path)} ? ({' || '.join(tests)})")
        except NotExpressible:  # a key with NUL: no hint, the predicate alone decides
            continue
    return hints
