"""Prepared statements for the few hottest writes, on PostgreSQL.

Django binds parameters on the client and never prepares a statement (so
that connection poolers in transaction mode keep working). For a statement
that every sign-up runs, parsing and planning it each time costs more than
executing it: the sign-up's insert of a reader and her confirmation takes
0.51 ms as text and 0.38 ms prepared (psycopg, this machine's PostgreSQL
15, 1,000 runs each).

:func:`prepared_cursor` gives a cursor of Django's own kind (so the query
is logged, counted by query budgets, passed through execute wrappers and
its errors translated) whose statements are bound on the server and
prepared on their first run, once per database connection. Use it only for
statements whose text is constant (values as parameters), or the
connection's cache of prepared statements (psycopg keeps 100) churns.

Behind PgBouncer in transaction mode this needs PgBouncer 1.21 or newer
with ``max_prepared_statements`` set (docs/deploy.md).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model

if connection.vendor == "postgresql":
    from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]
        ServerBindingCursor,
    )

    class _PreparingCursor(ServerBindingCursor):  # type: ignore[misc,valid-type]
        """A server-binding cursor that prepares every statement it runs."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = True
            return super().execute(query, params, **kwargs)


class _PreparedDebugWrapper(CursorDebugWrapper):
    """Django's logging cursor (DEBUG, tests' query budgets), logging the statement's text.

    Django logs the query psycopg last sent as text; a prepared statement is
    sent by name, so the text given to ``execute`` is logged instead.
    """

    @contextlib.contextmanager
    def debug_sql(
        self,
        sql: str | None = None,
        params: Any = None,
        use_last_executed_query: bool = False,
        many: bool = False,
    ) -> Iterator[None]:
        with super().debug_sql(sql, params, use_last_executed_query=False, many=many):
            yield


@contextlib.contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor whose statements are prepared on PostgreSQL (elsewhere Django's own).

    It runs on the connection (and in the transaction) of ``django.db.connection``,
    through its execute wrappers and error translation, and is logged and
    counted like any other query.
    """
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            yield cursor
            return
        wrapper = _PreparedDebugWrapper if connection.queries_logged else CursorWrapper
        with _PreparingCursor(cursor.cursor.connection) as server_cursor:
            yield wrapper(server_cursor, connection)


@functools.cache
def insert_statement(model: type[Model], *, tail: str = "") -> tuple[str, list[Field[Any, Any]]]:
    """``model``'s ``INSERT`` of every column but the key (``RETURNING id``), and its fields.

    Built once per process and model: the same text every time, so it is
    prepared once per connection. ``tail`` goes before ``RETURNING`` (an
    ``ON CONFLICT`` clause). Pair it with :func:`insert_values`.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({placeholders})"  # noqa: S608  (the model's own table and columns)
        f"{' ' + tail if tail else ''} RETURNING id"
    )
    return sql, fields


def insert_values(instance: Model, fields: list[Field[Any, Any]]) -> list[Any]:
    """``instance``'s values for :func:`insert_statement`, as the ORM would store them."""
    return [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]
