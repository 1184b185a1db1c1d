"""The table of Adobe's PQL documentation examples in ``docs/dialects/adobe.md`` is the table
``tests/semantics/pql_table.py`` runs (each example posted to
``POST /data/core/ups/segment/definitions`` and evaluated, or refused naming the construct): the
doc lists exactly those, in that order, so it cannot claim an example the tests do not check."""

from __future__ import annotations

from pathlib import Path

from tests.semantics import pql_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "dialects" / "adobe.md"
BEGIN, END = "<!-- examples: begin -->", "<!-- examples: end -->"


def _page(cite: str) -> str:
    return cite.replace(pql_table.PQL + "/", "").split(" ")[0]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table_lines() -> list[str]:
    lines = ["| page | condition | segmux |", "|---|---|---|"]
    seen: dict[str, str] = {}
    for row in pql_table.ROWS:
        if (row.extra or {}).get("format") != "pql/json":
            seen.setdefault(row.condition, row.cite)
    lines += [f"| {_page(c)} | `{_cell(t)}` | evaluated |" for t, c in seen.items()]
    lines += [
        f"| {_page(r.cite)} | `{_cell(r.condition)}` | refused: {_cell(r.note)} |"
        for r in pql_table.REFUSED
    ]
    return lines


def test_the_doc_lists_the_examples_the_table_runs() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert block.strip().splitlines() == table_lines()


def test_at_least_fifty_documented_conditions_are_evaluated() -> None:
    evaluated = [line for line in table_lines() if line.endswith("| evaluated |")]
    assert len(evaluated) >= 50
