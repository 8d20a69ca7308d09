"""``problembild refresh``: the stages in order, with their timings.

load → counts → tables → space jobs (started first, in worker processes) → documents →
units. Each stage is a module of this package; this one only passes their results on.

``areas`` splits the expensive work between runs (an external scheduler fans the chunks
out, docs/architecture.md): a run computes the expensive parts of the listed areas only
and keeps every other area's stored ones as they are, while the parts that depend on
every area are rebuilt for all, so that the chunks together store what one run would.
"""

from __future__ import annotations

import functools
import os
import resource
import socket
import time
from collections.abc import Callable, Collection
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from pydantic import ValidationError

from problembild.analysis import change, control, indicators, periods, ratetest, trend
from problembild.analysis.trend import TrendResult, fit_trend
from problembild.areas.models import Area
from problembild.core.processes import alive

from .. import document as document_schema
from ..document import PICTURE_VERSION, AreaDocument, ForecastPart, SpacePart, plain
from ..models import AreaPicture, IndicatorValue, RefreshRun, UnitPicture
from . import documents, snapshot, tables, units
from .counts import Counts, count_incidents
from .fingerprints import fingerprints, surroundings
from .fits import FitMemo
from .load import end_of_data, latest_population, source_names
from .memo import StageMemo, digest
from .space import NO_BOUNDARY, SpaceJobs, SpaceSettings, shared_points, space_tasks, warm_workers
from .tables import WindowStats, monthly_dispersion, value_rows, window_stats, write_values
from .units import refresh_units, unit_members

ProgressCallback = Callable[[str, int, int], None]
#: The parts of an area's document computed only when its fingerprint changed.
EXPENSIVE = ("trends", "unusual_weeks", "hour_of_week", "space")


@dataclass
class RefreshOptions:
    """Settings of one refresh; part of every area's fingerprint."""

    cell_size: float = 100.0
    buffer: float = 500.0
    bandwidth: float = 150.0
    gi_radius: float = 2.0
    alpha: float = 0.05
    hotspot_months: int = 12
    forecast_origins: int = 4
    forecast_years: int = 3
    as_of: date | None = None
    #: Days a method contest (the forecasts' backtest) is reused for: an area whose data
    #: changed gets a new forecast by the stored winner, and a new contest once the stored
    #: one is this many days older than the data's end (0: on every run). Not part of the
    #: fingerprint: it says when to redo work, not what the work is.
    contest_days: int = 7

    def space_settings(self) -> SpaceSettings:
        return SpaceSettings(**{k: getattr(self, k) for k in SpaceSettings.__dataclass_fields__})

    def key(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("as_of", "contest_days")}
        d["as_of"] = self.as_of.isoformat() if self.as_of else None
        d["version"] = PICTURE_VERSION
        d["harm_weights"] = str(settings.HARM_WEIGHTS_FILE)
        return d


class UnknownAreas(ValueError):
    """``refresh(areas=…)`` named panel ids that no area has."""

    def __init__(self, panel_ids: Collection[int]) -> None:
        self.panel_ids = sorted(panel_ids)
        super().__init__("unknown area panel ids: " + ", ".join(map(str, self.panel_ids)))


