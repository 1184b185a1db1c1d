"""Errors of the core, free of HTTP.

Every dialect renders these in its own format and status (see each dialect's ``errors.py``);
the core never decides a status code. Keep the set small and semantic.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base of every error a use case may raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CoreError):
    """The resource does not exist for this tenant (or belongs to another: never say which)."""

    def __init__(self, kind: str, key: str, message: str | None = None) -> None:
        super().__init__(message or f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class Conflict(CoreError):
    """A uniqueness rule or a state rule refused the write; ``field`` names what collided."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RoomChanged(CoreError):
    """A guarded create (:class:`core.model.RoomGuard`) found its tenant other than the caller
    knew it, and wrote nothing: the caller reads the tenant again and decides afresh. Raised
    to the use case that passed the guard only, never answered to a client."""

    def __init__(self) -> None:
        super().__init__("the tenant changed since its room was read")


class InUse(Conflict):
    """The resource is referenced (e.g. a segment used by a flag rule) and cannot be removed."""

    def __init__(self, message: str, users: tuple[str, ...] = ()) -> None:
        super().__init__("in_use", message)
        self.users = users


class Invalid(CoreError):
    """Input the core refuses: ``field`` is a dotted path into the request, ``reason`` is
    human text."""

    def __init__(self, field: str, reason: str, position: int | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason
        self.position = position


class NotExpressible(CoreError):
    """A condition cannot be said exactly in a target language; ``reason`` says why."""

    def __init__(self, language: str, reason: str) -> None:
        super().__init__(f"not expressible in {language}: {reason}")
        self.language = language
        self.reason = reason


class LimitExceeded(Invalid):
    """A configured limit (count, size, depth) was exceeded."""


class Unauthorized(CoreError):
    """No credentials, or credentials that match nothing."""


class Forbidden(CoreError):
    """Valid credentials without the right to do this (e.g. a client token on an admin route)."""


class Unavailable(CoreError):
    """A dependency (the database) cannot be reached; the caller may retry later."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StatementTimeout(Unavailable):
    """A statement ran past the store's statement timeout and was cancelled. Where the cost is
    a condition's own (a segment's members), the store raises ``ConditionTooCostly`` instead."""

    def __init__(self) -> None:
        super().__init__("the database took too long to answer; retry later")


class StatementRefused(CoreError):
    """The database engine refused a statement as too large or too complex (its own limits:
    expression depth, stack). The engine's text is logged, never shown."""

    def __init__(self, detail: str) -> None:
        super().__init__("the database refused the statement")
        self.detail = detail


class ConditionTooCostly(LimitExceeded):
    """A condition the database could not evaluate within its limits (the statement timeout,
    the engine's own size limits): the condition's fault, not a passing failure, so no retry
    will help. ``field`` names where the condition came from."""
