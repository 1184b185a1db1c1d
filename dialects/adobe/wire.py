"""Wire shapes of Adobe's Segmentation API (``docs/dialects/adobe.md``).

Input structs only *check* a body's types (msgspec names the failing field); what is stored and
returned comes from the decoded JSON itself, so the fields the core does not interpret come back
exactly as sent. Server-set fields a client may send (the guide's PATCH sends ``id`` and zero
times) are type-checked and then ignored. Unknown fields are tolerated everywhere.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

Int64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
"""Adobe's times are ``format: int64``; JSON may carry up to 2**64 - 1."""


class ExpressionIn(msgspec.Struct):
    type: str
    format: str
    value: str


class EnabledIn(msgspec.Struct):
    enabled: bool | UnsetType = UNSET


class EvaluationInfoIn(msgspec.Struct):
    batch: EnabledIn | UnsetType = UNSET
    continuous: EnabledIn | UnsetType = UNSET
    synchronous: EnabledIn | UnsetType = UNSET


class SchemaIn(msgspec.Struct):
    name: str | UnsetType = UNSET
    id: str | UnsetType = UNSET


class GovernanceIn(msgspec.Struct):
    excludeOptOut: bool | UnsetType = UNSET


class DefinitionIn(msgspec.Struct):
    """A segment definition as POSTed or PATCHed (both carry the whole object)."""

    name: str
    expression: ExpressionIn
    schema: SchemaIn
    description: str | UnsetType = UNSET
    evaluationInfo: EvaluationInfoIn | UnsetType = UNSET
    ttlInDays: int | UnsetType = UNSET
    profileInstanceId: str | UnsetType = UNSET
    payloadSchema: str | UnsetType = UNSET
    mergePolicyId: str | UnsetType = UNSET
    # server-set: checked, ignored
    id: str | UnsetType = UNSET
    imsOrgId: str | UnsetType = UNSET
    sandbox: dict[str, Any] | UnsetType = UNSET
    dataGovernancePolicy: GovernanceIn | UnsetType = UNSET
    creationTime: Int64 | UnsetType = UNSET
    updateTime: Int64 | UnsetType = UNSET
    updateEpoch: Int64 | UnsetType = UNSET
    baselineTime: Int64 | UnsetType = UNSET


class ConversionIn(msgspec.Struct):
    """``POST /segment/conversion``: a definition whose expression is to be converted. aepp's
    ``convertSegmentDef`` sends ``description: null`` unless told otherwise."""

    name: str
    expression: ExpressionIn
    schema: SchemaIn
    description: str | UnsetType | None = UNSET


class IdIn(msgspec.Struct):
    id: str


BulkIds = list[str | IdIn]
"""The ids of a bulk-get: strings or ``{"id": …}`` objects."""


class BulkIn(msgspec.Struct):
    ids: BulkIds


ENCODER = msgspec.json.Encoder()
