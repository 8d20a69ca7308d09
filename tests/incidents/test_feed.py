import json

import pytest

from problembild.areas.models import Municipality
from problembild.core.models import AccessLogEntry
from problembild.incidents.models import Incident
from problembild.incidents.polisen import import_polisen_events

pytestmark = pytest.mark.django_db


def event(i, name, type_, location, when="2024-06-30 10:57:12 +02:00", summary=""):
    return {
        "id": i,
        "datetime": when,
        "name": name,
        "summary": summary,
        "url": f"/aktuellt/handelser/2024/juni/30/{i}/",
        "type": type_,
        "location": {"name": location, "gps": "55.604981,13.003822"},
    }


@pytest.fixture
def events(tmp_path):
    feed = [
        event(1, "30 juni 10.57, Misshandel, Malmö", "Misshandel", "Malmö"),
        event(2, "30 juni 11.10, Stöld, Malmö", "Stöld", "Malmö", when="2024-06-30 11:10:00 +02:00"),
        event(3, "1 juli 09.00, Misshandel, Malmö", "Misshandel", "Malmö", when="2024-07-01 9:00:00 +02:00"),
        event(4, "2 maj 08.00, Rån, Lund", "Rån", "Lund", when="2023-05-02 08:00:00 +02:00"),
        # Only the county: the title names no municipality in Skåne.
        event(5, "30 juni 12.00, Trafikolycka, Skåne län", "Trafikolycka", "Skåne län"),
        event(
            6, "30 juni 23.00, Sammanfattning natt, Stockholms län", "Sammanfattning natt", "Stockholms län"
        ),
    ]
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed, ensure_ascii=False), encoding="utf-8")
    result = import_polisen_events(path)
    assert result.added == 6
    return result


def sv(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def test_feed_page_renders_map_table_chart_and_position_note(client_for, analyst, events):
    response = client_for(analyst).get("/feed/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Händelseflödet" in html
    assert "aldrig brottsplatsens adress" in html
    assert 'id="feed-map"' in html and 'id="feed-chart"' in html and 'id="feed-data"' in html
    assert "vendor/plotly/plotly.min.js" in html and "incidents/feed.js" in html
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'src="/static/incidents/feed.js" nonce="{nonce}"' in html
    data = response.context["map_data"]
    assert data["munis"]["1280"]["n"] == 3 and data["munis"]["1281"]["n"] == 1
    assert len(data["munis"]) == 290
    chart = data["chart"]
    assert chart["months"][0] == "2023-05" and chart["months"][-1] == "2024-07"
    assert sum(sum(s["counts"]) for s in chart["series"]) == 6
    # The polisen.se link of an event.
    assert "https://polisen.se/aktuellt/handelser/2024/juni/30/3/" in html


def test_rate_per_10000_residents_is_right_for_one_municipality(client_for, analyst, events):
    malmo = Municipality.objects.get(code="1280")
    assert malmo.population and malmo.population > 300_000
    expected = round(3 * 10_000 / malmo.population, 2)
    response = client_for(analyst).get("/feed/?year=2024")
    row = next(r for r in response.context["rows"] if r["code"] == "1280")
    assert row["count"] == 3 and row["rate"] == expected
    lund = next(r for r in response.context["rows"] if r["code"] == "1281")
    assert lund["count"] == 0  # 2023 is outside the year filter
    html = response.content.decode()
    assert f'data-col="rate">{sv(expected)}</td>' in html
    assert "Misshandel (2), Stöld (1)" in html


def test_type_and_county_filters_narrow_the_table(client_for, analyst, events):
    response = client_for(analyst).get("/feed/?type=Misshandel&county=12")
    rows = response.context["rows"]
    assert {r["county_code"] for r in rows} == {"12"}
    assert sum(r["count"] for r in rows) == 2
    assert response.context["county_rows"] == []  # the county-only event is a Trafikolycka
    assert not response.context["ignored"]


def test_malformed_filter_values_are_ignored_and_named(client_for, analyst, events):
    response = client_for(analyst).get(
        "/feed/?year=20x4&from=2024-13-01&county=99&type=Drakattack&indicator=dragons&municipality=0000"
    )
    html = response.content.decode()
    assert "Ignorerade ogiltiga filtervärden" in html
    for value in (
        "year=20x4",
        "from=2024-13-01",
        "county=99",
        "type=Drakattack",
        "indicator=dragons",
        "municipality=0000",
    ):
        assert value in html
    assert response.context["municipal_total"] == 4  # nothing was filtered


def test_municipality_chart_shows_only_that_municipality(client_for, analyst, events):
    response = client_for(analyst).get("/feed/?municipality=1280")
    chart = response.context["map_data"]["chart"]
    assert response.context["scope_name"] == "Malmö"
    assert chart["months"] == ["2024-06", "2024-07"]
    by_type = {s["name"]: s["counts"] for s in chart["series"]}
    assert by_type == {"Misshandel": [1, 1], "Stöld": [1, 0]}


def test_county_only_events_are_shown_apart(client_for, analyst, events):
    response = client_for(analyst).get("/feed/")
    county = {r["code"]: r for r in response.context["county_rows"]}
    assert county["12"]["count"] == 1 and county["12"]["types"] == [("Trafikolycka", 1)]
    assert county["01"]["types"] == [("Sammanfattning natt", 1)]
    assert response.context["municipal_total"] == 4 and response.context["county_total"] == 2
    html = response.content.decode()
    section = html.split('id="county-only"')[1]
    assert "kan därför inte placeras i en kommun" in section
    assert "Skåne län" in section and "Trafikolycka (1)" in section
    # County-only events are not in any municipality's count.
    skane = [r for r in response.context["rows"] if r["county_code"] == "12"]
    assert sum(r["count"] for r in skane) == 4


def test_feed_view_is_logged_once(client_for, analyst, events):
    client_for(analyst).get("/feed/?year=2024")
    entries = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.VIEW, path__startswith="/feed/")
    assert entries.count() == 1
    assert entries.get().username == "noa"


def test_export_requires_reason_and_is_logged(client_for, analyst, events):
    client = client_for(analyst)
    form = client.get("/feed/export.csv?year=2024")
    assert form.status_code == 200 and "Skäl eller ärendenummer" in form.content.decode()
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT).exists()
    response = client.get("/feed/export.csv?year=2024&reason=Ärende 123&recipient=Lokalpolisområde Malmö")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    malmo = Municipality.objects.get(code="1280")
    line = next(line for line in text.splitlines() if line.startswith("1280,"))
    assert f",3,{malmo.population},{malmo.population_year},{round(3 * 10_000 / malmo.population, 2)}," in line
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.EXPORT)
    assert entry.reason == "Ärende 123" and entry.recipient == "Lokalpolisområde Malmö"


def test_county_table_export(client_for, analyst, events):
    response = client_for(analyst).get("/feed/export.xlsx?table=county&reason=r&recipient=x")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')


def test_empty_database_explains_what_to_import(client_for, analyst):
    assert not Incident.objects.filter(source="polisen").exists()
    html = client_for(analyst).get("/feed/").content.decode()
    assert "problembild import polisen-events" in html
    assert 'id="feed-map"' not in html


def test_nav_links_to_the_feed(client_for, analyst):
    html = client_for(analyst).get("/").content.decode()
    assert 'href="/feed/"' in html
    assert 'href="/import/"' not in html


def test_feed_page_in_english(client_for, analyst, events):
    client = client_for(analyst)
    client.post("/i18n/setlang/", {"language": "en", "next": "/feed/"})
    response = client.get("/feed/?municipality=1280")
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()
