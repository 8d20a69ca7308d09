"""The problem picture's documents, typed.

``problembild refresh`` builds an :class:`AreaDocument` per area and a :class:`UnitDocument`
per org unit from these models and stores them (``AreaPicture.data``,
``UnitPicture.data``) as JSON; pages, exports and the API read them back through the
same models, and the OpenAPI schema is generated from them. Every member is declared
here once: a misspelt member is an error where the document is built, not an empty cell
on a page.

The stored JSON keeps the shape the API has always answered (``key_figures``,
``year_figures``, ``trends`` … each keyed by indicator code). A page that shows one
indicator at a time reads :meth:`AreaDocument.indicator`, an :class:`IndicatorFigures`
gathering that indicator's periods, trend, comparison and rest of the municipality. The
monthly counts live in one place, ``series``; everything that shows them (charts,
sparklines, the monthly export) reads :class:`MonthlySeries`.

Django-free, so that the refresh's worker processes build the spatial part with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from problembild.analysis.vocabulary import ALL, INDICATOR_CODES

__all__ = [
    "AreaDocument",
    "Backtest",
    "Comparison",
    "ForecastCell",
    "ForecastPart",
    "Grid",
    "HotCell",
    "IndicatorFigures",
    "MonthFigures",
    "MonthlySeries",
    "Need",
    "OfficerRule",
    "Rank",
    "RestFigures",
    "Source",
    "Sources",
    "SpacePart",
    "Trend",
    "UnitDocument",
    "UnitTrend",
    "UnusualWeek",
    "Window",
    "YearFigures",
    "plain",
]

#: Bumped when the content of the documents changes, so that a refresh recomputes all.
#: 2: complete periods only, calibrated tests (issue 10); 3: the forecast's baseline and test (issue 17).
PICTURE_VERSION = 3
#: Indicator codes of a document: every indicator and ``all``.
CODES: tuple[str, ...] = (ALL, *INDICATOR_CODES)


def plain(value: Any) -> Any:
    """``value`` as JSON-able Python: NumPy scalars as Python numbers, NaN and infinity as None."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # a NumPy scalar
        return plain(value.item())
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    return value


def _finite(value: Any) -> Any:
    value = plain(value)
    return None if isinstance(value, float) and not math.isfinite(value) else value


#: A number that may be missing; NaN (and NumPy scalars) are accepted and stored as null.
Number = Annotated[float | None, BeforeValidator(_finite)]
Count = Annotated[int | None, BeforeValidator(_finite)]


class Part(BaseModel):
    """A member of a document: unknown members are refused when a document is built."""

    model_config = ConfigDict(extra="forbid")


# --- per indicator ----------------------------------------------------------------------


class YearFigures(Part):
    """The last twelve complete months against the twelve before."""

    count: int = Field(description="Incidents in the last twelve months.")
    rate: Number = Field(None, description="Per 1,000 residents; null when the population is unknown.")
    previous: Count = Field(None, description="Incidents in the twelve months before.")
    p_value: Number = Field(
        None, description="Test of the change (exact Poisson; overdispersion-aware where the series is)."
    )
    mark: str = Field(
        "",
        description="↑/↓ when the change is significant as a single test (p < 0.05); pages show it only "
        "where it survives false-discovery-rate control over the page (q < 0.05).",
    )


class MonthFigures(Part):
    """The latest complete month against the month before and the same month a year before."""

    period: str = Field(description="The month, `2024-05`.")
    count: int
    rate: Number = Field(None, description="Per 1,000 residents.")
    previous: Count = None
    previous_p: Number = None
    previous_mark: str = ""
    last_year: Count = None
    last_year_p: Number = None
    last_year_mark: str = ""


class MonthlySeries(Part):
    """Counts per calendar month (every month of the data, zeros included)."""

    months: list[date] = Field(default_factory=list, description="First day of each month.")
    counts: list[int] = Field(default_factory=list)


class Trend(Part):
    """Fitted trend of the monthly series (Poisson or negative-binomial regression with seasons)."""

    status: str = Field(description="`ok`, or why there is no estimate (`too_few_periods`, `all_zero` …).")
    message: str = ""
    family: str = ""
    rate_ratio: Number = Field(None, description="Multiplicative change of the rate per year.")
    ci_low: Number = None
    ci_high: Number = None
    p_value: Number = None
    mark: str = ""
    fitted: list[float | None] = Field(default_factory=list, description="The trend line per month.")
    seasonal: list[float | None] = Field(default_factory=list, description="Trend with the seasonal terms.")


class Rank(Part):
    """Rank of the area's rate per 1,000 residents, among all areas and within its category.

    Areas are ranked by their empirical-Bayes rate (``value``): the raw rate of a small
    area is mostly noise, so it is drawn towards the rate of all areas by as much as its
    count leaves uncertain. The raw rate and both 95 % intervals are kept beside it.
    """

    value: Number = Field(None, description="Empirical-Bayes rate per 1,000 residents (ranked).")
    shrunk_low: Number = None
    shrunk_high: Number = None
    rate: Number = Field(None, description="The area's own rate per 1,000 residents.")
    rate_low: Number = Field(None, description="Exact 95 % interval of the own rate.")
    rate_high: Number = None
    rank: Count = None
    n_ranked: Count = None
    group: str | None = None
    group_rank: Count = None
    group_n: Count = None


