"""Hypothesis-generated garbage: importers either import or fail cleanly, never half-way."""

import csv
import io
import json
from datetime import datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from problembild.core.imports import ImportFailed
from problembild.incidents.importers import import_incidents
from problembild.incidents.models import Incident
from problembild.incidents.polisen import import_polisen_events, parse_feed_datetime

pytestmark = pytest.mark.django_db

cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["2024-01-01T00:00", "2024-13-01", "", "NaN", "inf", "1e9", "674000", "6580000", "Rån", "-0"]
    ),
    st.integers(-(10**7), 10**7).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
rows = st.lists(st.tuples(cells, cells, cells, cells, cells), max_size=8)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(rows=rows)
def test_incident_csv_garbage_imports_all_or_nothing(tmp_path, rows):
    path = tmp_path / "fuzz.csv"
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "occurred_at", "type", "x", "y"])
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    before = Incident.objects.filter(source="fuzz").count()
    try:
        result = import_incidents(path, source="fuzz")
    except ImportFailed as exc:
        assert exc.errors and all(e.file == str(path) and e.field for e in exc.errors)
        assert Incident.objects.filter(source="fuzz").count() == before
    else:
        assert Incident.objects.filter(source="fuzz").count() == before + result.added


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_incident_file_of_random_bytes_fails_cleanly(tmp_path, raw):
    path = tmp_path / "bytes.csv"
    path.write_bytes(raw)
    try:
        import_incidents(path, source="bytes")
    except ImportFailed as exc:
        assert exc.errors[0].file == str(path)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
event = st.fixed_dictionaries(
    {
        "id": st.one_of(st.integers(1, 10**9), st.text(max_size=5), st.none()),
        "datetime": st.one_of(
            st.sampled_from(["2024-01-15 7:27:23 +01:00", "2024-06-30 10:57:12 +02:00", "bad"]),
            st.text(max_size=30),
        ),
        "name": st.text(max_size=40),
        "summary": st.text(max_size=40),
        "type": st.one_of(st.sampled_from(["Skottlossning", "Rån", ""]), st.text(max_size=10)),
        "location": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"name": st.sampled_from(["Malmö", "Skåne län", "Atlantis"]), "gps": st.just("55.6,13.0")}
            ),
        ),
    }
)


@SETTINGS
@given(events=st.lists(st.one_of(event, json_values), max_size=6))
def test_polisen_feed_garbage_imports_all_or_nothing(tmp_path, events):
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    before = Incident.objects.filter(source="polisen").count()
    try:
        result = import_polisen_events(path)
    except ImportFailed as exc:
        assert all(e.file == str(path) for e in exc.errors)
        assert Incident.objects.filter(source="polisen").count() == before
    else:
        assert Incident.objects.filter(source="polisen").count() == before + result.added


@given(st.text(max_size=40))
def test_feed_datetime_parser_never_crashes(text):
    value = parse_feed_datetime(text)
    assert value is None or value.tzinfo is not None


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)),
    st.sampled_from(["+01:00", "+02:00"]),
    st.booleans(),
)
def test_feed_datetime_parser_reads_unpadded_hours(dt, offset, pad):
    hour = f"{dt.hour:02d}" if pad else str(dt.hour)
    parsed = parse_feed_datetime(f"{dt:%Y-%m-%d} {hour}:{dt:%M:%S} {offset}")
    assert parsed is not None
    expected = pd.Timestamp(dt.replace(microsecond=0)) - pd.Timedelta(hours=int(offset[1:3]))
    assert parsed.tz_localize(None) == expected
