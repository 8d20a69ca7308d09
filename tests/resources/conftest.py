"""Botkyrka's four areas with staffing for June 2025 (Alby meets the rule, Fittja is one short,
Hallunda/Norsborg meets it, Storvreten has no staffing reported) and the unit's capacity."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from problembild.areas.models import Area, Population
from problembild.core.models import OrgUnit
from problembild.picture.models import AreaPicture
from problembild.resources.models import Capacity, Staffing

JUNE = date(2025, 6, 1)
RESIDENTS = {"Alby": 21418, "Fittja": 19382, "Hallunda / Norsborg": 16493, "Storvreten": 2972}


def day_profile(total: float) -> list[float]:
    """``total`` hours spread over weekday 08–16 (the office hours the follow-up should catch)."""
    profile = np.zeros(168)
    for day in range(5):
        profile[day * 24 + 8 : day * 24 + 16] = 1
    return [float(v) for v in profile / profile.sum() * total]


@pytest.fixture
def botkyrka(db):
    areas = {a.name: a for a in Area.objects.filter(org_unit__code="5312-botkyrka")}
    for name, residents in RESIDENTS.items():
        Population.objects.update_or_create(
            area=areas[name], year=2025, synthetic=False, defaults={"residents": residents, "source": "test"}
        )
    officers = {"Alby": 5, "Fittja": 3, "Hallunda / Norsborg": 4}
    for name, n in officers.items():
        Staffing.objects.create(
            area=areas[name],
            period=JUNE,
            officers=n,
            fte=n * 0.9,
            actual=day_profile(n * 100),
            planned=day_profile(n * 110),
            hours_outside=n * (50 if name == "Fittja" else 10),
        )
    unit = OrgUnit.objects.get(code="5312-botkyrka")
    Capacity.objects.create(org_unit=unit, period=JUNE, officers=14, increase=2)
    return areas


@pytest.fixture
def pictures(botkyrka):
    """Need and evening-heavy demand for Botkyrka's areas, as the refresh would store them."""
    evening = [[1] * 18 + [6] * 6 for _ in range(7)]
    for i, (_name, area) in enumerate(sorted(botkyrka.items())):
        AreaPicture.objects.create(
            area=area,
            fingerprint="test",
            need_index=10.0 + i,
            data={
                "need": {"weighted_total": [400.0, 300.0, 200.0, 20.0][i]},
                "hour_of_week": {"violence_public": evening},
                "space": {"forecast": {"cells": [{"ring": [], "score": s} for s in (9.0, 5.0, 1.0)]}},
            },
        )
    return botkyrka
