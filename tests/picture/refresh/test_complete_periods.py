"""Only complete periods are compared (issue 10, item 1).

A constant ten incidents a day, from the 15th of one month to the 15th of another: no
period may be marked as a change, the latest month shown is the last complete one, and
the trend is flat. Before, the half-month at the end was compared as a whole month
(150 against 280, p = 2.5e-13, marked ↓).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from problembild.areas.models import Area, Population
from problembild.incidents.importers import import_incidents
from problembild.picture.models import AreaPicture, IndicatorValue
from problembild.picture.refresh.run import RefreshOptions, refresh

pytestmark = pytest.mark.django_db

FIRST = date(2022, 1, 15)
LAST = date(2025, 3, 15)  # the data end on the 15th: March 2025 is incomplete


@pytest.fixture
def steady(tmp_path):
    """Ten incidents every day from FIRST to LAST inside Rosengård, at fixed hours."""
    area = Area.objects.get(name="Rosengård")
    Population.objects.update_or_create(area=area, year=2024, defaults={"residents": 24000, "source": "test"})
    point = area.shape.representative_point()
    rows = []
    day = FIRST
    while day <= LAST:
        for k in range(10):
            when = f"{day.isoformat()}T{1 + 2 * k:02d}:15:00"
            rows.append((f"{day.isoformat()}-{k}", when, "Misshandel", f"{point.x:.1f}", f"{point.y:.1f}"))
        day += timedelta(days=1)
    path = tmp_path / "steady.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "occurred_at", "type", "x", "y"])
        writer.writerows(rows)
    import_incidents(path, source="test")
    return area


def test_a_half_month_at_the_end_is_not_compared_as_a_month(steady):
    refresh(options=RefreshOptions(as_of=LAST + timedelta(days=1), forecast_origins=2))
    doc = AreaPicture.objects.get(area=steady).data
    month = doc["key_figures"]["all"]
    assert month["period"] == "2025-02" and month["count"] == 280
    assert month["previous_mark"] == "" and month["last_year_mark"] == ""
    year = doc["year_figures"]["all"]
    # March 2024 – February 2025 against March 2023 – February 2024 (a leap day in it).
    assert (year["count"], year["previous"], year["mark"]) == (3650, 3660, "")
    assert doc["window"] == {"start": "2024-03-01", "end": "2025-02-01"}
    trend = doc["trends"]["all"]
    assert (
        trend["status"] == "ok"
        and trend["rate_ratio"] == pytest.approx(1.0, abs=0.01)
        and trend["mark"] == ""
    )
    # The stored periods: no March 2025, no 2025 quarter or year; no January 2022 (it began on the 15th).
    months = IndicatorValue.objects.filter(area=steady, indicator="all", period="month")
    starts = sorted(months.values_list("period_start", flat=True))
    assert starts[0] == date(2022, 2, 1) and starts[-1] == date(2025, 2, 1)
    assert not months.exclude(count__in=(280, 290, 300, 310)).exists()
    assert max(
        IndicatorValue.objects.filter(area=steady, period="quarter").values_list("period_start", flat=True)
    ) == date(2024, 10, 1)
    assert max(
        IndicatorValue.objects.filter(area=steady, period="year").values_list("period_start", flat=True)
    ) == date(2024, 1, 1)
    assert not IndicatorValue.objects.filter(area=steady).exclude(mark="").exists()
    series = doc["series"]["all"]
    assert series["months"][0] == "2022-02-01" and series["months"][-1] == "2025-02-01"


def test_the_month_so_far_is_shown_beside_the_same_days(steady):
    refresh(options=RefreshOptions(as_of=LAST + timedelta(days=1), forecast_origins=2))
    to_date = AreaPicture.objects.get(area=steady).data["month_to_date"]
    assert (to_date["month"], to_date["start"], to_date["end"]) == ("2025-03", "2025-03-01", "2025-03-15")
    assert (to_date["days"], to_date["days_in_month"]) == (15, 31)
    assert (to_date["previous_start"], to_date["previous_end"]) == ("2025-02-01", "2025-02-15")
    assert (to_date["last_year_start"], to_date["last_year_end"]) == ("2024-03-01", "2024-03-15")
    assert to_date["indicators"]["all"] == {"count": 150, "previous": 150, "last_year": 150}
    assert to_date["indicators"]["violence_public"] == {"count": 150, "previous": 150, "last_year": 150}
    assert to_date["indicators"]["shootings"] == {"count": 0, "previous": 0, "last_year": 0}


def test_the_area_page_shows_no_artefact_of_the_partial_month(steady, client_for, analyst):
    refresh(options=RefreshOptions(as_of=LAST + timedelta(days=1), forecast_origins=2))
    client = client_for(analyst)
    html = client.get(f"/areas/{steady.panel_id}/").content.decode()
    assert "Data till och med 2025-03-15" in html and "2024-03 – 2025-02" in html
    assert "Innevarande månad hittills: 1–15 mars 2025" in html and "15 av 31 dagar" in html
    key = html[html.index('id="key-figures"') : html.index('id="h-to-date"')]
    assert "2025-02" in key and "2025-03" not in key
    assert 'class="mark"' not in html
    response = client.get(f"/areas/{steady.panel_id}/export.csv?table=to_date&reason=test&recipient=test")
    rows = list(csv.DictReader(response.content.decode("utf-8-sig").splitlines()))
    assert rows[0] == {
        "Indikator": "Alla händelser",
        "Antal hittills": "150",
        "Samma dagar föregående månad": "150",
        "Samma dagar i fjol": "150",
    }


def test_no_month_so_far_when_the_data_end_with_a_month(steady):
    refresh(options=RefreshOptions(as_of=date(2025, 3, 1), forecast_origins=2))
    assert AreaPicture.objects.get(area=steady).data.get("month_to_date") is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_latest_month_is_the_last_complete_one_whatever_the_end_of_the_data(steady, seed):
    rng = np.random.default_rng(seed)
    as_of = date(2024, 6, 1) + timedelta(days=int(rng.integers(0, 280)))
    refresh(options=RefreshOptions(as_of=as_of, forecast_origins=2), full=True)
    doc = AreaPicture.objects.get(area=steady).data
    last_complete = (as_of.replace(day=1) - timedelta(days=1)).replace(day=1)
    assert doc["key_figures"]["all"]["period"] == last_complete.strftime("%Y-%m")
    assert doc["key_figures"]["all"]["previous_mark"] == "" and doc["year_figures"]["all"]["mark"] == ""
    assert doc["trends"]["all"]["mark"] == ""
    # Partial weeks are left out too: no unusual week from a short last week.
    assert doc["unusual_weeks"] == []


def test_a_feed_that_begins_late_in_a_month_leaves_that_month_out():
    from problembild.picture.refresh.counts import complete_span

    as_of = pd.Timestamp("2025-01-01", tz="Europe/Stockholm")
    first, last = complete_span(pd.Timestamp("2022-09-26 08:00"), as_of, "month", slack=pd.Timedelta(hours=1))
    assert first == pd.Timestamp("2022-10-01") and last == pd.Timestamp("2024-12-31 23:59:59")
    # A quiet first day does not lose the month when incidents are sparse.
    first, _ = complete_span(pd.Timestamp("2022-01-02 08:00"), as_of, "month", slack=pd.Timedelta(days=3))
    assert first == pd.Timestamp("2022-01-01")
    assert complete_span(pd.Timestamp("2024-12-20"), as_of, "year") is None
