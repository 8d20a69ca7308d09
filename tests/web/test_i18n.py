"""Swedish first, English second: the language switch and the English catalogue."""

from __future__ import annotations

import gettext
import re
from datetime import date
from pathlib import Path

import pytest

import problembild
from problembild.areas.models import Area
from problembild.picture.refresh.run import RefreshOptions, refresh

LOCALE_DIR = Path(problembild.__file__).resolve().parent / "locale"
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
EN_MO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.mo"


# --- the catalogue -------------------------------------------------------------------------


def _unquote(s: str) -> str:
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], s[1:-1])


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: ``flags`` (set), ``obsolete`` (bool) and keyword -> text."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        if not block.strip():
            continue
        entry: dict = {"flags": set(), "obsolete": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += _unquote(line)
            else:
                key, _, rest = line.partition(" ")
                entry[key] = _unquote(rest)
        entries.append(entry)
    return entries


def _messages() -> list[dict]:
    """The catalogue's live messages (no header, no obsolete ``#~`` entries)."""
    return [e for e in parse_po(EN_PO) if not e["obsolete"] and e.get("msgid", "") != ""]


def _translations(entry: dict) -> list[str]:
    return [v for k, v in entry.items() if k == "msgstr" or k.startswith("msgstr[")]


def test_english_catalogue_is_complete():
    messages = _messages()
    assert len(messages) > 300
    untranslated = [e["msgid"] for e in messages if not all(t.strip() for t in _translations(e))]
    assert not untranslated, f"untranslated in {EN_PO.name}: {untranslated}"


def test_english_catalogue_has_no_fuzzy_entries():
    header = parse_po(EN_PO)[0]
    assert header.get("msgid") == "" and "fuzzy" not in header["flags"]
    fuzzy = [e["msgid"] for e in _messages() if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy (ignored at run time) in {EN_PO.name}: {fuzzy}"


def test_english_catalogue_plurals_have_both_forms():
    for e in _messages():
        if "msgid_plural" in e:
            assert e.get("msgstr[0]") and e.get("msgstr[1]"), e["msgid"]


def test_translations_keep_placeholders_and_markup():
    placeholder = re.compile(r"%\(\w+\)[sd]|%%")
    markup = re.compile(r"</?\w+[^>]*>|&\w+;")
    for e in _messages():
        sources = [e["msgid"], e.get("msgid_plural", e["msgid"])]
        for i, translation in enumerate(_translations(e)):
            source = sources[min(i, 1)]
            for pattern in (placeholder, markup):
                assert sorted(pattern.findall(translation)) == sorted(pattern.findall(source)), (
                    source,
                    translation,
                )


def test_compiled_catalogue_matches_the_po_file():
    """The committed .mo is compiled from the committed .po (run compilemessages after edits)."""
    with EN_MO.open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    for e in _messages():
        context = e.get("msgctxt")
        if "msgid_plural" in e:
            for n, key in ((1, "msgstr[0]"), (2, "msgstr[1]")):
                if context is None:
                    got = mo.ngettext(e["msgid"], e["msgid_plural"], n)
                else:
                    got = mo.npgettext(context, e["msgid"], e["msgid_plural"], n)
                assert got == e[key], (e["msgid"], n)
        else:
            got = mo.gettext(e["msgid"]) if context is None else mo.pgettext(context, e["msgid"])
            assert got == e["msgstr"], e["msgid"]


# --- the language switch -------------------------------------------------------------------


def _in_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


@pytest.mark.django_db
def test_swedish_is_the_default(client_for, analyst):
    html = client_for(analyst).get("/").content.decode()
    assert '<html lang="sv">' in html
    assert ">Översikt<" in html and ">Händelseflödet<" in html
    assert 'value="en"' in html  # the switch offers English


@pytest.mark.django_db
def test_switching_to_english_translates_the_overview(client_for, analyst):
    client = _in_english(client_for(analyst))
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert ">Overview<" in html and ">Events feed<" in html and ">Log out<" in html
    assert "Vulnerable areas" in html
    assert "59 areas" in html
    assert ">Översikt<" not in html and "Händelseflödet" not in html
    assert 'value="sv"' in html  # and offers the way back


@pytest.mark.django_db
def test_area_page_in_english(client_for, analyst):
    area = Area.objects.get(name="Rosengård")
    client = _in_english(client_for(analyst))
    html = client.get(f"/areas/{area.panel_id}/").content.decode()
    assert '<html lang="en">' in html
    for heading in (
        "Local problem picture",
        "Facts, population and staffing",
        "Classification by assessment year",
        "Sources and currency",
        "Local police area",
        "Police area",
    ):
        assert heading in html, heading
    assert "Lokal problembild" not in html and "Fakta, folkmängd och bemanning" not in html


@pytest.mark.slow
@pytest.mark.django_db
def test_computed_area_page_in_english(client_for, analyst, rosengard_data):
    """Headings, blocktranslate sentences with values and indicator labels of a computed picture."""
    area, _, _ = rosengard_data
    refresh(options=RefreshOptions(as_of=date(2025, 1, 1), forecast_origins=2))
    client = _in_english(client_for(analyst))
    html = client.get(f"/areas/{area.panel_id}/").content.decode()
    for text in (
        "Key figures",
        "Data up to and including",
        "Monthly development",
        "Weekday and hour",
        "Map: hot spots and forecast",
        "Forecast for next month",
        "Need index",
        "Shootings",
    ):
        assert text in html, text
    for swedish in ("Nyckeltal", "Utveckling per månad", "Behovsindex", "Skjutningar"):
        assert swedish not in html, swedish
    html = client.get("/?indicator=shootings&period=12m").content.decode()
    assert "Need index" in html and "Shootings" in html
    region = area.org_unit.parent.parent
    html = client.get(f"/units/{region.code}/").content.decode()
    assert 'data-category="särskilt utsatt område">particularly vulnerable area</span>' in html


@pytest.mark.django_db
def test_switching_back_to_swedish(client_for, analyst):
    client = _in_english(client_for(analyst))
    client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="sv">' in html and ">Översikt<" in html


# --- category names: data in Swedish, shown in the active language ---------------------------

CATEGORY_NAMES = {
    "utsatt område": "vulnerable area",
    "riskområde": "risk area",
    "särskilt utsatt område": "particularly vulnerable area",
}


def test_category_label_maps_the_standard_categories_and_keeps_others():
    from problembild.areas.choices import category_label

    for sv, en in CATEGORY_NAMES.items():
        assert category_label(sv, "en") == en and category_label(sv, "sv") == sv
    assert category_label("nytt slags område", "en") == "nytt slags område"
    assert category_label("", "en") == "" and category_label(None, "en") == ""


@pytest.mark.django_db
def test_category_names_in_english_and_swedish(client_for, analyst):
    """Legend, filter options, badges, history, area page and map tooltips; values stay Swedish."""
    alby = Area.objects.get(name="Alby")  # riskområde before, särskilt utsatt område in 2023
    client = client_for(analyst)
    overview = client.get("/").content.decode()
    area = client.get(f"/areas/{alby.panel_id}/").content.decode()
    for sv, en in CATEGORY_NAMES.items():
        assert f'data-category="{sv}">{sv}</span>' in overview, sv
        assert f'<option value="{sv}">{sv}</option>' in overview, sv
        assert en not in overview, en
    assert 'data-category="riskområde">riskområde</span>' in area
    assert "vulnerable area" not in area and "risk area" not in area

    client = _in_english(client)
    overview = client.get("/").content.decode()
    area = client.get(f"/areas/{alby.panel_id}/").content.decode()
    for sv, en in CATEGORY_NAMES.items():
        assert f'data-category="{sv}">{en}</span>' in overview, en  # badge: value Swedish, text English
        assert f'<option value="{sv}">{en}</option>' in overview, en  # filter: value Swedish
        assert f'aria-hidden="true"></span>{en}</li>' in overview, en  # legend
        assert f">{sv}<" not in overview and f"({sv})" not in overview, sv
    assert "particularly vulnerable area 2023</span>" in area
    assert 'data-category="riskområde">risk area</span>' in area
    assert ">riskområde<" not in area and ">särskilt utsatt område<" not in area
    feature = next(
        f for f in client.get("/geo/areas.geojson").json()["features"] if f["properties"]["name"] == "Alby"
    )
    assert feature["properties"]["category"] == "särskilt utsatt område"
    assert feature["properties"]["category_label"] == "particularly vulnerable area"
    printed = client.get(f"/areas/{alby.panel_id}/print/", {"reason": "r", "recipient": "x"}).content.decode()
    assert "particularly vulnerable area (2023)." in printed
