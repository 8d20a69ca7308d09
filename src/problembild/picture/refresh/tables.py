"""Stage *tables*: what every area is compared with, recomputed for all areas on every run.

* each area and indicator's dispersion, estimated once from its monthly series: every
  change test (months, quarters, years, the twelve months) carries it, so overdispersed
  counts are not marked as changes they are not;
* the :class:`~problembild.picture.models.IndicatorValue` table (one row per area,
  indicator and period, with rate, changes, test p-values and the share of the
  municipality);
* the twelve-month window: the need index, the ranks overall and within the category
  (of empirical-Bayes rates: a small area's rate is mostly noise), and the category
  means — they depend on every area, so they are never reused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction

from problembild.analysis import indicators, need
from problembild.analysis.change import change_table, dispersion_table
from problembild.analysis.vocabulary import ALL
from problembild.core.db import bulk_insert

from ..models import IndicatorValue
from .counts import Counts

_INT_COLUMNS = ("area_id", "count", "previous", "last_year")
_FLOAT_COLUMNS = ("rate", "p_previous", "p_last_year", "share_of_municipality")
#: The columns that name an IndicatorValue row (the model's unique constraint).
_ROW_KEY = ["area_id", "indicator", "period", "period_start"]


KEYS = ("area_id", "indicator")


def monthly_dispersion(monthly: pd.DataFrame) -> pd.DataFrame:
    """Each area and indicator's dispersion from its complete months (``dispersion_table``).

    Sums of independent months keep the monthly dispersion, so the same estimate serves
    the quarters, years and the twelve-month comparison, whose own series are too short.
    """
    return dispersion_table(monthly, "month", keys=KEYS)


def value_rows(
    counts: Counts, population: pd.Series, municipality_of: dict[int, str], dispersion: pd.DataFrame
) -> pd.DataFrame:
    """The IndicatorValue table as a frame (columns as the model's fields).

    Weeks carry their own series' dispersion, the other periods ``dispersion`` (from
    :func:`monthly_dispersion`).
    """
    frames = []
    for period, table in counts.area.items():
        ch = change_table(table, period, keys=KEYS, dispersion="estimate" if period == "week" else dispersion)
        ch["area_id"] = ch["area_id"].astype("int64")
        rated = indicators.rates(ch, population)
        rated["municipality"] = rated["area_id"].map(municipality_of).fillna("")
        rated["indicator"] = rated["indicator"].astype(str)
        mc = counts.municipality.get(period)
        if mc is not None and len(mc):
            m = mc[["municipality", "indicator", "period_start", "count"]].rename(
                columns={"count": "muni_count"}
            )
            m = m.assign(indicator=m["indicator"].astype(str))
            rated = rated.merge(m, on=["municipality", "indicator", "period_start"], how="left")
        else:
            rated["muni_count"] = np.nan
        muni_n = rated["muni_count"].astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "area_id": rated["area_id"],
                    "indicator": rated["indicator"],
                    "period": period,
                    "period_start": pd.DatetimeIndex(rated["period_start"]).date,
                    "count": rated["count"].astype("int64"),
                    "rate": rated["rate"].where(rated["rate_available"]),
                    "previous": rated["previous_count"],
                    "last_year": rated["last_year_count"],
                    "p_previous": rated["previous_p_value"],
                    "p_last_year": rated["last_year_p_value"],
                    "mark": rated["last_year_mark"].fillna(""),
                    "share_of_municipality": (rated["count"] / muni_n).where(muni_n > 0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_values(values: pd.DataFrame) -> int:
    """Make the IndicatorValue table hold exactly the rows of ``values``, in one transaction.

    A daily refresh changes few rows (the current periods and those compared with them),
    so the stored rows are read and compared, and only those gone or changed are deleted
    and those new or changed inserted. When nearly all rows differ (the first run), deleting
    all and inserting all is faster. Returns the number of rows in the table.
    """
    cols = list(values.columns)
    with transaction.atomic():
        stored = _stored_values(cols) if len(values) else pd.DataFrame()
        gone, new = _differences(stored, values, cols) if len(stored) else (None, np.arange(len(values)))
        if gone is None or len(gone) > 3 * len(stored) // 4:
            # Nearly all rows differ (the first run, an empty frame): dropping the rows at
            # once and inserting all is faster. By id was faster up to ~80 % (214,000 rows).
            IndicatorValue.objects.all().delete()
            new = np.arange(len(values))
        else:
            _delete_ids(IndicatorValue._meta.db_table, gone)
        if len(new):
            _insert_values(values.iloc[new], cols)
    return len(values)


def _stored_values(cols: list[str]) -> pd.DataFrame:
    """The stored IndicatorValue rows: ``id`` and ``cols``.

    Read through Django's cursor, inside the write transaction and its lock against other
    refreshes: ADBC (faster) reads through connections of its own, which do not see this
    transaction, and on SQLite may not be opened during it (``load.release_connections``).
    """
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(map(qn, cols))} FROM {qn(IndicatorValue._meta.db_table)}")
        rows = cursor.fetchall()
    return pd.DataFrame.from_records(rows, columns=["id", *cols])


def _comparable(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """``frame``'s ``cols`` in one form for both sides: numbers as float64 with NaN for NULL
    (exact for the counts), dates as datetime64, text as str."""
    out = {}
    for c in cols:
        if c in _INT_COLUMNS or c in _FLOAT_COLUMNS:
            out[c] = pd.to_numeric(frame[c]).to_numpy(dtype=np.float64, na_value=np.nan)
        elif c == "period_start":
            out[c] = pd.to_datetime(frame[c]).to_numpy()
        else:
            out[c] = frame[c].astype(str).to_numpy()
    return pd.DataFrame(out)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where ``a`` equals ``b`` exactly: floats bit for bit (both NULL counts as equal)."""
    if a.dtype != np.float64:
        return a == b
    a_nan, b_nan = np.isnan(a), np.isnan(b)
    return np.where(a_nan | b_nan, a_nan & b_nan, a.view(np.int64) == b.view(np.int64))


