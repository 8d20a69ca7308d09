import json

import pytest

from problembild.cli import SHIPPED_EVENTS
from problembild.core.imports import ImportFailed
from problembild.incidents.models import Incident
from problembild.incidents.polisen import import_polisen_events

pytestmark = pytest.mark.django_db


def event(i, name, summary="", location="Malmö", type_="Skottlossning", when="2024-01-15 7:27:23 +01:00"):
    return {
        "id": i,
        "datetime": when,
        "name": name,
        "summary": summary,
        "url": f"/aktuellt/handelser/{i}/",
        "type": type_,
        "location": {"name": location, "gps": "55.6,13.0"},
    }


def write(tmp_path, events, name="feed.json"):
    path = tmp_path / name
    path.write_text(json.dumps(events, ensure_ascii=False), encoding="utf-8")
    return path


def test_events_are_stored_by_municipality_never_by_coordinates(tmp_path):
    import_polisen_events(
        write(tmp_path, [event(1, "15 januari 07:20, Skottlossning, Malmö", "Skott i centrala Malmö.")])
    )
    inc = Incident.objects.get(source="polisen", external_id="1")
    assert inc.municipality_code == "1280"
    assert inc.x is None and inc.y is None
    assert inc.area is None and inc.area_match == ""
    assert inc.occurred_at.isoformat() == "2024-01-15T06:27:23+00:00"
    assert inc.indicator == "shootings"
    assert inc.full_url == "https://polisen.se/aktuellt/handelser/1/"


def test_an_area_named_in_the_text_is_an_approximate_match(tmp_path):
    import_polisen_events(
        write(tmp_path, [event(2, "Skottlossning, Malmö", "Skottlossning på Rosengård i kväll.")])
    )
    inc = Incident.objects.get(external_id="2")
    assert inc.area.name == "Rosengård"
    assert inc.area_match == "approximate"


def test_area_names_only_match_in_their_own_municipality_and_as_whole_words(tmp_path):
    events = [
        event(3, "Rån, Stockholm", "Rån nära Rosengård-skylten", location="Stockholm"),
        event(
            4, "Brand, Helsingborg", "Brand i ett hus söder om centrum", location="Helsingborg", type_="Brand"
        ),
        event(
            5,
            "Misshandel, Stockholm",
            "Misshandel i Tensta centrum",
            location="Stockholm",
            type_="Misshandel",
        ),
    ]
    import_polisen_events(write(tmp_path, events))
    assert Incident.objects.get(external_id="3").area is None
    assert Incident.objects.get(external_id="4").area is None
    assert Incident.objects.get(external_id="5").area.name == "Rinkeby / Tensta"


def test_county_location_takes_the_municipality_from_the_title(tmp_path):
    events = [
        event(
            6, "15 oktober 09:03, Mord/dråp, Trollhättan", location="Västra Götalands län", type_="Mord/dråp"
        ),
        event(
            7,
            "15 oktober 09:03, Mord/dråp, Västra Götalands län",
            location="Västra Götalands län",
            type_="Mord/dråp",
        ),
        event(8, "15 oktober 09:03, Rån, Malmö", location="Västra Götalands län", type_="Rån"),
    ]
    import_polisen_events(write(tmp_path, events))
    six, seven, eight = (Incident.objects.get(external_id=str(i)) for i in (6, 7, 8))
    assert (six.municipality_code, six.county_code) == ("1488", "14")
    assert (seven.municipality_code, seven.county_code) == ("", "14")
    assert (eight.municipality_code, eight.county_code) == ("", "14")  # Malmö is not in Västra Götaland


def test_bad_event_names_line_and_field_and_writes_nothing(tmp_path):
    path = write(tmp_path, [event(9, "ok"), event(10, "bad", when="15 jan 2024")])
    with pytest.raises(ImportFailed) as info:
        import_polisen_events(path)
    assert (info.value.errors[0].line, info.value.errors[0].field) == (2, "datetime")
    assert not Incident.objects.filter(source="polisen").exists()


def test_reimport_adds_nothing(tmp_path):
    path = write(tmp_path, [event(11, "Rån, Malmö", type_="Rån")])
    assert import_polisen_events(path).added == 1
    assert import_polisen_events(path).added == 0


def test_summaries_are_stored_but_counted_in_no_indicator(tmp_path):
    import_polisen_events(
        write(tmp_path, [event(12, "Sammanfattning natt, Malmö", type_="Sammanfattning natt")])
    )
    assert Incident.objects.get(external_id="12").indicator == ""
    assert not Incident.objects.counted().filter(external_id="12").exists()


@pytest.mark.slow
def test_the_shipped_feed_imports_all_70290_events():
    result = import_polisen_events(SHIPPED_EVENTS)
    assert result.added == 70_290
    assert Incident.objects.filter(source="polisen").count() == 70_290
    assert result.details["approximate"] > 100
    assert Incident.objects.filter(source="polisen", municipality_code="").exclude(county_code="").exists()
