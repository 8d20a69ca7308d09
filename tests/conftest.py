"""Shared fixtures: the real register loaded once per test database, and users per role."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
import shapely
from django.contrib.auth.models import Group

from problembild.areas.models import Area, Population
from problembild.core import roles
from problembild.core.models import OrgUnit, Profile
from problembild.incidents.importers import import_incidents


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load roles and the shipped register into the test database once."""
    from problembild.areas.register import load_register
    from problembild.core.bootstrap import ensure_roles

    with django_db_blocker.unblock():
        ensure_roles()
        load_register()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """No test sees another test's cached pages (the test settings use a per-process cache)."""
    from django.core.cache import cache

    from problembild.core.cache import local_fragments
    from problembild.core.shell import shells

    def clear():
        cache.clear()
        local_fragments.clear()
        shells.clear()

    clear()
    yield
    clear()


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


# --- a small incident history with a planted hot spot, for the problem-picture tests ---


def _point_inside(area: Area, rng: np.random.Generator, n: int, centre=None, sd=None):
    shape = area.shape
    x0, y0, x1, y1 = shape.bounds
    xs, ys = [], []
    while len(xs) < n:
        if centre is None:
            x = rng.uniform(x0, x1, 4 * n)
            y = rng.uniform(y0, y1, 4 * n)
        else:
            x = rng.normal(centre[0], sd, 4 * n)
            y = rng.normal(centre[1], sd, 4 * n)
        ok = shapely.contains_xy(shape, x, y)
        xs.extend(x[ok])
        ys.extend(y[ok])
    return np.array(xs[:n]), np.array(ys[:n])


@pytest.fixture
def rosengard_data(db, tmp_path):
    """Three years of incidents in Rosengård: a planted hot spot and rising shootings."""
    area = Area.objects.get(name="Rosengård")
    Population.objects.update_or_create(area=area, year=2024, defaults={"residents": 24000, "source": "test"})
    rng = np.random.default_rng(3)
    hot = area.shape.representative_point()
    rows = []
    n_bg, n_hot = 900, 300
    bx, by = _point_inside(area, rng, n_bg)
    hx, hy = _point_inside(area, rng, n_hot, centre=(hot.x, hot.y), sd=40)
    start = pd.Timestamp("2022-01-01")
    span = (pd.Timestamp("2025-01-01") - start).total_seconds()
    times = start + pd.to_timedelta(rng.uniform(0, span, n_bg + n_hot), unit="s")
    types = rng.choice(["Misshandel", "Narkotikabrott", "Skadegörelse", "Trafikolycka"], n_bg + n_hot)
    for i, (x, y, t, typ) in enumerate(zip(np.r_[bx, hx], np.r_[by, hy], times, types, strict=True)):
        rows.append((f"r{i}", t.strftime("%Y-%m-%dT%H:%M:%S"), typ, f"{x:.1f}", f"{y:.1f}"))
    # Shootings: 2 in 2022, 4 in 2023, 20 in 2024.
    k = 0
    for year, n in ((2022, 2), (2023, 4), (2024, 20)):
        for j in range(n):
            x, y = _point_inside(area, rng, 1)
            rows.append(
                (
                    f"s{k}",
                    f"{year}-{1 + j % 12:02d}-15T22:00:00",
                    "Skottlossning",
                    f"{x[0]:.1f}",
                    f"{y[0]:.1f}",
                )
            )
            k += 1
    path = tmp_path / "rosengard.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "occurred_at", "type", "x", "y"])
        w.writerows(rows)
    import_incidents(path, source="test")
    return area, hot, len(rows)
