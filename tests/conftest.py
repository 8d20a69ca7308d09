"""Shared fixtures: the real register loaded once per test database, and users per role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from problembild.core import roles
from problembild.core.models import OrgUnit, Profile


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load roles and the shipped register into the test database once."""
    from problembild.areas.register import load_register
    from problembild.core.bootstrap import ensure_roles

    with django_db_blocker.unblock():
        ensure_roles()
        load_register()


@pytest.fixture
def make_user(db, django_user_model):
    """Create a user with a role at the org unit with ``unit_code``."""

    def make(username: str, role: str = roles.NATIONAL_ANALYST, unit_code: str = "SE", **extra):
        user = django_user_model.objects.create_user(username=username, password="pw-for-tests-only", **extra)
        Profile.objects.create(user=user, org_unit=OrgUnit.objects.get(code=unit_code))
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def analyst(make_user):
    return make_user("noa", roles.NATIONAL_ANALYST, "SE")


@pytest.fixture
def botkyrka_chief(make_user):
    """Local police area chief of Botkyrka (Stockholm syd): sees Alby, Fittja, Hallunda/Norsborg …"""
    return make_user("chief.botkyrka", roles.LOCAL_CHIEF, "5312-botkyrka")


@pytest.fixture
def auditor(make_user):
    return make_user("auditor", roles.AUDITOR, "SE")


@pytest.fixture
def admin_user_pb(make_user):
    return make_user("pbadmin", roles.ADMINISTRATOR, "SE", is_staff=True, is_superuser=True)


@pytest.fixture
def client_for(client):
    """Log ``user`` into the test client and return it."""

    def login(user):
        client.force_login(user)
        return client

    return login
