"""The parse tree of ``core.expr.re2`` spelled for Python's ``re``: an oracle for tests only.

Evaluation runs RE2 itself (``core.expr.matchers``); the PostgreSQL emission is built from the
parse tree. This re-emission of the same tree, with RE2's meaning spelled out explicitly, lets a
test check that the tree means what RE2 means, pattern by pattern (Python's ``re`` backtracks:
use it on short texts only).
"""

from __future__ import annotations

import re

from core.expr.re2 import Anchor, Chars, Concat, Dot, Node, Repeat, parse


def _py_cp(cp: int) -> str:
    return f"\\U{cp:08x}" if cp > 0xFFFF else f"\\u{cp:04x}"


def _py_chars(node: Chars) -> str:
    if not node.ranges:
        return "[^\\x00-\\U0010ffff]"  # the empty class: matches nothing
    if len(node.ranges) == 1 and node.ranges[0][0] == node.ranges[0][1]:
        text = re.escape(chr(node.ranges[0][0]))
        return f"(?i:{text})" if node.ci else text
    body = "".join(
        _py_cp(lo) if lo == hi else f"{_py_cp(lo)}-{_py_cp(hi)}" for lo, hi in node.ranges
    )
    text = f"[{body}]"
    return f"(?i:{text})" if node.ci else text


def to_python(node: Node) -> str:
    if isinstance(node, Chars):
        return _py_chars(node)
    if isinstance(node, Dot):
        return "(?s:.)" if node.dotall else "[^\\n]"
    if isinstance(node, Anchor):
        return {
            "^": "(?m:^)" if node.multiline else "\\A",
            "$": "(?m:$)" if node.multiline else "\\Z",
            "A": "\\A",
            "z": "\\Z",
            "b": "(?a:\\b)",
            "B": "(?a:\\B)",
        }[node.kind]
    if isinstance(node, Repeat):
        hi = "" if node.hi is None else str(node.hi)
        return f"(?:{to_python(node.node)}){{{node.lo},{hi}}}"
    if isinstance(node, Concat):
        return "".join(to_python(n) for n in node.items)
    return "(?:" + "|".join(to_python(b) for b in node.branches) + ")"


def oracle(pattern: str, ci: bool = False) -> re.Pattern[str]:
    """Python's ``re`` with the parse tree's meaning of ``pattern`` (searched with ``.search``)."""
    return re.compile(to_python(parse(pattern, ci)))
