"""Marks controlled for the false discovery rate over what a page shows (issue 10, item 5).

Before, every comparison with p < 0.05 was marked, whatever the number of comparisons on
the page: with 59 areas and no change anywhere about three are marked by chance alone.
"""

from __future__ import annotations

import csv
import io

import pytest
from statsmodels.stats.multitest import multipletests

from problembild.areas.models import Area
from problembild.picture.marks import FDR, Mark, page_marks, q_values
from problembild.picture.models import AreaPicture

pytestmark = pytest.mark.django_db


def test_q_values_equal_statsmodels_and_skip_missing_tests():
    p = [0.001, None, 0.03, 0.2, 0.04, None, 0.9]
    known = [v for v in p if v is not None]
    expected = iter(multipletests(known, method="fdr_bh")[1])
    assert q_values(p) == [None if v is None else pytest.approx(next(expected)) for v in p]
    assert q_values([]) == []


def test_a_mark_is_shown_only_when_its_q_value_is_below_the_rate():
    marks = page_marks([("↑", 0.001), ("↓", 0.03), ("", 0.5), ("", None)])
    # q = 0.001 × 3 / 1 = 0.003; 0.03 × 3 / 2 = 0.045; 0.5; no test.
    assert [m.shown for m in marks] == ["↑", "↓", "", ""]
    assert marks[1].q_value == pytest.approx(0.045)
    assert marks[3] == Mark("", None, None)
    # With six tests the second one's q is 0.03 × 6 / 2 = 0.09: its single-test mark is dropped.
    marks = page_marks([("↑", 0.001), ("↓", 0.03), *[("", 0.6)] * 4])
    assert [m.shown for m in marks[:2]] == ["↑", ""] and marks[1].q_value > FDR


@pytest.fixture
def south_pictures():
    """The nine areas of region Syd with stored 12-month figures: one clear rise, one
    comparison just under 0.05 as a single test, seven unchanged."""
    areas = list(Area.objects.current().filter(org_unit__parent__parent__code="5600").order_by("name"))
    assert len(areas) == 9
    clear, borderline, *rest = areas
    figures = {
        clear.pk: {"count": 60, "previous": 20, "p_value": 0.0001, "mark": "↑"},
        borderline.pk: {"count": 20, "previous": 34, "p_value": 0.03, "mark": "↓"},
        **{
            a.pk: {"count": 30, "previous": 31, "p_value": 0.6 + i / 100, "mark": ""}
            for i, a in enumerate(rest)
        },
    }
    for area in areas:
        AreaPicture.objects.create(
            area=area,
            fingerprint="test",
            data={"as_of": "2025-01-01", "year_figures": {"all": figures[area.pk]}},
        )
    return clear, borderline


def _export(client, query: str) -> list[dict]:
    response = client.get(f"/export/overview.csv?{query}&reason=test&recipient=test")
    assert response.status_code == 200, response.content[:300]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_overview_marks_only_what_survives_the_page(client_for, analyst, south_pictures):
    clear, borderline = south_pictures
    client = client_for(analyst)
    html = client.get("/?region=5600&indicator=all&period=12m").content.decode()
    assert "Benjamini–Hochberg" in html
    rows = {r["Område"]: r for r in _export(client, "region=5600&indicator=all&period=12m")}
    assert rows[clear.name]["Signifikant"] == "↑"
    assert float(rows[clear.name]["q-värde"]) == pytest.approx(0.0009, abs=1e-6)
    # Single-test p = 0.03 marked ↓ before; over nine areas q = 0.03 × 9 / 2 = 0.135.
    assert rows[borderline.name]["Signifikant"] == ""
    assert float(rows[borderline.name]["p-värde"]) == pytest.approx(0.03)
    assert float(rows[borderline.name]["q-värde"]) == pytest.approx(0.135)


def test_the_family_is_the_page(client_for, analyst, south_pictures):
    # Filtered to the borderline area's police area, the page holds fewer tests: the
    # q-values are those of the areas shown, not of the region.
    _clear, borderline = south_pictures
    code = borderline.org_unit.parent.code
    client = client_for(analyst)
    rows = _export(client, f"region=5600&police_area={code}&indicator=all&period=12m")
    assert 0 < len(rows) < 9
    expected = multipletests([float(r["p-värde"]) for r in rows], method="fdr_bh")[1]
    assert [float(r["q-värde"]) for r in rows] == pytest.approx(list(expected), abs=5e-4)


def test_area_key_figures_control_over_the_whole_table(client_for, analyst):
    area = Area.objects.get(name="Rosengård")
    indicators = ("all", "violence_public", "drugs")
    year = {code: {"count": 30, "previous": 31, "p_value": 0.7, "mark": ""} for code in indicators}
    year["all"] = {"count": 60, "previous": 20, "p_value": 0.0001, "mark": "↑"}
    year["drugs"] = {"count": 20, "previous": 34, "p_value": 0.03, "mark": "↓"}
    month = {
        code: {
            "period": "2024-12",
            "count": 3,
            "previous": 3,
            "previous_p": 0.9,
            "last_year": 3,
            "last_year_p": 0.9,
        }
        for code in indicators
    }
    AreaPicture.objects.create(
        area=area,
        fingerprint="test",
        data={"as_of": "2025-01-01", "year_figures": year, "key_figures": month},
    )
    client = client_for(analyst)
    html = client.get(f"/areas/{area.panel_id}/").content.decode()
    assert "Benjamini–Hochberg" in html
    response = client.get(f"/areas/{area.panel_id}/export.csv", {"reason": "test", "recipient": "test"})
    assert response.status_code == 200, response.content[:300]
    rows = {r["Indikator"]: r for r in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))}
    # Nine tests on the page (three indicators × the 12 months and two monthly comparisons;
    # no trends): q(all) = 0.0001 × 9 = 0.0009, q(drugs) = 0.03 × 9 / 2 = 0.135.
    assert rows["Alla händelser"]["Signifikant"] == "↑"
    assert float(rows["Alla händelser"]["q-värde"]) == pytest.approx(0.0009)
    drugs = next(r for label, r in rows.items() if label.startswith("Narkotika"))
    assert drugs["Signifikant"] == "" and float(drugs["q-värde"]) == pytest.approx(0.135)