def _differences(
    stored: pd.DataFrame, values: pd.DataFrame, cols: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The ids of the ``stored`` rows that are gone from ``values`` or differ, and the
    positions in ``values`` of its rows that are new or differ."""
    mine = _comparable(values, cols).assign(_row=np.arange(len(values)))
    theirs = _comparable(stored, cols).assign(_id=stored["id"].to_numpy())
    both = mine.merge(theirs, on=_ROW_KEY, how="outer", suffixes=("", "_stored"))
    same = (both["_row"].notna() & both["_id"].notna()).to_numpy()
    for c in cols:
        if c not in _ROW_KEY:
            same = same & _same(both[c].to_numpy(), both[f"{c}_stored"].to_numpy())
    differ = both[~same]
    return (
        differ["_id"].dropna().to_numpy(dtype=np.int64),
        differ["_row"].dropna().to_numpy(dtype=np.int64),
    )


def _delete_ids(table: str, ids: np.ndarray, batch: int = 10_000) -> None:
    """Delete the rows of ``table`` with these ids (integer literals: no parameter limit)."""
    with connection.cursor() as cursor:
        for start in range(0, len(ids), batch):
            listed = ", ".join(map(str, ids[start : start + batch].tolist()))
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)} WHERE id IN ({listed})")


def _insert_values(values: pd.DataFrame, cols: list[str]) -> int:
    """Insert ``values`` by the fast path (COPY / executemany), NULL for NaN and NA."""

    def column(name: str) -> list:
        cast = int if name in _INT_COLUMNS else float if name in _FLOAT_COLUMNS else None
        if cast is None:
            return values[name].tolist()
        return [None if pd.isna(v) else cast(v) for v in values[name].tolist()]

    converted = [column(c) for c in cols]
    return bulk_insert(IndicatorValue._meta.db_table, cols, zip(*converted, strict=True))


@dataclass
class WindowStats:
    """The last twelve complete months: need, ranks and category means of every area."""

    window: list  # month starts (numpy datetime64), oldest first
    need: pd.DataFrame  # need_index's table indexed by area id
    ranks: dict[str, pd.DataFrame]  # indicator -> rank table indexed by area id (of shrunk rates)
    category_mean: pd.Series  # (category, indicator) -> the category's rate per 1,000 (population-weighted)
    category_of: dict[int, str | None]
    dispersion: pd.DataFrame  # monthly_dispersion's table


def window_stats(
    monthly: pd.DataFrame,
    population: pd.Series,
    category_of: dict[int, str | None],
    dispersion: pd.DataFrame | None = None,
) -> WindowStats:
    """Need index, ranks and category means over the last twelve months of ``monthly``.

    Areas are ranked by their empirical-Bayes rate (``shrunk_rates``): an area of 2,000
    residents with 12 incidents would otherwise outrank every district by chance. The
    rank table keeps the raw rate and both intervals beside it.
    """
    month_starts = sorted(monthly["period_start"].unique())
    window = month_starts[-12:]
    win = monthly[monthly["period_start"].isin(window)]
    win_sum = win.groupby(list(KEYS), observed=True)["count"].sum().reset_index()
    weights = need.load_weights(settings.HARM_WEIGHTS_FILE)
    need_table = need.need_index(win_sum[win_sum["indicator"] != ALL], population, weights)
    need_table = need_table.set_index("area_id") if "area_id" in need_table.columns else need_table
    groups = pd.Series(category_of, dtype=object)
    ranks = {}
    means = {}
    for code, rows in win_sum.groupby("indicator", observed=True):
        by_area = rows.set_index("area_id")["count"]
        known = by_area[population.reindex(by_area.index).fillna(0) > 0]
        if known.empty:
            continue
        shrunk = indicators.shrunk_rates(known, population)
        table = indicators.rank(shrunk, column="shrunk_rate", groups=groups.reindex(known.index).fillna(""))
        ranks[str(code)] = table.join(shrunk[["rate", "rate_low", "rate_high", "shrunk_low", "shrunk_high"]])
        # The category's rate: its areas' incidents per 1,000 of their residents together.
        for category, row in indicators.group_rates(
            known, population, groups.reindex(known.index)
        ).iterrows():
            means[(category, str(code))] = float(row["rate"])
    category_mean = pd.Series(means, dtype=float)
    if dispersion is None:
        dispersion = monthly_dispersion(monthly)
    return WindowStats(window, need_table, ranks, category_mean, category_of, dispersion)
