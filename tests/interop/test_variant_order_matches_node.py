"""The order segmux stores a strategy's variants in is the order Unleash stores them in:
JavaScript's ``localeCompare`` (ICU), here Node's own, over random URL-friendly names. SDKs pick
a variant by walking that list, so a different order would give users different variants."""

from __future__ import annotations

import json
import random
import subprocess

from core.strategy_variants import strategy_variants
from tests import pg

ALPHABET = "abcxyzABCXYZ0189_-.!~*'()"
SORT_JS = (
    "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{"
    "const lists=JSON.parse(s);"
    "console.log(JSON.stringify(lists.map(l=>[...l].sort((a,b)=>a.localeCompare(b)))));});"
)


def random_names(rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < rng.randint(2, 12):
        name = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 5)))
        if name not in (".", ".."):
            names.add(name)
    return sorted(names, key=lambda _: rng.random())


def test_variant_order_is_nodes_locale_compare() -> None:
    pg.require_command("node")
    rng = random.Random(20261207)
    lists = [random_names(rng) for _ in range(500)]
    done = subprocess.run(
        ["node", "-e", SORT_JS],
        input=json.dumps(lists),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    expected = json.loads(done.stdout)
    for names, want in zip(lists, expected, strict=True):
        variants = [
            {"name": n, "weight": 1, "weightType": "variable", "stickiness": "default"}
            for n in names
        ]
        assert [v["name"] for v in strategy_variants(variants)] == want, names
