"""Every chart has a table beside it with the same figures (its text alternative, WCAG 1.1.1)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from problembild.picture.models import AreaPicture, UnitPicture
from problembild.picture.refresh.run import RefreshOptions, refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(rosengard_data):
    refresh(options=RefreshOptions(as_of=date(2025, 1, 1), forecast_origins=2))
    return rosengard_data


def cells(html: str) -> list[list[str]]:
    """The body rows of the first table in ``html``: each row's ``<td>`` texts."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_area_heat_map_has_a_table_per_indicator_with_the_charts_counts(client_for, analyst, computed):
    area, _, _ = computed
    doc = AreaPicture.objects.get(area=area).data
    html = client_for(analyst).get(f"/areas/{area.panel_id}/").content.decode()
    # A figure, not an image: Plotly's controls inside are interactive (axe: nested-interactive).
    assert re.search(
        r'id="how-chart" class="chart" role="figure"[^>]*aria-describedby="how-table-summary"', html
    )
    tables = dict(
        re.findall(r'<div class="table-wrap" data-indicator="([a-z_]+)"[^>]*>(.*?)</table>', html, re.S)
    )
    assert set(tables) == set(doc["hour_of_week"])
    for code, grid in doc["hour_of_week"].items():
        assert [[int(c) for c in row] for row in cells(tables[code])] == grid, code


def test_unit_chart_has_a_table_with_the_months_counts_and_trend(client_for, analyst, computed):
    area, _, _ = computed
    lpo = area.org_unit
    doc = UnitPicture.objects.get(unit=lpo).data
    html = client_for(analyst).get(f"/units/{lpo.code}/").content.decode()
    table = re.search(r'<table class="data" id="unit-monthly">(.*?)</table>', html, re.S).group(1)
    rows = cells(table)
    series = doc["series"]["all"]
    assert [int(count) for count, _trend in rows] == series["counts"]
    months = re.findall(r'<th scope="row">(\d{4}-\d{2})</th>', table)
    assert months == [m[:7] for m in series["months"]]
    assert 'aria-describedby="trend-table-summary"' in html
