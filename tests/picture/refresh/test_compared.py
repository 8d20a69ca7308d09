"""The compared parts of every area, built in one batch, equal each area's own.

``compared_parts_all`` builds the members of the documents that compare areas for all of
them at once (one change table, one rate test); an area's parts must not depend on which
other areas are in the batch, down to the stored JSON.
"""

from __future__ import annotations

import csv
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from problembild.areas.models import Area, Population
from problembild.incidents.importers import import_incidents
from problembild.picture.refresh import documents
from problembild.picture.refresh.counts import count_incidents
from problembild.picture.refresh.load import end_of_data, latest_population, load_incidents, source_names
from problembild.picture.refresh.tables import monthly_dispersion, window_stats
from tests.conftest import _point_inside

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_kinds(rosengard_data, tmp_path):
    """Rosengård (incidents, real residents), an area of synthetic residents without incidents,
    and one with incidents but no residents."""
    rosengard = rosengard_data[0]
    quiet = Area.objects.get(name="Rinkeby / Tensta")
    Population.objects.filter(area=quiet).delete()
    Population.objects.create(area=quiet, year=2024, residents=30_000, source="generator", synthetic=True)
    unpeopled = (
        Area.objects.exclude(pk__in=[rosengard.pk, quiet.pk]).exclude(geometry=None).order_by("pk").first()
    )
    Population.objects.filter(area=unpeopled).delete()
    xs, ys = _point_inside(unpeopled, np.random.default_rng(5), 60)
    path = tmp_path / "unpeopled.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "occurred_at", "type", "x", "y"])
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            when = pd.Timestamp("2022-02-01") + pd.Timedelta(days=17 * i, hours=i % 24)
            writer.writerow(
                [f"u{i}", when.strftime("%Y-%m-%dT%H:%M:%S"), "Misshandel", f"{x:.1f}", f"{y:.1f}"]
            )
    import_incidents(path, source="test")
    return rosengard, quiet, unpeopled


def _stages(as_of: date):
    """What the refresh builds before the compared parts (as ``_refresh`` does)."""
    names = source_names()
    data = load_incidents(names)
    end = end_of_data(data, as_of)
    areas = list(Area.objects.select_related("org_unit", "municipality").order_by("pk"))
    population, synthetic = latest_population()
    counts = count_incidents(data, areas, end)
    current = {a.pk: a.current_category for a in Area.objects.current().with_current_category()}
    stats = window_stats(counts.monthly, population, current, monthly_dispersion(counts.monthly))
    inputs = [
        documents.AreaInputs(
            area=a,
            residents=None if pd.isna(population.get(a.pk, float("nan"))) else int(population[a.pk]),
            category=stats.category_of.get(a.pk),
        )
        for a in areas
    ]
    return inputs, counts, stats, synthetic, end


def _stored(compared: dict, end: pd.Timestamp) -> str:
    return json.dumps(documents.area_document({}, compared, None, end).stored(), ensure_ascii=False)


# The data end inside a month (a month so far is shown) and on a month's first day (none).
@pytest.mark.parametrize("as_of", [date(2024, 12, 16), date(2025, 1, 1)])
def test_the_batch_equals_each_area_alone(three_kinds, as_of):
    rosengard, quiet, unpeopled = three_kinds
    inputs, counts, stats, synthetic, end = _stages(as_of)
    batch = documents.compared_parts_all(inputs, counts, stats, synthetic)
    assert list(batch) == [i.area.pk for i in inputs]
    # The three kinds and every eighth area (each alone costs a change table and a test).
    chosen = {rosengard.pk, quiet.pk, unpeopled.pk} | {i.area.pk for i in inputs[::8]}
    for i in (i for i in inputs if i.area.pk in chosen):
        alone = documents.compared_parts(i, counts, stats, i.area.pk in synthetic)
        assert _stored(batch[i.area.pk], end) == _stored(alone, end), i.area.name

    # A few members against what they mean, for each kind of area.
    doc = {pk: json.loads(_stored(batch[pk], end)) for pk in (rosengard.pk, quiet.pk, unpeopled.pk)}
    assert (as_of.day == 16) == (doc[rosengard.pk]["month_to_date"] is not None)
    ros = doc[rosengard.pk]
    monthly = counts.monthly[counts.monthly["area_id"] == rosengard.pk]
    in_window = monthly[monthly["period_start"].isin(stats.window)]
    assert (
        ros["year_figures"]["all"]["count"] == in_window.loc[in_window["indicator"] == "all", "count"].sum()
    )
    assert ros["residents"] == 24000 and ros["population_synthetic"] is False
    assert ros["key_figures"]["all"]["rate"] == pytest.approx(ros["key_figures"]["all"]["count"] / 24)
    assert ros["comparisons"]["all"]["rank"]["rank"] is not None
    assert ros["municipality_rest"]["municipality"] == rosengard.municipality.name
    # Residents, no incidents: zeros, not gaps; ranked; the synthetic figure is flagged.
    q = doc[quiet.pk]
    assert q["population_synthetic"] is True and q["residents"] == 30000
    assert q["year_figures"]["all"] == {"count": 0, "rate": 0.0, "previous": 0, "p_value": 1.0, "mark": ""}
    assert sum(q["series"]["all"]["counts"]) == 0 and q["key_figures"]["all"]["count"] == 0
    # Incidents, no residents: counts without rates, not ranked, no officer rule.
    u = doc[unpeopled.pk]
    assert u["residents"] is None and u["year_figures"]["all"]["count"] > 0
    assert u["year_figures"]["all"]["rate"] is None and u["key_figures"]["all"]["rate"] is None
    assert u["comparisons"]["all"]["rank"] == {} and u["officer_rule"] is None


def test_no_complete_month_gives_empty_figures(three_kinds):
    """Data that end before their first complete month: every area gets empty figures."""
    inputs, counts, stats, synthetic, end = _stages(date(2022, 1, 20))
    assert counts.monthly.empty
    batch = documents.compared_parts_all(inputs, counts, stats, synthetic)
    for i in inputs[::8]:
        parts = batch[i.area.pk]
        assert parts["key_figures"] == parts["year_figures"] == parts["series"] == {}
        alone = documents.compared_parts(i, counts, stats, i.area.pk in synthetic)
        assert _stored(parts, end) == _stored(alone, end)