@dataclass
class RefreshSummary:
    incidents: int = 0
    areas_recomputed: int = 0
    areas_unchanged: int = 0
    #: Panel ids of the areas whose expensive parts this run computed.
    computed: list[int] = field(default_factory=list)
    #: Of those with a forecast: the method contests run, and those reused (``contest_days``).
    contests_run: int = 0
    contests_reused: int = 0
    #: The panel ids asked for (``areas``), or None: every area.
    areas: list[int] | None = None
    #: Areas outside ``areas`` whose stored expensive parts were kept (their compared parts rebuilt).
    areas_kept: int = 0
    #: Panel ids outside ``areas`` with no stored picture of this version: left for their own run.
    areas_waiting: list[int] = field(default_factory=list)
    #: How the incidents were read: the columns kept from the last run and the new rows
    #: (``how``: ``reused``), or the whole store (``read``, and the ``reason``).
    loaded: dict = field(default_factory=dict)
    #: Trend fits of areas and units: done, and answered from the last run's (same series).
    trend_fits: dict = field(default_factory=dict)
    #: The parts computed from complete periods' series alone (each recomputed area's trends
    #: and unusual weeks, the dispersion): computed, and taken from the last run's (same
    #: series and code).
    series_parts: dict = field(default_factory=dict)
    units: int = 0
    indicator_values: int = 0
    #: Stages skipped because their inputs were those of the last run (``memo``):
    #: ``indicator_values``, ``units``.
    stages_reused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    as_of: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    #: Peak resident memory (MB) after each stage: this process's high-water mark so far, and
    #: under ``workers`` the largest worker process (once they have finished).
    memory_mb: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _peak_mb(who: int) -> float:
    """``ru_maxrss`` of ``who`` (``resource.RUSAGE_SELF`` or ``RUSAGE_CHILDREN``) in MB."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # kB on Linux


class _Clock:
    """Seconds per stage, in the order they ran, and the memory high-water mark after each."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.memory: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
            self.memory[name] = _peak_mb(resource.RUSAGE_SELF)


def refresh(
    *,
    options: RefreshOptions | None = None,
    full: bool = False,
    progress: ProgressCallback | None = None,
    areas: Collection[int] | None = None,
) -> RefreshSummary:
    """Recompute the cache of problem pictures; return what was done.

    Incremental: an area whose incidents, population and settings are unchanged since
    the last run keeps its expensive parts (:data:`EXPENSIVE`); the compared parts are
    rebuilt for all, because ranks and comparisons depend on every area. ``full``
    recomputes everything.

    ``areas`` (panel ids) limits the expensive parts to those areas (``full`` then
    recomputes just them): every other area keeps its stored expensive parts and
    fingerprint as they are, even when its fingerprint changed (another run does it), and
    gets its compared parts rebuilt; an area outside ``areas`` with no stored picture of
    this version is left alone (``areas_waiting``). Runs over the chunks of a partition of
    the areas, with the same options and data, store what one run over all would.
    Unknown panel ids raise :class:`UnknownAreas` before anything is written.
    """
    options = options or RefreshOptions()
    chosen = None if areas is None else _area_ids(areas)
    abandon_dead_runs()
    clock = _Clock()
    key = options.key() if areas is None else {**options.key(), "areas": sorted(set(areas))}
    run = RefreshRun.objects.create(settings=plain(key), host=socket.gethostname(), pid=os.getpid())
    # The hot-spot workers start now and import the analytics on the core that loading the
    # incidents leaves idle; the space stage hands them the areas.
    pool = warm_workers(snapshot.max_id())
    try:
        return _refresh(run, options, clock, full=full, progress=progress, chosen=chosen, pool=pool)
    except BaseException as exc:
        RefreshRun.objects.filter(pk=run.pk).update(
            status=RefreshRun.Status.FAILED, settings={**run.settings, "error": repr(exc)[:2000]}
        )
        raise
    finally:
        if pool is not None:  # stopped by the space stage already, unless the run failed before it
            pool.shutdown(wait=True, cancel_futures=True)


def _area_ids(panel_ids: Collection[int]) -> set[int]:
    """The primary keys of the areas with ``panel_ids``; :class:`UnknownAreas` names the others."""
    wanted = {int(p) for p in panel_ids}
    found = dict(Area.objects.filter(panel_id__in=wanted).values_list("panel_id", "pk"))
    if unknown := wanted - set(found):
        raise UnknownAreas(unknown)
    return set(found.values())


