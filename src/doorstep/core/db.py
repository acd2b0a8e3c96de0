"""Small database helpers: statistics after a load, model rows from hand-written SQL."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def refresh_statistics() -> None:
    """Let the query planner see the data just loaded (ANALYZE, on SQLite and PostgreSQL).

    Without statistics SQLite picks indexes by shape alone, which made the open-now filter
    thousands of times slower on a city-sized directory (bench/HISTORY.md, fix 2).
    """
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def instances(
    model: type[Model], sql: str, params: Sequence[Any] | Mapping[str, Any], extra: int = 0
) -> list[tuple[Model, tuple[Any, ...]]]:
    """Model instances from a hand-written SELECT whose first columns are the model's
    concrete fields in order, with the `extra` columns after them returned as they came.

    What `Model.objects.raw()` does, without re-resolving the columns on every call (that
    took a third of a registration's Python here): the same converters, worked out once per
    model and database.
    """
    fields, converters = _converters(model, connection.vendor)
    n = len(fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        values = list(row[:n])
        for i, funcs, expression in converters:
            for convert in funcs:
                values[i] = convert(values[i], expression, connection)
        obj = model.from_db(connection.alias, fields, values)
        out.append((obj, tuple(row[n : n + extra])))
    return out


@functools.cache
def _converters(model: type[Model], vendor: str) -> tuple[list[str], list[tuple[int, list, Any]]]:
    table = model._meta.db_table
    fields = [f.attname for f in model._meta.concrete_fields]
    converters = []
    for i, field in enumerate(model._meta.concrete_fields):
        expression = field.get_col(table)
        funcs = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
        if funcs:
            converters.append((i, funcs, expression))
    return fields, converters


def concrete_columns(model: type[Model], alias: str) -> str:
    """`alias.col1, alias.col2, …` for the model's concrete fields, in order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in model._meta.concrete_fields)
