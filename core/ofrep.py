"""The OpenFeature Remote Evaluation Protocol's use case: one namespace of flags over the two
engines segmux already has — Unleash features (``core.unleash_eval`` through
``FlagService.feature_engine``) and Confidence flags (``core.resolver`` through
``ResolverService.resolve_flags``) — and the mapping of their answers to OpenFeature's values,
variants, reasons and error codes. docs/dialects/ofrep.md states every rule written here.

Keys:

* ``unleash:<feature>`` and ``confidence:<flag>[.<field>…]`` always name one namespace.
* An unqualified key names whichever namespace has it; a key both have is refused (``GENERAL``)
  with the two qualified keys, never answered from one of them.
* ``<feature>@variant`` and ``<feature>@payload`` read an Unleash feature's variant name and its
  payload (``@`` is not allowed in Unleash feature names, so these never collide with one).

No engine is written here: every answer is the engine's answer for the same context, read as
Unleash's and Confidence's own SDKs read it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

from core.confidence_model import ConfidenceFlag
from core.errors import CoreError, Forbidden
from core.flags import FlagService
from core.model import Principal
from core.resolver import (
    ERROR,
    MATCH,
    MATERIALIZATION_NOT_SUPPORTED,
    NO_SEGMENT_MATCH,
    TARGETING_KEY,
    TARGETING_KEY_ERROR,
    ResolveClient,
    ResolvedFlag,
    ResolverState,
    one_full_assignment,
    value_at,
)
from core.resolver_service import ResolverService
from core.tokens import ofrep_environment
from core.unleash_context import UnleashContext
from core.unleash_eval import FeatureAnswer, FeatureEngine, Why

UNLEASH = "unleash"
CONFIDENCE = "confidence"
VARIANT_SUFFIX = "@variant"
PAYLOAD_SUFFIX = "@payload"
FLAG_PREFIX = "flags/"
VARIANT_INFIX = "/variants/"
CLIENT_DEFAULT_VARIANT = "default"
"""The variant named for a Confidence flag that answers the code's default."""
UNLEASH_ROOT_FIELDS = ("appName", "environment", "userId", "sessionId", "remoteAddress")
"""Context fields Unleash keeps at the root; every other one is a property."""
_INTEGER = re.compile(r"[+-]?[0-9]+")

