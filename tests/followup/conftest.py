"""The seeded strategy and methods, and Alby's 2025 problem picture with priorities, promises and activities."""

from __future__ import annotations

from datetime import date

import pytest

from problembild.areas.models import Area
from problembild.core import roles
from problembild.followup.models import Activity, Method, PictureDocument, Priority, Promise
from problembild.followup.seed import load_seed


@pytest.fixture
def seeded(db):
    load_seed()


@pytest.fixture
def alby_doc(seeded):
    alby = Area.objects.get(name="Alby")
    doc = PictureDocument.objects.create(area=alby, year=2025, summary="Öppen narkotikahandel vid centrum.")
    first = Priority.objects.create(document=doc, rank=1, title="Narkotikahandel", indicators=["drugs"])
    Priority.objects.create(document=doc, rank=2, title="Bilbränder", indicators=["vehicle_arson_vandalism"])
    promise = Promise.objects.create(
        document=doc, commitment="Synliga vid torget", deadline=date(2025, 12, 31)
    )
    presence = Method.objects.get(code="area_officer_presence")
    for month in (10, 11, 12):
        Activity.objects.create(
            area=alby, method=presence, date=date(2025, month, 10), hours=4, priority=first, promise=promise
        )
    return doc


@pytest.fixture
def chief(make_user):
    return make_user("chief", roles.LOCAL_CHIEF, "5312-botkyrka")


@pytest.fixture
def coordinator(make_user):
    return make_user("us", roles.INTELLIGENCE_COORDINATOR, "5312-botkyrka")
