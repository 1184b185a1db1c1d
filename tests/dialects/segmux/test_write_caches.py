"""What writes leave in the caches of ``/segmux/v1``'s renderings: every answer to a write shows
the segment through every dialect, and the projections and encoded renderings behind it are
kept. An update keeps one entry per segment (the new version replaces the old one: keyed on the
version, 5,000 updates of 200 segments kept 5,200 entries in each cache), and however many
segments are created, each cache stays within its bound in bytes."""

from __future__ import annotations

import sys

import httpx
import pytest

from core.bounded import SLOT_BYTES, Versioned
from dialects import renderings
from dialects.segmux import wire
from tests.dialects.segmux.test_writes import SEGMENTS, US, auth, create, ok


def object_weight(*values: object) -> int:
    """The bytes ``values`` hold, counted object by object (``sys.getsizeof`` over dicts, lists
    and tuples and their contents), plus a cache slot's :data:`~core.bounded.SLOT_BYTES`: what
    the cache's estimate must not fall below."""
    return SLOT_BYTES + _size(values)


def _size(value: object) -> int:
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        for k, v in value.items():
            size += _size(k) + _size(v)
    elif isinstance(value, (list, tuple)):
        for item in value:
            size += _size(item)
    return size


def caches() -> dict[str, Versioned[object, object]]:
    """Every cache a ``/segmux/v1`` answer fills: each dialect's projections and the encoded
    renderings."""
    found: dict[str, Versioned[object, object]] = {
        name: view.view.cache  # type: ignore[misc]
        for name, _, view in renderings._views()
    }
    found["encoded renderings"] = wire._renderings  # type: ignore[assignment]
    return found


async def test_updates_keep_one_entry_per_segment(client: httpx.AsyncClient, token_a: str) -> None:
    made = [await create(client, token_a, name=f"kept-{n}", expression=US) for n in range(4)]
    before = {name: len(cache) for name, cache in caches().items()}
    assert all(before.values()), before  # the creates' answers filled every cache
    version = {m["id"]: m["version"] for m in made}
    for round_ in range(25):
        for m in made:
            r = await client.patch(
                f"{SEGMENTS}/{m['id']}",
                json={"name": f"kept-{m['id'][:8]}-{round_}"},
                headers={**auth(token_a), "If-Match": f'"{version[m["id"]]}"'},
            )
            version[m["id"]] = ok(r)["version"]
    assert set(version.values()) == {26}
    # 100 updates of 4 segments: the same number of entries as after the creates.
    assert {name: len(cache) for name, cache in caches().items()} == before
    for m in made:  # and what is kept is the newest version's
        shown = ok(await client.get(f"{SEGMENTS}/{m['id']}", headers=auth(token_a)))
        assert shown["name"] == f"kept-{m['id'][:8]}-24" and shown["version"] == 26


SMALL = 48 * 1024
"""Each cache's bound in the test: a few dozen segments' worth, so creates overflow it."""


@pytest.fixture
def small_caches(monkeypatch: pytest.MonkeyPatch) -> dict[str, Versioned[object, object]]:
    """Every cache of the renderings replaced by an empty one bounded at :data:`SMALL`."""
    for _, _, view in renderings._views():
        monkeypatch.setattr(view.view, "_cache", Versioned(capacity=50_000, max_bytes=SMALL))
    monkeypatch.setattr(wire, "_renderings", Versioned(capacity=50_000, max_bytes=SMALL))
    return caches()


async def test_creates_stay_within_each_caches_bytes(
    client: httpx.AsyncClient, token_a: str, small_caches: dict[str, Versioned[object, object]]
) -> None:
    for n in range(150):
        await create(client, token_a, name=f"many-{n}", expression=US)
    for name, cache in small_caches.items():
        assert 0 < cache.kept_bytes <= SMALL, (name, cache.kept_bytes)
        # the bound, not the entry count, is what stopped it: older segments were let go
        assert 0 < len(cache) < 150, (name, len(cache))
    # What is counted is at least what is held: the entries' objects (key, version, value)
    # counted one by one. A multiple of the JSON size counted half of Confidence's targeting.
    for name, cache in small_caches.items():
        held = sum(object_weight(k, v) for k, (_, v) in cache._entries._entries.items())
        assert held <= cache.kept_bytes, (name, held, cache.kept_bytes)
