"""The words of PQL text the parser front (``core.expr.pql``), the tree reader
(``core.expr.pql_tree``) and the renderer (``core.expr.pql_render``) share.
"""

from __future__ import annotations

import re

from core.expr.relative import TIME_WORDS

# Bare words (not after a dot) that belong to PQL constructs outside the subset.
REFUSED_WORDS: dict[str, str] = {
    "select": "select … from (event queries)",
    "xEvent": "xEvent (experience events)",
    "chain": "chain()",
    "CHAIN": "CHAIN()",
    "let": "let",
    "if": "if()",
    "over": "aggregation … over",
    "null": "the null literal (use .isNull() / .isNotNull())",
}
OPERATOR_WORDS = frozenset(
    {"and", "or", "not", "in", "notIn", "like", "exists", "forall", "from", "where", "occurs"}
)
KEYWORDS = OPERATOR_WORDS | {"true", "false"}
SEGMENT_FN = "inSegment"
"""``inSegment("<id>")``: membership of another segment of the tenant (``ast.SegmentRef``)."""
RESERVED_FIRST_STEPS = KEYWORDS | REFUSED_WORDS.keys() | {"date", SEGMENT_FN, *TIME_WORDS}
"""A path whose first step is one of these is written ``$1.step…`` so it reads as a path."""

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
