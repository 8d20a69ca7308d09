"""``refresh --areas``: a scheduler splits the expensive work; the halves store what one run does.

"The same pictures" is compared on everything a refresh stores: each area's picture
(document JSON, fingerprint and need index), each unit's picture and the indicator values.
Only ``computed_at`` (the column with the time of writing) is left out; the documents
themselves hold no time of computation (their ``as_of`` is the end of the data).
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from typer.testing import CliRunner

from problembild.areas.models import Area
from problembild.cli import app
from problembild.picture.models import AreaPicture, IndicatorValue, RefreshRun, UnitPicture
from problembild.picture.refresh.run import RefreshOptions, UnknownAreas, refresh

from .test_refresh import _add_incidents

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 1, 1)


def _stored() -> dict:
    """Everything a refresh writes, but the times of writing."""
    return {
        "areas": {
            p.area_id: (p.fingerprint, p.need_index, json.dumps(p.data, sort_keys=True))
            for p in AreaPicture.objects.all()
        },
        "units": {u.unit_id: json.dumps(u.data, sort_keys=True) for u in UnitPicture.objects.all()},
        # Every run rewrites the indicator values whole: compared without their row ids.
        "values": sorted(map(repr, IndicatorValue.objects.values_list(*_VALUE_FIELDS))),
    }


_VALUE_FIELDS = [f.attname for f in IndicatorValue._meta.concrete_fields if not f.primary_key]


def _halves() -> tuple[list[int], list[int]]:
    ids = sorted(Area.objects.values_list("panel_id", flat=True))
    rosengard = Area.objects.get(name="Rosengård").panel_id
    first = ids[::2] if rosengard in ids[::2] else ids[1::2]  # interleaved; Rosengård's data in the first
    return first, [i for i in ids if i not in first]


@pytest.fixture
def two_areas(rosengard_data, tmp_path):
    """Rosengård's history and a few incidents in Rinkeby / Tensta, far from it."""
    _add_incidents(Area.objects.get(name="Rinkeby / Tensta"), 30, tmp_path, "rt")
    return rosengard_data


@pytest.mark.parametrize("full", [True, False], ids=["full-from-empty", "incremental-from-stale"])
def test_two_halves_store_the_pictures_of_one_run(two_areas, full):
    options = RefreshOptions(as_of=AS_OF, forecast_origins=2)
    refresh(options=options, full=True)
    one_run = _stored()
    assert len(one_run["areas"]) == Area.objects.count()

    if full:  # an empty cache: each half leaves the other's areas for their own run
        AreaPicture.objects.all().delete()
        UnitPicture.objects.all().delete()
    else:  # a cache of an older end of data: every fingerprint changed
        refresh(options=RefreshOptions(as_of=date(2024, 7, 1), forecast_origins=2), full=True)
        assert _stored()["areas"] != one_run["areas"]
    first, second = _halves()

    a = refresh(options=options, full=full, areas=first)
    assert a.areas == first and a.computed == first and a.areas_recomputed == len(first)
    if full:
        assert a.areas_waiting == second and a.areas_kept == 0
        assert set(AreaPicture.objects.values_list("area__panel_id", flat=True)) == set(first)
    else:
        assert a.areas_waiting == [] and a.areas_kept == len(second)
    b = refresh(options=options, full=full, areas=second)
    assert b.computed == second and b.areas_kept == len(first) and b.areas_waiting == []

    halves = _stored()
    assert halves["areas"] == one_run["areas"]
    assert halves["units"] == one_run["units"]
    assert halves["values"] == one_run["values"]
    # Afterwards every area is up to date: a plain run recomputes nothing.
    assert refresh(options=options).areas_recomputed == 0


def test_areas_outside_the_list_keep_their_expensive_parts(two_areas, tmp_path):
    rosengard, _, _ = two_areas
    rinkeby = Area.objects.get(name="Rinkeby / Tensta")
    options = RefreshOptions(as_of=AS_OF, forecast_origins=2)
    refresh(options=options)
    before = {p.area_id: p for p in AreaPicture.objects.all()}
    _add_incidents(rosengard, 40, tmp_path, "late")
    _add_incidents(rinkeby, 40, tmp_path, "later")

    summary = refresh(options=options, areas=[rinkeby.panel_id])
    assert summary.computed == [rinkeby.panel_id]
    after = {p.area_id: p for p in AreaPicture.objects.all()}
    # Rosengård's fingerprint changed (and perhaps its neighbours'), but no area outside the list
    # is recomputed: their expensive parts and the fingerprint they were computed with stay …
    for pk in before.keys() - {rinkeby.pk}:
        assert after[pk].fingerprint == before[pk].fingerprint
        for part in ("trends", "unusual_weeks", "hour_of_week", "space"):
            assert after[pk].data[part] == before[pk].data[part], (pk, part)
    # … while their compared parts are rebuilt: Rosengård's count the new incidents.
    old, new = before[rosengard.pk], after[rosengard.pk]
    assert new.data["year_figures"]["all"]["count"] == old.data["year_figures"]["all"]["count"] + 40
    # Rinkeby / Tensta, in the list, was recomputed.
    assert after[rinkeby.pk].data["hour_of_week"] != before[rinkeby.pk].data["hour_of_week"]
    assert after[rinkeby.pk].fingerprint != before[rinkeby.pk].fingerprint

    # Rosengård's own run catches up; the next plain run computes only the areas whose
    # fingerprint changed and that no run listed (Rosengård's neighbours, if any).
    assert refresh(options=options, areas=[rosengard.panel_id]).computed == [rosengard.panel_id]
    assert AreaPicture.objects.get(area=rosengard).data["trends"] != old.data["trends"]
    rest = refresh(options=options).computed
    assert rosengard.panel_id not in rest and rinkeby.panel_id not in rest


def test_unknown_panel_ids_are_named_and_nothing_runs(rosengard_data):
    known = Area.objects.get(name="Rosengård").panel_id
    runs = RefreshRun.objects.count()
    with pytest.raises(UnknownAreas) as err:
        refresh(options=RefreshOptions(as_of=AS_OF), areas=[known, 99998, 99999])
    assert err.value.panel_ids == [99998, 99999] and "99998, 99999" in str(err.value)

    result = CliRunner().invoke(app, ["refresh", "--as-of", "2025-01-01", "--areas", f"{known},99999"])
    assert result.exit_code == 2
    assert re.search(r"no area has the panel id (.*)", result.output).group(1).strip() == "99999"
    bad = CliRunner().invoke(app, ["refresh", "--areas", "12,x"])
    assert bad.exit_code == 2 and "--areas" in bad.output
    assert RefreshRun.objects.count() == runs


def test_cli_areas_comma_separated_or_repeated(rosengard_data):
    first, second, third = sorted(Area.objects.values_list("panel_id", flat=True))[:3]
    result = CliRunner().invoke(
        app,
        ["refresh", "--as-of", "2025-01-01", "--json", "--areas", f"{first},{second}", "--areas", str(third)],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["areas"] == [first, second, third]
    assert summary["computed"] == [first, second, third]
    assert len(summary["areas_waiting"]) == Area.objects.count() - 3
