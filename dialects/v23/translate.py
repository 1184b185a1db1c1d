"""v2.3 wire <-> core, with Laravel's validation rules and messages where the API's documentation
is silent.

Laravel runs ``TrimStrings`` and ``ConvertEmptyStringsToNull`` before validation, so a name of
blanks is "required" and names are stored trimmed, as a Laravel backend would store them.
"""

from __future__ import annotations

import math
from typing import Any

from core.model import Page, Segment
from dialects.v23.wire import ListResult, SegmentOut

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_NAME = 255


class ValidationFailed(Exception):
    """Laravel's 422: every failing field with its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(next(iter(errors.values()))[0])
        self.errors = errors


def _label(field: str) -> str:
    return field.replace("_", " ")


def name_from_body(body: Any) -> str:
    """The ``name`` of a create/update body (a JSON object), validated as Laravel would."""
    value = body.get("name") if isinstance(body, dict) else None
    if isinstance(value, str):
        value = value.strip() or None
    if value is None:
        raise ValidationFailed({"name": ["The name field is required."]})
    if not isinstance(value, str):
        raise ValidationFailed({"name": ["The name field must be a string."]})
    if len(value) > MAX_NAME:
        raise ValidationFailed(
            {"name": [f"The name field must not be greater than {MAX_NAME} characters."]}
        )
    return value


def int_param(field: str, values: list[str], *, default: int, maximum: int | None) -> int:
    """A positive integer query parameter (``page``, ``per_page``) or 422."""
    if len(values) > 1:
        raise ValidationFailed({field: [f"The {_label(field)} field must be a single value."]})
    raw = values[0].strip() if values else ""
    if raw == "":
        return default
    if not (raw.isascii() and raw.lstrip("-").isdigit()) or len(raw) > 18:
        raise ValidationFailed({field: [f"The {_label(field)} field must be an integer."]})
    number = int(raw)
    if number < 1:
        raise ValidationFailed({field: [f"The {_label(field)} field must be at least 1."]})
    if maximum is not None and number > maximum:
        raise ValidationFailed(
            {field: [f"The {_label(field)} field must not be greater than {maximum}."]}
        )
    return number


def segment_out(segment: Segment) -> SegmentOut:
    return SegmentOut(id=segment.id, name=segment.name)


def list_result(page: Page, *, current: int, per_page: int) -> ListResult:
    return ListResult(
        currentPage=current,
        perPage=per_page,
        lastPage=max(1, math.ceil(page.total / per_page)),
        total=page.total,
        items=[segment_out(s) for s in page.items],
        filters=[],
    )
