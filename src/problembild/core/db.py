"""Database helpers shared by the apps: change-aware upserts and fast bulk inserts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models


def upsert(model: type[models.Model], lookup: dict, values: dict) -> tuple[models.Model, bool]:
    """Create or update one row; return ``(object, changed)``.

    Unchanged rows are not written, so repeating a load changes nothing (not even
    ``save`` signals), which keeps imports idempotent and cheap.
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True
    changed = False
    for key, value in values.items():
        if isinstance(value, models.Model):
            old, new = getattr(obj, f"{key}_id"), value.pk
        else:
            old, new = getattr(obj, key), value
            if isinstance(old, memoryview):
                old = bytes(old)
        if old != new:
            setattr(obj, key, value)
            changed = True
    if changed:
        obj.save()
    return obj, changed


def sql_literal(value) -> str:
    """``value`` (None, bool, int or str without NUL) as an SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {value!r}")


def bulk_insert(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    constants: dict[str, object] | None = None,
    batch: int = 50_000,
) -> int:
    """Insert many rows into ``table`` by the fastest path the database offers.

    PostgreSQL gets ``COPY … FROM STDIN`` and SQLite a prepared ``executemany``; both
    run in the caller's transaction. Returns the number of rows written. Values must be
    plain Python values in the column's storage form (e.g. datetimes aware in UTC).
    ``constants`` are columns with the same value in every row (None, bool, int or str):
    SQLite gets them as literals in the statement, which saves binding them per row.
    """
    qn = connection.ops.quote_name
    constants = constants or {}
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor, for COPY
            fixed = tuple(constants.values())
            cols = ", ".join(qn(c) for c in (*columns, *constants))
            with raw.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *fixed) if fixed else row)
                    written += 1
            return written
        # SQLite's default page cache (2 MB) makes index maintenance thrash on large
        # imports; a larger cache for this connection doubled the measured insert rate.
        cursor.execute("PRAGMA cache_size = -262144")
        cols = ", ".join(qn(c) for c in (*columns, *constants))
        marks = ["%s"] * len(columns) + [sql_literal(v).replace("%", "%%") for v in constants.values()]
        sql = f"INSERT INTO {qn(table)} ({cols}) VALUES ({', '.join(marks)})"
        if isinstance(rows, list):
            for start in range(0, len(rows), batch):
                cursor.executemany(sql, rows[start : start + batch])
            return len(rows)
        chunk: list[Sequence] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                written += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            written += len(chunk)
    return written


#: Rows per ``INSERT … VALUES (…), (…)`` statement of :func:`insert_columns` on SQLite, at
#: most: more rows change nothing measurable, and the statement stays under SQLite's
#: historic default of 999 bound variables.
SQLITE_ROWS_PER_INSERT = 100


def insert_columns(
    table: str,
    columns: Sequence[str],
    values: Sequence[Sequence],
    *,
    constants: dict[str, object] | None = None,
    batch: int = 1_000,
) -> int:
    """Insert rows given column by column: ``values[j]`` holds column ``columns[j]`` of
    every row, as Python values in the column's storage form or as a NumPy array of
    numbers (bound as Python numbers). Returns rows written.

    SQLite gets ``INSERT … VALUES`` statements of up to :data:`SQLITE_ROWS_PER_INSERT`
    rows, executed many times: a statement per row costs the row's share of the
    statement's work (an ``AUTOINCREMENT`` table updates its sequence once per
    statement), which was about half of a large import's insert time. The rows are
    inserted in order, so they get the ids one row at a time would. PostgreSQL gets
    :func:`bulk_insert`'s ``COPY``. ``constants`` as in :func:`bulk_insert`; runs in
    the caller's transaction.
    """
    import numpy as np

    constants = constants or {}
    n = len(values[0]) if len(values) else 0
    if n == 0:
        return 0
    k = len(columns)
    if connection.vendor != "sqlite" or k == 0:
        plain = [v.tolist() if isinstance(v, np.ndarray) else v for v in values]
        return bulk_insert(table, columns, zip(*plain, strict=True), constants=constants)
    qn = connection.ops.quote_name
    per = max(1, min(SQLITE_ROWS_PER_INSERT, 999 // k))
    literals = [sql_literal(v).replace("%", "%%") for v in constants.values()]
    one = "(" + ", ".join(["%s"] * k + literals) + ")"
    head = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in (*columns, *constants))}) VALUES "
    grid = np.empty((n, k), dtype=object)
    for j, column in enumerate(values):
        grid[:, j] = column
    full = n // per * per
    with connection.cursor() as cursor:
        # As in bulk_insert: a larger page cache keeps index maintenance from thrashing.
        cursor.execute("PRAGMA cache_size = -262144")
        if full:
            sql = head + ", ".join([one] * per)
            params = grid[:full].reshape(-1, per * k).tolist()
            for start in range(0, len(params), batch):
                cursor.executemany(sql, params[start : start + batch])
        if full < n:
            cursor.execute(head + ", ".join([one] * (n - full)), grid[full:].reshape(-1).tolist())
    return n


def copy_csv(table: str, columns: Sequence[str], chunks: Iterable[bytes]) -> None:
    """PostgreSQL: stream CSV text into ``table`` with ``COPY … FROM STDIN (FORMAT csv)``
    in the caller's transaction.

    ``chunks`` are pieces of one CSV text without a header, fields in the order of
    ``columns``: an unquoted empty field is NULL, a quoted one (``""``) the empty text.
    The text is parsed by the server, so a writer that formats it in bulk (pyarrow's CSV
    writer) spends no Python time per row.
    """
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    sql = f"COPY {qn(table)} ({cols}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for chunk in chunks:
            copy.write(chunk)


#: :func:`model_sql`'s statements, by (name, database vendor).
_MODEL_SQL: dict[tuple[str, str], Any] = {}


def model_sql[T](name: str, connection, build: Callable[[Any], T]) -> T:
    """``build(connection)``, built once per database vendor and kept under ``name``.

    For the few statements of every page view written as SQL (the access-log entry, the
    user's unit and roles, an area with its unit, the latest refresh): built from the
    models' tables and columns once, where an ORM query is compiled again on every call
    and costs several times the database's own work.
    """
    key = (name, connection.vendor)
    found = _MODEL_SQL.get(key)
    if found is None:
        found = _MODEL_SQL[key] = build(connection)
    return found
