"""How many examples a property test draws.

`make test` (and CI) runs every property at its full count. The inner loop (`make fast`) sets
``SEGMUX_TEST_QUICK=1`` and draws a tenth (at least 10), so a change is checked against every
property in seconds; the full count runs before anything lands, since CI ignores the variable.
A property whose every example is expensive (stores built, exported and read back) says how few
it may draw in the inner loop with ``least``: its explicit ``@example`` cases run as well.
"""

from __future__ import annotations

import os

QUICK = os.environ.get("SEGMUX_TEST_QUICK") == "1" and os.environ.get("CI") != "true"


def examples(n: int, least: int = 10) -> int:
    """``n`` examples, or a tenth of them (at least ``least``, never more than ``n``) in the
    quick inner loop."""
    return min(n, max(least, n // 10)) if QUICK else n
