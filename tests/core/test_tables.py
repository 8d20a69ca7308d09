"""Declared tables: one column list for the page's HTML and the export's rows."""

import django_tables2 as tables
import pytest
from django.utils.html import format_html

from problembild.core.exports import table_bytes
from problembild.core.tables import Table, export_values, num


class Fruit(Table):
    name = tables.Column(verbose_name="Namn")
    count = tables.Column(
        verbose_name="Antal", attrs=num(**{"data-sort": lambda record: record["count"] or ""})
    )
    note = tables.Column(verbose_name="Not")

    class Meta(Table.Meta):
        row_header = "name"
        caption = "Frukt"
        attrs = {"class": "data", "id": "fruit"}
        row_attrs = {"data-name": lambda record: record["name"]}
        empty_text = "Ingen frukt."

    def render_name(self, value):
        return format_html("<a href='#{}'>{}</a>", value, value)

    def value_name(self, value):
        return value


ROWS = [{"name": "äpple", "count": 3, "note": "<b>söt</b>"}, {"name": "päron", "count": None, "note": ""}]


def test_page_and_export_have_the_same_headers_and_plain_values():
    table = Fruit(ROWS)
    headers, rows = export_values(table)
    assert headers == table.headers() == ["Namn", "Antal", "Not"]
    assert list(rows) == [["äpple", 3, "<b>söt</b>"], ["päron", None, None]]


def test_html_escapes_values_and_renders_row_headers_attributes_and_empty_cells():
    html = str(Fruit(ROWS).html())
    assert '<div class="table-wrap" tabindex="0" role="region" aria-labelledby="fruit-caption">' in html
    assert (
        '<table class="data" id="fruit"><caption id="fruit-caption" class="sr-only">Frukt</caption>' in html
    )
    assert "<th scope=\"row\"><a href='#äpple'>äpple</a></th>" in html
    assert '<td class="num" data-sort="3">3</td>' in html
    assert "&lt;b&gt;söt&lt;/b&gt;" in html  # data is never markup
    assert (
        '<tr data-name="päron">' in html and '<td class="num">–</td>' in html
    )  # empty: a dash, no data-sort
    assert "Ingen frukt." in str(Fruit([]).html())


def test_an_export_refuses_a_column_that_would_write_html():
    class Leaky(Fruit):
        def value_name(self, value):
            return format_html("<i>{}</i>", value)

    _headers, rows = export_values(Leaky(ROWS))
    with pytest.raises(ValueError, match="Namn"):
        list(rows)


def test_sheet_names_drop_characters_excel_refuses():
    from io import BytesIO

    from openpyxl import load_workbook

    data = table_bytes(["a"], [[1]], "xlsx", title="Rinkeby / Tensta: [2023]?")
    assert load_workbook(BytesIO(data)).active.title == "Rinkeby - Tensta- -2023--"
