"""The import page offers the resources' kinds: preview writes nothing, commit writes, errors name line and field."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from problembild.resources.models import Capacity, Staffing

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def upload(text: str, name: str = "file.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.mark.parametrize(
    ("kind", "text", "model", "lookup"),
    [
        (
            "staffing",
            "area,month,officers\nAlby,2025-09,5\n",
            Staffing,
            {"area__name": "Alby", "period": date(2025, 9, 1)},
        ),
        (
            "capacity",
            "unit,month,officers,increase\n5312,2025-09,40,4\n",
            Capacity,
            {"org_unit__code": "5312"},
        ),
        (
            "presence",
            "area,month,day,hour,actual\nAlby,2025-06,sön,22,3\n",
            Staffing,
            {"area__name": "Alby", "actual__isnull": False},
        ),
    ],
)
def test_preview_then_commit(client_for, admin_user_pb, botkyrka, kind, text, model, lookup):
    client = client_for(admin_user_pb)
    before = list(model.objects.filter(**lookup).values())
    response = client.post("/import/", {"kind": kind, "file": upload(text), "source": "webtest"})
    report = response.context["report"]
    assert (report["accepted"], report["rejected"], report["failed"]) == (1, 0, False)
    assert list(model.objects.filter(**lookup).values()) == before  # the preview wrote nothing
    outcome = client.post("/import/commit/", {"token": response.context["token"]}).context["outcome"]
    assert not outcome["failed"] and outcome["added"] == 1
    if kind == "presence":
        assert Staffing.objects.get(area__name="Alby", period=date(2025, 6, 1)).actual[6 * 24 + 22] == 3
    else:
        assert model.objects.filter(**lookup).exists()


def test_preview_names_line_and_field(client_for, admin_user_pb, botkyrka):
    client = client_for(admin_user_pb)
    response = client.post(
        "/import/",
        {"kind": "staffing", "file": upload("area,month,officers\nAlby,2025-09,many\n"), "source": ""},
    )
    report = response.context["report"]
    assert report["rejected"] == 1
    html = response.content.decode()
    assert "officers" in html and "not a whole number" in html
