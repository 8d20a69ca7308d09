"""Stage *load*: the incident store as NumPy arrays, the population, and the end of the data.

Ten million incidents must load in seconds and little memory, so this avoids the ORM
and Python objects per row: the database converts times to epoch seconds and indicator
codes to small integers. On SQLite the rows are read column-wise into Arrow by the ADBC
driver, in two id ranges on two threads (about 3.5 s for ten million rows, against 21 s
through Python tuples); on PostgreSQL by its ADBC driver, which reads the result by binary
``COPY`` straight into Arrow. Without the driver, and inside a transaction that another
connection could not see, they arrive through Django's cursor in chunks that go straight
into arrays.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

import numpy as np
import pandas as pd
from django.db import connection, connections

from problembild.analysis.vocabulary import INDICATOR_CODES, LOCAL_TIMEZONE
from problembild.areas.models import PREFERRED_POPULATION_ORDER, Population
from problembild.core.db import sql_literal
from problembild.incidents.models import Incident

log = logging.getLogger(__name__)

CHUNK = 500_000
#: Threads (SQLite connections) of the column-wise read.
READERS = 2
_COLUMNS = ("id", "area", "indicator", "t", "x", "y", "synthetic", "source", "no_xy")


@dataclass
class IncidentArrays:
    """Counted incidents with coordinates or an area, as parallel arrays in id order.

    ``area`` is -1 for incidents in no area (or only approximately matched: those count
    at municipality level, not in an area's indicators); ``indicator`` indexes
    :data:`INDICATOR_CODES`; ``t`` is UTC epoch seconds; ``x``/``y`` are SWEREF99 TM
    metres (NaN without coordinates).
    """

    id: np.ndarray
    area: np.ndarray
    indicator: np.ndarray
    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    synthetic: np.ndarray
    source: np.ndarray  # index into the ``sources`` list given to :func:`load_incidents`

    def __len__(self) -> int:
        return len(self.id)

    def take(self, index: np.ndarray) -> IncidentArrays:
        return IncidentArrays(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})

    def times(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.t.astype("datetime64[s]")).tz_localize("UTC")

    def frame(self, local: pd.DatetimeIndex | None = None) -> pd.DataFrame:
        """The long incident frame the analytics' count functions read.

        ``local``: the times already in local time (naive), to convert only once.
        """
        return incident_frame(self.area, self.indicator, self.times() if local is None else local)


#: How a derived per-incident column is had: ``column(name, key, compute)`` (see
#: :func:`~.snapshot.column`, which keeps it between runs), or computed on the spot.
ColumnSource = Callable[[str, str, Callable[[IncidentArrays], np.ndarray]], np.ndarray]
#: How a summary of each kept segment is had: ``parts(name, key, compute)`` (see
#: :func:`~.snapshot.per_segment`), or one part of all rows.
PartSource = Callable[
    [str, str, Callable[[IncidentArrays], dict[str, np.ndarray]]], list[dict[str, np.ndarray]]
]


def incident_frame(area: np.ndarray, indicator: np.ndarray, times: pd.DatetimeIndex) -> pd.DataFrame:
    """``area_id`` (NA for -1), ``indicator`` (categorical) and ``occurred_at`` columns."""
    return pd.DataFrame(
        {
            "area_id": pd.arrays.IntegerArray(area.astype(np.int64), mask=area < 0),
            "indicator": pd.Categorical.from_codes(indicator, categories=list(INDICATOR_CODES)),
            "occurred_at": times,
        }
    )


def source_names() -> list[str]:
    """Every source name in the store, sorted.

    A loose index scan: each step asks the unique index on ``(source, external_id)`` for
    the next larger name, so the query costs a few index probes per source where
    ``SELECT DISTINCT`` reads every row (2 s at ten million incidents, a tenth of a daily
    refresh). Both databases run the recursive query.
    """
    table = connection.ops.quote_name(Incident._meta.db_table)
    sql = (
        f"WITH RECURSIVE names(name) AS ("
        f"SELECT min(source) FROM {table} "
        f"UNION ALL SELECT (SELECT min(source) FROM {table} WHERE source > names.name) "
        f"FROM names WHERE names.name IS NOT NULL"
        f") SELECT name FROM names WHERE name IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sorted(row[0] for row in cursor.fetchall())


def _select(epoch: str, source_values: list[str]) -> str:
    """The query: one row per counted incident, every column a number.

    Missing coordinates come as 0 with a flag, so every column has one type from the
    first row on (the Arrow reader takes a column's type from its first values).
    ``source_values`` are the SQL of the source names: placeholders or literals.
    """
    table = Incident._meta.db_table
    case = " ".join(f"WHEN '{code}' THEN {i}" for i, code in enumerate(INDICATOR_CODES))
    source_case = " ".join(f"WHEN {value} THEN {i}" for i, value in enumerate(source_values))
    source_sql = f"CASE source {source_case} ELSE -1 END" if source_values else "-1"
    return (
        f"SELECT id, CASE WHEN area_match = 'exact' THEN area_id ELSE -1 END, "
        f"CASE indicator {case} ELSE -1 END, {epoch}, COALESCE(x, 0.0), COALESCE(y, 0.0), "
        f"CASE WHEN synthetic THEN 1 ELSE 0 END, {source_sql}, "
        f"CASE WHEN x IS NULL OR y IS NULL THEN 1 ELSE 0 END FROM {table} "
        f"WHERE indicator <> '' AND (area_match = 'exact' OR x IS NOT NULL)"
    )


def _sqlite_file() -> Path | None:
    """The SQLite database file when another connection sees what Django's sees."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return None
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401
    except ImportError:
        return None
    name = str(connection.settings_dict["NAME"])
    if name.startswith("file:") or name == ":memory:" or "mode=memory" in name:
        return None
    path = Path(name)
    return path if path.is_file() else None


def release_connections(path: Path) -> int:
    """Close this thread's Django connections to the SQLite file ``path``; how many were open.

    Before another copy of SQLite (an ADBC driver's) opens the file in this process. A
    connection inside a transaction cannot be closed: ``RuntimeError`` (the callers read
    outside transactions, see :func:`_sqlite_file`).
    """
    closed = 0
    target = path.resolve()
    for conn in connections.all(initialized_only=True):
        name = str(conn.settings_dict.get("NAME") or "")
        if conn.vendor != "sqlite" or name.startswith("file:") or "memory" in name:
            continue
        if Path(name).resolve() != target or conn.connection is None:
            continue
        if conn.in_atomic_block:
            raise RuntimeError(f"{path} is open in a transaction: it cannot be read by another SQLite")
        conn.close()
        closed += 1
    return closed


def _read_sqlite(path: Path, sql: str, after: int = 0, upto: int | None = None) -> dict[str, np.ndarray]:
    """Run ``sql`` over id ranges in ``(after, upto]`` on :data:`READERS` threads; the columns as arrays."""
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    with connection.cursor() as cursor:
        bound = "" if upto is None else f" AND id <= {int(upto)}"
        cursor.execute(
            f"SELECT MIN(id), MAX(id) FROM {Incident._meta.db_table} WHERE id > {int(after)}{bound}"
        )
        lo, hi = cursor.fetchone()
    # The driver carries its own copy of SQLite. Two copies in one process do not share
    # their POSIX locks, and closing any handle on the file drops every lock the process
    # holds on it: a Django connection left open would lose its locks when a reader closes,
    # and another process (a page being served) could then checkpoint the WAL under it —
    # a corrupt database (sqlite.org/howtocorrupt.html, 2.2; seen in bench_busy.py). So no
    # Django connection to the file is open during the reads; Django reconnects on its next query.
    release_connections(path)
    empty = {c: np.empty(0, dtype=np.float64 if c in ("x", "y") else np.int64) for c in _COLUMNS}
    if lo is None:
        return empty
    edges = np.linspace(lo - 1, hi, READERS + 1).round().astype(np.int64)

    def part(bounds: tuple[int, int]) -> pa.Table:
        with adbc.connect(str(path)) as con, con.cursor() as cur:
            # Opening a WAL database can meet a moment's lock (another reader setting up
            # the shared index): wait for it like Django's connections do.
            cur.execute("PRAGMA busy_timeout = 30000")
            cur.fetchall()
            cur.execute(f"{sql} AND id > {int(bounds[0])} AND id <= {int(bounds[1])}")
            return cur.fetch_arrow_table()

    # The driver leaves Python's lock while SQLite steps, so threads do read in parallel.
    with ThreadPoolExecutor(READERS) as pool:
        parts = [p for p in pool.map(part, itertools.pairwise(edges)) if p.num_rows]
    if not parts:
        return empty
    columns = {}
    for i, name in enumerate(_COLUMNS):
        arrays = [p.column(i).to_numpy() for p in parts]
        columns[name] = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
    return columns


#: Connection settings of Django's PostgreSQL ``OPTIONS`` that libpq understands too.
_LIBPQ_OPTIONS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcrl",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
    "passfile",
    "service",
    "gssencmode",
    "channel_binding",
)


def _postgres_uri() -> str | None:
    """A libpq URI of Django's PostgreSQL database when another connection sees what
    Django's sees and the ADBC driver is installed; None otherwise."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:
        return None
    return libpq_uri(connection.settings_dict)


def libpq_uri(settings: dict, **extra: str) -> str:
    """A libpq connection URI from Django's database ``settings`` (plus ``extra`` parameters)."""
    params = {k: str(v) for k, v in (settings.get("OPTIONS") or {}).items() if k in _LIBPQ_OPTIONS}
    params.update(extra)
    user = quote(str(settings.get("USER") or ""), safe="")
    if user and settings.get("PASSWORD"):
        user += ":" + quote(str(settings["PASSWORD"]), safe="")
    host = str(settings.get("HOST") or "")
    if host.startswith("/"):  # a socket directory
        params["host"] = host
        host = ""
    elif ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if settings.get("PORT"):
        host += f":{int(settings['PORT'])}"
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql://{user + '@' if user else ''}{host}/{quote(str(settings['NAME']), safe='')}{query}"


def _read_postgres(uri: str, sql: str) -> dict[str, np.ndarray] | None:
    """Run ``sql`` through the ADBC driver; the columns as arrays, or None when it cannot
    connect (the caller falls back to Django's cursor)."""
    import adbc_driver_postgresql.dbapi as adbc

    try:
        con = adbc.connect(uri)
    except adbc.Error as exc:
        log.warning("reading incidents through Django's cursor: ADBC cannot connect (%s)", exc)
        return None
    with con, con.cursor() as cur:
        cur.execute(sql)
        table = cur.fetch_arrow_table()
    return {
        name: table.column(i).to_numpy().astype(np.float64 if name in ("x", "y") else np.int64, copy=False)
        for i, name in enumerate(_COLUMNS)
    }


def _read_cursor(sql: str, params: list[str]) -> dict[str, np.ndarray]:
    parts: list[np.ndarray] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(CHUNK)
            if not rows:
                break
            parts.append(np.array(rows, dtype=np.float64))
    data = np.concatenate(parts) if parts else np.empty((0, len(_COLUMNS)))
    return {name: data[:, i] for i, name in enumerate(_COLUMNS)}


def load_incidents(
    sources: list[str] | None = None, *, after: int = 0, upto: int | None = None
) -> IncidentArrays:
    """Every incident that counts in an indicator and is placed (exact area or coordinates).

    ``source`` codes index ``sources`` (default: :func:`source_names`); -1 for others.
    Only the ids in ``(after, upto]`` (``upto`` None: no upper bound), for the reads that
    extend the columns kept from the last run (``snapshot.py``).
    """
    sources = source_names() if sources is None else sources
    path = _sqlite_file()
    uri = _postgres_uri()
    pg_epoch = "CAST(EXTRACT(EPOCH FROM occurred_at) AS BIGINT)"
    ids = f" AND id > {int(after)}" + ("" if upto is None else f" AND id <= {int(upto)}")
    columns = None
    if path is not None:
        sql = _select("unixepoch(occurred_at)", [sql_literal(s) for s in sources])
        columns = _read_sqlite(path, sql, after, upto)
    elif uri is not None:
        columns = _read_postgres(uri, _select(pg_epoch, [sql_literal(s) for s in sources]) + ids)
    if columns is None:
        if connection.vendor == "postgresql":
            epoch = pg_epoch
        else:
            epoch = "CAST(strftime('%%s', occurred_at) AS INTEGER)"  # %% : the query has parameters
        columns = _read_cursor(_select(epoch, ["%s"] * len(sources)) + ids, list(sources))
    keep = columns["indicator"] >= 0  # indicators the vocabulary knows (a stale taxonomy is ignored)
    every = bool(keep.all())

    def column(name: str, dtype: type) -> np.ndarray:
        # One copy at most per column, and each raw column is dropped once converted:
        # at ten million rows every copy is 80 MB.
        values = columns.pop(name)
        return (values if every else values[keep]).astype(dtype, copy=False)

    no_xy = column("no_xy", np.int64) > 0
    x = np.where(no_xy, np.nan, column("x", np.float64))
    y = np.where(no_xy, np.nan, column("y", np.float64))
    data = IncidentArrays(
        id=column("id", np.int64),
        area=column("area", np.int64),
        indicator=column("indicator", np.int8),
        t=column("t", np.int64),
        x=x,
        y=y,
        synthetic=column("synthetic", np.int64) > 0,
        source=column("source", np.int16),
    )
    # In id order, whatever order the database returned (PostgreSQL's is the rows' physical
    # order, which updates change): sums of floating-point numbers over the incidents then
    # come out the same bits on every run, and kept columns plus new rows equal a whole read.
    if len(data) > 1 and not bool(np.all(data.id[1:] > data.id[:-1])):
        data = data.take(np.argsort(data.id, kind="stable"))
    return data


def end_of_data(data: IncidentArrays, as_of: date | None) -> pd.Timestamp:
    """The end of the data: the picture covers complete periods up to this instant.

    ``as_of`` (a date, local midnight) when given; else the day after the last
    incident, but never later than now.
    """
    if as_of:
        return pd.Timestamp(as_of, tz=LOCAL_TIMEZONE)
    now = pd.Timestamp.now(tz=LOCAL_TIMEZONE)
    if len(data) == 0:
        return now.normalize()
    last = pd.Timestamp(int(data.t.max()), unit="s", tz="UTC").tz_convert(LOCAL_TIMEZONE)
    # A data set that stops on a period's last day covers that period completely.
    return min(now, last.normalize() + pd.Timedelta(days=1))


def latest_population() -> tuple[pd.Series, set[int]]:
    """Residents per area and the areas whose figure is synthetic.

    Each area's latest **real** figure when it has one (a newer synthetic figure does not
    replace a real one); otherwise its latest synthetic figure, and the area is returned
    among the synthetic ones so that every rate, need index and rank built on it is marked.
    """
    chosen: dict[int, tuple[int, bool]] = {}
    for area_id, residents, synthetic in Population.objects.order_by(
        "area_id", *PREFERRED_POPULATION_ORDER
    ).values_list("area_id", "residents", "synthetic"):
        chosen.setdefault(area_id, (residents, synthetic))  # the first row is the preferred one
    residents = pd.Series({a: r for a, (r, _) in chosen.items()}, dtype=float, name="residents")
    return residents, {a for a, (_, synthetic) in chosen.items() if synthetic}
