"""The row claim every sender shares: the outbox's and the campaign sender's.

A sender takes the next row it may work on with one statement::

    SELECT ... ORDER BY ... LIMIT 1 FOR UPDATE OF <row> SKIP LOCKED

inside a short transaction of its own, then does the work and stamps the row
before it commits. Another sender skips a row that is held, so any number of
senders (processes, workers, machines) share the work without a global lock
and never take the same row twice; a sender that dies leaves its row unlocked
and unstamped for the next one. The statement is written by hand because it
runs once per email: the ORM's compilation of the same query costs more CPU
than the database's work. On SQLite (the quick start) there is no row locking;
its IMMEDIATE transactions let one writer in at a time instead.
"""

from __future__ import annotations

from django.db import connection


def claim_sql(*, columns: str, source: str, where: str, order_by: str, lock: str) -> str:
    """One claim statement: the first row of ``source`` matching ``where``, locked.

    ``lock`` names the table or alias whose row is locked (``FOR UPDATE OF``),
    so joined tables are read, not locked.
    """
    sql = f"SELECT {columns} FROM {source} WHERE {where} ORDER BY {order_by} LIMIT 1"  # noqa: S608  (names from the models, values as parameters)
    if connection.features.has_select_for_update_skip_locked:
        sql += f" FOR UPDATE OF {lock} SKIP LOCKED"
    return sql
