"""The list diff on the stored register (the police's published changes) and on drawn boundaries."""

from __future__ import annotations

import json

import pytest
import shapely
from typer.testing import CliRunner

from problembild.areas.models import Area, AssessmentRound, Classification
from problembild.assessment.diff import list_diff
from problembild.cli import app

pytestmark = pytest.mark.django_db
SEVERITY = {"särskilt utsatt område": 3, "riskområde": 2, "utsatt område": 1}


def test_2021_to_2023_matches_the_published_counts():
    diff = list_diff(2021, 2023)
    assert diff.totals == {"from": 61, "to": 59}
    counts = diff.counts()
    assert (counts["added"], counts["removed"]) == (4, 6)
    assert counts["added"] + counts["raised"] + counts["lowered"] + counts["unchanged"] == 59
    assert {a["name"] for a in diff.changes["added"]} == {"Hagalund", "Hageby", "Saltskog", "Årby"}
    assert "Östberga" in {a["name"] for a in diff.changes["removed"]}
    assert [(c["name"], c["from"], c["to"]) for c in diff.changes["raised"]] == [
        ("Hovsjö", "riskområde", "särskilt utsatt område")
    ]


@pytest.mark.parametrize(("a", "b"), [(2015, 2017), (2017, 2019), (2019, 2021), (2021, 2023)])
def test_every_stored_pair_adds_up_and_is_ordered_by_severity(a, b):
    diff = list_diff(a, b)
    kept = sum(len(diff.changes[k]) for k in ("raised", "lowered", "unchanged"))
    assert kept + len(diff.changes["removed"]) == diff.totals["from"]
    assert kept + len(diff.changes["added"]) == diff.totals["to"]
    for kind in ("added", "removed", "unchanged"):
        keys = [-SEVERITY[i.get("to") or i.get("from")] for i in diff.changes[kind]]
        assert keys == sorted(keys), kind


def test_the_diff_lists_only_areas_in_scope_but_counts_nationally():
    botkyrka = Area.objects.filter(org_unit__code="5312-botkyrka")
    diff = list_diff(2021, 2023, areas=botkyrka)
    assert {i["name"] for k in diff.changes.values() for i in k} <= set(
        botkyrka.values_list("name", flat=True)
    )
    assert diff.totals == {"from": 61, "to": 59}


def test_splits_and_mergers_are_read_from_the_boundaries():
    """2025: Alby split into two new areas; Fittja and Storvreten merged into one."""
    alby, fittja, storvreten = (Area.objects.get(name=n) for n in ("Alby", "Fittja", "Storvreten"))
    rnd = AssessmentRound.objects.create(year=2025, categories=["utsatt område", "särskilt utsatt område"])
    unit = alby.org_unit
    minx, miny, maxx, maxy = alby.shape.bounds
    mid = (minx + maxx) / 2
    halves = [
        shapely.box(minx, miny, mid, maxy).intersection(alby.shape),
        shapely.box(mid, miny, maxx, maxy).intersection(alby.shape),
    ]
    new = [
        Area.objects.create(panel_id=900 + i, name=f"Alby {i}", org_unit=unit, geometry=shapely.to_wkb(h))
        for i, h in enumerate(halves)
    ]
    both = Area.objects.create(
        panel_id=910, name="Fittja-Storvreten", org_unit=unit,
        geometry=shapely.to_wkb(shapely.union(fittja.shape, storvreten.shape).buffer(10)),
    )  # fmt: skip
    keep = Classification.objects.filter(round__year=2023).exclude(area__in=[alby, fittja, storvreten])
    for c in keep:
        Classification.objects.create(area=c.area, round=rnd, category="utsatt område")
    for area in [*new, both]:
        Classification.objects.create(area=area, round=rnd, category="särskilt utsatt område")
    diff = list_diff(2023, 2025)
    assert [(s["name"], sorted(p["name"] for p in s["into"])) for s in diff.changes["split"]] == [
        ("Alby", ["Alby 0", "Alby 1"])
    ]
    assert [(m["name"], sorted(p["name"] for p in m["of"])) for m in diff.changes["merged"]] == [
        ("Fittja-Storvreten", ["Fittja", "Storvreten"])
    ]
    assert diff.counts()["removed"] == 3 and diff.counts()["added"] == 3
    # The 2025 list has two categories: riskområde → utsatt is a lowering across category sets.
    lowered = {c["name"]: (c["from"], c["to"]) for c in diff.changes["lowered"]}
    assert all(to == "utsatt område" for _f, to in lowered.values())


def test_cli_prints_the_contract():
    result = CliRunner().invoke(app, ["assessment", "diff", "2021", "2023", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for kind in ("added", "removed", "raised", "lowered", "unchanged", "split", "merged"):
        assert isinstance(data[kind], list)
    assert (len(data["added"]), len(data["removed"])) == (4, 6)
    assert {"panel_id", "name", "from", "to"} <= set(data["raised"][0])
    assert {"panel_id", "name", "to"} <= set(data["added"][0]) and "from" not in data["added"][0]
    unknown = CliRunner().invoke(app, ["assessment", "diff", "2021", "2031"])
    assert unknown.exit_code == 2 and "no list for 2031" in unknown.output
