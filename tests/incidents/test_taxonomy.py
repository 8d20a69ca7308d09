import pytest

from problembild.incidents.services import configured_taxonomy
from problembild.incidents.taxonomy import TaxonomyError, load_taxonomy


def test_default_taxonomy_maps_police_types():
    tax = configured_taxonomy()
    assert tax.indicator_of("Skottlossning") == "shootings"
    assert tax.indicator_of("Detonation") == "explosions"
    assert tax.indicator_of("Misshandel") == "violence_public"
    assert tax.indicator_of("Narkotikabrott") == "drugs"
    assert tax.indicator_of("Vapenlagen") == "weapons"
    assert tax.indicator_of("Brand") == "vehicle_arson_vandalism"
    assert tax.indicator_of("Olaga hot") == "threats_intimidation"
    assert tax.indicator_of("Trafikolycka") == "other"
    assert tax.indicator_of("Sammanfattning natt") == ""
    assert list(tax.map_array(["Rån", "Övrigt"])) == ["violence_public", "other"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('default = "nope"\n[indicators]\n', "default"),
        ("[indicators]\nshootngs = ['Skott']\n", "indicators.shootngs"),
        ("[indicators]\nshootings = ['A']\ndrugs = ['A']\n", "indicators.drugs"),
        ("[indicators]\nshootings = 'A'\n", "indicators.shootings"),
        ("[indicators]\nshootings = ['A']\n[exclude]\ntypes = ['A']\n", "exclude.types"),
        ("not toml ===", "TOML"),
    ],
)
def test_invalid_taxonomy_names_file_and_key(tmp_path, text, key):
    path = tmp_path / "tax.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    assert str(path) in str(info.value) and key in str(info.value)
