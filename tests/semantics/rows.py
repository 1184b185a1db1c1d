"""One row of the semantics table: a condition in a vendor's own language, a context, the answer.

A row is data, written from the vendor's documentation or its published test vectors, never
from segmux's behaviour. ``cite`` says where the expected answer comes from (a URL and the
section, sentence or test case). Where segmux deliberately answers differently from the vendor,
``note`` says so and names the document that records the decision, and ``expected`` is
segmux's documented answer.

Conditions per dialect:

* ``unleash``: a constraint list (the ``constraints`` of ``POST /api/admin/segments``);
  contexts are Unleash SDK contexts (standard fields at the top, custom ones under
  ``properties``), flattened for ``/segmux/v1/evaluate`` as segmux reads them.
* ``confidence``: a segment id of that table's ``SEGMENTS`` (targeting from the resolver spec's
  state); contexts are evaluation contexts.
* ``adobe``: PQL text (``pql/text``), or ``Pql(json=…)`` for ``pql/json``.
* ``hal``: an OData ``filter``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Dialect = Literal["unleash", "confidence", "adobe", "hal"]

SAME = None
"""``sdk=SAME``: the Unleash SDK is expected to answer ``expected`` too."""


@dataclass(frozen=True)
class Row:
    id: str
    dialect: Dialect
    condition: Any
    context: dict[str, Any]
    expected: bool
    cite: str
    note: str = ""
    """Where segmux deliberately differs from the vendor, and where that is documented."""
    sdk: bool | None = SAME
    """Unleash rows: the answer of the real Unleash SDK when it differs from ``expected``
    (a documented difference, explained in ``note``)."""
    xfail: str = ""
    """A known segmux bug against the vendor (the row fails: strict xfail)."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    """A condition the vendor evaluates (usually to "no match") that segmux's dialect refuses
    at write time, with a 4xx in that dialect's format, as its fact sheet decides."""

    id: str
    dialect: Dialect
    condition: Any
    cite: str
    note: str


def flat_unleash_context(context: dict[str, Any]) -> dict[str, Any]:
    """An Unleash SDK context as segmux reads it: ``properties`` merged in, standard fields
    winning (the SDKs' lookup order); nothing added (no implicit ``currentTime``)."""
    flat: dict[str, Any] = {}
    props = context.get("properties")
    if isinstance(props, dict):
        flat.update(props)
    flat.update({k: v for k, v in context.items() if k != "properties"})
    return flat
