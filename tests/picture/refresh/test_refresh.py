"""``problembild refresh`` fills the cache that pages read: values, documents, units."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from problembild.analysis.forecast import METHODS
from problembild.areas.models import Area
from problembild.cli import app
from problembild.picture.models import AreaPicture, IndicatorValue, RefreshRun, UnitPicture
from problembild.picture.refresh.run import RefreshOptions, refresh

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 1, 1)


def test_refresh_fills_values_documents_and_units(rosengard_data):
    area, hot, n = rosengard_data
    summary = refresh(options=RefreshOptions(as_of=AS_OF, forecast_origins=2))
    assert summary.incidents == n
    assert summary.as_of == "2025-01-01"

    # Yearly counts equal the incidents in the store.
    yearly = IndicatorValue.objects.filter(area=area, period="year", indicator="all").order_by("period_start")
    assert [v.count for v in yearly] == [
        area.incidents.filter(occurred_at__year=y).exclude(indicator="").count() for y in (2022, 2023, 2024)
    ]
    shootings = IndicatorValue.objects.get(
        area=area, period="year", indicator="shootings", period_start=date(2024, 1, 1)
    )
    assert shootings.count == 20 and shootings.last_year == 4
    assert shootings.rate == pytest.approx(20 / 24000 * 1000)
    assert shootings.p_last_year is not None and shootings.p_last_year < 0.05 and shootings.mark == "↑"
    # Weeks, months and quarters are stored too; an area without incidents has zeros, not gaps.
    assert set(IndicatorValue.objects.filter(area=area).values_list("period", flat=True)) == {
        "week",
        "month",
        "quarter",
        "year",
    }
    other = Area.objects.get(name="Rinkeby / Tensta")
    assert IndicatorValue.objects.filter(area=other, period="month", indicator="all").count() == 36
    assert (
        IndicatorValue.objects.get(
            area=other, period="year", indicator="all", period_start=date(2024, 1, 1)
        ).count
        == 0
    )

    doc = AreaPicture.objects.get(area=area).data
    assert doc["as_of"] == "2025-01-01"
    assert doc["trends"]["all"]["status"] == "ok"
    assert doc["trends"]["shootings"]["rate_ratio"] > 1
    assert len(doc["hour_of_week"]["all"]) == 7 and len(doc["hour_of_week"]["all"][0]) == 24
    assert sum(map(sum, doc["hour_of_week"]["all"])) == n
    assert doc["year_figures"]["shootings"] == {
        "count": 20,
        "rate": pytest.approx(20 / 24),
        "previous": 4,
        "p_value": pytest.approx(doc["year_figures"]["shootings"]["p_value"]),
        "mark": doc["year_figures"]["shootings"]["mark"],
    }
    # The planted hot spot is among the Gi* hot cells.
    space = doc["space"]
    assert space["status"] == "ok" and space["n_hot"] > 0
    hot_cells = [c for c in space["cells"] if c["label"] == 1]
    from problembild.analysis.spatial import to_wgs84

    lon, lat = to_wgs84([hot.x], [hot.y])
    near = [c for c in hot_cells if min(abs(p[0] - lon[0]) + abs(p[1] - lat[0]) for p in c["ring"]) < 0.003]
    assert near, "the planted hot spot was not found"
    assert space["forecast"]["status"] == "ok"
    assert space["forecast"]["method"] in METHODS
    assert space["forecast"]["cells"]
    assert doc["need"]["need_index"] > 0
    assert doc["residents"] == 24000
    assert {s["source"] for s in doc["sources"]["by_source"]} == {"test"}

    # A region and the nation aggregate their areas.
    nation = UnitPicture.objects.get(unit__parent=None)
    assert sum(nation.data["series"]["all"]["counts"]) == n
    region = UnitPicture.objects.get(unit=area.org_unit.parent.parent)
    assert area.pk in region.data["areas"]
    assert RefreshRun.objects.latest("started_at").finished_at is not None


def test_second_refresh_reuses_unchanged_areas_and_full_recomputes(rosengard_data):
    refresh(options=RefreshOptions(as_of=AS_OF, forecast_origins=2))
    again = refresh(options=RefreshOptions(as_of=AS_OF, forecast_origins=2))
    assert again.areas_recomputed == 0 and again.areas_unchanged == Area.objects.count()
    full = refresh(options=RefreshOptions(as_of=AS_OF, forecast_origins=2), full=True)
    assert full.areas_recomputed == Area.objects.count()


def test_refresh_with_no_incidents_states_it():
    summary = refresh(options=RefreshOptions(as_of=AS_OF))
    assert summary.incidents == 0
    doc = AreaPicture.objects.get(area__name="Rinkeby / Tensta").data
    assert doc["space"]["status"] == "no_events"
    assert doc["space"]["forecast"]["status"] == "too_few_events"
    assert doc["trends"]["all"]["status"] == "all_zero"


def test_cli_refresh_prints_a_summary():
    result = CliRunner().invoke(app, ["refresh", "--as-of", "2025-01-01"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["as_of"] == "2025-01-01" and summary["units"] > 0
    bad = CliRunner().invoke(app, ["refresh", "--as-of", "yesterday"])
    assert bad.exit_code == 2 and "--as-of" in bad.output


def test_hot_spots_in_worker_processes_equal_the_serial_ones(rosengard_data, monkeypatch):
    from problembild.picture.refresh import space

    area, _, _ = rosengard_data
    options = RefreshOptions(as_of=date(2025, 1, 1), forecast_origins=2)
    monkeypatch.setattr(space, "PARALLEL_FROM", 10**12)
    refresh(options=options, full=True)
    serial = AreaPicture.objects.get(area=area).data["space"]
    monkeypatch.setattr(space, "PARALLEL_FROM", 0)
    refresh(options=options, full=True)
    parallel = AreaPicture.objects.get(area=area).data["space"]
    assert serial["status"] == "ok" and serial["cells"]
    assert parallel == serial


def test_sources_name_each_source_with_its_count(rosengard_data):
    area, _, _ = rosengard_data
    refresh(options=RefreshOptions(as_of=date(2025, 1, 1)), full=True)
    rows = AreaPicture.objects.get(area=area).data["sources"]["by_source"]
    exact = [r for r in rows if r["match"] == "exact"]
    assert (
        sum(r["count"] for r in exact)
        == area.incidents.filter(area_match="exact").exclude(indicator="").count()
    )
    assert all(r["last"] for r in exact)


def test_a_killed_run_is_marked_failed_by_the_next_refresh(rosengard_data):
    import socket
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    killed = RefreshRun.objects.create(
        status=RefreshRun.Status.RUNNING, host=socket.gethostname(), pid=gone.pid
    )
    elsewhere = RefreshRun.objects.create(status=RefreshRun.Status.RUNNING, host="another-host", pid=gone.pid)
    refresh(options=RefreshOptions(as_of=AS_OF, forecast_origins=2))
    killed.refresh_from_db()
    elsewhere.refresh_from_db()
    assert killed.status == RefreshRun.Status.FAILED
    assert elsewhere.status == RefreshRun.Status.RUNNING  # another host's process cannot be asked
    assert RefreshRun.objects.latest("started_at").status == RefreshRun.Status.FINISHED


def test_a_refresh_that_fails_is_marked_failed(rosengard_data, monkeypatch):
    from problembild.picture.refresh import run

    def broken(*args, **kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(run.snapshot, "load_incidents", broken)
    with pytest.raises(RuntimeError):
        refresh(options=RefreshOptions(as_of=AS_OF))
    failed = RefreshRun.objects.latest("started_at")
    assert failed.status == RefreshRun.Status.FAILED and "disk gone" in failed.settings["error"]


def _add_incidents(area, n, tmp_path, tag):
    import csv

    import numpy as np
    import shapely

    from problembild.incidents.importers import import_incidents

    rng = np.random.default_rng(len(tag))
    x0, y0, x1, y1 = area.shape.bounds
    rows = []
    while len(rows) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(area.shape, x, y):
            rows.append((f"{tag}{len(rows)}", "2024-11-20T12:00:00", "Misshandel", f"{x:.1f}", f"{y:.1f}"))
    path = tmp_path / f"{tag}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "occurred_at", "type", "x", "y"])
        writer.writerows(rows)
    assert import_incidents(path, source="test").added == n


def test_new_incidents_in_one_area_recompute_that_area_and_at_most_its_neighbours(rosengard_data, tmp_path):
    area, _, _ = rosengard_data
    options = RefreshOptions(as_of=AS_OF, forecast_origins=2)
    refresh(options=options)
    before = {p.area_id: p.data for p in AreaPicture.objects.all()}
    _add_incidents(area, 5, tmp_path, "new")
    summary = refresh(options=options)
    assert 1 <= summary.areas_recomputed <= 3  # Rosengård and the areas within the hot-spot grid's reach
    after = {p.area_id: p.data for p in AreaPicture.objects.all()}
    assert after[area.pk]["trends"] != before[area.pk]["trends"]
    far = Area.objects.get(name="Rinkeby / Tensta")
    assert (
        after[far.pk]["trends"] == before[far.pk]["trends"]
        and after[far.pk]["space"] == before[far.pk]["space"]
    )


def test_the_method_contest_is_reused_for_contest_days_and_rerun_after_or_with_full(rosengard_data, tmp_path):
    from datetime import timedelta

    area, _, _ = rosengard_data
    first = refresh(options=RefreshOptions(as_of=AS_OF, forecast_origins=2))
    assert first.contests_run >= 1 and first.contests_reused == 0

    def forecast():
        return AreaPicture.objects.get(area=area).data["space"]["forecast"]

    contest = forecast()
    assert contest["status"] == "ok" and contest["contest_on"] == "2025-01-01"
    # The next days: new data, a new forecast by the stored winner, no new contest.
    _add_incidents(area, 5, tmp_path, "day")
    later = RefreshOptions(as_of=AS_OF + timedelta(days=3), forecast_origins=2)
    daily = refresh(options=later)
    assert daily.contests_reused == first.contests_run and daily.contests_run == 0
    now = forecast()
    assert now["period_start"] == "2025-01-04" and now["contest_on"] == "2025-01-01"
    assert (now["method"], now["backtest"]) == (contest["method"], contest["backtest"])
    # A week after the contest, with --full, or with contest_days=0: the contest runs again.
    week = refresh(options=RefreshOptions(as_of=AS_OF + timedelta(days=7), forecast_origins=2))
    assert week.contests_run == first.contests_run and forecast()["contest_on"] == "2025-01-08"
    full = refresh(options=RefreshOptions(as_of=AS_OF + timedelta(days=8), forecast_origins=2), full=True)
    assert full.contests_run == first.contests_run and full.contests_reused == 0
    every = RefreshOptions(as_of=AS_OF + timedelta(days=9), forecast_origins=2, contest_days=0)
    assert refresh(options=every).contests_reused == 0
    # Other contest settings: a new contest the next day, though the stored one is fresh.
    other = RefreshOptions(as_of=AS_OF + timedelta(days=10), forecast_origins=3)
    assert refresh(options=other).contests_reused == 0


def test_a_vertex_moved_at_the_end_of_a_boundary_recomputes_that_area(rosengard_data):
    import shapely

    area, _, _ = rosengard_data
    options = RefreshOptions(as_of=AS_OF, forecast_origins=2)
    refresh(options=options)
    ring = (
        list(area.shape.geoms[0].exterior.coords)
        if area.shape.geom_type == "MultiPolygon"
        else list(area.shape.exterior.coords)
    )
    ring[-2] = (ring[-2][0] + 30.0, ring[-2][1] + 30.0)  # far past the first 64 bytes of the GeoJSON
    moved = shapely.Polygon(ring)
    assert moved.is_valid
    Area.objects.filter(pk=area.pk).update(geometry=shapely.to_wkb(moved))
    summary = refresh(options=options)
    assert summary.areas_recomputed == 1


def test_refresh_json_prints_one_line(rosengard_data):
    result = CliRunner().invoke(app, ["refresh", "--as-of", "2025-01-01", "--json"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert {"areas_recomputed", "areas_unchanged", "seconds"} <= set(summary)
    # Seconds and the memory high-water mark per stage, for logs and schedulers.
    assert set(summary["timings"]) <= set(summary["memory_mb"])
    assert {"load", "counts", "write_pictures"} <= set(summary["timings"])
    assert all(mb > 0 for stage, mb in summary["memory_mb"].items() if stage != "workers")
