"""``core.ofrep``'s answers in OFREP's JSON."""

from __future__ import annotations

import msgspec

from core.ofrep import Evaluation
from core.ofrep import Failure as CoreFailure
from dialects.ofrep import wire


def answer(found: Evaluation | CoreFailure) -> wire.Success | wire.Failure:
    if isinstance(found, CoreFailure):
        return wire.Failure(key=found.key, errorCode=found.code, errorDetails=found.details)
    return wire.Success(
        key=found.key,
        reason=found.reason,
        variant=found.variant,
        value=msgspec.UNSET if found.defer else found.value,
        metadata=dict(found.metadata) if found.metadata else msgspec.UNSET,
    )


def status(found: Evaluation | CoreFailure) -> int:
    """A single evaluation's status: 404 for a flag not found, 400 for any other failure."""
    if isinstance(found, CoreFailure):
        return 404 if found.code == "FLAG_NOT_FOUND" else 400
    return 200
