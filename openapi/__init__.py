"""The hand-owned OpenAPI documents, one per dialect plus segmux's own."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import msgspec


def names() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml")
        for p in resources.files(__name__).iterdir()
        if p.name.endswith(".yaml")
    )


@functools.cache
def load(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_bytes()
    spec: dict[str, Any] = msgspec.yaml.decode(text)
    return spec


@functools.cache
def as_json(name: str) -> bytes:
    return msgspec.json.encode(load(name))
