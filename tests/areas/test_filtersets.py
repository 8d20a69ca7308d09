"""The register's FilterSet: one reading of region, police area and category for pages and API."""

import pytest
from django.http import QueryDict
from django.test import RequestFactory

from problembild.areas.filtersets import AreaFilterSet, AreaListFilterSet
from problembild.areas.models import Area

pytestmark = pytest.mark.django_db


def filterset(cls, query: str, user):
    request = RequestFactory().get("/", QueryDict(query))
    request.user = user
    return cls(request.GET, Area.objects.for_user(user), request=request)


def test_region_takes_the_areas_below_it(analyst):
    found = filterset(AreaFilterSet, "region=5600", analyst)
    assert found.is_valid()
    names = set(found.qs.current().values_list("name", flat=True))
    assert "Rosengård" in names and "Rinkeby / Tensta" not in names


def test_a_unit_outside_the_users_scope_is_refused_not_applied(botkyrka_chief):
    found = filterset(AreaFilterSet, "region=5600&category=riskområde", botkyrka_chief)
    assert not found.is_valid()
    assert found.ignored == ["region=5600"]
    # The valid filter still applies; the refused one does not (and is not replaced by anything).
    assert set(found.qs.values_list("org_unit__code", flat=True)) <= {"5312-botkyrka"}


def test_current_defaults_to_the_latest_list_and_false_adds_historical_areas(analyst):
    current = filterset(AreaListFilterSet, "", analyst).qs.count()
    every = filterset(AreaListFilterSet, "current=false", analyst).qs.count()
    assert current == 59 and every == Area.objects.count() > current
