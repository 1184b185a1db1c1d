"""Rules of constraint lists (Unleash's condition language) beyond their syntax: checked in the
order, and worded as, Unleash's own server checks them, so every client sees the same first error
it would see from Unleash (``docs/dialects/unleash.md``).

The parser (``core.expr.unleash.parse_constraints``) then turns a list that passed into the AST;
whatever it still refuses is an ``Invalid`` too. Limits are settings (``ConstraintLimits``), not
constants, so a deployment can raise them as Unleash lets an operator do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from core.errors import Invalid, LimitExceeded
from core.expr import re2
from core.expr.ast import Expr
from core.expr.kinds import SEMVER_RE, canonical_datetime
from core.expr.limits import Limits
from core.expr.unleash import MAX_VALUE_LENGTH, parse_constraints

NUM_OPERATORS = ("NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE")
DATE_OPERATORS = ("DATE_AFTER", "DATE_BEFORE")
SEMVER_OPERATORS = ("SEMVER_EQ", "SEMVER_GT", "SEMVER_GTE", "SEMVER_LT", "SEMVER_LTE")
STRING_OPERATORS = ("STR_ENDS_WITH", "STR_STARTS_WITH", "STR_CONTAINS", "IN", "NOT_IN")
SINGLE_VALUE_OPERATORS = (*NUM_OPERATORS, *DATE_OPERATORS, *SEMVER_OPERATORS)
OPERATORS = (
    "NOT_IN",
    "IN",
    "STR_ENDS_WITH",
    "STR_STARTS_WITH",
    "STR_CONTAINS",
    *NUM_OPERATORS,
    *DATE_OPERATORS,
    "SEMVER_EQ",
    "SEMVER_GT",
    "SEMVER_LT",
    "SEMVER_GTE",
    "SEMVER_LTE",
    "REGEX",
)
"""Unleash 8.2's operator enum, in its order (error messages list them so)."""
# joi.number()'s string coercion: surrounding blanks allowed, no hex, no Infinity.
_JOI_NUMBER = re.compile(r"^\s*[+-]?(?:(?:\d+(?:\.\d*)?)|(?:\.\d+))(?:e([+-]?\d+))?\s*$", re.I)


class ConstraintLimits(msgspec.Struct, frozen=True):
    segments: int = 300
    """Segments per tenant (Unleash's default resource limit)."""
    segment_values: int = 1000
    """Values over all constraints of one segment."""
    segments_per_rule: int = 5
    """Segments one strategy may use."""
    rule_constraint_values: int = 250
    """Values in one constraint of a strategy."""


class SchemaInvalid(Invalid):
    """A declarative schema refused a value: ``field`` is its label (``constraints[0].values[1]``),
    ``reason`` the schema's words, ``value`` what was sent (``None`` when nothing was)."""

    def __init__(self, field: str, reason: str, value: object = None) -> None:
        super().__init__(field, reason)
        self.value = value


class ResourceLimit(LimitExceeded):
    """Creating one more ``resource`` would pass the configured ``limit``."""

    def __init__(self, resource: str, limit: int) -> None:
        super().__init__(resource, f"more than the limit of {limit}")
        self.resource = resource
        self.limit = limit


def check_segment_fields(name: str, constraints: Sequence[dict[str, Any]]) -> None:
    """The schema pass over a segment (joi ``segmentSchema``): a non-empty name, then each
    constraint's non-empty ``contextName`` and 1..100-character ``values``."""
    if name == "":
        raise SchemaInvalid("name", "is not allowed to be empty")
    for i, constraint in enumerate(constraints):
        _check_constraint_fields(constraint, f"constraints[{i}].")


def _check_constraint_fields(constraint: dict[str, Any], prefix: str) -> None:
    if constraint.get("contextName") == "":
        raise SchemaInvalid(f"{prefix}contextName", "is not allowed to be empty")
    for j, value in enumerate(constraint.get("values") or ()):
        label = f"{prefix}values[{j}]"
        if value == "":
            raise SchemaInvalid(label, "is not allowed to be empty")
        if len(value) > MAX_VALUE_LENGTH:
            raise SchemaInvalid(
                label,
                f"length must be less than or equal to {MAX_VALUE_LENGTH} characters long",
                value,
            )


def check_constraints(constraints: Sequence[dict[str, Any]]) -> None:
    """Each constraint's operator-specific rules, constraint by constraint (Unleash's
    ``validateConstraint``): a single-value operator needs a ``value``; numbers, list operators,
    semver, dates and regular expressions each their own kind of value."""
    for constraint in constraints:
        _check_constraint_fields(constraint, "")
        operator = constraint.get("operator")
        value = constraint.get("value")
        if operator in SINGLE_VALUE_OPERATORS and value in (None, ""):
            raise Invalid("value", "Single-value constraint operators require a non-empty value.")
        if operator in NUM_OPERATORS and not _JOI_NUMBER.match(str(value)):
            raise SchemaInvalid("value", "must be a number", value)
        if operator in STRING_OPERATORS and not constraint.get("values"):
            raise SchemaInvalid("value", "must contain at least 1 items", [])
        if operator in SEMVER_OPERATORS:
            match = SEMVER_RE.fullmatch(str(value))
            if match is None or match[5] is not None:
                raise Invalid(
                    "value",
                    "the provided value is not a valid semver format. "
                    f"The value provided was: {value}",
                )
        if operator in DATE_OPERATORS and canonical_datetime(str(value)) is None:
            raise SchemaInvalid("value", "must be a valid date", value)
        if operator == "REGEX":
            _check_regex(value, constraint.get("inverted"))


def _check_regex(value: object, inverted: object) -> None:
    if not isinstance(value, str):
        raise Invalid("value", "the provided value is not a valid regex string.")
    problem = re2.problem(value)
    if problem is not None:
        raise Invalid("value", f"the provided value is not a valid regex string. Error: {problem}")
    if inverted is True:
        raise Invalid("inverted", "REGEX operator cannot be inverted.")


def count_values(constraints: Sequence[dict[str, Any]]) -> int:
    return sum(len(c.get("values") or ()) for c in constraints)


def check_segment_values(constraints: Sequence[dict[str, Any]], limit: int) -> None:
    if count_values(constraints) > limit:
        raise LimitExceeded("constraints", f"Segments may not have more than {limit} values")


def check_rule_constraint_values(constraints: Sequence[dict[str, Any]], limit: int) -> None:
    for constraint in constraints:
        if len(constraint.get("values") or ()) > limit:
            raise ResourceLimit(f"constraint values for {constraint.get('contextName')}", limit)


def to_expression(constraints: Sequence[dict[str, Any]]) -> Expr | None:
    """The AST of a checked list (None: everyone). The parser's own limits are raised to what
    the checks above already bound, so only what they let through can still be refused."""
    return parse_constraints(list(constraints), Limits(max_values=10**9))
