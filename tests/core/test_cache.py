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


def test_a_fragment_is_kept_in_memory_until_its_expiry(monkeypatch):
    from problembild.core import cache as module

    calls = []

    def render():
        calls.append(1)
        return "<p>x</p>", {}

    now = [1_000_000.0]
    monkeypatch.setattr(module.time, "time", lambda: now[0])
    first = cached_fragment("m", {"a": 1}, render, stamp="s", timeout=60)
    cache.clear()  # the shared copy gone: the process's own copy still answers
    again = cached_fragment("m", {"a": 1}, render, stamp="s", timeout=60)
    assert (first.hit, again.hit, len(calls)) == (False, True, 1)
    now[0] += 61  # past the expiry the fragment was stored with
    assert not cached_fragment("m", {"a": 1}, render, stamp="s", timeout=60).hit
    assert len(calls) == 2


def test_a_fragment_from_the_shared_cache_keeps_its_expiry_in_memory(monkeypatch):
    from problembild.core import cache as module

    now = [1_000_000.0]
    monkeypatch.setattr(module.time, "time", lambda: now[0])
    cached_fragment("m", {"a": 2}, lambda: ("<p>y</p>", {}), stamp="s", timeout=60)
    module.local_fragments.clear()  # as in another worker process
    now[0] += 30
    assert cached_fragment("m", {"a": 2}, lambda: ("<p>z</p>", {}), stamp="s", timeout=60).html == "<p>y</p>"
    cache.clear()
    now[0] += 31  # 61 s after it was rendered: gone from memory too, not kept for another 60 s
    assert cached_fragment("m", {"a": 2}, lambda: ("<p>z</p>", {}), stamp="s", timeout=60).html == "<p>z</p>"


def test_memory_keeps_different_keys_apart_and_stays_within_its_size():
    from problembild.core.cache import LocalFragments

    local = LocalFragments(100)
    local.put("a", "x" * 20, {"k": "a"}, expires=float("inf"))
    local.put("b", "y" * 20, {"k": "b"}, expires=float("inf"))
    assert local.get("a") == ("x" * 20, {"k": "a"}) and local.get("b") == ("y" * 20, {"k": "b"})
    for key in "cdefg":
        local.put(key, "z" * 20, {}, expires=float("inf"))
    assert local.get("a") is None and local.get("g") is not None  # least recently used out first
    assert sum(len(item[1]) for item in local._items.values()) <= 100
    local.put("huge", "h" * 60, {}, expires=float("inf"))
    assert local.get("huge") is None  # more than a quarter of the memory: not kept


def test_two_scopes_never_share_a_fragment_in_memory(client_for, analyst, botkyrka_chief):
    from problembild.core.cache import local_fragments

    client_for(analyst).get("/")
    client_for(botkyrka_chief).get("/")
    assert len(local_fragments._items) == 2
