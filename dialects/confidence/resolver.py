"""``POST /v1/flags:resolve`` and ``POST /v1/flags:apply``: Confidence's resolver API as its
SDKs call it (``confidence/flags/resolver/v1/api.proto``). No ``Authorization`` header: the
client secret in the body is the credential. Decoding, one use case (``core.resolver_service``),
encoding; the algorithm is ``core.resolver``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import Invalid, Unauthorized
from core.resolver import ResolvedFlag
from core.resolver_service import AppliedFlag, ResolverService
from dialects.confidence import errors
from dialects.confidence.wire import camel_keys
from dialects.http import convert, decode_json, read_body, require_json_content_type, route
from dialects.ports import Services

_CONTEXT_KEYS = ("evaluationContext", "evaluation_context")


# --- wire -------------------------------------------------------------------------------------


class SdkIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    id: str | int | None = None
    customId: str | None = None
    version: str | None = None


class ResolveIn(msgspec.Struct, forbid_unknown_fields=True):
    clientSecret: str = ""
    evaluationContext: dict[str, Any] | None = None
    flags: list[str] = []
    apply: bool = False
    sdk: SdkIn | None = None


class AppliedFlagIn(msgspec.Struct, forbid_unknown_fields=True):
    flag: str = ""
    applyTime: str | None = None


class ApplyIn(msgspec.Struct, forbid_unknown_fields=True):
    flags: list[AppliedFlagIn] = []
    clientSecret: str = ""
    resolveToken: str = ""
    sendTime: str | None = None
    sdk: SdkIn | None = None


class ResolvedFlagOut(msgspec.Struct, omit_defaults=True):
    flag: str
    variant: str
    reason: str
    shouldApply: bool
    value: dict[str, Any] | None = None
    flagSchema: dict[str, Any] | None = None
    assignmentOrigin: str = ""


class ResolveOut(msgspec.Struct):
    # Always present, empty or not: the SDKs index both keys (proto3 JSON would omit them).
    resolvedFlags: list[ResolvedFlagOut]
    resolveToken: str
    resolveId: str


_ENCODER = msgspec.json.Encoder()


def _flag_out(r: ResolvedFlag) -> ResolvedFlagOut:
    return ResolvedFlagOut(
        flag=r.flag,
        variant=r.variant,
        reason=r.reason,
        shouldApply=r.should_apply,
        value=r.value,
        flagSchema=r.schema,
        assignmentOrigin=r.rule,
    )


# --- decoding ---------------------------------------------------------------------------------


async def _body(request: Request, limit: int) -> dict[str, Any]:
    """The body as an object whose field names (not the evaluation context's) are camelCase."""
    raw = await read_body(request, limit)
    require_json_content_type(request)
    decoded = decode_json(raw)
    if not isinstance(decoded, dict):
        raise Invalid("", "the request body must be a JSON object")
    context = None
    for key in _CONTEXT_KEYS:
        if key in decoded:
            if context is not None:
                raise Invalid("evaluationContext", "is set twice (camelCase and snake_case)")
            context = decoded.pop(key)
    body: dict[str, Any] = camel_keys(decoded)
    if context is not None:
        body["evaluationContext"] = context
    return body


def _timestamp(value: str | None, field: str, missing: str) -> datetime:
    if value is None:
        raise Invalid(field, missing)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(field, f"{value[:40]!r} is not an RFC 3339 timestamp") from None


def _token(text: str) -> bytes:
    """proto3 JSON ``bytes``: standard or URL-safe base64, padded or not."""
    if not text:
        raise Invalid("resolve_token", "resolve_token is required")
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("resolve_token", "the resolve token is not base64") from None


# --- handlers ---------------------------------------------------------------------------------


class ResolverApi:
    """The two resolver methods over the process's :class:`ResolverService`."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def service(self) -> ResolverService:
        return self.services.resolver  # made when the store opens: read per call

    def routes(self) -> list[Route]:
        return [
            route("/flags:resolve", POST=self.resolve),
            route("/flags:apply", POST=self.apply),
        ]

    async def resolve(self, request: Request) -> Response:
        sent = convert(await _body(request, self.services.settings.body_limit), ResolveIn)
        if not sent.clientSecret:
            raise Invalid("client_secret", "client_secret is required")
        try:
            done = await self.service.resolve(
                sent.clientSecret, sent.evaluationContext or {}, sent.flags, sent.apply
            )
        except Unauthorized:
            return _unknown_secret()
        out = ResolveOut(
            resolvedFlags=[_flag_out(r) for r in done.flags],
            resolveToken=base64.b64encode(done.token).decode("ascii"),
            resolveId=done.resolve_id,
        )
        return Response(_ENCODER.encode(out), media_type="application/json")

    async def apply(self, request: Request) -> Response:
        sent = convert(await _body(request, self.services.settings.body_limit), ApplyIn)
        if not sent.clientSecret:
            raise Invalid("client_secret", "client_secret is required")
        _timestamp(sent.sendTime, "send_time", "send_time is required")
        applied = []
        for i, f in enumerate(sent.flags):
            if not f.flag:
                raise Invalid(f"flags[{i}].flag", "flag is required")
            _timestamp(
                f.applyTime, f"flags[{i}].apply_time", f"Missing apply time for flag {f.flag}"
            )
            applied.append(AppliedFlag(flag=f.flag, apply_time=f.applyTime or ""))
        token = _token(sent.resolveToken)
        try:
            await self.service.apply(sent.clientSecret, token, applied)
        except Unauthorized:
            return _unknown_secret()
        return Response(b"{}", media_type="application/json")


def _unknown_secret() -> Response:
    return errors.status(errors.UNAUTHENTICATED, "client secret not found")