class Comparison(Part):
    rank: Rank = Field(default_factory=Rank)
    category_mean_rate: Number = Field(None, description="Mean rate per 1,000 of the areas of the category.")


class RestFigures(Part):
    """The rest of the municipality: its incidents outside the area in the twelve months."""

    count: int
    rate: Number = Field(None, description="Per 1,000 residents of the rest of the municipality.")


@dataclass(frozen=True)
class IndicatorFigures:
    """One indicator's figures gathered from an :class:`AreaDocument` (see :meth:`AreaDocument.indicator`)."""

    code: str
    year: YearFigures | None
    month: MonthFigures | None
    trend: Trend | None
    comparison: Comparison | None
    rest: RestFigures | None
    series: MonthlySeries | None


# --- the area as a whole ----------------------------------------------------------------


class ToDateFigures(Part):
    """One indicator's count in the month so far and in the same days before."""

    count: int
    previous: Count = Field(None, description="The same days of the month before (null: not covered).")
    last_year: Count = Field(None, description="The same days of the month a year before.")


class MonthToDate(Part):
    """The month the data end in, so far: never compared with whole months nor marked."""

    month: str = Field(description="The month, `2025-03`.")
    start: date
    end: date = Field(description="The last day counted.")
    days: int = Field(description="Days counted so far.")
    days_in_month: int
    previous_start: date | None = None
    previous_end: date | None = Field(None, description="Last day of the window a month before.")
    last_year_start: date | None = None
    last_year_end: date | None = None
    indicators: dict[str, ToDateFigures] = Field(default_factory=dict)


class Window(Part):
    start: date | None = None
    end: date | None = None


class UnusualWeek(Part):
    week: str = Field(description="ISO week, `2024-W38`.")
    start: date
    count: int
    expected: float
    upper_limit: float


class RestOfMunicipality(Part):
    municipality: str | None = None
    indicators: dict[str, RestFigures] = Field(default_factory=dict)


Need = create_model(
    "Need",
    __base__=Part,
    __doc__="Harm-weighted need index: weighted incidents per 1,000 residents in the twelve months.",
    available=(bool | None, None),
    reason=(str, ""),
    need_index=(Number, None),
    rank=(Count, None),
    residents=(Number, None),
    weighted_total=(Number, None),
    **{f"component_{code}": (Number, None) for code in INDICATOR_CODES},  # type: ignore[arg-type]
)


class OfficerRule(Part):
    """The rule of one area officer per 5,000 residents (see ``analysis.officers``)."""

    available: bool | None = None
    reason: str = ""
    required: Count = None
    officers: Number = None
    gap: Number = None
    meets_rule: bool | None = None
    residents: Number = None
    residents_per_officer: Number = None


class Source(Part):
    source: str
    match: str = Field(description="`exact` (inside the boundary) or `approximate` (named in the text).")
    synthetic: bool
    count: int
    last: str | None = Field(None, description="Time of the latest incident (ISO 8601).")


class Sources(Part):
    by_source: list[Source] = Field(default_factory=list)


class Grid(Part):
    bounds: list[float] = Field(default_factory=list, description="xmin, ymin, xmax, ymax (metres).")
    cell_size: float | None = None
    shape: list[int] = Field(default_factory=list, description="Rows, columns.")
    crs: str = "EPSG:3006"


class HotCell(Part):
    ring: list[list[float]] = Field(description="Corners [longitude, latitude] (WGS84).")
    density: float = Field(description="Kernel density, events per km².")
    z: float = Field(description="Gi* z-score.")
    label: int = Field(description="1 hot spot, -1 cold spot, 0 not significant.")


class ForecastCell(Part):
    ring: list[list[float]]
    score: float


class Backtest(Part):
    """One method's mean accuracy at one coverage in the rolling-origin backtest."""

    method: str
    coverage: float
    hit_rate: Number = None
    pai: Number = None
    pei: Number = None
    n_origins: int = 0
    winner: bool = False


class ForecastPart(Part):
    status: str
    message: str = ""
    method: str | None = None
    period_start: date | None = None
    contest_on: date | None = Field(
        None,
        description="End of the history the backtest (the method contest) ran on. The contest is rerun "
        "every `contest_days` (default 7) or with `refresh --full`; runs in between forecast with its "
        "winner from their own data end (`period_start`).",
    )
    contest_key: str | None = Field(
        None,
        description="The settings and grid the contest ran with: a later run reuses it only with the same.",
    )
    horizon_days: int | None = None
    coverage: float | None = None
    study: str | None = Field(
        None, description="The cells flagged and scored: `area` (centre inside the boundary) or `grid`."
    )
    n_study: int | None = Field(None, description="Cells in the study area.")
    backtest: list[Backtest] = Field(default_factory=list)
    cells: list[ForecastCell] = Field(default_factory=list)
    method_pai: float | None = Field(None, description="The chosen method's mean PAI@5 % in the backtest.")
    baseline_method: str | None = Field(None, description="The all-history count per cell (`history`).")
    baseline_pai: float | None = Field(
        None, description="The all-history baseline's mean PAI@5 % in the same backtest."
    )
    beats_baseline: bool | None = Field(
        None, description="The chosen method beat the all-history baseline; otherwise the baseline is used."
    )
    p_value: float | None = Field(
        None,
        description="One-sided p-value of the paired test of the best method against the baseline over "
        "the backtest periods (null when not run: the baseline scored best, or too few periods).",
    )