Reason = Literal["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "UNKNOWN"]
ErrorCode = Literal[
    "PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "GENERAL", "FLAG_NOT_FOUND"
]
Metadata = dict[str, str | bool | int | float]

_REASONS: dict[Why, Reason] = {
    "disabled": "DISABLED",
    "static": "STATIC",
    "targeting": "TARGETING_MATCH",
    "split": "SPLIT",
    "default": "DEFAULT",
}


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """A flag's answer. ``defer``: no value — the application's code default applies (OFREP's
    ``codeDefaultFlag``)."""

    key: str
    reason: Reason
    variant: str
    value: Any = None
    defer: bool = False
    metadata: Metadata = {}


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """A flag that could not be evaluated for this context, or was not found."""

    key: str
    code: ErrorCode
    details: str


class RequestError(CoreError):
    """The request as a whole cannot be evaluated (its body or its context)."""

    def __init__(self, code: ErrorCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


# --- the context ------------------------------------------------------------------------------


class Context:
    """An OFREP evaluation context, read once per request and shaped for each engine."""

    def __init__(self, targeting_key: str | None, fields: dict[str, Any]) -> None:
        self.targeting_key = targeting_key
        self.fields = fields
        self._unleash: UnleashContext | str | None = None
        self._confidence: dict[str, Any] | str | None = None

    def unleash(self) -> UnleashContext | str:
        """The Unleash context (targetingKey is ``userId``), or why there can be none."""
        if self._unleash is None:
            self._unleash = _unleash_context(self)
        return self._unleash

    def confidence(self) -> dict[str, Any] | str:
        """The Confidence evaluation context (targetingKey is ``targeting_key``), or why not."""
        if self._confidence is None:
            self._confidence = _confidence_context(self)
        return self._confidence


def parse_request(body: Any) -> Context:
    """The context of a decoded request body ``{"context": {…}}``; ``{}`` has an empty one."""
    if not isinstance(body, dict):
        raise RequestError("PARSE_ERROR", "the request body must be a JSON object")
    if "context" not in body:
        return Context(None, {})
    context = body["context"]
    if not isinstance(context, dict):
        raise RequestError("INVALID_CONTEXT", "context must be a JSON object")
    bad = _unkept(context)
    if bad is not None:
        raise RequestError("INVALID_CONTEXT", bad)
    fields = dict(context)
    if "targetingKey" not in fields:
        return Context(None, fields)
    key = fields.pop("targetingKey")
    if not isinstance(key, str):
        # Providers leave out a context's missing targeting key; a null is not one.
        raise RequestError("INVALID_CONTEXT", "targetingKey must be a string")
    return Context(key, fields)


_UNKEPT = re.compile("[\x00\ud800-\udfff]")


def _unkept(context: dict[str, Any]) -> str | None:
    """Why the context holds text no store can look up (a NUL: PostgreSQL refuses it; a lone
    surrogate: no UTF-8 holds it), else None. Refused on every backend alike, before any engine
    reads it: Confidence's static segments look the unit up in the store."""
    pending: list[Any] = [context]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if _UNKEPT.search(key):
                    return "a context field's name holds NUL or a lone surrogate"
                pending.append(value)
        elif isinstance(node, list):
            pending += node
        elif isinstance(node, str) and _UNKEPT.search(node):
            return "a context value holds NUL or a lone surrogate"
    return None


def _unleash_context(context: Context) -> UnleashContext | str:
    root: dict[str, str] = {}
    properties: dict[str, str] = {}
    for name, value in context.fields.items():
        # The server's clock decides date constraints, as on Unleash's frontend API.
        if name == "currentTime" or value is None:
            continue
        if isinstance(value, str):
            text = value
        elif isinstance(value, bool | int | float):
            # Unleash's operators compare the text an SDK's context would hold.
            text = msgspec.json.encode(value).decode()
        else:
            return (
                f"the context field {name!r} is a JSON {type(value).__name__}: Unleash "
                "constraints compare text, numbers and booleans only"
            )
        (root if name in UNLEASH_ROOT_FIELDS else properties)[name] = text
    user = root.get("userId")
    if context.targeting_key is not None:
        if user is not None and user != context.targeting_key:
            return "targetingKey and userId differ: Unleash's userId is the targeting key"
        user = context.targeting_key
    return UnleashContext(
        app_name=root.get("appName") or None,
        environment=root.get("environment") or None,
        user_id=user or None,
        session_id=root.get("sessionId") or None,
        remote_address=root.get("remoteAddress") or None,
        properties=properties,
    )


def _confidence_context(context: Context) -> dict[str, Any] | str:
    fields = dict(context.fields)
    key = context.targeting_key
    if key is not None:
        sent = fields.get(TARGETING_KEY)
        if sent is not None and sent != key:
            return (
                f"targetingKey and {TARGETING_KEY} differ: Confidence's unit is the targeting key"
            )
        fields[TARGETING_KEY] = key
    return fields


# --- keys -------------------------------------------------------------------------------------


class _Unleash(msgspec.Struct, frozen=True):
    name: str
    read: Read


class _Confidence(msgspec.Struct, frozen=True):
    flag: ConfidenceFlag
    path: tuple[str, ...]


def servable(state: ResolverState) -> dict[str, ConfidenceFlag]:
    """The Confidence flags OFREP serves, by short name: ACTIVE ones listed for at least one
    client (a flag no credential may resolve is not widened to OFREP tokens)."""
    return {
        name.removeprefix(FLAG_PREFIX): flag
        for name, flag in state.flags.items()
        if flag.state == "ACTIVE" and flag.clients
    }


Read = Literal["enabled", "variant", "payload"]
_READS: tuple[tuple[str, Read], ...] = ((VARIANT_SUFFIX, "variant"), (PAYLOAD_SUFFIX, "payload"))


def _unleash_target(engine: FeatureEngine, key: str) -> _Unleash | None:
    for suffix, read in _READS:
        if key.endswith(suffix):
            name = key[: -len(suffix)]
            return _Unleash(name, read) if name in engine.by_name else None
    return _Unleash(key, "enabled") if key in engine.by_name else None


def _confidence_target(flags: Mapping[str, ConfidenceFlag], key: str) -> _Confidence | None:
    name, *path = key.split(".")
    flag = flags.get(name)
    if flag is None or any(not step for step in path):
        return None
    return _Confidence(flag, tuple(path))


# --- the use case -----------------------------------------------------------------------------


class OfrepService:
    """Single and bulk evaluation for a token of one tenant and environment."""

    def __init__(self, flags: FlagService, resolver: ResolverService) -> None:
        self.flags = flags
        self.resolver = resolver

    async def evaluate(
        self, principal: Principal, key: str, context: Context
    ) -> Evaluation | Failure:
        environment = _environment(principal)
        engine = await self.flags.feature_engine(principal, environment)
        state = await self.resolver.state(principal.tenant)
        flags = servable(state)
        if key.startswith(UNLEASH + ":"):
            unleash, confidence = _unleash_target(engine, key[len(UNLEASH) + 1 :]), None
        elif key.startswith(CONFIDENCE + ":"):
            unleash, confidence = None, _confidence_target(flags, key[len(CONFIDENCE) + 1 :])
        else:
            unleash, confidence = _unleash_target(engine, key), _confidence_target(flags, key)
            if unleash is not None and confidence is not None:
                return Failure(
                    key=key,
                    code="GENERAL",
                    details=f"{key!r} is both an Unleash feature and a Confidence flag: ask for "
                    f"{UNLEASH}:{key} or {CONFIDENCE}:{key}",
                )
        if unleash is not None:
            return _unleash_answer(key, unleash, engine, context)
        if confidence is not None:
            client = _client(principal, environment)
            return await self._confidence_answer(key, confidence, state, client, context)
        return Failure(key=key, code="FLAG_NOT_FOUND", details=f"flag {key!r} was not found")

    async def evaluate_all(
        self, principal: Principal, context: Context
    ) -> list[Evaluation | Failure]:
        """Every Unleash feature of the environment (boolean) and every served Confidence flag
        (object), each once: by its name, or its qualified key when both namespaces have it."""
        environment = _environment(principal)
        engine = await self.flags.feature_engine(principal, environment)
        state = await self.resolver.state(principal.tenant)
        flags = servable(state)
        both = engine.by_name.keys() & flags.keys()
        out: list[Evaluation | Failure] = []
        unleash = context.unleash()
        names = [f.name for f in engine.features]
        if isinstance(unleash, str):
            out += [
                Failure(key=_key(UNLEASH, n, both), code="INVALID_CONTEXT", details=unleash)
                for n in names
            ]
        else:
            explained = engine.explain(unleash)
            out += [
                _unleash_value(_key(UNLEASH, a.name, both), a, why, "enabled")
                for a, why in explained
            ]
        if flags:
            client = _client(principal, environment)
            confidence = context.confidence()
            keys = [_key(CONFIDENCE, n, both) for n in flags]
            if isinstance(confidence, str):
                out += [Failure(key=k, code="INVALID_CONTEXT", details=confidence) for k in keys]
            else:
                chosen = list(flags.values())
                resolved = await self.resolver.resolve_flags(state, client, chosen, confidence)
                out += [
                    _confidence_value(k, f, r, (), confidence, client)
                    for k, f, r in zip(keys, chosen, resolved, strict=True)
                ]
        return out

    async def _confidence_answer(
        self,
        key: str,
        target: _Confidence,
        state: ResolverState,
        client: ResolveClient,
        context: Context,
    ) -> Evaluation | Failure:
        confidence = context.confidence()
        if isinstance(confidence, str):
            return Failure(key=key, code="INVALID_CONTEXT", details=confidence)
        [resolved] = await self.resolver.resolve_flags(state, client, [target.flag], confidence)
        return _confidence_value(key, target.flag, resolved, target.path, confidence, client)


def _environment(principal: Principal) -> str:
    environment = ofrep_environment(principal)
    if environment is None:
        raise Forbidden("OFREP needs an ofrep:<environment> or client:<environment> token")
    return environment


def _client(principal: Principal, environment: str) -> ResolveClient:
    """Who resolves Confidence flags: no client of Confidence's (the flags served are chosen by
    :func:`servable`), the token's environment playing the credential's."""
    return ResolveClient(
        tenant=principal.tenant, client="", credential="", environments=(environment,)
    )


def _key(namespace: str, name: str, both: Sequence[str] | set[str]) -> str:
    return f"{namespace}:{name}" if name in both else name


# --- Unleash answers --------------------------------------------------------------------------


def _unleash_answer(
    key: str, target: _Unleash, engine: FeatureEngine, context: Context
) -> Evaluation | Failure:
    unleash = context.unleash()
    if isinstance(unleash, str):
        return Failure(key=key, code="INVALID_CONTEXT", details=unleash)
    found = engine.explain_one(target.name, unleash)
    if found is None:  # the engine was read with the target: it has the feature
        return Failure(key=key, code="FLAG_NOT_FOUND", details=f"flag {key!r} was not found")
    answer, why = found
    return _unleash_value(key, answer, why, target.read)


def _unleash_value(
    key: str,
    answer: FeatureAnswer,
    why: Why,
    read: Read,
) -> Evaluation | Failure:
    reason = _REASONS[why]
    variant = answer.variant
    picked = answer.enabled and variant.enabled
    metadata: Metadata = {
        "namespace": UNLEASH,
        "key": f"{UNLEASH}:{answer.name}",
        "impressionData": answer.impression_data,
    }
    if read == "enabled":
        name = variant.name if picked else ("enabled" if answer.enabled else "disabled")
        return Evaluation(
            key=key, reason=reason, variant=name, value=answer.enabled, metadata=metadata
        )
    if read == "variant":
        return Evaluation(
            key=key, reason=reason, variant=variant.name, value=variant.name, metadata=metadata
        )
    payload = variant.payload if picked else None
    if payload is None:
        # No payload to give: the code's default, said as DEFAULT unless the feature is off.
        deferred: Reason = "DISABLED" if why == "disabled" else "DEFAULT"
        return Evaluation(
            key=key, reason=deferred, variant=variant.name, defer=True, metadata=metadata
        )
    value = _payload_value(payload)
    if isinstance(value, Failure):
        return Failure(key=key, code=value.code, details=value.details)
    metadata["payloadType"] = str(payload.get("type"))
    return Evaluation(key=key, reason=reason, variant=variant.name, value=value, metadata=metadata)


def _payload_value(payload: Mapping[str, Any]) -> Any:
    """A variant's payload as a value: its text for ``string`` and ``csv``, a number for
    ``number`` (an integer when the text is one), the parsed JSON for ``json``."""
    kind = payload.get("type")
    text = payload.get("value")
    if not isinstance(text, str):
        return Failure(key="", code="GENERAL", details="the variant's payload has no text value")
    if kind == "number":
        if _INTEGER.fullmatch(text.strip()):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return Failure(key="", code="GENERAL", details=f"the payload {text!r} is not a number")
        return number
    if kind == "json":
        try:
            return msgspec.json.decode(text)
        except msgspec.DecodeError:
            return Failure(key="", code="GENERAL", details="the variant's json payload is not JSON")
    return text


# --- Confidence answers -----------------------------------------------------------------------


def _confidence_value(
    key: str,
    flag: ConfidenceFlag,
    resolved: ResolvedFlag,
    path: tuple[str, ...],
    context: Mapping[str, Any],
    client: ResolveClient,
) -> Evaluation | Failure:
    metadata: Metadata = {
        "namespace": CONFIDENCE,
        "key": f"{CONFIDENCE}:{flag.name.removeprefix(FLAG_PREFIX)}",
    }
    reason = resolved.reason
    if reason == TARGETING_KEY_ERROR:
        return Failure(
            key=key,
            code="INVALID_CONTEXT",
            details="the targeting key must be a string or an integral number of at most 100 bytes",
        )
    if reason in (ERROR, MATERIALIZATION_NOT_SUPPORTED):
        return Failure(key=key, code="GENERAL", details=f"the flag could not be resolved: {reason}")
    if reason == NO_SEGMENT_MATCH:
        if value_at(context, TARGETING_KEY) is None and _needs_unit(flag, client):
            return Failure(
                key=key,
                code="TARGETING_KEY_MISSING",
                details="no rule matched, and a rule of this flag needs the targeting key",
            )
        return Evaluation(
            key=key, reason="DEFAULT", variant=CLIENT_DEFAULT_VARIANT, defer=True, metadata=metadata
        )
    if reason != MATCH:
        return Failure(key=key, code="GENERAL", details=f"the flag could not be resolved: {reason}")
    metadata["rule"] = resolved.rule
    metadata["segment"] = resolved.segment
    if not resolved.variant:  # the client's default
        return Evaluation(
            key=key, reason="DEFAULT", variant=CLIENT_DEFAULT_VARIANT, defer=True, metadata=metadata
        )
    variant = resolved.variant.rsplit(VARIANT_INFIX, 1)[-1]
    value: Any = typed(resolved.value or {}, flag.schema)
    for i, step in enumerate(path):
        if not isinstance(value, dict) or step not in value:
            return Failure(
                key=key,
                code="GENERAL",
                details=f"the flag's value has no field {'.'.join(path[: i + 1])!r}",
            )
        value = value[step]
    if value is None:
        return Evaluation(key=key, reason="DEFAULT", variant=variant, defer=True, metadata=metadata)
    return Evaluation(
        key=key, reason="TARGETING_MATCH", variant=variant, value=value, metadata=metadata
    )


def typed(value: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The value's numbers as its flag's schema types them: a ``doubleSchema`` field a float,
    an ``intSchema`` field an integer (when it is one). Confidence keeps every number as a
    double and its SDKs type them by the schema; OpenFeature's providers type them by the
    JSON (a float evaluation of ``2`` is a type mismatch), so the schema's type is written out."""
    fields = schema.get("schema")
    if not isinstance(fields, Mapping):
        return value
    out = dict(value)
    for name, field in fields.items():
        found = out.get(name)
        if not isinstance(field, Mapping) or isinstance(found, bool):
            continue
        if "doubleSchema" in field and isinstance(found, int):
            out[name] = float(found)
        elif "intSchema" in field and isinstance(found, float) and found.is_integer():
            out[name] = int(found)
        elif isinstance(found, dict) and isinstance(field.get("structSchema"), Mapping):
            out[name] = typed(found, field["structSchema"])
    return out


def _needs_unit(flag: ConfidenceFlag, client: ResolveClient) -> bool:
    """A rule of the flag for this environment reads the targeting key and needs a unit to
    assign (anything but one full rollout)."""
    for rule in flag.rules:
        if not rule.enabled or (
            rule.environments and not any(e in client.environments for e in rule.environments)
        ):
            continue
        reads_key = rule.targeting_key_selector in ("", TARGETING_KEY)
        if reads_key and rule.assignments and not one_full_assignment(rule):
            return True
    return False
