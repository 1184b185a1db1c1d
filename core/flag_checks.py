"""The checks the flag use cases (``core.flags``) share: who may read flags, a flag's name, a
strategy as sent (``rule_payload``), and Unleash's ways of matching and ordering them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from core.constraints import (
    ConstraintLimits,
    SchemaInvalid,
    check_constraints,
    check_rule_constraint_values,
    to_expression,
)
from core.errors import Conflict, Forbidden, Invalid
from core.flag_records import MAX_FLAG_NAME, SORT_ORDER_RANGE, RuleInput
from core.model import Flag, Principal, Rule
from core.service import check_no_nul, check_text
from core.strategy_variants import URL_FRIENDLY, strategy_variants


def require_evaluator(principal: Principal, environment: str) -> None:
    """Features of ``environment`` may be evaluated with an admin token, or a client,
    frontend or OFREP token of that environment."""
    if principal.is_admin or principal.scope in (
        f"client:{environment}",
        f"frontend:{environment}",
        f"ofrep:{environment}",
    ):
        return
    raise Forbidden(f"this token may not evaluate features of environment {environment!r}")


def require_client(principal: Principal) -> str:
    """The environment of a client (SDK) token; any other token is refused."""
    if principal.environment is None:
        raise Forbidden("this endpoint needs a client token")
    return principal.environment


def rule_payload(flag: str, data: RuleInput, limits: ConstraintLimits) -> dict[str, Any]:
    """A strategy as sent, checked as Unleash checks it, as the store keeps it (the defaults
    Unleash fills in included)."""
    low, high = SORT_ORDER_RANGE
    if data.sort_order is not None and not low <= data.sort_order <= high:
        raise Invalid("sortOrder", f"must be between {low} and {high}")
    check_text("name", data.name, max_len=255)
    check_text("title", data.title, max_len=255)
    check_no_nul("parameters", data.parameters)
    check_no_nul("variants", data.variants)
    check_no_nul("constraints", data.constraints)
    check_rule_constraint_values(data.constraints, limits.rule_constraint_values)
    check_constraints(data.constraints)
    to_expression(data.constraints)  # what SDKs will evaluate must parse
    parameters = dict(data.parameters)
    if data.name == "flexibleRollout":
        # Unleash fills these in, and SDKs need them to bucket users.
        parameters = {
            **parameters,
            "rollout": parameters.get("rollout", "100"),
            "stickiness": parameters.get("stickiness") or "default",
            "groupId": parameters.get("groupId") or flag,
        }
    return {
        "name": data.name,
        "title": data.title,
        "disabled": bool(data.disabled),
        "constraints": [{"values": [], **c} for c in data.constraints],
        "parameters": parameters,
        "variants": strategy_variants(data.variants),
    }


def ilike(pattern: str) -> re.Pattern[str]:
    """A SQL ``ILIKE`` pattern as a regular expression: ``%`` any run, ``_`` one character, a
    backslash makes the next character literal, letters match in either case."""
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def check_same_project(flags: Sequence[Flag], project: str) -> None:
    others = sorted({f.project for f in flags if f.project != project})
    if others:
        raise Conflict(
            "project_mismatch",
            "The operation could not be completed. The features exist, but the provided "
            f'project ids ("{",".join(others)}") does not match the project provided in request '
            f'URL ("{project}").',
        )


def check_flag_name(name: str) -> None:
    if name == "":
        raise SchemaInvalid("name", "is not allowed to be empty")
    if len(name) > MAX_FLAG_NAME:
        raise SchemaInvalid(
            "name", f"length must be less than or equal to {MAX_FLAG_NAME} characters long", name
        )
    if not URL_FRIENDLY.match(name):
        raise SchemaInvalid("name", "must be URL friendly", name)


def ordered(rules: Sequence[Rule]) -> list[Rule]:
    """Rules in the order they apply: sort order, then creation."""
    return sorted(rules, key=lambda r: (r.sort_order, r.created_at, r.id))
