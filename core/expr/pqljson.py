"""PQL's JSON form (``pql/json``) and the PQL semantics shared with the text form.

The node tree is PQL's intermediate form in segmux: ``pql.py`` parses text *into these nodes*
and ``pql_render.py`` renders text *from them*, so PQL text and pql/json always agree (text →
AST → pql/json → AST gives the same AST).

Node format (the four documented node types; keys are emitted in this order, compact JSON):

======================  ==========================================  ==========================
nodeType                keys                                        meaning
======================  ==========================================  ==========================
``fnApply``             ``nodeType, fnName, params``                operator / function
``fieldLookup``         ``nodeType, fieldName, object``             one path step on ``object``
``parameterReference``  ``nodeType, position``                      ``$1`` = the profile
``literal``             ``nodeType, literalType, value``            a constant
======================  ==========================================  ==========================

Documented (Adobe): ``fnName "="``, ``literalType "String"``, paths nesting outside-in (the last
step is the outermost ``fieldLookup``). Everything else is [project]-defined, named after PQL:

* ``fnName`` — ``and``, ``or`` (n-ary), ``not`` (one param); ``=``, ``!=``, ``<``, ``<=``, ``>``,
  ``>=`` (``[path, literal]``; ``[literal, path]`` is accepted and flipped); ``in``, ``notIn``
  (``[path, Array]``); ``like`` (``[path, String]``); ``startsWith``, ``endsWith``, ``contains``,
  ``doesNotStartWith``, ``doesNotEndWith``, ``doesNotContain``, ``equals``, ``notEqualTo``
  (``[path, String]`` or ``[path, String, Boolean caseSensitive]``; the flag is emitted only
  when false); ``matches`` (``[path, String]``); ``isNull``, ``isNotNull`` (``[path]``);
  ``exists``, ``forall`` (``[path, condition]``); ``includes`` (``[path, literal]``),
  ``intersects``, ``supersetOf``, ``subsetOf`` (``[path, Array]``); as the left side of a
  comparison, ``count`` (``[path]`` or ``[distinct]``), ``distinct`` (``[path]``) and
  ``intersection`` (``[path, Array]``, compared with ``=``/``!=`` and an Array), ``%``
  (``[path, Integer]``), ``getYear``/``getMonth``/``getDayOfMonth`` (``[path]``).
* ``literalType`` — ``String``, ``Integer``, ``Double``, ``Boolean``, ``Date`` (value
  ``"YYYY-MM-DD"``), ``Array`` (value: a list of literal nodes), after PQL's literal table.
* Quantifiers: inside the condition of the k-th nested ``exists``/``forall`` the list element
  is ``parameterReference`` position ``k + 1`` (``$1`` stays the profile, as PQL numbers its
  parameters); a path there must start at that element.
* A bare ``Boolean true`` literal is the whole condition "everyone" (``None``).

Mapping to the AST (``core.expr.ast``; PQL compares with null as false):

* a comparison of two paths → ``CmpAttr`` (the same node, same-typed scalars only).
* ``!=`` / ``notEqualTo`` → ``Cmp("ne")`` (present and different); ``equals(s, false)`` →
  ``Cmp("eq", ci=True)``.
* ``notIn`` → ``And(Exists(p), Not(In(p, …)))`` (PQL: notIn is also false for null); the
  ``doesNot*`` functions follow the same rule, ``And(Exists(p), Not(StrOp(…)))``, so every
  PQL string test is false on a missing or null attribute.
* ``matches`` → ``Regex``: the documented example ``name.matches("(?i)^John")`` is described as
  "starts with John", so the pattern is *searched* (Java ``find``), not matched whole; the
  pattern is kept verbatim (an inline ``(?i)`` stays in it) and must be in the RE2 subset the
  evaluator runs (``core.expr.re2``): Java-only syntax (lookaround, back-references,
  possessive quantifiers, ``\\p{…}``) is refused.
* ``like`` → ``Like`` (case-sensitive); ``isNull`` → ``Not(Exists)``; ``isNotNull`` → ``Exists``.
* Array functions, over the values at the path (lists opened as every atom opens them):
  ``includes(v)`` → ``Cmp("eq")``; ``intersects(L)`` → ``In``; ``supersetOf(L)`` → an ``And``
  of ``Cmp("eq")`` (``[]``: ``Exists``); ``subsetOf(L)`` →
  ``And(Exists(p), Quant(all, p, In((), L)))``;
  ``intersection(L) = R`` → ``And(Exists(p), p = r for r in R, Not(In(p, L minus R)))`` (sets;
  ``R ⊄ L`` is refused as never true), ``!=`` → ``And(Exists(p), Not(that))``;
  ``count()`` / ``distinct().count()`` ``<op> n`` → ``Count(op, p, n, distinct)``.
* ``p % n <op> m`` → ``Mod``; ``p.getMonth() <op> m`` (and the others) → ``DatePart``.
* ``p <op> currentMonth()`` (and the others) → ``NowPart``; ``{"fnName": "occurs", "params":
  [p, "last week"]}`` (the words after PQL's ``occurs``) → ``Occurs`` (``core.expr.relative``).

Not expressible (``NotExpressible``): ``datetime`` / ``semver`` / ``version`` / ``null`` literals
(PQL has no exact instant literal), ``SegmentRef``, case-insensitive ``In``/``Like``/``Regex``/
ordering, string tests against no values, and an empty path outside a quantifier.

Layout: this module is the public entry point (``parse_pqljson``, ``render_pqljson`` and the
names PQL text's modules build on); the parts live in ``pqljson_nodes`` (node structs, safe
decoding, literal values), ``pqljson_vocab`` (function names, refusal wording),
``pqljson_read`` (nodes → AST) and ``pqljson_render`` (AST → nodes).
"""

from __future__ import annotations

from core.expr.ast import Expr
from core.expr.limits import DEFAULT_LIMITS, Limits
from core.expr.pqljson_nodes import (
    EVERYONE,
    FIELD,
    FieldLookup,
    FnApply,
    Literal,
    Node,
    ParameterReference,
    decode,
    encode,
)
from core.expr.pqljson_read import NodeReader
from core.expr.pqljson_render import lower
from core.expr.pqljson_vocab import METHODS, describe_function, refused

__all__ = [
    "EVERYONE",
    "FIELD",
    "METHODS",
    "FieldLookup",
    "FnApply",
    "Literal",
    "Node",
    "NodeReader",
    "ParameterReference",
    "describe_function",
    "lower",
    "parse_pqljson",
    "refused",
    "render_pqljson",
]


def parse_pqljson(
    value: str | dict[str, object] | list[object], limits: Limits = DEFAULT_LIMITS
) -> Expr | None:
    """Parse pql/json (JSON text, or the already-decoded object) to the AST; None = everyone."""
    node = decode(value, limits)
    if node == EVERYONE:
        return None
    return NodeReader(limits).root(node)


def render_pqljson(expr: Expr | None) -> str:
    """Compact pql/json text for ``expr`` (None = everyone = ``Boolean true``)."""
    return encode(lower(expr, "pql/json"))
