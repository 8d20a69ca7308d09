"""The data stamp of cached fragments: refresh runs and the register version."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from problembild.areas.models import Area, Population
from problembild.core.cache import (
    REGISTER_VERSION_KEY,
    cached_fragment,
    data_stamp,
    register_changes,
    register_version,
)
from problembild.picture.models import RefreshRun

pytestmark = pytest.mark.django_db


def test_register_saves_and_deletes_change_the_version():
    area = Area.objects.get(name="Alby")
    before = register_version()
    area.save()
    after_save = register_version()
    assert after_save != before
    Population.objects.create(area=area, year=2031, residents=1).delete()
    assert register_version() != after_save


def test_register_changes_bumps_once_and_covers_bulk_writes(monkeypatch):
    area = Area.objects.get(name="Alby")
    bumps = []
    monkeypatch.setattr("problembild.core.cache._new_register_version", lambda: bumps.append(1))
    with register_changes():
        area.save()
        Population.objects.bulk_create([Population(area=area, year=2031, residents=1)])
        with register_changes():
            area.save()
        assert bumps == []
    assert bumps  # at the end (now, and again at commit)


def test_a_write_in_a_transaction_bumps_again_at_commit(django_capture_on_commit_callbacks):
    area = Area.objects.get(name="Alby")
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        area.save()
    during = register_version()
    assert callbacks
    for callback in callbacks:
        callback()
    assert register_version() != during


def test_only_a_finished_refresh_changes_the_stamp():
    stamp = data_stamp()
    run = RefreshRun.objects.create()
    assert data_stamp() == stamp
    run.finished_at = timezone.now()
    run.save()
    assert data_stamp() != stamp


def test_a_lost_version_token_misses_instead_of_matching_an_old_fragment():
    calls = []

    def render():
        calls.append(1)
        return f"<p>{len(calls)}</p>", {"n": len(calls)}

    first = cached_fragment("t", {"a": 1}, render)
    again = cached_fragment("t", {"a": 1}, render)
    assert (first.hit, again.hit, again.html, again.meta) == (False, True, "<p>1</p>", {"n": 1})
    cache.delete(REGISTER_VERSION_KEY)
    assert not cached_fragment("t", {"a": 1}, render).hit
    assert not cached_fragment("t", {"a": 2}, render).hit


def test_demo_data_bumps_the_register_version():
    from problembild.incidents.demo import generate_demo_data

    before = register_version()
    generate_demo_data(incidents=0, years=1, seed=1)
    assert register_version() != before
