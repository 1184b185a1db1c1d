"""Resolve tokens: what ``:resolve`` hands out and ``:apply`` takes back.

Confidence's resolver encrypts a ``ResolveTokenV1`` (the resolve id and the assignment of every
flag that should be applied) so that ``:apply`` can log the exposures without resolving again.
segmux keeps the same contract with a signed token: the client cannot read anything it did not
already get, and cannot forge or alter one, because the payload is authenticated with
HMAC-SHA256 under a key only the server holds (``docs/dialects/confidence.md``).

Wire form: ``"s1" + HMAC(payload) + payload``, raw bytes (the JSON field carries them as base64,
proto3 ``bytes``). The payload is JSON: tenant, credential, resolve id and per flag the rule,
variant and assignment id it got.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import msgspec

from core.errors import Invalid

VERSION = b"s1"
_TAG = hashlib.sha256().digest_size
MAX_TOKEN_BYTES = 1 << 20


class Assigned(msgspec.Struct, frozen=True, array_like=True):
    rule: str
    variant: str
    assignment_id: str


class TokenPayload(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    tenant: str
    credential: str
    resolve_id: str
    assignments: dict[str, Assigned]
    """Flag name -> what it was assigned (only flags that should be applied)."""


_decoder = msgspec.json.Decoder(TokenPayload)


def signing_key(configured: str) -> bytes:
    """The key resolve tokens are signed with: derived from ``SEGMUX_RESOLVE_TOKEN_KEY`` (so
    every process accepts every process's tokens), else random for this process."""
    if configured:
        return hashlib.sha256(b"segmux resolve token\0" + configured.encode()).digest()
    return secrets.token_bytes(32)


def sign(key: bytes, payload: TokenPayload) -> bytes:
    body = msgspec.json.encode(payload)
    return VERSION + hmac.new(key, body, hashlib.sha256).digest() + body


def verify(key: bytes, token: bytes) -> TokenPayload:
    """The payload of a token this server signed; ``Invalid`` for anything else."""
    if len(token) > MAX_TOKEN_BYTES or not token.startswith(VERSION):
        raise Invalid("resolve_token", "the resolve token is not one this server issued")
    tag = token[len(VERSION) : len(VERSION) + _TAG]
    body = token[len(VERSION) + _TAG :]
    if not hmac.compare_digest(tag, hmac.new(key, body, hashlib.sha256).digest()):
        raise Invalid("resolve_token", "the resolve token is not one this server issued")
    try:
        return _decoder.decode(body)
    except msgspec.DecodeError as exc:  # pragma: no cover - only a signed body gets here
        raise Invalid("resolve_token", "the resolve token is malformed") from exc