@contextmanager
def _one_writer():
    """A transaction that concurrent refreshes (chunks of one fan-out) enter one at a time.

    The tables every run rewrites whole (indicator values, unit pictures) would otherwise
    interleave on PostgreSQL; SQLite lets one writer in at a time anyway.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        yield


#: The advisory lock of :func:`_one_writer` (any constant the other users of the database do not use).
_LOCK_KEY = 0x50420001


def abandon_dead_runs() -> int:
    """Mark as failed the runs still "running" whose process on this host is gone (killed)."""
    host = socket.gethostname()
    dead = [
        pk
        for pk, pid in RefreshRun.objects.filter(status=RefreshRun.Status.RUNNING, host=host).values_list(
            "pk", "pid"
        )
        if pid is None or not alive(pid)
    ]
    return RefreshRun.objects.filter(pk__in=dead).update(status=RefreshRun.Status.FAILED)


def _refresh(
    run: RefreshRun,
    options: RefreshOptions,
    clock: _Clock,
    *,
    full: bool,
    progress: ProgressCallback | None,
    chosen: set[int] | None,
    pool=None,
) -> RefreshSummary:
    tick = progress or (lambda step, done, total: None)

    with clock.stage("load"):
        names = source_names()
        data, loaded = snapshot.load(names, reuse=not full)
        kept = snapshot.directory()
        memo = FitMemo(None if kept is None else kept.parent / "trend-fits.pkl", reuse=not full)
    with clock.stage("prepare"):
        as_of = end_of_data(data, options.as_of)
        areas = list(Area.objects.select_related("org_unit", "municipality").order_by("pk"))
        population, synthetic_population = latest_population()
        # The rows around each area, for the fingerprints and the space tasks alike; kept
        # per segment, so that a daily run searches the day's rows only.
        around = surroundings(
            [(a.pk, a.shape) for a in areas],
            data,
            options.space_settings(),
            parts=functools.partial(snapshot.per_segment, data, loaded),
        )
        near = around.near
    with clock.stage("fingerprints"):
        prints = fingerprints(options.key(), data, as_of, options.space_settings(), around=around)
        del around
        mine = {a.pk for a in areas} if chosen is None else chosen  # the areas whose expensive parts are ours
        reused = _reusable(prints, full, chosen)

    # The hot spots and forecasts of the areas to recompute are the expensive part: they
    # start first, in worker processes, and are collected when everything else is done.
    t_space = time.perf_counter()
    with ExitStack() as stack:
        with clock.stage("space_start"):
            boundaries = [(a.pk, a.shape) for a in areas if a.pk in mine and a.pk not in reused]
            # Workers read the points from files (removed when the workers are done), so the
            # tasks carry row numbers, not the points.
            shared = (
                stack.enter_context(
                    shared_points(data.x, data.y, data.t, None if kept is None else kept.parent)
                )
                if pool is not None and boundaries
                else None
            )
            tasks = space_tasks(
                boundaries, data.x, data.y, data.t, options.space_settings(), near=near, shared=shared
            )
            del near
            contests = (
                {} if full else stored_contests([pk for pk, _ in boundaries], as_of, options.contest_days)
            )
        space_jobs = stack.enter_context(
            SpaceJobs(tasks, as_of, options.space_settings(), contests=contests, pool=pool)
        )
        del tasks
        with clock.stage("counts"):
            counts = count_incidents(
                data,
                areas,
                as_of,
                column=functools.partial(snapshot.column, data, loaded),
                parts=functools.partial(snapshot.per_segment, data, loaded),
            )
        with clock.stage("dispersion"):
            # From the complete months alone: on a day that closes none, the last run's.
            dispersion = memo.part(
                "dispersion", counts.monthly, monthly_dispersion, code=(tables, change, ratetest)
            )
        with clock.stage("indicator_values"):
            n_values, values_reused = _indicator_values(
                counts, population, {a.pk: a.municipality_id or "" for a in areas}, dispersion, kept, full
            )
        with clock.stage("comparisons"):
            current = {a.pk: a.current_category for a in Area.objects.current().with_current_category()}
            stats = window_stats(counts.monthly, population, current, dispersion)
            area_sources = documents.sources(
                data, names, parts=functools.partial(snapshot.per_segment, data, loaded)
            )
            hours = documents.hours_of_week(counts.hours, areas)
            n_loaded = len(data)
            del data
        summary = RefreshSummary(incidents=n_loaded, as_of=as_of.date().isoformat(), loaded=loaded.report())
        if chosen is not None:
            summary.areas = sorted(a.panel_id for a in areas if a.pk in chosen)
        parts = _area_parts(
            areas,
            counts,
            stats,
            population=population,
            synthetic_population=synthetic_population,
            hours=hours,
            mine=mine,
            reused=reused,
            summary=summary,
            clock=clock,
            fit=memo.fit,
            part=memo.part,
        )
        with clock.stage("units"):
            summary.units, units_reused = _units(
                areas, counts.monthly, population, as_of, memo.fit, kept, full
            )
            summary.stages_reused = [
                name for name, hit in (("indicator_values", values_reused), ("units", units_reused)) if hit
            ]
        with clock.stage("space_wait"):
            spaces = space_jobs.result(progress=lambda n, k: tick("hot spots", n, k))
    clock.timings["space_and_forecast"] = time.perf_counter() - t_space
    clock.memory["space_and_forecast"] = _peak_mb(resource.RUSAGE_SELF)

    # One transaction: pages see the old pictures or the new, never a mix, and SQLite syncs
    # its file once instead of once per area (a second of a daily run).
    with clock.stage("write_pictures"), transaction.atomic():
        for n, area in enumerate(areas, 1):
            expensive, compared = parts[area.pk]
            if area.pk not in mine:
                if _store_kept(area, compared, area_sources.get(area.pk), as_of):
                    summary.areas_kept += 1
                else:
                    summary.areas_waiting.append(area.panel_id)
                tick("areas", n, len(areas))
                continue
            if area.pk not in reused:
                expensive["space"] = spaces.get(
                    area.pk, SpacePart(status="no_boundary", message=NO_BOUNDARY, cells=[])
                )
            document = documents.area_document(expensive, compared, area_sources.get(area.pk), as_of)
            _store(area, document, prints.get(area.pk, ""))
            tick("areas", n, len(areas))
        summary.computed = sorted(a.panel_id for a in areas if a.pk in mine and a.pk not in reused)
        _count_contests(summary, spaces, contests)
        summary.areas_waiting.sort()

    summary.indicator_values = n_values
    summary.trend_fits = {"fitted": memo.fitted, "reused": memo.hits}
    summary.series_parts = dict(memo.parts)
    memo.save()
    _finish(run, summary, clock, options)
    return summary


def _indicator_values(
    counts: Counts,
    population: pd.Series,
    municipality_of: dict[int, str],
    dispersion: pd.DataFrame,
    kept: Path | None,
    full: bool,
) -> tuple[int, bool]:
    """Write the IndicatorValue table, unless its inputs are those of the table as stored.

    The counts cover complete periods, so on most days they are what they were and so
    is every row (:mod:`.memo`). Returns the number of rows and whether the stored ones stood.
    """
    memo = StageMemo(None if kept is None else kept.parent, "indicator-values", reuse=not full)
    key = digest(
        *counts.area.values(),
        *counts.municipality.values(),
        population,
        sorted(municipality_of.items()),
        dispersion,
        code=(tables, change, indicators),
    )
    facts = memo.facts(key)
    if facts is not None and _table_state(IndicatorValue, "id") == [facts.get("rows"), facts.get("top")]:
        return int(facts["rows"]), True
    memo.forget()
    values = value_rows(counts, population, municipality_of, dispersion)
    with _one_writer():
        n_values = write_values(values)
        rows, top = _table_state(IndicatorValue, "id")
    memo.remember(key, rows=rows, top=top)
    return n_values, False


def _table_state(model, column: str) -> list:
    """Rows of ``model`` and the highest ``column``: what a stage's memo checks the table by.

    A count alone would take a table put back from a backup, written by an older run with
    as many rows, for the one the memo describes; new rows get higher ids (and unit pictures
    a later time), so the pair tells them apart.
    """
    state = model.objects.aggregate(rows=Count("pk"), top=Max(column))
    top = state["top"]
    return [state["rows"], top.isoformat() if hasattr(top, "isoformat") else top]


def _units(
    areas: list[Area],
    monthly: pd.DataFrame,
    population: pd.Series,
    as_of: pd.Timestamp,
    fit: Callable[..., TrendResult],
    kept: Path | None,
    full: bool,
) -> tuple[int, bool]:
    """Write every unit's picture, unless their inputs are those of the stored ones (then
    only their time of computation moves on). Returns the number of units and whether the
    stored pictures stood."""
    memo = StageMemo(None if kept is None else kept.parent, "units", reuse=not full)
    members = sorted((u, sorted(a)) for u, a in unit_members(areas).items())
    key = digest(
        members,
        monthly,
        population,
        as_of.isoformat(),
        code=(units, documents, document_schema, trend),
    )
    facts = memo.facts(key)
    if facts is not None and _table_state(UnitPicture, "computed_at") == [
        facts.get("rows"),
        facts.get("top"),
    ]:
        memo.forget()
        with _one_writer():
            UnitPicture.objects.update(computed_at=timezone.now())
            rows, top = _table_state(UnitPicture, "computed_at")
        memo.remember(key, units=facts.get("units"), rows=rows, top=top)
        return int(facts["units"]), True
    memo.forget()
    with _one_writer():
        n_units = refresh_units(areas, monthly, population, as_of, fit)
        rows, top = _table_state(UnitPicture, "computed_at")
    memo.remember(key, units=n_units, rows=rows, top=top)
    return n_units, False


def _reusable(prints: dict[int, str], full: bool, chosen: set[int] | None) -> dict[int, AreaDocument]:
    """The stored documents (of the ``chosen`` areas) whose area is unchanged (none with ``full``)."""
    if full:
        return {}
    out = {}
    pictures = AreaPicture.objects.all() if chosen is None else AreaPicture.objects.filter(area_id__in=chosen)
    # The fingerprints first: only the documents that can be reused are read and decoded
    # (on a typical morning the hot-spot window moves and none is).
    same = [
        pk
        for pk, fingerprint in pictures.values_list("area_id", "fingerprint")
        if fingerprint == prints.get(pk, "")
    ]
    for pk, data in AreaPicture.objects.filter(area_id__in=same).values_list("area_id", "data"):
        if "trends" in data:
            out[pk] = AreaDocument.model_validate(data)
    return out


def stored_contests(area_ids: Collection[int], as_of: pd.Timestamp, days: int) -> dict[int, ForecastPart]:
    """The stored forecasts of ``area_ids`` whose method contest ran less than ``days`` before ``as_of``.

    Only the forecast member of each stored document is read (a JSON path), not the
    whole document.
    """
    if days <= 0 or not area_ids:
        return {}
    out = {}
    rows = AreaPicture.objects.filter(area_id__in=area_ids).values_list(
        "area_id", "data__version", "data__space__forecast"
    )
    for pk, version, stored in rows:
        if version != PICTURE_VERSION or not isinstance(stored, dict):
            continue
        try:
            part = ForecastPart.model_validate(stored)
        except ValidationError:
            continue
        if part.contest_on is not None and 0 <= (as_of.date() - part.contest_on).days < days:
            out[pk] = part
    return out


def _count_contests(
    summary: RefreshSummary, spaces: dict[int, SpacePart], given: dict[int, ForecastPart]
) -> None:
    """Count the computed forecasts whose contest was run and those whose stored one was reused."""
    for pk, space in spaces.items():
        fc = space.forecast
        if fc is None or fc.status != "ok":
            continue
        old = given.get(pk)
        if old is not None and (fc.contest_on, fc.contest_key) == (old.contest_on, old.contest_key):
            summary.contests_reused += 1
        else:
            summary.contests_run += 1


def _store_kept(area: Area, compared: dict, area_sources, as_of: pd.Timestamp) -> bool:
    """Rebuild the compared parts of an area outside ``areas`` around its stored expensive parts.

    The stored row is read when written, locked, so that a run over another chunk that
    stored this area's new expensive parts in the meantime is not undone; its fingerprint
    stays the one they were computed with. False (nothing written) when there is no stored
    picture of this version.
    """
    with transaction.atomic():
        picture = AreaPicture.objects.select_for_update().filter(area=area).first()
        if picture is None or picture.data.get("version") != PICTURE_VERSION or "trends" not in picture.data:
            return False
        try:
            old = AreaDocument.model_validate(picture.data)
        except ValidationError:
            return False
        expensive = {k: getattr(old, k) for k in EXPENSIVE}
        document = documents.area_document(expensive, compared, area_sources, as_of)
        picture.data = document.stored()
        picture.computed_at = timezone.now()
        picture.need_index = document.need.need_index if document.need else None
        picture.save(update_fields=["data", "computed_at", "need_index"])
    return True


def _area_parts(
    areas: list[Area],
    counts: Counts,
    stats: WindowStats,
    *,
    population: pd.Series,
    synthetic_population: set[int],
    hours: dict,
    mine: set[int],
    reused: dict[int, AreaDocument],
    summary: RefreshSummary,
    clock: _Clock,
    fit: Callable[..., TrendResult] = fit_trend,
    part: Callable[..., Any] | None = None,
) -> dict[int, tuple[dict, dict]]:
    """Every area's expensive parts (reused or new, but the space part) and compared parts.

    The areas outside ``mine`` get empty expensive parts: theirs are read when written.
    ``fit``: how trends are fitted (``fit_trend`` or a :class:`~.fits.FitMemo`'s); ``part``:
    how the parts computed from an area's series alone are had (:meth:`~.fits.FitMemo.part`,
    or computed).
    """
    if part is None:

        def part(name, frame, compute, *, code):
            return compute(frame)

    inputs = []
    for area in areas:
        residents = population.get(area.pk)
        inputs.append(
            documents.AreaInputs(
                area=area,
                residents=None if residents is None or pd.isna(residents) else int(residents),
                category=stats.category_of.get(area.pk),
            )
        )
    with clock.stage("comparisons"):
        compared = documents.compared_parts_all(inputs, counts, stats, synthetic_population)
    monthly, week = counts.monthly, counts.area["week"]
    monthly_of: dict[int, pd.DataFrame] = {}
    weekly_of: dict[int, pd.DataFrame] = {}
    if any(a.pk in mine and a.pk not in reused for a in areas):
        with clock.stage("trends_and_time"):
            # One split of each table by area, not a mask of the whole table per area.
            monthly_of = dict(list(monthly.groupby("area_id", sort=False)))
            weekly_of = dict(list(week.groupby("area_id", sort=False)))
    parts = {}
    for area in areas:
        old = reused.get(area.pk)
        if area.pk not in mine:
            expensive = {}
        elif old is not None:
            expensive = {k: getattr(old, k) for k in EXPENSIVE}
            summary.areas_unchanged += 1
        else:
            with clock.stage("trends_and_time"):
                expensive = {
                    "trends": part(
                        "trends",
                        monthly_of.get(area.pk, monthly.iloc[:0]),
                        lambda rows: documents.trends(rows, fit),
                        code=(documents, document_schema),
                    ),
                    "unusual_weeks": part(
                        "unusual_weeks",
                        weekly_of.get(area.pk, week.iloc[:0]),
                        documents.unusual_weeks,
                        code=(documents, document_schema, control, periods),
                    ),
                    "hour_of_week": hours[area.pk],
                }
            summary.areas_recomputed += 1
        parts[area.pk] = (expensive, compared[area.pk])
    return parts


def _store(area: Area, document: AreaDocument, fingerprint: str) -> None:
    # An UPDATE, then an INSERT when there was no row: update_or_create would first read
    # (and decode) the stored document, which costs as much as writing the new one.
    values = {
        "fingerprint": fingerprint,
        "data": document.stored(),
        "computed_at": timezone.now(),
        "need_index": document.need.need_index if document.need else None,
    }
    if not AreaPicture.objects.filter(area=area).update(**values):
        AreaPicture.objects.create(area=area, **values)


def _finish(run: RefreshRun, summary: RefreshSummary, clock: _Clock, options: RefreshOptions) -> None:
    summary.seconds = time.perf_counter() - clock.started
    summary.timings = {k: round(v, 3) for k, v in clock.timings.items()}
    summary.memory_mb = {**clock.memory, "workers": _peak_mb(resource.RUSAGE_CHILDREN)}
    run.finished_at = timezone.now()
    run.status = RefreshRun.Status.FINISHED
    run.incidents = summary.incidents
    run.areas_recomputed = summary.areas_recomputed
    run.areas_unchanged = summary.areas_unchanged
    run.seconds = summary.seconds
    run.settings = plain({**run.settings, "timings": summary.timings, "as_of_used": summary.as_of})
    run.save()
