"""Which population figure rates stand on, and how a category's rate is formed (issue 10, item 7).

Before, the newest figure was used even when it was synthetic while an older real one
existed, and the synthetic flag was raised only when no real figure existed at all: rates,
need index and ranks were built on an invented figure without saying so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from problembild.areas.models import Area, Population
from problembild.picture.refresh.load import latest_population
from problembild.picture.refresh.tables import window_stats

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_areas():
    areas = list(Area.objects.order_by("name")[:2])
    Population.objects.filter(area__in=areas).delete()
    return areas


def test_an_older_real_figure_wins_over_a_newer_synthetic_one(two_areas):
    real, invented = two_areas
    Population.objects.create(area=real, year=2022, residents=12_000, source="SCB")
    Population.objects.create(area=real, year=2024, residents=99_000, source="generator", synthetic=True)
    Population.objects.create(area=invented, year=2021, residents=8_000, source="generator", synthetic=True)
    Population.objects.create(area=invented, year=2023, residents=9_000, source="generator", synthetic=True)

    residents, synthetic = latest_population()
    assert residents[real.pk] == 12_000 and real.pk not in synthetic
    assert residents[invented.pk] == 9_000 and invented.pk in synthetic
    # The model's own reader (areas API, demo data) and the overview agree with refresh.
    assert real.latest_population().residents == 12_000
    assert invented.latest_population().residents == 9_000 and invented.latest_population().synthetic


def test_newest_real_figure_among_real_ones(two_areas):
    area = two_areas[0]
    Population.objects.create(area=area, year=2020, residents=10_000, source="SCB")
    Population.objects.create(area=area, year=2023, residents=11_000, source="SCB")
    residents, synthetic = latest_population()
    assert residents[area.pk] == 11_000 and not synthetic & {area.pk}


def test_the_synthetic_flag_reaches_the_picture(rosengard_data):
    from problembild.picture.models import AreaPicture
    from problembild.picture.refresh.run import RefreshOptions, refresh

    area, _hot, _n = rosengard_data
    Population.objects.filter(area=area).delete()
    Population.objects.create(area=area, year=2023, residents=24_000, source="SCB")
    Population.objects.create(area=area, year=2024, residents=50_000, source="generator", synthetic=True)
    refresh(options=RefreshOptions(forecast_origins=2))
    doc = AreaPicture.objects.get(area=area).data
    assert doc["residents"] == 24_000 and doc["population_synthetic"] is False

    Population.objects.filter(area=area, synthetic=False).delete()
    refresh(options=RefreshOptions(forecast_origins=2))
    doc = AreaPicture.objects.get(area=area).data
    assert doc["residents"] == 50_000 and doc["population_synthetic"] is True


def test_category_rate_is_weighted_by_residents():
    # Two areas of one category: 20 incidents among 2,000 residents (10 per 1,000) and
    # 60 among 30,000 (2 per 1,000). Their mean rate would be 6; the category's own rate
    # is 80 incidents per 32,000 residents = 2.5 per 1,000.
    months = pd.date_range("2024-01-01", periods=12, freq="MS").values
    rows = []
    for area_id, per_month in ((1, (20, 12)), (2, (60, 12))):
        total, n = per_month
        counts = np.full(n, total // n)
        counts[: total - counts.sum()] += 1
        for start, c in zip(months, counts, strict=True):
            rows.append(
                {"area_id": area_id, "indicator": "violence_public", "period_start": start, "count": int(c)}
            )
            rows.append({"area_id": area_id, "indicator": "all", "period_start": start, "count": int(c)})
    monthly = pd.DataFrame(rows)
    population = pd.Series({1: 2_000.0, 2: 30_000.0})
    stats = window_stats(monthly, population, {1: "Utsatt område", 2: "Utsatt område"})
    assert stats.category_mean[("Utsatt område", "violence_public")] == pytest.approx(2.5)
