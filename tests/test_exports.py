"""Every export has its page table's columns: the same headers in the same order.

Tables are declared once (``core.tables.Table``); this checks each page against its
export through HTTP, as a user downloading "the table I see" would.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from problembild.incidents.polisen import import_polisen_events
from problembild.picture.refresh.run import RefreshOptions, refresh

pytestmark = pytest.mark.django_db
WHY = {"reason": "test", "recipient": "test"}


class Headers(HTMLParser):
    """Column headers (``<th scope="col">``) of each table of a page, by the table's id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[str]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or ""
            self.tables[self._table] = []
        elif tag == "th" and a.get("scope") == "col" and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "th" and self._cell is not None:
            self.tables[self._table].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_headers(client, url: str, table: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    parser = Headers()
    parser.feed(response.content.decode())
    assert table in parser.tables, f"no table #{table} on {url}"
    return parser.tables[table]


def export_headers(client, url: str, params: dict | None = None) -> list[str]:
    response = client.get(url, {**(params or {}), **WHY})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), url
    return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def data(rosengard_data, tmp_path):
    feed = [
        {
            "id": 1,
            "datetime": "2024-06-30 10:57:12 +02:00",
            "name": "30 juni 10.57, Misshandel, Malmö",
            "summary": "",
            "url": "/aktuellt/handelser/2024/juni/30/1/",
            "type": "Misshandel",
            "location": {"name": "Malmö", "gps": "55.6,13.0"},
        },
        {
            "id": 2,
            "datetime": "2024-06-30 12:00:00 +02:00",
            "name": "30 juni 12.00, Trafikolycka, Skåne län",
            "summary": "",
            "url": "/aktuellt/handelser/2024/juni/30/2/",
            "type": "Trafikolycka",
            "location": {"name": "Skåne län", "gps": "55.9,13.5"},
        },
    ]
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed, ensure_ascii=False), encoding="utf-8")
    import_polisen_events(path)
    refresh(options=RefreshOptions(as_of=date(2025, 1, 1), forecast_origins=2))
    return rosengard_data[0]


@pytest.mark.parametrize(
    ("page", "table", "export", "params"),
    [
        ("/", "register", "/export/overview.csv", {}),
        ("/?indicator=shootings&period=quarter", "register", "/export/overview.csv", {}),
        ("/feed/", "feed-table", "/feed/export.csv", {}),
        ("/feed/", "feed-county-table", "/feed/export.csv", {"table": "county"}),
        ("/import/", "import-records", "/import/records.csv", {}),
    ],
)
def test_page_and_export_have_the_same_columns(client_for, admin_user_pb, data, page, table, export, params):
    client = client_for(admin_user_pb)
    query = page.partition("?")[2]
    extra = dict(p.split("=") for p in query.split("&")) if query else {}
    assert export_headers(client, export, {**extra, **params}) == page_headers(client, page, table)


def test_area_page_and_its_exports_have_the_same_columns(client_for, analyst, data):
    client = client_for(analyst)
    url = f"/areas/{data.panel_id}/"
    assert export_headers(client, f"{url}export.csv") == page_headers(client, url, "key-figures")
    assert export_headers(client, f"{url}export.csv", {"table": "monthly"}) == page_headers(
        client, url, "monthly"
    )


def test_import_report_and_its_rejects_export_have_the_same_columns(
    client_for, admin_user_pb, settings, tmp_path
):
    settings.DATA_DIR = tmp_path / "data"
    client = client_for(admin_user_pb)
    body = "id,occurred_at,type\nb1,not a date,Rån\n".encode()
    response = client.post(
        "/import/",
        {"kind": "incidents", "file": SimpleUploadedFile("bad.csv", body, content_type="text/csv")},
    )
    html = response.content.decode()
    token = re.search(r"/import/([0-9a-f]{32})/errors\.csv", html).group(1)
    parser = Headers()
    parser.feed(html)
    assert export_headers(client, f"/import/{token}/errors.csv") == parser.tables["import-errors"]
