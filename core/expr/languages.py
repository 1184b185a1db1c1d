"""The condition languages by name, and ``translate`` between any two of them.

Each language is a parse/render pair over the canonical AST:

============  =============================================  ================================
name          parse (expression → ``Expr | None``)            render (``Expr | None`` → …)
============  =============================================  ================================
pql           ``core.expr.pql.parse_pql`` (text)              ``pql_render.render_pql`` → text
pqljson       ``core.expr.pqljson.parse_pqljson`` (JSON)      ``render_pqljson`` → JSON text
odata         ``core.expr.odata.parse_odata`` (``$filter``)   ``render_odata`` → text
unleash       ``core.expr.unleash.parse_constraints``         ``render_constraints`` → list
confidence    ``core.expr.confidence.parse_targeting``        ``render_targeting`` → dict
============  =============================================  ================================

Modules are imported on first use, so a language whose module fails to import does not take the
others down. ``translate`` is parse → normalize → render; renderers raise ``NotExpressible``
where the target cannot say the same condition.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from core.errors import Invalid
from core.expr.ast import Expr
from core.expr.limits import DEFAULT_LIMITS, Limits
from core.expr.normalize import normalize

ParseFn = Callable[[Any, Limits], Expr | None]
RenderFn = Callable[[Expr | None], Any]


@dataclass(frozen=True)
class Language:
    name: str
    module: str
    parse_name: str
    render_name: str
    accepts: tuple[type, ...]
    """JSON types an expression of this language may have (text languages take strings)."""
    shape: str
    render_module: str | None = None
    """Where the renderer lives when it is not ``module`` (PQL text's has a module of its own)."""

    def _fn(self, module: str, attr: str) -> Callable[..., Any]:
        return cast(Callable[..., Any], getattr(importlib.import_module(module), attr))

    def parse(self, expression: Any, limits: Limits = DEFAULT_LIMITS) -> Expr | None:
        # bool is an int subclass; no language takes a bare boolean.
        if isinstance(expression, bool) or not isinstance(expression, self.accepts):
            raise Invalid("expression", f"a {self.name} expression is {self.shape}")
        return cast("Expr | None", self._fn(self.module, self.parse_name)(expression, limits))

    def render(self, expr: Expr | None) -> Any:
        return self._fn(self.render_module or self.module, self.render_name)(expr)


LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        Language(
            "pql",
            "core.expr.pql",
            "parse_pql",
            "render_pql",
            (str,),
            "a string",
            render_module="core.expr.pql_render",
        ),
        Language(
            "pqljson",
            "core.expr.pqljson",
            "parse_pqljson",
            "render_pqljson",
            (str, dict, list),
            "JSON text or a pql/json node",
        ),
        Language("odata", "core.expr.odata", "parse_odata", "render_odata", (str,), "a string"),
        Language(
            "unleash",
            "core.expr.unleash",
            "parse_constraints",
            "render_constraints",
            (list,),
            "a list of constraints",
        ),
        Language(
            "confidence",
            "core.expr.confidence",
            "parse_targeting",
            "render_targeting",
            (dict,),
            "a targeting object",
        ),
    )
}


def language(name: str, field: str) -> Language:
    """The language called ``name``; ``Invalid(field, …)`` when there is none."""
    found = LANGUAGES.get(name) if isinstance(name, str) else None
    if found is None:
        known = ", ".join(sorted(LANGUAGES))
        raise Invalid(field, f"unknown language {name!r}; known: {known}")
    return found


def translate(
    source: str, target: str, expression: object, limits: Limits = DEFAULT_LIMITS
) -> object:
    """Parse ``expression`` in ``source``, normalise, render in ``target``."""
    src = language(source, "from")
    dst = language(target, "to")
    return dst.render(normalize(src.parse(expression, limits)))
