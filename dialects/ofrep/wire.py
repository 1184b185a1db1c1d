"""OFREP's JSON (open-feature/protocol ``service/openapi.yaml``): the request is decoded as plain
JSON values (``core.ofrep.parse_request`` reads it); these are the answers."""

from __future__ import annotations

from typing import Any

import msgspec

JSON = "application/json"
Metadata = dict[str, str | bool | int | float]


class Success(msgspec.Struct, omit_defaults=True):
    """``evaluationSuccess``; ``value`` unset is ``codeDefaultFlag`` (the code's default)."""

    key: str
    reason: str
    variant: str
    value: Any | msgspec.UnsetType = msgspec.UNSET
    metadata: Metadata | msgspec.UnsetType = msgspec.UNSET


class Failure(msgspec.Struct, omit_defaults=True):
    """``evaluationFailure`` and ``flagNotFound``."""

    key: str
    errorCode: str
    errorDetails: str


class Bulk(msgspec.Struct):
    """``bulkEvaluationSuccess``."""

    flags: list[Success | Failure]


class BulkFailure(msgspec.Struct):
    """``bulkEvaluationFailure``: the request as a whole could not be evaluated."""

    errorCode: str
    errorDetails: str


class GeneralError(msgspec.Struct):
    """``generalErrorResponse``: routing errors and the server's own failures."""

    errorDetails: str


ENCODER = msgspec.json.Encoder()