class SpacePart(Part):
    """Hot spots of the recent window (kernel density and Gi*) and next month's forecast."""

    status: str
    message: str = ""
    grid: Grid | None = None
    window: Window | None = None
    bandwidth: float | None = None
    gi_radius_cells: float | None = None
    alpha: float | None = None
    n_events: int | None = None
    n_hot: int | None = None
    n_cold: int | None = None
    peak_per_km2: float | None = None
    cells: list[HotCell] = Field(default_factory=list)
    forecast: ForecastPart | None = None


class AreaDocument(Part):
    """An area's computed problem picture (lokal problembild)."""

    version: int | None = None
    as_of: date | None = Field(None, description="End (exclusive) of the data the picture covers.")
    residents: int | None = None
    population_synthetic: bool | None = None
    category: str | None = None
    key_figures: dict[str, MonthFigures] = Field(
        default_factory=dict, description="Latest complete month per indicator, with changes."
    )
    year_figures: dict[str, YearFigures] = Field(
        default_factory=dict, description="Last twelve months vs. the twelve before, per indicator."
    )
    window: Window | None = Field(None, description="First and last month of the twelve-month window.")
    month_to_date: MonthToDate | None = Field(
        None, description="The month the data end in, so far, beside the same days before (no marks)."
    )
    series: dict[str, MonthlySeries] = Field(
        default_factory=dict, description="Monthly counts per indicator."
    )
    trends: dict[str, Trend] = Field(default_factory=dict, description="Fitted trend per indicator.")
    unusual_weeks: list[UnusualWeek] = Field(
        default_factory=list, description="Weeks above the Poisson control limit."
    )
    hour_of_week: dict[str, list[list[int]]] = Field(
        default_factory=dict, description="7×24 counts (Monday first) per indicator."
    )
    space: SpacePart | None = Field(
        None, description="Hot-spot grid and forecast; as GeoJSON at `/areas/{panel_id}/hotspots.geojson`."
    )
    comparisons: dict[str, Comparison] = Field(
        default_factory=dict, description="Ranks and category means per indicator."
    )
    municipality_rest: RestOfMunicipality | None = None
    need: Need | None = Field(None, description="Harm-weighted need index.")  # type: ignore[valid-type]
    officer_rule: OfficerRule | None = None
    sources: Sources | None = Field(None, description="Sources, freshness and synthetic or approximate data.")

    @property
    def last_day(self) -> date | None:
        """The last day of the data (``as_of`` is the day after it)."""
        return self.as_of - timedelta(days=1) if self.as_of else None

    def indicator(self, code: str) -> IndicatorFigures:
        """Everything the document holds on indicator ``code``."""
        rest = self.municipality_rest.indicators.get(code) if self.municipality_rest else None
        return IndicatorFigures(
            code=code,
            year=self.year_figures.get(code),
            month=self.key_figures.get(code),
            trend=self.trends.get(code),
            comparison=self.comparisons.get(code),
            rest=rest,
            series=self.series.get(code),
        )

    @property
    def synthetic_data(self) -> bool:
        """True when any incident source the picture counts is synthetic."""
        return any(s.synthetic for s in (self.sources.by_source if self.sources else []))

    def stored(self) -> dict:
        """The document as stored (JSON; members that were never set are left out)."""
        return self.model_dump(mode="json", exclude_unset=True)


class UnitTrend(Part):
    status: str
    rate_ratio: Number = None
    ci_low: Number = None
    ci_high: Number = None
    p_value: Number = None
    mark: str = ""
    fitted: list[float | None] = Field(default_factory=list)


class UnitDocument(Part):
    """An org unit's figures summed over its areas."""

    as_of: date | None = None
    areas: list[int] = Field(default_factory=list, description="The unit's areas.")
    residents: float | None = None
    residents_known: int | None = None
    series: dict[str, MonthlySeries] = Field(
        default_factory=dict, description="Monthly counts per indicator."
    )
    trends: dict[str, UnitTrend] = Field(default_factory=dict, description="Fitted trend per indicator.")

    @property
    def last_day(self) -> date | None:
        """The last day of the data (``as_of`` is the day after it)."""
        return self.as_of - timedelta(days=1) if self.as_of else None

    def stored(self) -> dict:
        return self.model_dump(mode="json", exclude_unset=True)
