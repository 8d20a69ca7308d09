"""The user's unit and roles, read in one query (core.scoping.load_access)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from problembild.core import roles
from problembild.core.models import OrgUnit
from problembild.core.roles import role_codes
from problembild.core.scoping import unit_for

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_unit_and_roles_in_one_query(botkyrka_chief):
    botkyrka_chief.groups.add(Group.objects.create(name="not-a-role"), Group.objects.get(name=roles.AUDITOR))
    user = fresh(botkyrka_chief)
    with CaptureQueriesContext(connection) as captured:
        unit = unit_for(user)
        codes = role_codes(user)
        assert unit_for(user) is unit and role_codes(user) == codes
    assert len(captured) == 1
    assert unit == OrgUnit.objects.get(code="5312-botkyrka") and unit.path == "SE/5300/5312/5312-botkyrka"
    assert codes == {roles.LOCAL_CHIEF, roles.AUDITOR}  # groups that are no role are left out


def test_a_user_without_unit_or_roles(django_user_model):
    user = fresh(django_user_model.objects.create_user("nobody", password="x"))
    assert unit_for(user) is None and role_codes(user) == set()


def test_a_unit_without_roles_and_roles_without_unit(make_user, django_user_model):
    user = make_user("only.unit", roles.READ_ONLY, "5300")
    user.groups.clear()
    user = fresh(user)
    assert unit_for(user).code == "5300" and role_codes(user) == set()
    other = django_user_model.objects.create_user("only.roles", password="x", is_superuser=True)
    other.groups.add(Group.objects.get(name=roles.HR), Group.objects.get(name=roles.READ_ONLY))
    other = fresh(other)
    assert unit_for(other) is None
    assert role_codes(other) == {roles.HR, roles.READ_ONLY, roles.ADMINISTRATOR}


def test_the_area_by_panel_id_is_the_orm_area_with_its_unit(analyst, botkyrka_chief):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from problembild.areas.models import Area

    for expected in Area.objects.select_related("org_unit").order_by("pk"):
        got = Area.objects.get_for_user(analyst, panel_id=expected.panel_id)
        for field in Area._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
        assert (got.org_unit.pk, got.org_unit.path) == (expected.org_unit.pk, expected.org_unit.path)
    alby, rosengard = Area.objects.get(name="Alby"), Area.objects.get(name="Rosengård")
    assert Area.objects.get_for_user(botkyrka_chief, panel_id=alby.panel_id) == alby
    with pytest.raises(PermissionDenied):
        Area.objects.get_for_user(botkyrka_chief, panel_id=rosengard.panel_id)
    with pytest.raises(Http404):
        Area.objects.get_for_user(analyst, panel_id=999_999)
    with pytest.raises(Http404):
        Area.objects.get_for_user(analyst, panel_id="abc")
    # A filtered queryset keeps its filters (the ORM path).
    with pytest.raises(Http404):
        Area.objects.filter(name="Alby").get_for_user(analyst, panel_id=rosengard.panel_id)
