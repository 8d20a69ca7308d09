from collections import Counter

import pytest

from problembild.areas.models import Area, AssessmentRound, Classification, Municipality
from problembild.areas.register import load_register
from problembild.core.models import OrgUnit

pytestmark = pytest.mark.django_db


def counts(year: int) -> Counter:
    return Counter(Classification.objects.filter(round__year=year).values_list("category", flat=True))


def test_2023_list_has_59_areas_with_the_published_categories():
    c = counts(2023)
    assert sum(c.values()) == 59
    assert c == {"särskilt utsatt område": 17, "riskområde": 15, "utsatt område": 27}


@pytest.mark.parametrize(
    ("year", "total", "sarskilt"), [(2015, 53, 15), (2017, 61, 23), (2019, 60, 22), (2021, 61, 19)]
)
def test_earlier_lists_have_the_published_totals(year, total, sarskilt):
    c = counts(year)
    assert sum(c.values()) == total
    assert c["särskilt utsatt område"] == sarskilt


def test_register_holds_69_areas_and_290_municipalities():
    assert Area.objects.count() == 69
    assert Municipality.objects.count() == 290
    assert Municipality.objects.filter(population__isnull=False).count() == 290
    assert list(AssessmentRound.objects.values_list("year", flat=True)) == [2015, 2017, 2019, 2021, 2023]


def test_every_2023_area_has_boundary_municipality_and_local_police_area():
    for area in Area.objects.current():
        assert area.shape is not None and area.shape.area > 0
        assert area.municipality_id is not None
        assert area.org_unit.kind == OrgUnit.Kind.LOCAL_POLICE_AREA
        assert area.org_unit.parent.kind == OrgUnit.Kind.POLICE_AREA
        assert area.org_unit.parent.parent.kind == OrgUnit.Kind.REGION


def test_known_areas_lie_in_their_municipalities():
    assert Area.objects.get(name="Rosengård").municipality.name == "Malmö"
    assert Area.objects.get(name="Tynnered / Grevgården / Opaltorget").municipality.name == "Göteborg"
    assert Area.objects.get(name="Alby").org_unit.name == "Botkyrka"


def test_2023_regions_match_the_published_counts():
    by_region = Counter(
        a.org_unit.parent.parent.name
        for a in Area.objects.current().select_related("org_unit__parent__parent")
    )
    assert by_region == {"Stockholm": 26, "Väst": 12, "Syd": 9, "Öst": 7, "Bergslagen": 3, "Mitt": 2}


def test_historical_areas_keep_history_and_get_a_unit():
    ostberga = Area.objects.get(name="Östberga")
    assert [c.round.year for c in ostberga.history()] == [2015, 2017, 2019, 2021]
    assert ostberga.org_unit.path.startswith("SE/5300/")


def test_loading_the_register_again_changes_nothing():
    summary = load_register()
    assert summary.changed == 0
    assert summary.areas == 69
