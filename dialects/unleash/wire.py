"""Wire shapes of the Unleash API: error bodies (exact field sets, as Unleash 8.2 sends them) and
the encoder. Resource bodies are built as dicts in ``translate`` because Unleash omits some fields
only when null (``project``) while keeping others (``description``)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

ENCODER = msgspec.json.Encoder()
JSON = "application/json; charset=utf-8"

VALIDATION_MESSAGE = (
    "Request validation failed: your request body or params contain invalid data. "
    "Refer to the `details` list for more information."
)
WITH_MESSAGE = "Request validation failed: your request body or params contain invalid data: "


class Detail(msgspec.Struct, omit_defaults=True):
    message: str
    path: str | None = None


class ApiError(msgspec.Struct, omit_defaults=True, kw_only=True):
    """``{id?, name, message, details}``: ``id`` only where real Unleash sends one."""

    id: str | None = None
    name: str
    message: str
    details: list[Detail]


class AuthRequired(msgspec.Struct):
    id: str
    name: str
    message: str
    details: list[Detail]
    path: str = "/auth/simple/login"
    type: str = "password"
    defaultHidden: bool = False


class Message(msgspec.Struct):
    message: str


def new_id() -> str:
    return str(uuid.uuid4())


def encode(value: Any) -> bytes:
    return ENCODER.encode(value)
