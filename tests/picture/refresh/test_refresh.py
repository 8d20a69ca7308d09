"""``problembild refresh`` fills the cache that pages read: values, documents, units."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

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
    assert space["forecast"]["method"] in {"naive", "long_term", "prospective", "blend"}
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
