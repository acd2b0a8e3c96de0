"""One rule for what the API takes in, applied to every operation's validated input.

Whatever an endpoint declares (path, query, body, form), once django-ninja has parsed it the
values pass through `check_inputs` before the endpoint runs (`api.add_decorator`, so every
current and future endpoint inherits it):

- integers fit in 64 bits (what both databases store), floats are finite;
- text carries no control characters (NUL, which PostgreSQL refuses and SQLite stores, and
  the rest of C0/C1 except tab and line breaks) and no lone surrogates;
- date-times say their offset (a naive "2026-12-01T10:00:00" is ambiguous) and, like dates,
  lie between 1900 and 2100 (year 1 overflows when moved to UTC).

A value that breaks the rule is refused as ninja refuses a wrong type: 422
`invalid_parameter`, naming the field, before anything is read or written.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from ninja.errors import ValidationError
from pydantic import BaseModel

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)
_EARLIEST_DT = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST_DT = datetime(2101, 1, 1, tzinfo=UTC)
# C0 controls but tab, LF and CR; DEL and C1; lone surrogates; the two non-characters.
FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def problem(value: Any) -> str | None:
    """Why one scalar breaks the rule, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            return _("Number out of range.")
    elif isinstance(value, float | Decimal):
        if not math.isfinite(value):
            return _("Enter a finite number.")
    elif isinstance(value, str):
        if FORBIDDEN_TEXT.search(value):
            return _("Text must not contain control characters.")
    elif isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return _("Give the time with its offset, e.g. 2026-12-01T10:00:00+08:00.")
        if not _EARLIEST_DT <= value < _LATEST_DT:
            return _("Dates must lie between 1900 and 2100.")
    elif isinstance(value, date) and not EARLIEST <= value <= LATEST:
        return _("Dates must lie between 1900 and 2100.")
    return None


def problems(value: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple, str]]:
    """Every (location, reason) in a validated value, walking models, mappings and lists."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from problems(getattr(value, name, None), (*loc, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from problems(key, (*loc, str(key)))
            yield from problems(item, (*loc, str(key)))
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            yield from problems(item, (*loc, i))
    else:
        reason = problem(value)
        if reason is not None:
            yield loc, reason


def check_inputs(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """ninja operation decorator: refuse input that breaks the rule, before the endpoint."""

    @functools.wraps(view_func)
    def checked(request: Any, *args: Any, **kwargs: Any) -> Any:
        found = [
            {"loc": loc, "msg": reason, "type": "doorstep_input"}
            for name, value in kwargs.items()
            for loc, reason in problems(value, (name,))
        ]
        if found:
            raise ValidationError(found)
        return view_func(request, *args, **kwargs)

    return checked
